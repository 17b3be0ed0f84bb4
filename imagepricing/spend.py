"""What a log costs: `Estimate`, the result of `imagepricing.estimate`, with one `GroupTotals` per
group, the `BadLine` samples, and the labels its groups can carry.

These are values, made by the estimator (imagepricing.estimation) and read by budgets, the
dashboard, Arrow and Dask: they add up exactly (`Estimate.merge`, partial results of parts of one
log), travel as JSON (`to_dict`, `Estimate.from_dict`) and never read a log or judge a request, so
this module imports neither the estimator nor the engine. Every amount is a Decimal, and every sum
is made in `_EXACT`, a context in which a sum that would need rounding raises instead.

Labels come from the catalog and from these constants, never from the log: `UNKNOWN_MODEL`,
`INVALID_MODEL`, `NO_TIER`, `NO_TIME`, and `OTHER_GROUPS` for the row that adds up the groups
past `MAX_GROUPS` (docs/estimate.md).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

__all__ = [
    "GROUP_DIMENSIONS",
    "INVALID_MODEL",
    "MAX_BAD_LINE_SAMPLES",
    "MAX_GROUPS",
    "MAX_UNKNOWN_MODEL_NAMES",
    "NO_TIER",
    "NO_TIME",
    "OTHER_GROUPS",
    "UNKNOWN_MODEL",
    "BadLine",
    "Estimate",
    "GroupTotals",
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

_UTC = dt.UTC

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


@attrs.frozen
class GroupTotals:
    """The totals of one group (or of the whole log, with empty `labels`).

    `requests = accepted + rejected + unknown_model`; `accepted = priced + unknown_price`.
    `images` counts the images predicted for accepted requests, priced or not. `cost` maps each
    currency to the exact sum of the known costs in it; currencies are never added together.
    `unknown_model` counts requests naming a model the catalog does not know: neither rejected
    nor free, their cost is unknown.

    What was billed: `observed` lines say so in their envelope (status, response); for them
    `billed_images` and `billed_cost` count what the platform billed (0 for a failed call), for
    the others what was predicted. `billed_differ` counts the observed lines where billed and
    predicted images differ (a rejected or unknown-model request predicts 0).
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
    billed_cost: Mapping[str, Decimal] = attrs.field(factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; amounts are plain decimal strings so no digit is lost."""
        return {
            "labels": dict(self.labels),
            "requests": self.requests,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unknown_model": self.unknown_model,
            "priced": self.priced,
            "unknown_price": self.unknown_price,
            "images": self.images,
            "cost": {currency: format(amount, "f") for currency, amount in self.cost.items()},
            "billed": {
                "observed": self.observed,
                "differ": self.billed_differ,
                "images": self.billed_images,
                "cost": {currency: format(amount, "f") for currency, amount in self.billed_cost.items()},
            },
        }


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
        """The groups as a pyarrow Table (the `arrow` extra; see imagepricing.arrow.estimate_table).
        ImportError, with the install hint, without pyarrow."""
        from imagepricing.arrow import estimate_table  # noqa: PLC0415  # an optional extra

        return estimate_table(self)

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
    return GroupTotals(
        labels=MappingProxyType(dict(data["labels"])),
        requests=data["requests"],
        accepted=data["accepted"],
        rejected=data["rejected"],
        priced=data["priced"],
        unknown_price=data["unknown_price"],
        images=data["images"],
        cost=MappingProxyType({currency: Decimal(amount) for currency, amount in data["cost"].items()}),
        unknown_model=data.get("unknown_model", 0),
        observed=billed.get("observed", 0),
        billed_differ=billed.get("differ", 0),
        billed_images=billed.get("images", data["images"]),
        billed_cost=MappingProxyType({currency: Decimal(amount) for currency, amount in billed_cost.items()}),
    )


def _added(one: GroupTotals, other: GroupTotals) -> GroupTotals:
    """Two totals of the same labels added up, in the exact context."""
    cost = dict(one.cost)
    for currency, amount in other.cost.items():
        _add_to(cost, currency, amount)
    billed_cost = dict(one.billed_cost)
    for currency, amount in other.billed_cost.items():
        _add_to(billed_cost, currency, amount)
    return GroupTotals(
        labels=one.labels,
        requests=one.requests + other.requests,
        accepted=one.accepted + other.accepted,
        rejected=one.rejected + other.rejected,
        priced=one.priced + other.priced,
        unknown_price=one.unknown_price + other.unknown_price,
        images=one.images + other.images,
        cost=MappingProxyType(dict(sorted(cost.items(), key=_currency_order))),
        unknown_model=one.unknown_model + other.unknown_model,
        observed=one.observed + other.observed,
        billed_differ=one.billed_differ + other.billed_differ,
        billed_images=one.billed_images + other.billed_images,
        billed_cost=MappingProxyType(dict(sorted(billed_cost.items(), key=_currency_order))),
    )


def _add_to(sums: dict[str, Decimal], currency: str, amount: Decimal) -> None:
    sums[currency] = _EXACT.add(sums.get(currency, _ZERO), amount)


def _currency_order(item: tuple[str, Decimal]) -> tuple[str, str]:
    return (item[0].casefold(), item[0])
