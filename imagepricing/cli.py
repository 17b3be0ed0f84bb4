"""The `imagepricing` command line: argument parsing and rendering only; no rule lives here.

Exit status: 0 the request is ok (or the listing succeeded), 1 the request is not ok, 2 a usage
error or unreadable input (a message on standard error, never a traceback).

Subcommands live in their own modules, each with `add_parser(subparsers)` that registers the
parser and sets `func` to a `run(args) -> int`; `_SUBCOMMANDS` lists them in help order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TextIO

from imagepricing import __version__
from imagepricing._clock import today
from imagepricing._describe import escape_unprintable
from imagepricing._tables import ENDPOINTS
from imagepricing._url_codes import URL_POLICIES
from imagepricing.catalog import Catalog, load_catalog, load_price_book
from imagepricing.engine import check
from imagepricing.errors import CatalogError
from imagepricing.findings import Finding
from imagepricing.pricing import PRICE_BASES
from imagepricing.report import Report
from imagepricing.timeline import changes

__all__ = ["UsageError", "add_catalog_options", "catalog_from_args", "main", "parse_date"]

_SUBCOMMANDS: tuple[str, ...] = ("imagepricing._cli_estimate", "imagepricing._cli_reference", "imagepricing._cli_serve")


class UsageError(Exception):
    """Bad arguments or unreadable input: exit status 2 with this message."""


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
    p_check.add_argument(
        "--price-basis", choices=PRICE_BASES, default="charged", help="charged (default) or published prices"
    )
    p_check.add_argument(
        "--url-policy", choices=URL_POLICIES, default="basic", help="strict adds SSRF-style URL checks"
    )
    p_check.add_argument("--json", action="store_true", help="print the report as JSON")
    p_check.set_defaults(func=_run_check)

    p_models = sub.add_parser("models", help="what each model accepts and costs, from the tables")
    add_catalog_options(p_models)
    p_models.add_argument("--as-of", type=parse_date, default=None, help="prices as of this date; default today")
    p_models.add_argument("--json", action="store_true")
    p_models.set_defaults(func=_run_models)

    p_prices = sub.add_parser("prices", help="every price book entry with currency, dates and source")
    add_catalog_options(p_prices, provider_choice=False)
    p_prices.add_argument("--json", action="store_true")
    p_prices.set_defaults(func=_run_prices)

    p_changes = sub.add_parser("changes", help="every dated change of the rules, models and prices, with its source")
    add_catalog_options(p_changes, provider_choice=False)
    p_changes.add_argument("--since", type=parse_date, default=None, help="changes on or after this date (YYYY-MM-DD)")
    p_changes.add_argument("--model", default=None, help="only the changes that concern this model")
    p_changes.add_argument("--json", action="store_true")
    p_changes.set_defaults(func=_run_changes)

    for module_name in _SUBCOMMANDS:
        importlib.import_module(module_name).add_parser(sub)
    return parser


def add_catalog_options(parser: argparse.ArgumentParser, *, provider_choice: bool = True) -> None:
    """The options every subcommand shares for choosing tables and prices."""
    if provider_choice:
        parser.add_argument("--provider", default="acedata", help="price book: acedata (default), xhuoapi, openai, ...")
    parser.add_argument("--data", metavar="DIR", help="load tables from DIR instead of the shipped ones")
    parser.add_argument(
        "--prices", metavar="FILE", action="append", default=[], help="add or replace a price book (TOML)"
    )
    parser.add_argument(
        "--price",
        metavar="PROVIDER:MODEL=AMOUNT",
        action="append",
        default=[],
        help="set a base price, e.g. xhuoapi:gpt-image-2=0.20 (repeatable)",
    )


def catalog_from_args(args: argparse.Namespace) -> Catalog:
    catalog = load_catalog(args.data) if args.data else load_catalog()
    for path in args.prices:
        catalog = catalog.with_price_book(load_price_book(path, catalog))
    for text in args.price:
        target, sep, amount = text.partition("=")
        provider, colon, model = target.partition(":")
        if not sep or not colon:
            raise UsageError(f"--price {text!r}: expected PROVIDER:MODEL=AMOUNT, e.g. xhuoapi:gpt-image-2=0.20")
        try:
            catalog = catalog.with_price(provider, model, amount)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"--price {text!r}: {exc}") from None
    provider = getattr(args, "provider", None)
    if provider is not None and provider not in catalog.price_books:
        raise UsageError(f"unknown provider {provider!r}; known: {', '.join(catalog.price_books)}")
    return catalog


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def read_json(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = "standard input" if name == "-" else name
        # json's own message may already end in "at" ("Invalid control character at").
        message = exc.msg.removesuffix(" at")
        raise UsageError(f"{where} is not JSON: {message} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise UsageError(f"{name} is nested too deeply to read") from None
    except ValueError:
        # json.loads refuses integers of over 4,300 digits (CPython's int/str conversion limit)
        # with a plain ValueError, after JSONDecodeError (its subclass) has been ruled out.
        raise UsageError(f"{name} holds a number too large to read (more than 4,300 digits)") from None


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


# --------------------------------------------------------------------------------- models


def _run_models(args: argparse.Namespace) -> int:
    catalog = catalog_from_args(args)
    day = args.as_of or today()
    rows = models_table(catalog, day)
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
        return 0
    for row in rows:
        sys.stdout.write(f"{row['model']}  ({row['family']})\n")
        for endpoint, info in row["endpoints"].items():
            sys.stdout.write(f"  {endpoint}\n")
            for name, allowed in info["params"].items():
                sys.stdout.write(f"    {name:<19}{allowed}\n")
            if info["dropped"]:
                sys.stdout.write(f"    {'(dropped)':<19}{', '.join(info['dropped'])}\n")
            if info["disputed"]:
                sys.stdout.write(f"    {'(disputed)':<19}{info['disputed']}\n")
            for notice in info["notices"]:
                sys.stdout.write(f"    {'(notice)':<19}{notice}\n")
        for provider, price in row["prices"].items():
            sys.stdout.write(f"  price at {provider:<9}{price}\n")
        sys.stdout.write("\n")
    return 0


def models_table(catalog: Catalog, day: dt.date) -> list[dict[str, Any]]:
    """What each model accepts and costs on `day`, as plain data (used by `imagepricing models`)."""
    rows = []
    catalog = catalog.on(day)
    for model in catalog.models.values():
        endpoints: dict[str, Any] = {}
        for endpoint, cap in model.endpoints.items():
            params = {name: _describe_spec(spec) for name, spec in cap.params.items()}
            dropped = [
                name
                for name, param in catalog.parameters.items()
                if endpoint in param.endpoints and name not in cap.params and param.kind != "model"
            ]
            endpoints[endpoint] = {
                "params": params,
                "dropped": dropped,
                "disputed": cap.dispute[0] if cap.dispute is not None else None,
                "notices": [f"{code}: {note}" for code, note, _ in cap.notices],
            }
        prices = {provider: _price_summary(book, model.id, day) for provider, book in catalog.price_books.items()}
        rows.append({"model": model.id, "family": model.family, "endpoints": endpoints, "prices": prices})
    return rows


def _describe_spec(spec: Any) -> str:
    if spec.size is not None:
        rule = spec.size
        if rule.allowed is not None:
            return " | ".join(rule.allowed_order) + " | auto"
        if rule.constraints is not None:
            stated = [text + (" (disputed)" if disputed else "") for _, text, _, disputed in rule.constraints.limits()]
            return "WIDTHxHEIGHT" + "".join(f", {text}" for text in stated) + " | auto"
        if rule.aspect_map is not None:
            amap = rule.aspect_map
            return ", ".join(f"{s}->{r}" for s, r in amap.ratio_of_size.items()) + f", else {amap.fallback}"
    if spec.overridden_to is not None:
        return f"ignored, always {spec.overridden_to}"
    if spec.values is not None:
        return " | ".join(spec.values)
    if spec.kind == "integer":
        if spec.model_max is not None:
            return (
                f"integer, must be {spec.min}" if spec.model_max == spec.min else f"integer {spec.min}-{spec.model_max}"
            )
        if spec.honoured_max is not None:
            return f"integer {spec.min}-{spec.max}, above {spec.honoured_max} used as {spec.honoured_max}"
        return f"integer {spec.min}-{spec.max}"
    if spec.kind == "text":
        return f"text, at most {spec.max_chars:,} characters" if spec.max_chars else "text, no documented limit"
    if spec.kind == "images":
        return f"URL or array of up to {spec.max_items} URLs"
    return str(spec.kind)


def _price_summary(book: Any, model: str, day: dt.date) -> str:
    override = book.overrides.get(model)
    entries = [e for e in book.entries_for(model, "charged") if e.in_force(day)]
    if override is not None:
        return f"{override} {book.currency} (user override)"
    if not entries:
        return "unknown"
    parts = []
    for entry in entries:
        keys = ", ".join(
            f"{k}={v}" for k, v in (("quality", entry.quality), ("size", entry.size), ("tier", entry.tier)) if v
        )
        amount = f"{entry.amount:f} {book.currency}/{entry.per}" if entry.amount is not None else "base unknown"
        mult = "".join(f", {t} x{m}" for t, m in entry.tier_multipliers.items())
        parts.append(f"{amount}{f' [{keys}]' if keys else ''}{mult}")
    return "; ".join(parts[:6]) + (f"; … ({len(parts)} entries)" if len(parts) > 6 else "")


# --------------------------------------------------------------------------------- changes


def _run_changes(args: argparse.Namespace) -> int:
    catalog = catalog_from_args(args)
    try:
        listed = changes(catalog, since=args.since, model=args.model)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    reviewed = catalog.reviewed.isoformat() if catalog.reviewed is not None else None
    if args.json:
        rows = [
            {
                "day": c.day.isoformat(),
                "kind": c.kind,
                "subject": c.subject,
                "models": list(c.models),
                "endpoints": list(c.endpoints),
                "summary": c.summary,
                "source": c.source,
            }
            for c in listed
        ]
        json.dump({"reviewed": reviewed, "changes": rows}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for change in listed:
        models = ", ".join(change.models) if len(change.models) <= 4 else f"{len(change.models)} models"
        where = f"{change.subject} ({models})" if change.kind in ("rule", "model") else change.subject
        sys.stdout.write(f"{change.day.isoformat()}  {change.kind:<7} {where}: {change.summary}\n")
        sys.stdout.write(f"            source: {change.source}\n")
    if reviewed is not None:
        sys.stdout.write(f"The tables' sources were last reviewed on {reviewed}; later changes are not known.\n")
    return 0


# --------------------------------------------------------------------------------- prices


def _run_prices(args: argparse.Namespace) -> int:
    catalog = catalog_from_args(args)
    rows = prices_table(catalog)
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for row in rows:
        span = f"{row['effective_from'] or '…'} to {row['effective_until'] or 'now'}"
        keys = " ".join(f"{k}={row[k]}" for k in ("endpoint", "quality", "size", "tier") if row[k])
        amount = f"{row['amount']} {row['currency']}/{row['per']}" if row["amount"] is not None else "unknown"
        mult = " ".join(f"{t}x{m}" for t, m in row["tier_multipliers"].items())
        sys.stdout.write(
            f"{row['provider']:<9} {row['model']:<16} {amount:<22} {keys:<32} {mult:<10} {row['basis']:<9} {span}\n"
            f"          source: {row['source']}\n"
        )
    rates = usd_rates_table(catalog)
    if rates:
        sys.stdout.write("\nUSD reference rates (for USD equivalents; a reference, never what is charged):\n")
    for rate in rates:
        span = f"{rate['effective_from'] or '…'} to {rate['effective_until'] or 'now'}"
        sys.stdout.write(
            f"{rate['provider']:<9} {rate['currency']} at {rate['usd']} USD each  {span}\n"
            + (f"          note: {rate['note']}\n" if rate["note"] else "")
            + f"          source: {rate['source']}\n"
        )
    return 0


def usd_rates_table(catalog: Catalog) -> list[dict[str, Any]]:
    """Every price book's USD reference rates (`usd_rates`), JSON-ready: the rates behind
    `Report.usd_equivalent` and estimate's USD equivalents. A book in USD needs none (its
    equivalent is the amount itself); a book that follows another uses that book's rates."""
    return [
        {
            "provider": book.provider,
            "currency": book.currency,
            "usd": _dec(rate.amount),
            "effective_from": rate.effective_from.isoformat() if rate.effective_from else None,
            "effective_until": rate.effective_until.isoformat() if rate.effective_until else None,
            "note": rate.note,
            "source": rate.source,
        }
        for book in catalog.price_books.values()
        for rate in book.usd_rates
    ]


