"""What a log costs: `Estimate`, the result of `imagepricing.estimate`, with one `GroupTotals` per
group, the `BadLine` samples, and the labels its groups can carry; and `Tally`, the one place a
request line is counted into group sums (`estimate`'s verdicts, the Arrow kernel's rows and
`Estimate.merge` all count through it).

These are values, made by the estimator (imagepricing.estimation) and read by budgets, the
dashboard, Arrow and Dask: they add up exactly (`Estimate.merge`, partial results of parts of one
log), travel as JSON (`to_dict`, `Estimate.from_dict`) and never read a log or judge a request, so
this module imports neither the estimator nor the engine. Every amount is a Decimal, and every sum
is made in `_EXACT`, a context in which a sum that would need rounding raises instead.

Labels come from the catalog and from these constants, never from the log: `UNKNOWN_MODEL`,
`INVALID_MODEL`, `NO_TIER`, `NO_TIME`, and `OTHER_GROUPS` for the row that adds up the groups
past `MAX_GROUPS` (docs/estimate.md).

Why one long module (about 800 lines): `Estimate` and `GroupTotals` are one value with its
arithmetic (counting, merge, the JSON round trip, the Arrow table); each method reads the same
field lists, which split modules would have to share.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

__all__ = [
    "ARROW_MONEY",
    "ARROW_USD",
    "GROUP_DIMENSIONS",
    "INVALID_MODEL",
    "LINE_STATUSES",
    "MAX_BAD_LINE_SAMPLES",
    "MAX_GROUPS",
    "MAX_UNKNOWN_MODEL_NAMES",
    "NO_TIER",
    "NO_TIME",
    "OTHER_GROUPS",
    "TIME_DIMENSIONS",
    "UNKNOWN_MODEL",
    "BadLine",
    "Estimate",
    "GroupTotals",
    "Tally",
    "arrow_amount",
    "group_dimensions",
    "group_labels",
    "line_status",
    "time_label",
]

GROUP_DIMENSIONS: tuple[str, ...] = ("model", "endpoint", "provider", "tier", "hour", "day", "week", "month")
MAX_BAD_LINE_SAMPLES = 20

# At most this many groups are listed; the rest are added up in one row labelled OTHER_GROUPS in
# every dimension, and Estimate.warnings says so. Whoever writes a log's `time` fields chooses the
# days, so without a cap the days decide the memory (a million distinct dates took 3.7 GB).
MAX_GROUPS = 10_000
OTHER_GROUPS = "(other groups)"
INVALID_MODEL = "(invalid)"
# A model the catalog does not know: counted on its own (GroupTotals.unknown_model), never as
# rejected, since the call may well have been served and billed (a model newer than the tables).
UNKNOWN_MODEL = "(unknown model)"
MAX_UNKNOWN_MODEL_NAMES = 20
NO_TIER = "(none)"
NO_TIME = "(no time)"

# What a request line counts as, one of these exactly: requests = accepted (priced + unknown_price)
# + rejected + unknown_model + failed. See `line_status`.
LINE_STATUSES: tuple[str, ...] = ("priced", "unknown_price", "unknown_model", "rejected", "failed")

_UTC = dt.UTC
# Exact money in Arrow columns (Estimate.to_arrow, imagepricing.arrow): decimal128 of this
# (precision, scale), 29 integer digits and 9 decimal places, which every engine sums exactly;
# USD equivalents and rates in 18 places (a cost of 9 places times a rate of up to 9).
ARROW_MONEY = (38, 9)
ARROW_USD = (38, 18)
TIME_DIMENSIONS = frozenset({"hour", "day", "week", "month"})


def group_dimensions(group_by: Iterable[str] | str) -> tuple[str, ...]:
    """`group_by` as a tuple of dimensions; ValueError for an unknown or repeated one."""
    dimensions = (group_by,) if isinstance(group_by, str) else tuple(group_by)
    for dimension in dimensions:
        if dimension not in GROUP_DIMENSIONS:
            raise ValueError(f"cannot group by {dimension!r}; choose from {', '.join(GROUP_DIMENSIONS)}")
    if len(set(dimensions)) != len(dimensions):
        raise ValueError(f"group_by names a dimension twice: {', '.join(dimensions)}")
    return dimensions


def group_labels(
    dimensions: tuple[str, ...],
    *,
    model: str | None,
    unknown_model: bool,
    endpoint: str,
    provider: str,
    tier: str | None,
    moment: str | None,
) -> tuple[str, ...]:
    """The labels of a counted line in `dimensions`: the values the catalog gives it, or the
    labels of what it lacks (UNKNOWN_MODEL or INVALID_MODEL, NO_TIER, NO_TIME). `moment` is its
    UTC date ("2026-06-01") or hour ("2026-06-01T10:00:00"), None without a time."""
    labels: list[str] = []
    for dimension in dimensions:
        if dimension == "model":
            labels.append(model or (UNKNOWN_MODEL if unknown_model else INVALID_MODEL))
        elif dimension == "endpoint":
            labels.append(endpoint)
        elif dimension == "provider":
            labels.append(provider)
        elif dimension == "tier":
            labels.append(tier or NO_TIER)
        else:
            labels.append(time_label(moment, dimension))
    return tuple(labels)


def time_label(moment: str | None, dimension: str) -> str:
    """The label of a line's time (`moment`: "2026-06-01", or "2026-06-01T10:00:00" when grouped
    by hour; None without a time) in a time dimension: its UTC hour ("2026-06-01T10:00Z"), date,
    ISO week ("2026-W23", the ISO year: 2026-12-31 is in 2026-W53) or month ("2026-06").

    Decision (docs/estimate.md): an hour is labelled "2026-06-01T10:00Z". Every label has the
    same width, so text order is time order (the groups' sort); the "Z" says it is UTC, whatever
    offset the log wrote; and it is ISO 8601 that Python's datetime.fromisoformat and
    JavaScript's Date.parse both read. A line whose time is a date alone has no hour: NO_TIME.

    >>> time_label("2026-12-31", "week"), time_label("2026-06-01T10:00:00", "hour"), time_label(None, "day")
    ('2026-W53', '2026-06-01T10:00Z', '(no time)')
    """
    if moment is None:
        return NO_TIME
    if dimension == "hour":
        return NO_TIME if len(moment) <= 10 else f"{moment[:13]}:00Z"
    if dimension == "day":
        return moment[:10]
    if dimension == "month":
        return moment[:7]
    year, week, _ = dt.date.fromisoformat(moment[:10]).isocalendar()
    return f"{year:04d}-W{week:02d}"


# Every sum is exact: maximum precision and the Inexact trap, so a result that would need
# rounding raises instead. Only addition and multiplication are done here.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Overflow, decimal.DivisionByZero],
)
_ZERO = Decimal(0)


@attrs.frozen
class BadLine:
    """One line that could not be read as a request: where it is and what is wrong with it.

    `reason` describes the problem and never quotes the line.
    """

    file: str
    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


def _no_amounts() -> Mapping[str, Decimal]:
    return MappingProxyType({})


def _no_counts() -> Mapping[str, int]:
    return MappingProxyType({})


@attrs.frozen
class GroupTotals:
    """The totals of one group (or of the whole log, with empty `labels`).

    `requests = accepted + rejected + unknown_model + failed`; `accepted = priced + unknown_price`
    (each request counts in one of them, see `line_status`). `images` counts the images predicted
    for accepted requests, priced or not. `cost` maps each currency to the exact sum of the known
    costs in it; currencies are never added together. `unknown_model` counts requests naming a
    model the catalog does not know: neither rejected nor free, their cost is unknown.
    `unknown_price_by_currency` and `unknown_model_by_currency` split those two counts by the
    currency of the line's price book (a line's provider is always known, so is its currency);
    they are empty only in totals read from an older `to_dict()`, which did not record them.

    **Failed calls** (`failed`): requests whose envelope says the call failed (HTTP status 400 or
    more, `"success": false`, or an error and no data), although the rules accept the request or
    do not know its model. They billed nothing, so they are left out of `accepted`, `images` and
    `cost`; `failed_would_have_cost` is what the priced ones would have cost (per currency), and
    `failed_cost_unknown` counts those whose price or model is unknown. A request the rules reject
    stays `rejected` whatever its envelope says: failing is what the rules predict of it.

    **USD equivalent**: `usd_equivalent` maps each currency of `cost` to the exact sum, in US
    dollars, of the equivalents of its priced requests whose day has a USD reference rate (the
    price book's `usd_rates`: a reference for comparing amounts, never what an account is
    charged); `usd_unknown` counts, per currency, the priced requests whose day has no rate. For
    a price book in USD the equivalent is the cost itself. The equivalents are never added to
    `cost`, nor to each other across currencies.

    What was billed: `observed` lines say so in their envelope (status, response); for them
    `billed_images` and `billed_cost` count what the platform billed (0 for a failed call), for
    the others what was predicted. `billed_differ` counts the observed lines where billed and
    predicted images differ (a rejected or unknown-model request predicts 0; a failed call that
    the rules accept predicted its images and billed 0).
    """

    labels: Mapping[str, str]
    requests: int
    accepted: int
    rejected: int
    priced: int
    unknown_price: int
    images: int
    cost: Mapping[str, Decimal]
    unknown_model: int = 0
    observed: int = 0
    billed_differ: int = 0
    billed_images: int = 0
    billed_cost: Mapping[str, Decimal] = attrs.field(factory=_no_amounts)
    failed: int = 0
    failed_would_have_cost: Mapping[str, Decimal] = attrs.field(factory=_no_amounts)
    failed_cost_unknown: int = 0
    unknown_price_by_currency: Mapping[str, int] = attrs.field(factory=_no_counts)
    unknown_model_by_currency: Mapping[str, int] = attrs.field(factory=_no_counts)
    usd_equivalent: Mapping[str, Decimal] = attrs.field(factory=_no_amounts)
    usd_unknown: Mapping[str, int] = attrs.field(factory=_no_counts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; amounts are plain decimal strings so no digit is lost."""
        unknown = {
            currency: {
                "price": self.unknown_price_by_currency.get(currency, 0),
                "model": self.unknown_model_by_currency.get(currency, 0),
            }
            for currency in _currencies(self.unknown_price_by_currency, self.unknown_model_by_currency)
        }
        return {
            "labels": dict(self.labels),
            "requests": self.requests,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unknown_model": self.unknown_model,
            "failed": self.failed,
            "priced": self.priced,
            "unknown_price": self.unknown_price,
            "images": self.images,
            "cost": _amounts(self.cost),
            "unknown_by_currency": unknown,
            # Equivalents at a reference rate, labelled as such: never added to `cost`.
            "usd_equivalent": _amounts(self.usd_equivalent),
            "usd_unknown": dict(self.usd_unknown),
            "failed_would_have_cost": _amounts(self.failed_would_have_cost),
            "failed_cost_unknown": self.failed_cost_unknown,
            "billed": {
                "observed": self.observed,
                "differ": self.billed_differ,
                "images": self.billed_images,
                "cost": _amounts(self.billed_cost),
            },
        }


