"""The Arrow batch kernel: price a column of raw JSON lines, a batch at a time, for any engine.

Optional extra: ``pip install 'imagepricing[arrow]'`` (pyarrow only). Spark's ``mapInArrow``,
Dask, DuckDB and Polars all hand Python Arrow batches; `price_batch` turns a batch of raw log
lines into one result row per line (`SCHEMA`), and `totals` adds result rows up into an
`Estimate` that `Estimate.merge` combines exactly on a driver. docs/scale.md has the recipes.

>>> import pyarrow as pa
>>> lines = pa.table({"line": ['{"model": "nano-banana", "prompt": "an apple"}', "not json", ""]})
>>> out = price_batch(lines, as_of=dt.date(2026, 6, 1))
>>> out.column("status").to_pylist(), out.column("cost").to_pylist()[0]
(['priced', 'unreadable', 'blank'], Decimal('0.140000000'))
>>> dict(totals(out, as_of=dt.date(2026, 6, 1)).totals.cost)
{'credits': Decimal('0.140000000')}

Decisions:

- **Raw lines in, not an engine's parsed JSON.** Engines' JSON readers turn ``{"n": 2}`` next to
  ``{"n": 2.0}`` into 2.0 (a valid request becomes a wrong type), stop at the first bad line, or
  cannot type a field that is sometimes a string and sometimes a list. Every engine reads text
  lines cheaply; the kernel parses them exactly as `estimate` does (same code, see
  `imagepricing.per_request`).
- **Money as decimal128(38, 9).** Every engine sums it exactly (DuckDB, Spark, Polars, pandas).
  A price that needs more than 9 decimal places, or more than 29 integer digits, raises
  ValueError: the kernel never rounds. Amounts read back from Arrow carry 9 decimal places, so
  they equal `estimate`'s amounts in value, not in written form (0.140000000 for 0.14).
- **A null line is blank**, like an empty one: engines' text readers give null for an empty
  line (DuckDB's CSV reader does), and it holds no request. It is counted, never skipped, so the
  output has one row per input row.
- **One pricer per thread and per set of options**: DuckDB calls a UDF from several threads at
  once, and a pricer's memo is not thread-safe.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar

try:
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError as exc:  # depends on the environment
    raise ImportError("imagepricing.arrow needs pyarrow: pip install 'imagepricing[arrow]'") from exc

from imagepricing._clock import today
from imagepricing.capabilities import Catalog
from imagepricing.per_request import STATUSES, RequestPricer, RequestResult
from imagepricing.pricing import PriceBasis
from imagepricing.spend import (
    ARROW_MONEY,
    ARROW_USD,
    MAX_BAD_LINE_SAMPLES,
    BadLine,
    Estimate,
    Tally,
    arrow_amount,
    group_dimensions,
    group_labels,
)

__all__ = [
    "MONEY",
    "SCHEMA",
    "STATUSES",
    "USD_MONEY",
    "duckdb_type",
    "estimate_table",
    "price_array",
    "price_batch",
    "price_batches",
    "totals",
]

#: Exact money in every engine: 29 integer digits and 9 decimal places (spend.ARROW_MONEY).
MONEY: Final = pa.decimal128(*ARROW_MONEY)
#: USD equivalents and rates: a cost of 9 decimal places times a rate of up to 9 is exact in 18.
USD_MONEY: Final = pa.decimal128(*ARROW_USD)

SCHEMA: Final = pa.schema(
    [
        pa.field("status", pa.string(), nullable=False),
        pa.field("ok", pa.bool_()),
        pa.field("endpoint", pa.string()),
        pa.field("provider", pa.string()),
        pa.field("model", pa.string()),
        pa.field("tier", pa.string()),
        pa.field("day", pa.date32()),
        pa.field("images", pa.int64()),
        pa.field("unit_price", MONEY),
        pa.field("multiplier", MONEY),
        pa.field("cost", MONEY),
        pa.field("currency", pa.string()),
        pa.field("errors", pa.list_(pa.string()), nullable=False),
        pa.field("reason", pa.string()),
        # What the platform billed, where the envelope says (status, response): null for a line
        # that does not say (its prediction stands), billed_cost null too where the price is unknown.
        pa.field("billed", pa.int64()),
        pa.field("billed_cost", MONEY),
        # `cost` in US dollars at `usd_rate`, the reference rate of the line's day (a reference,
        # never a charge): null where the cost or the rate is unknown.
        pa.field("usd_equivalent", USD_MONEY),
        pa.field("usd_rate", USD_MONEY),
    ]
)

_MODEL_UNKNOWN = "model_unknown"  # the error code of a model the catalog does not know
_TEXT_TYPES = (pa.string(), pa.large_string(), pa.binary(), pa.large_binary(), pa.string_view(), pa.binary_view())
_Batch = TypeVar("_Batch", pa.RecordBatch, pa.Table)
_local = threading.local()


def price_batch(
    batch: _Batch,
    column: str = "line",
    *,
    endpoint: str = "generations",
    provider: str = "acedata",
    catalog: Catalog | None = None,
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
) -> _Batch:
    """Price every raw JSON line of `batch[column]`: one `SCHEMA` row per input row, same order.

    `batch` is a RecordBatch or a Table and the result is the same type. The column holds lines
    as strings or binary (the envelopes and bare requests `estimate` reads). Options as for
    `imagepricing.estimate`. Never raises for a line's content; raises KeyError for a missing
    column, TypeError for a column of another type, ValueError for a bad option or a price that
    decimal128(38, 9) cannot hold exactly.
    """
    if column not in batch.schema.names:
        raise KeyError(f"no column {column!r} in the batch; it has {', '.join(batch.schema.names) or 'none'}")
    priced = price_array(
        batch.column(column),
        endpoint=endpoint,
        provider=provider,
        catalog=catalog,
        as_of=as_of,
        price_basis=price_basis,
    )
    if isinstance(batch, pa.RecordBatch):
        return pa.RecordBatch.from_struct_array(priced)
    return pa.Table.from_batches([pa.RecordBatch.from_struct_array(priced)], schema=SCHEMA)


def price_batches(
    batches: Iterable[pa.RecordBatch],
    column: str = "line",
    *,
    endpoint: str = "generations",
    provider: str = "acedata",
    catalog: Catalog | None = None,
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
) -> Iterator[pa.RecordBatch]:
    """`price_batch` over an iterable of batches, lazily: the function Spark's `mapInArrow` takes
    (``df.mapInArrow(lambda it: price_batches(it, "value"), schema)``)."""
    for batch in batches:
        yield price_batch(
            batch, column, endpoint=endpoint, provider=provider, catalog=catalog, as_of=as_of, price_basis=price_basis
        )


def price_array(
    lines: pa.Array | pa.ChunkedArray,
    *,
    endpoint: str = "generations",
    provider: str = "acedata",
    catalog: Catalog | None = None,
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
) -> pa.StructArray:
    """Price an array of raw lines into a StructArray of `SCHEMA`'s fields (for scalar UDFs,
    e.g. DuckDB's ``create_function(..., type="arrow")``)."""
    if lines.type not in _TEXT_TYPES:
        raise TypeError(f"lines must be strings or binary, not {lines.type}")
    pricer = _pricer(endpoint, provider, catalog, as_of, price_basis)
    items = lines.to_pylist()
    if lines.null_count:
        items = ["" if item is None else item for item in items]
    outcomes = pricer.outcomes(items)
    # Each distinct outcome is built into a row once; the column is then a `take` in C.
    rows: list[RequestResult] = []
    row_of: dict[int | str | None, int] = {}
    indices: list[int] = []
    append = indices.append
    for outcome in outcomes:
        row = row_of.get(outcome)
        if row is None:
            row = row_of[outcome] = len(rows)
            rows.append(pricer.result(outcome))
        append(row)
    distinct = _rows_struct(rows)
    taken: pa.StructArray = distinct.take(pa.array(indices, pa.int32()))
    return taken