def prices_table(catalog: Catalog) -> list[dict[str, Any]]:
    """Every price book entry and override as plain, JSON-ready data."""
    rows: list[dict[str, Any]] = []
    for book in catalog.price_books.values():
        for entry in book.entries:
            rows.append(
                {
                    "provider": book.provider,
                    "currency": book.currency,
                    "model": entry.model,
                    "amount": _dec(entry.amount),
                    "per": entry.per,
                    "endpoint": entry.endpoint,
                    "quality": entry.quality,
                    "size": entry.size,
                    "tier": entry.tier,
                    "tier_multipliers": {t: str(m) for t, m in entry.tier_multipliers.items()},
                    "effective_from": entry.effective_from.isoformat() if entry.effective_from else None,
                    "effective_until": entry.effective_until.isoformat() if entry.effective_until else None,
                    "basis": entry.basis,
                    "source": entry.source,
                }
            )
        for model, amount in book.overrides.items():
            rows.append(
                {
                    "provider": book.provider,
                    "currency": book.currency,
                    "model": model,
                    "amount": str(amount),
                    "per": "image",
                    "endpoint": None,
                    "quality": None,
                    "size": None,
                    "tier": None,
                    "tier_multipliers": {},
                    "effective_from": None,
                    "effective_until": None,
                    "basis": "charged",
                    "source": "user override",
                }
            )
    return rows


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _version() -> str:
    return __version__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
