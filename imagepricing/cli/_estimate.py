"""`imagepricing estimate`: what a log of requests costs, per group, as a table, JSON, CSV or HTML.

Exit status: 0 when every file was read (unreadable lines are counted and listed, not fatal),
1 with `--strict` when any line was unreadable or the estimate carries a warning, 2 for a usage
error or a file that cannot be read to the end (missing, or a corrupt or truncated gzip file),
3 when a `--budget` is exceeded (it wins over 1: money first), 130 when interrupted (Ctrl-C).

Decision: a gzip file with trailing garbage is read up to the garbage and warned about on
standard error with gzip's own words ("decompression OK, trailing garbage ignored"); the exit
status stays 0, like any other partly bad input (unreadable lines), and `--strict` makes it 1.
`gzip -d` exits 2 there, but 2 here means "nothing was estimated", which is not the case.

Why one long module (about 670 lines): one command, its options and its four renderings
(table, JSON, CSV, the HTML wrapper of the dashboard), which share the same columns and notes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import html
import io
import json
import sys
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TextIO

from imagepricing._envelopes import ENVELOPE_FIELDS
from imagepricing._files import replacing
from imagepricing._tables import ENDPOINTS
from imagepricing.budgets import Breach, Budget, check_budgets, parse_budget
from imagepricing.cli._dashboard import render_dashboard
from imagepricing.cli._options import (
    Subcommands,
    UsageError,
    add_catalog_options,
    add_price_basis_option,
    catalog_from_args,
    parse_date,
)
from imagepricing.estimation import (
    GROUP_DIMENSIONS,
    MAX_GROUPS,
    MAX_UNKNOWN_MODEL_NAMES,
    OTHER_GROUPS,
    Estimate,
    GroupTotals,
    LogReadError,
    estimate_files,
)
from imagepricing.listings import usd_rates_table
from imagepricing.per_request_file import RowsFile

__all__ = ["add_parser", "render_csv", "render_html", "render_table", "run"]

FORMATS = ("table", "json", "csv", "html")
# Spreadsheets run a cell starting with one of these as a formula (CSV injection); OWASP adds tab
# and carriage return.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PROGRESS_DELAY = 1.0  # seconds before a progress line appears: small logs stay quiet
_PROGRESS_EVERY = 0.5


def add_parser(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "estimate",
        help="what a log of requests (JSON Lines) costs, per model, hour, day, ...",
        description="Price every line of JSON Lines request logs and add the costs up per group. "
        "A line is a bare request or an envelope "
        '{"endpoint": ..., "provider": ..., "time": "<ISO 8601>", "request": {...}}. '
        "gzip files are read transparently.",
    )
    parser.add_argument("files", nargs="*", default=["-"], help="log files, or - for standard input (default)")
    parser.add_argument(
        "--endpoint",
        choices=ENDPOINTS,
        default="generations",
        help="endpoint of lines without one (default generations)",
    )
    add_catalog_options(parser)
    parser.add_argument(
        "--as-of", type=parse_date, default=None, help="price date of lines without a time (YYYY-MM-DD); default today"
    )
    add_price_basis_option(parser)
    parser.add_argument(
        "--group-by",
        type=_group_by,
        default=("model",),
        metavar="DIMS",
        help=f"comma-separated, any of {','.join(GROUP_DIMENSIONS)}; 'none' for totals only (default model)."
        " hour is the UTC hour, labelled 2026-06-01T10:00Z; day, week and month the UTC date's",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="table (default), json, csv or html")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any line is unreadable or there is a warning")
    parser.add_argument(
        "--max-groups",
        type=_positive_int,
        default=MAX_GROUPS,
        metavar="N",
        help=f"list at most N groups, the rest in one '{OTHER_GROUPS}' row (default {MAX_GROUPS:,})",
    )
    parser.add_argument(
        "--field",
        type=_field,
        action="append",
        default=[],
        metavar="ROLE=KEY",
        help=f"read envelope ROLE from the log key KEY (repeatable; roles: {', '.join(ENVELOPE_FIELDS)}),"
        " e.g. --field time=ts --field request=body",
    )
    parser.add_argument(
        "--per-request",
        metavar="FILE",
        help="also write one row per line (file, line, id, time, provider, endpoint, model, tier, images,"
        " billed, unit price, cost, currency, status) to FILE: .jsonl, .csv or .parquet (the arrow extra)",
    )
    parser.add_argument(
        "--budget",
        type=_budget,
        action="append",
        default=[],
        metavar="[DIM=LABEL:]CURRENCY=AMOUNT",
        help="exit 3 when billed spend exceeds AMOUNT, in total (credits=500) or in one group"
        " (model=gpt-image-2:credits=100; DIM must be in --group-by); repeatable",
    )
    parser.add_argument(
        "--since",
        type=_moment,
        metavar="WHEN",
        help="only lines timed at or after WHEN (YYYY-MM-DD or an ISO 8601 date-time; naive is UTC)",
    )
    parser.add_argument(
        "--until",
        type=_moment,
        metavar="WHEN",
        help="only lines timed before WHEN; a date includes that whole day (YYYY-MM-DD or ISO 8601)",
    )
    parser.add_argument("--no-progress", action="store_true", help="never show progress on standard error")
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return int(text)


def _moment(text: str) -> dt.date | dt.datetime:
    text = text.strip()
    if not text.isascii():
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD or an ISO 8601 date-time, not {text!r}")
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD or an ISO 8601 date-time, not {text!r}") from None


def _budget(text: str) -> Budget:
    try:
        return parse_budget(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _field(text: str) -> tuple[str, str]:
    role, sep, key = text.partition("=")
    role = role.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected ROLE=KEY, e.g. time=ts; got {text!r}")
    if role not in ENVELOPE_FIELDS:
        raise argparse.ArgumentTypeError(f"unknown envelope field {role!r}; choose from {', '.join(ENVELOPE_FIELDS)}")
    return role, key


def _group_by(text: str) -> tuple[str, ...]:
    if text.strip() == "none":
        return ()
    dimensions = tuple(part.strip() for part in text.split(","))
    for dimension in dimensions:
        if dimension not in GROUP_DIMENSIONS:
            raise argparse.ArgumentTypeError(
                f"cannot group by {dimension!r}; choose from {', '.join(GROUP_DIMENSIONS)}"
            )
    if len(set(dimensions)) != len(dimensions):
        raise argparse.ArgumentTypeError(f"{text!r} names a dimension twice")
    return dimensions


def run(args: argparse.Namespace) -> int:
    catalog = catalog_from_args(args)
    fields = dict(args.field)
    if len(fields) != len(args.field):
        raise UsageError("--field names the same role twice")
    if len(set(fields.values())) != len(fields):
        raise UsageError("--field reads two roles from the same key")
    progress = None if args.no_progress or not sys.stderr.isatty() else _Progress(sys.stderr)
    try:
        rows_file = RowsFile(args.per_request, fields) if args.per_request else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        with rows_file if rows_file is not None else contextlib.nullcontext():
            result = estimate_files(
                args.files,
                group_by=args.group_by,
                endpoint=args.endpoint,
                provider=args.provider,
                catalog=catalog,
                as_of=args.as_of,
                price_basis=args.price_basis,
                progress=progress,
                max_groups=args.max_groups,
                fields=fields,
                since=args.since,
                until=args.until,
                progress_bytes=None if progress is None else progress.bytes_read,
                rows=None if rows_file is None else rows_file.add,
            )
    except (LogReadError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # writing the rows (reading a log raises LogReadError)
        raise UsageError(f"cannot write {args.per_request}: {exc.strerror or exc}") from None
    finally:
        if progress is not None:
            progress.clear()
    try:
        breaches = check_budgets(result, args.budget)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = render(result, args.format, breaches, usd_rates_table(catalog))
    if args.output:
        try:
            _write_text_file(args.output, text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    for warning in result.warnings:
        sys.stderr.write(f"imagepricing: warning: {warning}\n")
    if result.unreadable and (args.format in ("csv", "html") or args.output):
        # Machine formats may not show the accounting where a person looks: say it once here.
        sys.stderr.write(
            f"imagepricing: {result.unreadable:,} unreadable line{_s(result.unreadable)} of {result.lines_read:,}"
            "; the table, JSON and HTML outputs say where and why\n"
        )
    for breach in breaches:
        sys.stderr.write(f"imagepricing: {breach}\n")
    if breaches:
        return 3
    return 1 if args.strict and (result.unreadable or result.warnings) else 0


def _write_text_file(path: str, text: str) -> None:
    """Write `text` to `path` whole or not at all (imagepricing._files.replacing)."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as out:
        out.write(text)