def totals(
    results: pa.RecordBatch | pa.Table,
    *,
    group_by: Iterable[str] | str = ("model",),
    endpoint: str = "generations",
    provider: str = "acedata",
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
    name: str = "<batch>",
    first_line: int = 1,
) -> Estimate:
    """Add up result rows (`SCHEMA`, e.g. one batch's `price_batch` output) into an `Estimate`.

    The partial total of one batch: add partials with `Estimate.merge` (exact Decimals). Counted
    as `estimate` counts, by the same code (spend.Tally, from each row's `status`): unknown
    models, unknown prices and failed calls apart, group labels "(unknown model)", "(invalid)",
    "(none)" and "(no time)" where a label is None; what was billed from the `billed` and
    `billed_cost` columns where they are not null, else as predicted; USD equivalents from
    `usd_equivalent`. The rows
    carry a line's UTC date, not its hour: grouping by hour is a ValueError here (estimate
    groups by hour). `endpoint`, `provider`, `as_of`
    and `price_basis` are the options the rows were priced with (recorded, and checked by
    `merge`); `name` and `first_line` locate the unreadable rows kept as samples.
    """
    dimensions = group_dimensions(group_by)
    if "hour" in dimensions:
        raise ValueError(
            "price_batch rows carry each line's UTC date, not its hour: group them by day, week or month,"
            " or use imagepricing.estimate to group by hour"
        )
    table = results if isinstance(results, pa.Table) else pa.Table.from_batches([results])
    missing = [field.name for field in SCHEMA if field.name not in table.schema.names]
    if missing:
        raise KeyError(f"not a result of price_batch: no column {', '.join(missing)}")
    keys = [
        "status",
        "ok",
        "endpoint",
        "provider",
        "model",
        "tier",
        "day",
        "images",
        "cost",
        "currency",
        "billed",
        "billed_cost",
        "usd_equivalent",
    ]
    # Whether a row's model is one the catalog does not know, for the label of a failed call's row
    # (its status says failed, not unknown_model): found in C, the error lists flattened.
    errors = table.column("errors")
    flat = pc.list_flatten(errors)
    unknown = pc.filter(pc.list_parent_indices(errors), pc.equal(flat, _MODEL_UNKNOWN))
    rows = table.num_rows
    if len(unknown):
        flags = pc.is_in(pc.subtract(pc.cumulative_sum(pa.repeat(1, rows)), 1), value_set=unknown)
    else:
        flags = pa.repeat(False, rows)
    table = table.append_column("model_unknown", flags)
    keys.append("model_unknown")
    counted = table.select(keys).group_by(keys, use_threads=False).aggregate([([], "count_all")])
    groups: dict[tuple[str, ...], Tally] = {}
    overall = Tally()
    lines = blank = unreadable = 0
    for row in counted.to_pylist():
        count: int = row["count_all"]
        lines += count
        if row["status"] == "blank":
            blank += count
            continue
        if row["status"] == "unreadable":
            unreadable += count
            continue
        key = group_labels(
            dimensions,
            model=row["model"],
            unknown_model=row["model_unknown"],
            endpoint=row["endpoint"],
            provider=row["provider"],
            tier=row["tier"],
            moment=None if row["day"] is None else row["day"].isoformat(),
        )
        sums = groups.get(key)
        if sums is None:
            sums = groups[key] = Tally()
        _count(sums, row, count)
        _count(overall, row, count)
    samples = []
    if unreadable:
        statuses = table.column("status").to_pylist()
        reasons = table.column("reason")
        for index, status in enumerate(statuses):
            if status == "unreadable":
                samples.append(BadLine(name, first_line + index, reasons[index].as_py()))
                if len(samples) == MAX_BAD_LINE_SAMPLES:
                    break
    return Estimate(
        group_by=dimensions,
        totals=overall.freeze({}),
        groups=tuple(groups[key].freeze(dict(zip(dimensions, key, strict=True))) for key in sorted(groups)),
        lines_read=lines,
        unreadable=unreadable,
        blank=blank,
        bad_lines=tuple(samples),
        sources=(name,),
        endpoint=endpoint,
        provider=provider,
        as_of=today() if as_of is None else as_of,
        price_basis=price_basis,
    )


