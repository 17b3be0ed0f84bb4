"""Per-request output of `imagepricing estimate --per-request FILE`: one row per log line, so a
team can join costs back to its own logs.

Columns (`COLUMNS`): file, line, id (the envelope's `id`, if any), time (as logged), provider,
endpoint, model, tier, images (predicted), billed (images the platform billed, where the envelope
says), unit_price, cost (for a failed call, what it would have cost), currency, usd_equivalent and
usd_rate (the cost in US dollars at the reference rate of the line's day, and that rate: empty where
unknown), status (`priced`, `unknown_price`, `unknown_model`, `rejected`, `failed`, `unreadable`),
http_status (the envelope's `status`), reason (of an unreadable line).

The format follows the file's extension: `.jsonl` (amounts as decimal strings), `.csv` (a cell a
spreadsheet would run as a formula is prefixed with '), `.parquet` (amounts as decimal128(38, 9),
through the `arrow` extra). Rows are written a block at a time, so memory stays bounded.

Decisions:

- **Blank lines get no row**; their line numbers are skipped. Unreadable lines get one, with
  their reason, so every line that is not blank can be found.
- **Text from the log** (id, time) is written only when it is a string or an integer of at most
  256 characters, with unprintable characters escaped; anything else is left empty. The file is
  written where the user asked, for the user's own join; it carries the id the log already held.
- **Read in a pass of its own** through `imagepricing.per_request` (the estimate's own reading
  and memo): the totals and the rows can never disagree on a line's verdict. Standard input
  cannot be read twice, so `--per-request` refuses `-`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import IO, Any, Final

from imagepricing._describe import escape_unprintable
from imagepricing._envelopes import field_names
from imagepricing._log_reading import _blocks, open_log
from imagepricing.capabilities import Catalog
from imagepricing.per_request import RequestPricer, RequestResult
from imagepricing.pricing import PriceBasis
from imagepricing.spend import ARROW_MONEY, ARROW_USD, arrow_amount

__all__ = ["COLUMNS", "FORMATS", "per_request_rows", "write_per_request"]

COLUMNS: Final = (
    "file",
    "line",
    "id",
    "time",
    "provider",
    "endpoint",
    "model",
    "tier",
    "images",
    "billed",
    "unit_price",
    "cost",
    "currency",
    "usd_equivalent",
    "usd_rate",
    "status",
    "http_status",
    "reason",
)
FORMATS: Final = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_MAX_TEXT = 256
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_for(path: str) -> str:
    """The format a path's extension asks for; ValueError for any other extension."""
    extension = os.path.splitext(path)[1].lower()
    found = FORMATS.get(extension)
    if found is None:
        raise ValueError(f"--per-request: cannot tell the format of {path!r}; use .jsonl, .csv or .parquet")
    return found


def per_request_rows(
    paths: Iterable[str | os.PathLike[str]],
    *,
    endpoint: str = "generations",
    provider: str = "acedata",
    catalog: Catalog | None = None,
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
    fields: Mapping[str, str] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The rows of every non-blank line of the files, a block at a time (see the module)."""
    pricer = RequestPricer(
        endpoint=endpoint, provider=provider, catalog=catalog, as_of=as_of, price_basis=price_basis, fields=fields
    )
    names = field_names(fields)
    for path in paths:
        label = escape_unprintable(os.fspath(path))
        stream = open_log(path)
        try:
            line = 0
            for block in _blocks(stream):
                if type(block) is int:
                    line += block
                    continue
                assert isinstance(block, list)
                outcomes = pricer.outcomes(block)
                rows = []
                for offset, (item, outcome) in enumerate(zip(block, list(outcomes), strict=True), line + 1):
                    if outcome is None:
                        continue
                    rows.append(_row(label, offset, item, pricer.result(outcome), names))
                line += len(block)
                yield rows
        finally:
            stream.close()


def _row(file: str, line: int, item: object, result: RequestResult, names: Mapping[str, str]) -> dict[str, Any]:
    envelope: Mapping[str, Any] = {}
    if result.status != "unreadable" and isinstance(item, str):
        try:
            parsed = json.loads(item)
        except (ValueError, RecursionError):  # pragma: no cover - the pricer read it
            parsed = None
        if isinstance(parsed, Mapping) and names["request"] in parsed:
            envelope = parsed
    status = envelope.get(names["status"])
    return {
        "file": file,
        "line": line,
        "id": _text(envelope.get(names["id"])),
        "time": _text(envelope.get(names["time"])),
        "provider": result.provider,
        "endpoint": result.endpoint,
        "model": result.model,
        "tier": result.tier,
        "images": result.images,
        "billed": result.billed,
        "unit_price": result.unit_price,
        "cost": result.cost,
        "currency": result.currency,
        "usd_equivalent": result.usd_equivalent,
        "usd_rate": result.usd_rate,
        "status": result.status,
        "http_status": status if type(status) is int and 100 <= status <= 599 else None,
        "reason": result.reason,
    }


def _text(value: object) -> str | None:
    if type(value) is int:
        value = str(value)
    if type(value) is not str or len(value) > _MAX_TEXT:
        return None
    return escape_unprintable(value)


def write_per_request(blocks: Iterable[list[dict[str, Any]]], path: str) -> int:
    """Write the rows to `path` in the format its extension names; the number of rows written."""
    fmt = format_for(path)
    if fmt == "parquet":
        return _write_parquet(blocks, path)
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(COLUMNS)
            for rows in blocks:
                writer.writerows([_csv_cell(row[column]) for column in COLUMNS] for row in rows)
                written += len(rows)
        else:
            for rows in blocks:
                _write_jsonl(out, rows)
                written += len(rows)
    return written


def _write_jsonl(out: IO[str], rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    for row in rows:
        json.dump({key: _json_value(value) for key, value in row.items()}, buffer, ensure_ascii=False)
        buffer.write("\n")
    out.write(buffer.getvalue())


def _json_value(value: object) -> object:
    return format(value, "f") if isinstance(value, Decimal) else value


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_parquet(blocks: Iterable[list[dict[str, Any]]], path: str) -> int:
    try:
        import pyarrow as pa  # noqa: PLC0415  # the arrow extra, only when asked for
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ImportError as exc:
        raise ValueError("--per-request FILE.parquet needs pyarrow: pip install 'imagepricing[arrow]'") from exc
    money, usd_money = pa.decimal128(*ARROW_MONEY), pa.decimal128(*ARROW_USD)
    schema = pa.schema(
        [
            ("file", pa.string()),
            ("line", pa.int64()),
            ("id", pa.string()),
            ("time", pa.string()),
            ("provider", pa.string()),
            ("endpoint", pa.string()),
            ("model", pa.string()),
            ("tier", pa.string()),
            ("images", pa.int64()),
            ("billed", pa.int64()),
            ("unit_price", money),
            ("cost", money),
            ("currency", pa.string()),
            ("usd_equivalent", usd_money),
            ("usd_rate", usd_money),
            ("status", pa.string()),
            ("http_status", pa.int64()),
            ("reason", pa.string()),
        ]
    )
    written = 0
    with pq.ParquetWriter(path, schema) as writer:
        for rows in blocks:
            columns = {name: [row[name] for row in rows] for name in COLUMNS}
            for name in ("unit_price", "cost"):
                columns[name] = [arrow_amount(value, ARROW_MONEY) for value in columns[name]]
            for name in ("usd_equivalent", "usd_rate"):
                columns[name] = [arrow_amount(value, ARROW_USD) for value in columns[name]]
            writer.write_table(pa.table(columns, schema=schema))
            written += len(rows)
    return written