def render(
    result: Estimate, fmt: str, breaches: Sequence[Breach] = (), usd_rates: Sequence[Mapping[str, Any]] = ()
) -> str:
    """The output in `fmt`; budget breaches, if any, in JSON ("budget_breaches"), HTML and the
    table (CSV stays one row per group: the breaches go to standard error). `usd_rates` are the
    catalog's USD reference rates (cli.usd_rates_table): the table and HTML say which rates the
    USD equivalents are at (JSON is `Estimate.to_dict()`, whose equivalents may mix the rates of
    several days)."""
    if fmt == "json":
        data = result.to_dict()
        if breaches:
            data["budget_breaches"] = [breach.to_dict() for breach in breaches]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return render_csv(result)
    if fmt == "html":
        return render_html(result, breaches, usd_rates)
    out = io.StringIO()
    render_table(result, out, usd_rates)
    for breach in breaches:
        out.write(f"\n{breach}\n")
    return out.getvalue()


# ------------------------------------------------------------------------------------- table and html


_BILLED_COLUMNS = ("billed images", "differ", "billed cost")
# Columns of amounts, written as text ("3.81 credits + 0.410 USD"): left-aligned in the table.
_USD_HEADER = "USD equivalent"
_AMOUNT_COLUMNS = frozenset({"cost", _USD_HEADER, "billed cost"})
# The HTML details' cell classes (imagepricing._dashboard's CSS): amounts wrap, a cost keeps a
# minimum width; an equivalent may wrap at its spaces ("≈ 0.01333010 USD"), so that with every
# column shown (failed and billed ones too) the table still fits 1280 px.
_CELL_CLASSES = {"cost": "n cost", "billed cost": "n cost", _USD_HEADER: "n usd"}


