"""The `imagepricing` command line: argument parsing and rendering only; no rule lives here.

Exit status: 0 the request is ok (or the listing succeeded), 1 the request is not ok, 2 a usage
error or unreadable input (a message on standard error, never a traceback).

Subcommands live in their own modules of this package, each with `add_parser(subparsers)` that
registers its parsers and sets `func` to a `run(args) -> int`: check here; models, prices,
changes, vectors, schema, rules and sources in `_reference`; estimate in `_estimate` (its
renderings, the dashboard in `_dashboard`); serve in `_serve`. What they share is `_options`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from imagepricing._describe import escape_unprintable
from imagepricing._tables import ENDPOINTS
from imagepricing._version import __version__
from imagepricing.cli._estimate import add_parser as add_estimate
from imagepricing.cli._options import (
    UsageError,
    add_catalog_options,
    add_price_basis_option,
    add_url_policy_option,
    catalog_from_args,
    parse_date,
    read_json,
)
from imagepricing.cli._reference import add_parser as add_reference
from imagepricing.cli._serve import add_parser as add_serve
from imagepricing.engine import check
from imagepricing.errors import CatalogError
from imagepricing.findings import Finding
from imagepricing.report import Report

__all__ = ["main", "render_report"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except UsageError as exc:
        # Messages name files, which anyone may have named: escaped so they stay one line.
        print(f"imagepricing: {escape_unprintable(str(exc))}", file=sys.stderr)
        return 2
    except CatalogError as exc:
        print(f"imagepricing: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C: one line, no traceback, the shell's status for SIGINT (128 + 2). Output files are
        # written to a temporary file and renamed, so none is ever left half-written.
        print("imagepricing: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `imagepricing models | head` closes the pipe early; that is not an error.
        sys.stderr.close()
        return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"imagepricing: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="imagepricing", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(title="commands", parser_class=_Parser)

    p_check = sub.add_parser("check", help="check and price one JSON request")
    p_check.add_argument("file", nargs="?", default="-", help="a JSON request file, or - for standard input (default)")
    p_check.add_argument("--endpoint", choices=ENDPOINTS, default="generations")
    add_catalog_options(p_check)
    p_check.add_argument(
        "--as-of", type=parse_date, default=None, help="price as of this date (YYYY-MM-DD); default today"
    )
    add_price_basis_option(p_check)
    add_url_policy_option(p_check)
    p_check.add_argument("--json", action="store_true", help="print the report as JSON")
    p_check.set_defaults(func=_run_check)

    add_reference(sub)
    add_estimate(sub)
    add_serve(sub)
    return parser


# --------------------------------------------------------------------------------- check


def _run_check(args: argparse.Namespace) -> int:
    catalog = catalog_from_args(args)
    request = read_json(args.file)
    report = check(
        request,
        endpoint=args.endpoint,
        provider=args.provider,
        catalog=catalog,
        as_of=args.as_of,
        price_basis=args.price_basis,
        url_policy=args.url_policy,
    )
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        render_report(report, sys.stdout)
    return 0 if report.ok else 1


def render_report(report: Report, out: TextIO) -> None:
    model = report.model or "(no valid model)"
    verdict = "OK" if report.ok else f"REJECTED ({len(report.errors)} error{'s' if len(report.errors) != 1 else ''})"
    out.write(f"{model} on {report.endpoint} at {report.provider}: {verdict}\n")
    out.write(f"  cost       {_cost_line(report)}\n")
    if report.tier is not None:
        out.write(f"  tier       {report.tier}\n")
    if report.effective:
        shown = ", ".join(f"{k}={v}" for k, v in report.effective.items())
        out.write(f"  effective  {shown}\n")
    for title, mark, findings in (
        ("errors", "x", report.errors),
        ("ignored by upstream", "-", report.ignored),
        ("warnings", "!", report.warnings),
    ):
        if findings:
            out.write(f"{title}:\n")
            for finding in findings:
                out.write(f"  {mark} {_finding_line(finding)}\n")


def _cost_line(report: Report) -> str:
    if report.cost is not None:
        per = (
            f"{report.unit_price:f} per call"
            if report.price_per == "request"
            else f"{report.images} image{'s' if report.images != 1 else ''} x {report.unit_price:f}"
        )
        if report.multiplier is not None and report.multiplier != 1:
            per += f" x {report.multiplier:f}"
        return f"{report.cost:f} {report.currency} ({per}; as of {report.as_of.isoformat()})"
    if not report.ok:
        return "none: upstream rejects the request and bills nothing"
    parts = [f"unknown {report.currency} price"]
    if report.multiplier is not None:
        parts.append(f"multiplier {report.multiplier:f}")
    parts.append(f"{report.images} image{'s' if report.images != 1 else ''} billed")
    return ", ".join(parts)


def _finding_line(finding: Finding) -> str:
    where = finding.param if finding.param is not None else "request"
    return f"{where} [{finding.code}] {finding.message}"


def _version() -> str:
    return __version__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