def estimate_table(result: Estimate) -> pa.Table:
    """An `Estimate` as an Arrow table: `Estimate.to_arrow()` (see there).

    >>> import imagepricing
    >>> table = estimate_table(imagepricing.estimate(['{"model": "nano-banana", "prompt": "a"}']))
    >>> table.column("model").to_pylist(), table.column("cost_credits").to_pylist()
    (['nano-banana'], [Decimal('0.140000000')])
    """
    return result.to_arrow()


def duckdb_type() -> str:
    """`SCHEMA` as a DuckDB type, the return type of a scalar UDF over `price_array`:
    ``con.create_function("price_line", udf, ["VARCHAR"], con.sqltype(duckdb_type()), type="arrow")``.

    >>> duckdb_type()[:52]
    'STRUCT(status VARCHAR, ok BOOLEAN, endpoint VARCHAR,'
    """
    names = {
        pa.string(): "VARCHAR",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
        pa.int64(): "BIGINT",
        MONEY: "DECIMAL(38, 9)",
        USD_MONEY: "DECIMAL(38, 18)",
        pa.list_(pa.string()): "VARCHAR[]",
    }
    return "STRUCT(" + ", ".join(f"{field.name} {names[field.type]}" for field in SCHEMA) + ")"


# ---------------------------------------------------------------------------------------- helpers