def _headers(result: Estimate) -> list[str]:
    """The columns of the table and of the HTML details: `failed` and the billed columns when some
    line's envelope says what happened (status, response), the USD equivalent when some cost is
    in a currency other than USD."""
    observed = bool(result.totals.observed)
    headers = [*result.group_by, "requests", "accepted", "rejected", "unknown model"]
    if observed:
        headers.append("failed")
    headers.extend(("images", "unknown price", "cost"))
    if _equivalent_currencies(result):
        headers.append(_USD_HEADER)
    if observed:
        headers.extend(_BILLED_COLUMNS)
    return headers


def _cells(result: Estimate, group: GroupTotals, headers: Sequence[str]) -> list[str]:
    """One row's cells under `headers` (labels, then counts and amounts)."""
    counts = {
        "requests": group.requests,
        "accepted": group.accepted,
        "rejected": group.rejected,
        "unknown model": group.unknown_model,
        "failed": group.failed,
        "images": group.images,
        "unknown price": group.unknown_price,
        "billed images": group.billed_images,
        "differ": group.billed_differ,
    }
    cells = [group.labels.get(dimension, "") for dimension in result.group_by]
    for header in headers[len(result.group_by) :]:
        if header == "cost":
            cells.append(_cost_text(group))
        elif header == _USD_HEADER:
            cells.append(_usd_text(group, _equivalent_currencies(result)))
        elif header == "billed cost":
            cells.append(_amounts_text(group.billed_cost))
        else:
            cells.append(f"{counts[header]:,}")
    return cells