def line_status(*, ok: bool, unknown_model: bool, priced: bool, failed: bool) -> str:
    """The one of `LINE_STATUSES` a request line counts in.

    `ok`: the rules accept the request; `unknown_model`: it names a model the catalog does not know
    (then `ok` is False); `priced`: its cost is known; `failed`: its envelope says the call failed.
    A request the rules reject is `rejected` whatever happened to it (failing is what the rules
    predict); any other failed call is `failed`, billed nothing, its cost what it would have cost.

    >>> line_status(ok=True, unknown_model=False, priced=True, failed=True)
    'failed'
    >>> line_status(ok=False, unknown_model=False, priced=False, failed=True)
    'rejected'
    """
    if not ok and not unknown_model:
        return "rejected"
    if failed:
        return "failed"
    if not ok:
        return "unknown_model"
    return "priced" if priced else "unknown_price"


# GroupTotals' and Tally's fields, by kind: what adding two of them adds.
_COUNTS = (
    "requests",
    "accepted",
    "rejected",
    "priced",
    "unknown_price",
    "images",
    "unknown_model",
    "observed",
    "billed_differ",
    "billed_images",
    "failed",
    "failed_cost_unknown",
)
_AMOUNTS = ("cost", "billed_cost", "failed_would_have_cost", "usd_equivalent")
_COUNTS_BY_CURRENCY = ("unknown_price_by_currency", "unknown_model_by_currency", "usd_unknown")