def _pricer(
    endpoint: str, provider: str, catalog: Catalog | None, as_of: dt.date | None, price_basis: PriceBasis
) -> RequestPricer:
    """This thread's pricer for these options (created on first use)."""
    pricers: dict[tuple[object, ...], RequestPricer] | None = getattr(_local, "pricers", None)
    if pricers is None:
        pricers = _local.pricers = {}
    # The catalog by identity: a Catalog is not hashed by value; the pricer keeps it alive.
    key = (id(catalog), endpoint, provider, as_of, price_basis, today() if as_of is None else 0)
    pricer = pricers.get(key)
    if pricer is None or (catalog is not None and pricer.catalog is not catalog):
        if len(pricers) >= 16:  # options change rarely; a caller cycling through many stays bounded
            pricers.clear()
        pricer = pricers[key] = RequestPricer(
            endpoint=endpoint, provider=provider, catalog=catalog, as_of=as_of, price_basis=price_basis
        )
    return pricer


def _rows_struct(rows: list[RequestResult]) -> pa.StructArray:
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for row in rows:
        for name, value in zip(SCHEMA.names, row[: len(SCHEMA.names)], strict=True):
            columns[name].append(value)
    for name in ("unit_price", "multiplier", "cost", "billed_cost"):
        columns[name] = [arrow_amount(value, ARROW_MONEY) for value in columns[name]]
    for name in ("usd_equivalent", "usd_rate"):
        columns[name] = [arrow_amount(value, ARROW_USD) for value in columns[name]]
    columns["errors"] = [list(codes) for codes in columns["errors"]]
    return pa.StructArray.from_arrays(
        [pa.array(columns[field.name], field.type) for field in SCHEMA], fields=list(SCHEMA)
    )


def _count(tally: Tally, row: Mapping[str, Any], count: int) -> None:
    """Count `count` result rows alike into `tally` (spend.Tally, as estimate counts its verdicts)."""
    tally.add(
        row["status"],
        count,
        row["currency"],
        images=row["images"] if row["ok"] else 0,
        cost=row["cost"],
        usd_equivalent=row["usd_equivalent"],
        billed=row["billed"],
        billed_cost=row["billed_cost"],
    )