def render_table(result: Estimate, out: TextIO, usd_rates: Sequence[Mapping[str, Any]] = ()) -> None:
    """A readable table: one row per group, then the total and the unreadable lines. The failed and
    billed columns appear when some line's envelope says what happened (status, response); the
    USD equivalent when some cost is in credits (or another currency than USD)."""
    out.write(_summary(result) + "\n\n")
    headers = _headers(result)
    rows = [_cells(result, group, headers) for group in result.groups] if result.group_by else []
    total = _cells(result, result.totals, headers)
    if result.group_by:
        total[0] = "total"
    rows.append(total)
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(len(headers))]
    numeric = {i for i in range(len(result.group_by), len(headers)) if headers[i] not in _AMOUNT_COLUMNS}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(cells)
        ).rstrip()

    out.write(line(headers) + "\n")
    for row in rows[:-1]:
        out.write(line(row) + "\n")
    out.write(line(["-" * w for w in widths]) + "\n")
    out.write(line(rows[-1]) + "\n")
    for note in _notes(result, usd_rates):
        out.write(f"\n{note}\n")
    for warning in result.warnings:
        out.write(f"\nwarning: {warning}\n")
    if result.bad_lines:
        shown = len(result.bad_lines)
        more = f" (first {shown} of {result.unreadable:,})" if shown < result.unreadable else ""
        out.write(f"\nunreadable lines{more}:\n")
        for bad in result.bad_lines:
            out.write(f"  {bad.file}:{bad.line}: {bad.reason}\n")


def _notes(result: Estimate, usd_rates: Sequence[Mapping[str, Any]]) -> list[str]:
    """What a reader of the costs must know, in the table and the HTML alike."""
    totals = result.totals
    notes = []
    if totals.unknown_price:
        notes.append(
            f"{totals.unknown_price:,} accepted request{_s(totals.unknown_price)} {_have(totals.unknown_price)}"
            " no known price; costs above leave them out (supply prices with --price or --prices)."
        )
    if totals.unknown_model:
        notes.append(_unknown_model_note(result))
    if totals.failed:
        notes.append(_failed_note(totals))
    if _equivalent_currencies(result):
        notes.append(_usd_note(result, usd_rates))
    return notes


def _failed_note(totals: GroupTotals) -> str:
    count = totals.failed
    would = _amounts_text(totals.failed_would_have_cost) if totals.failed_would_have_cost else ""
    unknown = totals.failed_cost_unknown
    if would:
        would = f"; they would have cost {would}" + (f" (+ {unknown:,} of unknown cost)" if unknown else "")
    elif unknown:
        would = "; what they would have cost is unknown"
    return (
        f'{count:,} call{_s(count)} failed (HTTP status 400 or more, or "success": false) and billed nothing:'
        f" the costs and images leave {'it' if count == 1 else 'them'} out{would}."
    )


def _usd_note(result: Estimate, usd_rates: Sequence[Mapping[str, Any]]) -> str:
    """The USD equivalents: at which rates, from where, and what they are not. The sources are named
    by `imagepricing prices`, not here: they hold URLs, which the HTML page never carries."""
    currencies = _equivalent_currencies(result)
    described = []
    for currency in currencies:
        rates = list(
            dict.fromkeys(
                (rate["usd"], rate["effective_from"], rate["effective_until"], rate["provider"])
                for rate in usd_rates
                if rate["currency"] == currency
            )
        )
        if not rates:
            described.append(f"no USD rate is recorded for {currency}")
            continue
        for usd, start, until, provider in rates:
            span = (f" from {start}" if start else "") + (f" until {until}" if until else "")
            described.append(f"{currency} at {usd} USD each{span} ({provider}'s rate)")
        first = min((rate[1] for rate in rates if rate[1]), default=None)
        if first is not None and all(rate[1] for rate in rates):
            described.append(f"no {currency} rate is recorded before {first}")
    missing = sum(result.totals.usd_unknown.values())
    without = (
        f" {missing:,} priced request{_s(missing)} {_have(missing)} no rate on {'its' if missing == 1 else 'their'}"
        " day and no equivalent."
        if missing
        else ""
    )
    return (
        "USD equivalent: each priced request's cost at the reference rate of its day, "
        + "; ".join(described)
        + ". A reference for comparing amounts, never what an account is charged (each package sells credits"
        " at its own rate), and never added to the costs; `imagepricing prices` shows the rates' sources." + without
    )


def _equivalent_currencies(result: Estimate) -> list[str]:
    """The currencies whose costs get a USD equivalent shown: every one but USD itself."""
    totals = result.totals
    return [currency for currency in dict.fromkeys([*totals.cost, *totals.usd_unknown]) if currency != "USD"]


