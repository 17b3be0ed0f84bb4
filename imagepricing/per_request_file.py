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
through the `arrow` extra, in row groups of `ROW_GROUP` rows). Rows are written as estimate reads
the lines (`RowsFile.add` is `estimate_files`'s `rows`), so memory stays flat in the log's size.

Decisions:

- **Blank lines get no row**; their line numbers are skipped. Unreadable lines get one, with
  their reason, so every line that is not blank can be found.
- **Text from the log** (id, time) is written only when it is a string or an integer of at most
  256 characters, with unprintable characters escaped; anything else is left empty. The file is
  written where the user asked, for the user's own join; it carries the id the log already held.
- **The same pass as the totals**: each line's row is its own verdict in the estimate, so the
  totals and the rows can never disagree, and standard input works.
- **Whole or not at all**: the file is written beside its target and renamed into place when
  complete (imagepricing._files.replacing); interrupted, killed or out of space, the previous
  file stays.
- **Lines outside --since/--until get no row**, like blank lines; nor does the unterminated last
  line of a log still being written (the estimate warns of it).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import IO, Any, Final

from imagepricing._describe import escape_unprintable
from imagepricing._envelopes import field_names
from imagepricing._files import replacing
from imagepricing.log_lines import BLANK, RequestResult
from imagepricing.spend import ARROW_MONEY, ARROW_USD, arrow_amount

__all__ = ["COLUMNS", "FORMATS", "ROW_GROUP", "RowsFile", "format_for"]

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
# Rows to a Parquet row group: large enough for engines to read well (a few hundred rows per group
# made a 2M-row file's footer 10.8 MB), small enough that one group's columns stay a few tens of MB.
ROW_GROUP = 32_768
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_for(path: str) -> str:
    """The format a path's extension asks for; ValueError for any other extension."""
    extension = os.path.splitext(path)[1].lower()
    found = FORMATS.get(extension)
    if found is None:
        raise ValueError(f"--per-request: cannot tell the format of {path!r}; use .jsonl, .csv or .parquet")
    return found


class RowsFile:
    """A per-request rows file being written: `with RowsFile(path) as rows: estimate_files(...,
    rows=rows.add)`. ValueError for a path whose extension names no format (or .parquet without
    pyarrow); OSError from writing. The file appears at `path` only when the block completes.

    >>> import datetime as dt, tempfile, pathlib
    >>> from imagepricing.estimation import estimate_files
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "log.jsonl").write_text('{"model": "nano-banana", "prompt": "a"}\\nnot json\\n')
    >>> with RowsFile(str(folder / "rows.jsonl")) as rows:
    ...     totals = estimate_files([folder / "log.jsonl"], rows=rows.add, as_of=dt.date(2026, 6, 1)).totals
    >>> rows.written, totals.requests
    (2, 1)
    >>> [json.loads(line)["status"] for line in (folder / "rows.jsonl").read_text().splitlines()]
    ['priced', 'unreadable']
    """

    def __init__(self, path: str | os.PathLike[str], fields: Mapping[str, str] | None = None) -> None:
        self.path = os.fspath(path)
        self.format = format_for(self.path)
        self.names = field_names(fields)
        self.written = 0
        self._stack = contextlib.ExitStack()
        self._text: IO[str] | None = None
        self._csv: Any = None
        self._parquet: _ParquetRows | None = None

    def __enter__(self) -> RowsFile:
        with contextlib.ExitStack() as stack:
            temporary = stack.enter_context(replacing(self.path))
            if self.format == "parquet":
                self._parquet = stack.enter_context(_ParquetRows(temporary))
            else:
                self._text = stack.enter_context(open(temporary, "w", encoding="utf-8", newline=""))
                if self.format == "csv":
                    self._csv = csv.writer(self._text, lineterminator="\r\n")
                    self._csv.writerow(COLUMNS)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.__exit__(*exc_info)  # type: ignore[arg-type]

    def add(self, file: str, first_line: int, items: Sequence[object], results: Sequence[RequestResult]) -> None:
        """Write the rows of one block of lines (`estimate_files`'s `rows`): every line but the
        blank ones (and those outside the time window)."""
        rows = [
            _row(file, line, item, result, self.names)
            for line, (item, result) in enumerate(zip(items, results, strict=True), first_line)
            if result is not BLANK
        ]
        if self._parquet is not None:
            self._parquet.add(rows)
        elif self._csv is not None:
            self._csv.writerows([_csv_cell(row[column]) for column in COLUMNS] for row in rows)
        elif self._text is not None:
            _write_jsonl(self._text, rows)
        self.written += len(rows)


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


class _ParquetRows:
    """Rows into a Parquet file through the `arrow` extra, `ROW_GROUP` rows to a row group: memory
    holds one row group's columns at most, whatever the log's size."""

    def __init__(self, path: str) -> None:
        try:
            import pyarrow as pa  # noqa: PLC0415  # the arrow extra, only when asked for
            import pyarrow.parquet as pq  # noqa: PLC0415
        except ImportError as exc:
            raise ValueError("--per-request FILE.parquet needs pyarrow: pip install 'imagepricing[arrow]'") from exc
        self._pa = pa
        money, usd_money = pa.decimal128(*ARROW_MONEY), pa.decimal128(*ARROW_USD)
        types = {"unit_price": money, "cost": money, "usd_equivalent": usd_money, "usd_rate": usd_money}
        integers = {"line", "images", "billed", "http_status"}
        self._schema = pa.schema(
            [(name, types.get(name, pa.int64() if name in integers else pa.string())) for name in COLUMNS]
        )
        self._writer = pq.ParquetWriter(path, self._schema)
        self._columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self._buffered = 0

    def __enter__(self) -> _ParquetRows:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            if exc_type is None:
                self._flush()
        finally:
            self._writer.close()

    def add(self, rows: list[dict[str, Any]]) -> None:
        columns = self._columns
        for row in rows:
            for name in COLUMNS:
                columns[name].append(row[name])
        self._buffered += len(rows)
        while self._buffered >= ROW_GROUP:
            self._flush(ROW_GROUP)

    def _flush(self, count: int | None = None) -> None:
        """Write the first `count` buffered rows (all when None) as one row group."""
        count = self._buffered if count is None else count
        if not count:
            return
        taken = {name: column[:count] for name, column in self._columns.items()}
        self._columns = {name: column[count:] for name, column in self._columns.items()}
        self._buffered -= count
        for name in ("unit_price", "cost"):
            taken[name] = [arrow_amount(value, ARROW_MONEY) for value in taken[name]]
        for name in ("usd_equivalent", "usd_rate"):
            taken[name] = [arrow_amount(value, ARROW_USD) for value in taken[name]]
        self._writer.write_table(self._pa.table(taken, schema=self._schema), row_group_size=count)