class Tally:
    """Group sums being counted: the one place where lines become `GroupTotals`.

    `add` counts `count` lines alike (estimate's verdicts, the Arrow kernel's result rows), `merge`
    adds another tally or a `GroupTotals`, `freeze` makes the `GroupTotals`. Amounts are added and
    multiplied in the exact context (a sum that would need rounding raises), so sums do not depend
    on the order of the lines.

    >>> tally = Tally()
    >>> tally.add("priced", 3, "credits", images=1, cost=Decimal("0.14"), usd_equivalent=Decimal("0.0133301"))
    >>> tally.add("failed", 1, "credits", images=1, cost=Decimal("0.14"), billed=0, billed_cost=Decimal(0))
    >>> totals = tally.freeze({})
    >>> totals.requests, totals.failed, dict(totals.cost), dict(totals.usd_equivalent)
    (4, 1, {'credits': Decimal('0.42')}, {'credits': Decimal('0.0399903')})
    >>> dict(totals.failed_would_have_cost), dict(totals.billed_cost)
    ({'credits': Decimal('0.14')}, {'credits': Decimal('0.42')})
    """

    __slots__ = (*_COUNTS, *_AMOUNTS, *_COUNTS_BY_CURRENCY)

    requests: int
    accepted: int
    rejected: int
    priced: int
    unknown_price: int
    images: int
    unknown_model: int
    observed: int
    billed_differ: int
    billed_images: int
    failed: int
    failed_cost_unknown: int
    cost: dict[str, Decimal]
    billed_cost: dict[str, Decimal]
    failed_would_have_cost: dict[str, Decimal]
    usd_equivalent: dict[str, Decimal]
    unknown_price_by_currency: dict[str, int]
    unknown_model_by_currency: dict[str, int]
    usd_unknown: dict[str, int]

    def __init__(self) -> None:
        for name in _COUNTS:
            setattr(self, name, 0)
        for name in (*_AMOUNTS, *_COUNTS_BY_CURRENCY):
            setattr(self, name, {})

    def add(
        self,
        status: str,
        count: int,
        currency: str,
        *,
        images: int = 0,
        cost: Decimal | None = None,
        usd_equivalent: Decimal | None = None,
        billed: int | None = None,
        billed_cost: Decimal | None = None,
    ) -> None:
        """Count `count` lines alike: `status` (one of `LINE_STATUSES`, see `line_status`), the
        currency of their price book, the images predicted (0 when the rules reject the request),
        their cost and its USD equivalent where known (a failed call's: what it would have cost),
        and, where the envelope says, the images the platform billed and their cost."""
        self.requests += count
        if billed is not None:
            self.observed += count
            self.billed_images += billed * count
            if billed != images:
                self.billed_differ += count
            if billed_cost is not None:
                _add_to(self.billed_cost, currency, _EXACT.multiply(billed_cost, count))
        if status == "rejected":
            self.rejected += count
            return
        if status == "unknown_model":
            self.unknown_model += count
            _count_in(self.unknown_model_by_currency, currency, count)
            return
        if status == "failed":
            self.failed += count
            if cost is None:
                self.failed_cost_unknown += count
            else:
                _add_to(self.failed_would_have_cost, currency, _EXACT.multiply(cost, count))
            return
        self.accepted += count
        self.images += images * count
        if billed is None:
            self.billed_images += images * count
        if status == "unknown_price" or cost is None:
            self.unknown_price += count
            _count_in(self.unknown_price_by_currency, currency, count)
            return
        self.priced += count
        amount = _EXACT.multiply(cost, count)
        _add_to(self.cost, currency, amount)
        if billed is None:
            _add_to(self.billed_cost, currency, amount)
        if usd_equivalent is None:
            _count_in(self.usd_unknown, currency, count)
        else:
            _add_to(self.usd_equivalent, currency, _EXACT.multiply(usd_equivalent, count))

    def merge(self, other: Tally | GroupTotals) -> None:
        """Add `other`'s counts and amounts to these, exactly."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _AMOUNTS:
            sums: dict[str, Decimal] = getattr(self, name)
            for currency, amount in getattr(other, name).items():
                _add_to(sums, currency, amount)
        for name in _COUNTS_BY_CURRENCY:
            counts: dict[str, int] = getattr(self, name)
            for currency, count in getattr(other, name).items():
                _count_in(counts, currency, count)

    def freeze(self, labels: Mapping[str, str]) -> GroupTotals:
        return GroupTotals(
            labels=MappingProxyType(dict(labels)),
            requests=self.requests,
            accepted=self.accepted,
            rejected=self.rejected,
            priced=self.priced,
            unknown_price=self.unknown_price,
            images=self.images,
            cost=_sorted(self.cost),
            unknown_model=self.unknown_model,
            observed=self.observed,
            billed_differ=self.billed_differ,
            billed_images=self.billed_images,
            billed_cost=_sorted(self.billed_cost),
            failed=self.failed,
            failed_would_have_cost=_sorted(self.failed_would_have_cost),
            failed_cost_unknown=self.failed_cost_unknown,
            unknown_price_by_currency=_sorted(self.unknown_price_by_currency),
            unknown_model_by_currency=_sorted(self.unknown_model_by_currency),
            usd_equivalent=_sorted(self.usd_equivalent),
            usd_unknown=_sorted(self.usd_unknown),
        )


@attrs.frozen
class Estimate:
    """What a log costs: the totals, one `GroupTotals` per group, and how every line was read.

    `lines_read = totals.requests + unreadable + blank + outside_window`. `groups` are sorted by their labels in
    `group_by` order; past `max_groups` (default `MAX_GROUPS`) only the first groups in that order
    are listed and the rest are added up in a last row labelled `OTHER_GROUPS` in every dimension
    (the same groups whatever the line order), with a warning. `bad_lines` keeps the first
    `MAX_BAD_LINE_SAMPLES` unreadable lines; `unreadable` counts all of them. `as_of` is the price
    date of lines without a time.
    """

    group_by: tuple[str, ...]
    totals: GroupTotals
    groups: tuple[GroupTotals, ...]
    lines_read: int
    unreadable: int
    blank: int
    bad_lines: tuple[BadLine, ...]
    sources: tuple[str, ...]
    endpoint: str
    provider: str
    as_of: dt.date
    price_basis: str
    warnings: tuple[str, ...] = ()
    """What a reader of the totals must know: damaged input that was partly read (a gzip file with
    trailing garbage), groups beyond `MAX_GROUPS` folded into one row."""
    unknown_models: tuple[str, ...] = ()
    """The first `MAX_UNKNOWN_MODEL_NAMES` model names the catalog does not know, as the log wrote
    them (escaped, cut at 64 characters), in order of appearance; `totals.unknown_model` counts
    their requests."""

    outside_window: int = 0
    """Lines left out by `since`/`until`: outside the window, or without a time."""

    since: dt.datetime | None = None
    """The start of the `since`/`until` window as an aware UTC date-time (None: open)."""
    until: dt.datetime | None = None
    """The end of the window, excluded, as an aware UTC date-time (None: open); a date passed as
    `until` includes that whole day, so `until=date(2026, 6, 30)` is stored as 2026-07-01T00:00Z."""

    @property
    def unknown_model(self) -> int:
        return self.totals.unknown_model

    def to_arrow(self) -> Any:
        """The estimate as a pyarrow Table (the `arrow` extra; ImportError with the install hint
        without it): one row per group (the totals when not grouped), a string column per
        dimension, the counts, and per currency `cost_<currency>`,
        `failed_would_have_cost_<currency>` and `billed_cost_<currency>` as decimal128(38, 9), null
        where the group has no known cost in it (never 0 for unknown); per currency
        `usd_equivalent_<currency>` (decimal128(38, 18), US dollars at the reference rates, null where
        none is known) and `usd_unknown_<currency>` (priced requests without a rate).
        (Example: imagepricing.arrow.estimate_table.)
        """
        try:
            import pyarrow as pa  # noqa: PLC0415 - the optional `arrow` extra, imported only here
        except ImportError as exc:
            raise ImportError("Estimate.to_arrow needs pyarrow: pip install 'imagepricing[arrow]'") from exc
        groups = self.groups if self.group_by else (self.totals,)
        totals = self.totals
        currencies = list(dict.fromkeys([*totals.cost, *totals.failed_would_have_cost, *totals.billed_cost]))
        columns: dict[str, pa.Array] = {}
        for dimension in self.group_by:
            columns[dimension] = pa.array([group.labels[dimension] for group in groups], pa.string())
        counts = (
            "requests",
            "accepted",
            "rejected",
            "unknown_model",
            "priced",
            "unknown_price",
            "images",
            "failed",
            "failed_cost_unknown",
            "observed",
            "billed_differ",
            "billed_images",
        )
        for name in counts:
            columns[name] = pa.array([getattr(group, name) for group in groups], pa.int64())

        def amounts(field: str, currency: str, column: tuple[int, int]) -> Any:
            """The groups' `field` amounts in `currency` as a decimal128 `column`, null where unknown."""
            values = [arrow_amount(getattr(group, field).get(currency), column) for group in groups]
            return pa.array(values, pa.decimal128(*column))

        # Column order is the table's schema: every cost_, then each usd pair, then the rest.
        for currency in currencies:
            columns[f"cost_{currency}"] = amounts("cost", currency, ARROW_MONEY)
        for currency in currencies:
            columns[f"usd_equivalent_{currency}"] = amounts("usd_equivalent", currency, ARROW_USD)
            unknown = [group.usd_unknown.get(currency, 0) for group in groups]
            columns[f"usd_unknown_{currency}"] = pa.array(unknown, pa.int64())
        for field in ("failed_would_have_cost", "billed_cost"):
            for currency in currencies:
                columns[f"{field}_{currency}"] = amounts(field, currency, ARROW_MONEY)
        return pa.table(columns)

    @property
    def requests(self) -> int:
        return self.totals.requests

    @property
    def priced(self) -> int:
        return self.totals.priced

    @property
    def rejected(self) -> int:
        return self.totals.rejected

    @property
    def unknown_price(self) -> int:
        return self.totals.unknown_price

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; amounts are plain decimal strings so no digit is lost."""
        return {
            "group_by": list(self.group_by),
            "lines": {
                "read": self.lines_read,
                "requests": self.totals.requests,
                "accepted": self.totals.accepted,
                "priced": self.totals.priced,
                "unknown_price": self.totals.unknown_price,
                "rejected": self.totals.rejected,
                "unknown_model": self.totals.unknown_model,
                "failed": self.totals.failed,
                "unreadable": self.unreadable,
                "blank": self.blank,
                "outside_window": self.outside_window,
            },
            "unknown_models": list(self.unknown_models),
            "totals": self.totals.to_dict(),
            "groups": [group.to_dict() for group in self.groups],
            "bad_lines": [bad.to_dict() for bad in self.bad_lines],
            "sources": list(self.sources),
            "defaults": {"endpoint": self.endpoint, "provider": self.provider},
            "as_of": self.as_of.isoformat(),
            "price_basis": self.price_basis,
            "window": {"since": _moment_text(self.since), "until": _moment_text(self.until)},
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Estimate:
        """The estimate `to_dict()` wrote (amounts back to the same Decimals): the form in which
        partial estimates travel between processes, since pickle refuses read-only mappings.

        >>> from imagepricing.estimation import estimate
        >>> result = estimate(['{"model": "nano-banana", "prompt": "a"}', "{"])
        >>> Estimate.from_dict(result.to_dict()) == result
        True
        """
        lines = data["lines"]
        return cls(
            group_by=tuple(data["group_by"]),
            totals=_totals_from_dict(data["totals"]),
            groups=tuple(_totals_from_dict(group) for group in data["groups"]),
            lines_read=lines["read"],
            unreadable=lines["unreadable"],
            blank=lines["blank"],
            bad_lines=tuple(BadLine(bad["file"], bad["line"], bad["reason"]) for bad in data["bad_lines"]),
            sources=tuple(data["sources"]),
            endpoint=data["defaults"]["endpoint"],
            provider=data["defaults"]["provider"],
            as_of=dt.date.fromisoformat(data["as_of"]),
            price_basis=data["price_basis"],
            warnings=tuple(data.get("warnings", ())),
            unknown_models=tuple(data.get("unknown_models", ())),
            outside_window=lines.get("outside_window", 0),
            since=_moment_from(data.get("window", {}).get("since")),
            until=_moment_from(data.get("window", {}).get("until")),
        )

    def merge(self, *others: Estimate, max_groups: int = MAX_GROUPS) -> Estimate:
        """This estimate and `others` added up, exactly: partial results of parts of one log.

        Counts and group totals are added (costs in the library's exact context, currencies kept
        apart); groups are re-sorted; bad-line samples and sources are concatenated in argument
        order, so merging the estimates of files in order equals estimating the files at once.
        Raises ValueError when the estimates were made with different `group_by`, endpoint,
        provider, `as_of`, price basis or `since`/`until` window, which would make their sum
        meaningless (a window's lines left out of one part would be counted in another). Past
        `max_groups` groups, the rest join the `OTHER_GROUPS` row as in `estimate`; the parts'
        warnings are kept once each, and the group-cap warning is written anew for the sum.

        >>> from imagepricing.estimation import estimate
        >>> a = estimate(['{"model": "nano-banana", "prompt": "a"}'], name="a.jsonl")
        >>> b = estimate(['{"model": "nano-banana", "prompt": "b"}', "{"], name="b.jsonl")
        >>> both = a.merge(b)
        >>> both.lines_read, both.unreadable, dict(both.totals.cost), both.sources
        (3, 1, {'credits': Decimal('0.28')}, ('a.jsonl', 'b.jsonl'))
        """
        settings = ("group_by", "endpoint", "provider", "as_of", "price_basis")
        for other in others:
            if (other.since, other.until) != (self.since, self.until):
                raise ValueError(
                    "cannot merge estimates made with different since/until windows:"
                    f" {_window_text(self.since, self.until)} and {_window_text(other.since, other.until)}"
                )
            for setting in settings:
                if getattr(other, setting) != getattr(self, setting):
                    raise ValueError(
                        f"cannot merge estimates made with different {setting}: "
                        f"{getattr(self, setting)!r} and {getattr(other, setting)!r}"
                    )
        parts = (self, *others)
        other_labels = tuple(OTHER_GROUPS for _ in self.group_by)
        groups: dict[tuple[str, ...], GroupTotals] = {}
        remainder: GroupTotals | None = None
        for part in parts:
            for group in part.groups:
                labels = tuple(group.labels[dimension] for dimension in self.group_by)
                if self.group_by and labels == other_labels:
                    remainder = group if remainder is None else _added(remainder, group)
                    continue
                known = groups.get(labels)
                groups[labels] = group if known is None else _added(known, group)
        ordered = sorted(groups)
        for labels in ordered[max_groups:]:
            extra = attrs.evolve(
                groups.pop(labels), labels=MappingProxyType(dict(zip(self.group_by, other_labels, strict=True)))
            )
            remainder = extra if remainder is None else _added(remainder, extra)
        listed = [groups[labels] for labels in ordered[:max_groups]]
        warnings = list(dict.fromkeys(w for part in parts for w in part.warnings if not w.startswith(_CAP_WARNING)))
        if remainder is not None:
            listed.append(remainder)
            warnings.append(_cap_warning(max_groups, self.group_by, remainder.requests))
        totals = parts[0].totals
        for part in parts[1:]:
            totals = _added(totals, part.totals)
        return attrs.evolve(
            self,
            totals=totals,
            groups=tuple(listed),
            warnings=tuple(warnings),
            lines_read=sum(part.lines_read for part in parts),
            unreadable=sum(part.unreadable for part in parts),
            blank=sum(part.blank for part in parts),
            outside_window=sum(part.outside_window for part in parts),
            bad_lines=tuple(bad for part in parts for bad in part.bad_lines)[:MAX_BAD_LINE_SAMPLES],
            sources=tuple(source for part in parts for source in part.sources),
            unknown_models=tuple(dict.fromkeys(name for part in parts for name in part.unknown_models))[
                :MAX_UNKNOWN_MODEL_NAMES
            ],
        )


_CAP_WARNING = "more than "


def _moment_text(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(_UTC).isoformat().replace("+00:00", "Z")


def _window_text(since: dt.datetime | None, until: dt.datetime | None) -> str:
    if since is None and until is None:
        return "no window"
    end = "the end" if until is None else f"{_moment_text(until)} (excluded)"
    return f"from {_moment_text(since) or 'the start'} to {end}"


def _moment_from(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=_UTC) if moment.tzinfo is None else moment.astimezone(_UTC)


def _cap_warning(max_groups: int, group_by: tuple[str, ...], other_requests: int) -> str:
    return (
        f"{_CAP_WARNING}{max_groups:,} groups: the first {max_groups:,} by {', '.join(group_by)} are listed"
        f" and the other {other_requests:,} requests are added up in one row labelled {OTHER_GROUPS!r};"
        " the totals include them"
    )


def _totals_from_dict(data: Mapping[str, Any]) -> GroupTotals:
    billed = data.get("billed", {})
    billed_cost = billed.get("cost", data["cost"])
    unknown = data.get("unknown_by_currency", {})
    return GroupTotals(
        labels=MappingProxyType(dict(data["labels"])),
        requests=data["requests"],
        accepted=data["accepted"],
        rejected=data["rejected"],
        priced=data["priced"],
        unknown_price=data["unknown_price"],
        images=data["images"],
        cost=_decimals(data["cost"]),
        unknown_model=data.get("unknown_model", 0),
        observed=billed.get("observed", 0),
        billed_differ=billed.get("differ", 0),
        billed_images=billed.get("images", data["images"]),
        billed_cost=_decimals(billed_cost),
        failed=data.get("failed", 0),
        failed_would_have_cost=_decimals(data.get("failed_would_have_cost", {})),
        failed_cost_unknown=data.get("failed_cost_unknown", 0),
        unknown_price_by_currency=MappingProxyType(
            {currency: counts["price"] for currency, counts in unknown.items() if counts["price"]}
        ),
        unknown_model_by_currency=MappingProxyType(
            {currency: counts["model"] for currency, counts in unknown.items() if counts["model"]}
        ),
        usd_equivalent=_decimals(data.get("usd_equivalent", {})),
        usd_unknown=MappingProxyType(dict(data.get("usd_unknown", {}))),
    )


def _decimals(amounts: Mapping[str, str]) -> Mapping[str, Decimal]:
    return MappingProxyType({currency: Decimal(amount) for currency, amount in amounts.items()})


def _amounts(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {currency: format(amount, "f") for currency, amount in amounts.items()}


def _currencies(*mappings: Mapping[str, object]) -> list[str]:
    return sorted({currency for mapping in mappings for currency in mapping}, key=_currency_key)


def _added(one: GroupTotals, other: GroupTotals) -> GroupTotals:
    """Two totals of the same labels added up, in the exact context."""
    tally = Tally()
    tally.merge(one)
    tally.merge(other)
    return tally.freeze(one.labels)


def _count_in(counts: dict[str, int], currency: str, count: int) -> None:
    counts[currency] = counts.get(currency, 0) + count


_V = TypeVar("_V", int, Decimal)


def _sorted(values: Mapping[str, _V]) -> Mapping[str, _V]:
    return MappingProxyType(dict(sorted(values.items(), key=lambda item: _currency_key(item[0]))))


def _add_to(sums: dict[str, Decimal], currency: str, amount: Decimal) -> None:
    sums[currency] = _EXACT.add(sums.get(currency, _ZERO), amount)


def _currency_key(currency: str) -> tuple[str, str]:
    return (currency.casefold(), currency)


def arrow_amount(value: Decimal | None, column: tuple[int, int]) -> Decimal | None:
    """`value` as an Arrow decimal128 `column` (precision, scale) holds it, or ValueError: never
    rounded (an Arrow column of exact money must not round)."""
    precision, places = column
    if value is None:
        return None
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"cannot hold {value} as an amount")
    scale = -exponent
    integer_digits = len(digits) - scale
    if scale > places and any(digits[len(digits) - scale + places :]):
        raise ValueError(
            f"the amount {value} needs more than {places} decimal places;"
            f" decimal128({precision}, {places}) would round it"
        )
    if integer_digits > precision - places:
        raise ValueError(f"the amount {value} has more than {precision - places} integer digits")
    # Exact: at most trailing zeros are dropped (checked above).
    return value.quantize(Decimal(1).scaleb(-places), context=_EXACT) if scale > places else value