def _usd_text(group: GroupTotals, currencies: Sequence[str]) -> str:
    """A group's USD equivalents, per currency other than USD: "≈ 0.0133301 USD", with the priced
    requests that have no rate, if any; never added to the cost."""
    parts = []
    for currency in currencies:
        known = group.usd_equivalent.get(currency)
        missing = group.usd_unknown.get(currency, 0)
        if known is None and not missing:
            continue
        if known is None:
            text = f"unknown ({missing:,} without a rate)"
        else:
            text = f"≈ {format(known, 'f')} USD" + (f" (+ {missing:,} without a rate)" if missing else "")
        parts.append(f"{currency} {text}" if len(currencies) > 1 else text)
    return "; ".join(parts)


def _cost_text(group: GroupTotals) -> str:
    """The known cost, and whether requests of unknown cost (price or model) come on top."""
    unknown = group.unknown_price + group.unknown_model
    if not group.cost:
        return "unknown" if unknown else "0"
    return _amounts_text(group.cost) + (" (+ unknown)" if unknown else "")


def _amounts_text(amounts: Mapping[str, Decimal]) -> str:
    return " + ".join(f"{format(amount, 'f')} {currency}" for currency, amount in amounts.items()) or "0"


def _unknown_model_note(result: Estimate) -> str:
    count = result.totals.unknown_model
    names = ", ".join(result.unknown_models)
    shown = len(result.unknown_models)
    listed = f" ({'first ' + str(shown) + ': ' if shown == MAX_UNKNOWN_MODEL_NAMES else ''}{names})" if names else ""
    return (
        f"{count:,} request{_s(count)} name{'s' if count == 1 else ''} a model the catalog does not know{listed};"
        " their cost is unknown, not zero, and the costs leave them out."
    )


def _summary(result: Estimate) -> str:
    files = len(result.sources)
    totals = result.totals
    parts = [
        f"{result.lines_read:,} line{_s(result.lines_read)} read from {files} file{_s(files)}",
        f"{totals.requests:,} request{_s(totals.requests)}",
        f"{totals.priced:,} priced",
        f"{totals.unknown_price:,} with unknown price",
        f"{totals.rejected:,} rejected (not billed)",
        f"{totals.unknown_model:,} with unknown model",
    ]
    if totals.observed:
        parts.append(f"{totals.failed:,} failed (not billed)")
    parts.append(f"{result.unreadable:,} unreadable")
    if totals.observed:
        parts.append(
            f"{totals.observed:,} with a logged outcome, {totals.billed_differ:,} billed otherwise than predicted"
        )
    if result.blank:
        parts.append(f"{result.blank:,} blank")
    if result.outside_window:
        parts.append(f"{result.outside_window:,} outside --since/--until or without a time")
    return ": ".join(parts[:2]) + ", " + ", ".join(parts[2:])


def _have(count: int) -> str:
    return "has" if count == 1 else "have"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


# --------------------------------------------------------------------------------------- csv


def render_csv(result: Estimate) -> str:
    """One row per group (the totals when not grouped), amount columns per currency.

    A cost cell is empty when the group has no known cost in that currency (see unknown_price),
    so an empty cell is never mistaken for a free request; so is a `usd_equivalent_<currency>`
    cell when no priced request of the group in that currency has a USD rate (`usd_unknown_<currency>`
    counts those without one). Labels that a spreadsheet would run as a formula are prefixed
    with ' (see _FORMULA_START).
    """
    totals = result.totals
    currencies = list(dict.fromkeys([*totals.cost, *totals.failed_would_have_cost, *totals.billed_cost]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [*result.group_by, "requests", "accepted", "rejected", "unknown_model", "failed", "priced", "unknown_price"]
        + ["images"]
        + [f"cost_{currency}" for currency in currencies]
        + [f"usd_equivalent_{currency}" for currency in currencies]
        + [f"usd_unknown_{currency}" for currency in currencies]
        + [f"failed_would_have_cost_{currency}" for currency in currencies]
        + ["failed_cost_unknown", "observed", "billed_differ", "billed_images"]
        + [f"billed_cost_{currency}" for currency in currencies]
    )
    for group in result.groups if result.group_by else (totals,):
        writer.writerow(
            [_csv_safe(group.labels.get(dimension, "")) for dimension in result.group_by]
            + [group.requests, group.accepted, group.rejected, group.unknown_model, group.failed, group.priced]
            + [group.unknown_price, group.images]
            + _csv_amounts(group.cost, currencies)
            + _csv_amounts(group.usd_equivalent, currencies)
            + [group.usd_unknown.get(currency, 0) for currency in currencies]
            + _csv_amounts(group.failed_would_have_cost, currencies)
            + [group.failed_cost_unknown, group.observed, group.billed_differ, group.billed_images]
            + _csv_amounts(group.billed_cost, currencies)
        )
    return out.getvalue()


def _csv_amounts(amounts: Mapping[str, Decimal], currencies: Sequence[str]) -> list[str]:
    return [format(amounts[currency], "f") if currency in amounts else "" for currency in currencies]


def _csv_safe(label: str) -> str:
    return "'" + label if label.startswith(_FORMULA_START) else label


# -------------------------------------------------------------------------------------- html


def render_html(result: Estimate, breaches: Sequence[Breach] = (), usd_rates: Sequence[Mapping[str, Any]] = ()) -> str:
    """One self-contained page (imagepricing._dashboard): inline CSS, CSS charts, no script and
    no external resource; a Content-Security-Policy forbids loading anything even if some text
    escaped escaping. Every piece of text goes through html.escape."""
    e = html.escape
    headers = _headers(result)
    details = ['<table class="details"><thead><tr>']
    details.extend(f"<th>{e(h)}</th>" for h in headers)
    details.append("</tr></thead><tbody>")
    rows = [(group, "") for group in result.groups] if result.group_by else []
    rows.append((result.totals, "total"))
    labels = len(result.group_by)
    for group, css in rows:
        details.append(f'<tr class="{css}">' if css else "<tr>")
        # Each cell names its column (data-label): on a phone a row is a card of "header: value" lines.
        cells = _cells(result, group, headers)
        if css and labels:
            cells[:labels] = ["total"] + [""] * (labels - 1)
        for index, (text, header) in enumerate(zip(cells, headers, strict=True)):
            kind = "" if index < labels else _CELL_CLASSES.get(header, "n")
            cell_class = f' class="{kind}"' if kind else ""
            details.append(f'<td{cell_class} data-label="{e(header)}">{e(text)}</td>')
        details.append("</tr>")
    details.append("</tbody></table>")
    notes = _notes(result, usd_rates)
    notes.extend(f"Warning: {warning}" for warning in result.warnings)
    page = render_dashboard(
        result,
        summary=_summary(result),
        details=details,
        notes=notes,
        breaches=[str(b) for b in breaches],
    )
    if result.bad_lines:
        shown = len(result.bad_lines)
        counted = f"first {shown} of {result.unreadable:,}" if shown < result.unreadable else f"{result.unreadable:,}"
        items = "".join(f"<li>{e(bad.file)}:{bad.line}: {e(bad.reason)}</li>" for bad in result.bad_lines)
        page = page.replace(
            "</body></html>\n", f'<h2>Unreadable lines ({counted})</h2><ul class="bad">{items}</ul>\n</body></html>\n'
        )
    return page


# ---------------------------------------------------------------------------------- progress


class _Progress:
    """A one-line counter on a terminal's standard error, shown only once a run lasts a while:
    percent, rate and time left from the bytes read over the files' size (for gzip, the
    compressed bytes), or lines and rate alone when the size is unknown (standard input)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.start = time.monotonic()
        self.shown = 0.0
        self.done = self.total = 0

    def bytes_read(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def __call__(self, lines: int) -> None:
        now = time.monotonic()
        elapsed = now - self.start
        if elapsed < _PROGRESS_DELAY or now - self.shown < _PROGRESS_EVERY:
            return
        self.shown = now
        self.stream.write("\r\x1b[K" + self.line(lines, elapsed))
        self.stream.flush()

    def line(self, lines: int, elapsed: float) -> str:
        text = f"imagepricing: {lines:,} lines read ({lines / elapsed:,.0f} lines/s)"
        if self.total and 0 < self.done <= self.total:
            fraction = self.done / self.total
            left = elapsed * (1 - fraction) / fraction
            text = (
                f"imagepricing: {fraction:.0%} of {self.total / 1e6:,.1f} MB, {lines:,} lines"
                f" ({lines / elapsed:,.0f} lines/s), {_duration(left)} left"
            )
        return text

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
