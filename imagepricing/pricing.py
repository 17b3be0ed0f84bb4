"""Price books and quotes: from an effective request to unit price, multiplier and cost.

Money is `Decimal` from the data file to the total; a float never enters this module.

**Which entry prices a request.** Of a book's entries for the model, keep those that are in force
on the day asked (`effective_from <= day < effective_until`), of the basis asked ("charged" by
default), and whose keys all match the request: `endpoint`, `quality` and `size` compare with the
effective values, `tier` with the size's billing tier; an absent key matches anything. Of those,
the most specific wins, keys weighed in this order: exact `size`, then `tier`, then `quality`,
then `endpoint`. Two entries with the same keys never overlap in time (checked at load), so the
choice is always unique.

**Cost.** `amount x multiplier`, times the images billed when the entry is `per = "image"`.
The multiplier is the entry's `tier_multipliers[tier]`, 1 for a tier it does not list. An
entry without `amount` still fixes the multiplier; the cost is then unknown.

**Overrides.** `Catalog.with_price(provider, model, amount)` sets the base amount for a model
whatever the date, quality or size; the matched entry (if any) still gives `per` and the
multiplier.

>>> from decimal import Decimal
>>> entry = PriceEntry(model="m", amount=Decimal("0.2"), tier_multipliers={"other": Decimal("1.5")})
>>> entry.multiplier_for("other") * entry.amount
Decimal('0.30')
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

import attrs

from imagepricing.findings import declare, reports

PriceBasis = Literal["charged", "published"]

__all__ = [
    "MONEY_CONTEXT",
    "PRICE_BASES",
    "Follows",
    "PriceBasis",
    "PriceBook",
    "PriceEntry",
    "Quote",
    "UsdRate",
    "cost_of",
    "format_amount",
    "quote",
    "usd_rate_of",
]

PRICE_BASES: tuple[PriceBasis, ...] = ("charged", "published")
_ONE = Decimal(1)

# The library's own decimal context for every money operation. The caller's thread context may have
# any precision, exponent range and traps (`getcontext().prec = 1` would make 0.02 x 7 come out as
# 0.1); none of it reaches a price. Maximum precision and exponent range, so a product of exact
# amounts is exact, and the Inexact trap, so anything that would round fails loudly instead.
MONEY_CONTEXT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Overflow, decimal.DivisionByZero],
)


def format_amount(amount: Decimal) -> str:
    """An amount in plain notation, every digit kept: never '1.5E-61' or '1E+5'.

    >>> format_amount(Decimal("1.5E-7")), format_amount(Decimal("0.20"))
    ('0.00000015', '0.20')
    """
    return format(amount, "f")


def _frozen(mapping: Mapping[str, Decimal] | None) -> Mapping[str, Decimal]:
    """A read-only copy (a table's dict must not change the value that holds it)."""
    return MappingProxyType(dict(mapping or {}))


OVERRIDE_SOURCE = "user override (Catalog.with_price)"


def _in_force(start: dt.date | None, until: dt.date | None, day: dt.date) -> bool:
    return (start is None or start <= day) and (until is None or day < until)


@attrs.frozen(weakref_slot=True)
class PriceEntry:
    """One price as a book states it, with the keys that say when and to what it applies."""

    model: str
    amount: Decimal | None = None
    per: Literal["image", "request"] = "image"
    endpoint: str | None = None
    quality: str | None = None
    size: str | None = None
    tier: str | None = None
    tier_multipliers: Mapping[str, Decimal] = attrs.field(factory=dict, converter=_frozen)
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    basis: PriceBasis = "charged"
    source: str = ""
    note: str | None = None
    # Why the sources leave this price in doubt: a quote that uses it carries `price_uncertain`.
    uncertain: str | None = None

    def in_force(self, day: dt.date) -> bool:
        return _in_force(self.effective_from, self.effective_until, day)

    def multiplier_for(self, tier: str | None) -> Decimal:
        if tier is None:
            return _ONE
        return self.tier_multipliers.get(tier, _ONE)

    @property
    def keys(self) -> tuple[str | None, str | None, str | None, str | None]:
        """The applicability keys; two entries with equal keys must not overlap in time."""
        return (self.endpoint, self.quality, self.size, self.tier)

    @property
    def specificity(self) -> tuple[bool, bool, bool, bool]:
        return (self.size is not None, self.tier is not None, self.quality is not None, self.endpoint is not None)


@attrs.frozen(weakref_slot=True)
class UsdRate:
    """US dollars per unit of a book's currency, in force from `effective_from` until (exclusive)
    `effective_until`: a reference for comparing amounts, not what any account was charged."""

    amount: Decimal
    effective_from: dt.date | None
    effective_until: dt.date | None
    source: str
    note: str | None = None

    def in_force(self, day: dt.date) -> bool:
        return _in_force(self.effective_from, self.effective_until, day)


@attrs.frozen(weakref_slot=True)
class Follows:
    """From `effective_from`, a provider sells at another provider's prices (its book then holds
    no entry of its own): XHuoAPI, a white-label copy, follows Ace Data Cloud's record."""

    provider: str
    effective_from: dt.date
    note: str
    source: str


@attrs.frozen(weakref_slot=True)
class PriceBook:
    """One provider's prices, in one currency."""

    provider: str
    name: str
    currency: str
    source: str
    entries: tuple[PriceEntry, ...]
    overrides: Mapping[str, Decimal] = attrs.field(factory=dict, converter=_frozen)
    hosts: tuple[str, ...] = ()
    follows: Follows | None = None
    usd_rates: tuple[UsdRate, ...] = ()
    # Derived from `entries` (the entries by model, and by model and basis, most specific first,
    # so the first match is the winner); not compared.
    _by_model: Mapping[str, tuple[PriceEntry, ...]] = attrs.field(init=False, eq=False, repr=False)
    _by_model_basis: Mapping[tuple[str, str], tuple[PriceEntry, ...]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        grouped: dict[str, list[PriceEntry]] = {}
        for entry in self.entries:
            grouped.setdefault(entry.model, []).append(entry)
        by_model = {m: tuple(sorted(es, key=lambda e: e.specificity, reverse=True)) for m, es in grouped.items()}
        by_basis: dict[tuple[str, str], list[PriceEntry]] = {}
        for model, ordered in by_model.items():
            for entry in ordered:
                by_basis.setdefault((model, entry.basis), []).append(entry)
        object.__setattr__(self, "_by_model", MappingProxyType(by_model))
        object.__setattr__(self, "_by_model_basis", MappingProxyType({k: tuple(v) for k, v in by_basis.items()}))

    def entries_for(self, model: str, basis: PriceBasis | None = None) -> tuple[PriceEntry, ...]:
        """The model's entries, most specific first; only those of `basis` when given."""
        if basis is None:
            return self._by_model.get(model, ())
        return self._by_model_basis.get((model, basis), ())

    def with_override(self, model: str, amount: Decimal) -> PriceBook:
        return attrs.evolve(self, overrides={**self.overrides, model: amount})

    def followed_on(self, day: dt.date, books: Mapping[str, PriceBook]) -> PriceBook | None:
        """The book whose prices this provider sells at on `day`, when it follows one then."""
        follows = self.follows
        if follows is None or day < follows.effective_from:
            return None
        return books[follows.provider]

    def usd_rate(self, day: dt.date) -> UsdRate | None:
        """The USD rate of this book's currency in force on `day` (None: none is recorded)."""
        for rate in self.usd_rates:
            if rate.in_force(day):
                return rate
        return None


@attrs.frozen(weakref_slot=True)
class Quote:
    """The price side of a report. `problem` is (code, message) when the cost is unknown;
    `caveat` is (code, message) when it is known but the sources leave it in doubt. `usd_rate` is
    the reference rate of the book's currency in US dollars on the day (its source in
    `usd_source`), and `usd_equivalent` the cost at that rate: a reference, never a charge."""

    currency: str
    unit_price: Decimal | None
    multiplier: Decimal | None
    cost: Decimal | None
    per: Literal["image", "request"] | None
    source: str | None
    problem: tuple[str, str] | None
    caveat: tuple[str, str] | None = None
    usd_rate: Decimal | None = None
    usd_source: str | None = None
    usd_equivalent: Decimal | None = None


# What the equivalent of an amount in US dollars is, where the book's currency is USD already.
_USD_ITSELF = "the price is in US dollars"


def usd_rate_of(book: PriceBook, day: dt.date) -> tuple[Decimal | None, str | None]:
    """The USD rate of `book`'s currency on `day` and its source; (None, None) when none is known."""
    if book.currency == "USD":
        return _ONE, _USD_ITSELF
    rate = book.usd_rate(day)
    return (rate.amount, rate.source) if rate is not None else (None, None)


declare(
    "price_unknown",
    "warning",
    "No sourced price covers this request; cost is unknown (supply one with Catalog.with_price).",
    "imagepricing: prices ship only with a citable source",
)
declare(
    "price_not_in_force",
    "warning",
    "The price book has entries for the model, but none in force on the date asked.",
    "acedata-nexior: commits 38e7ed1e5 and 740b76ca2, prices change over time",
)
declare(
    "price_uncertain",
    "warning",
    "The cost uses a price the sources leave in doubt for that date (the finding says why).",
    "acedata-roadmap: dated changes of the platform's prices",
)


@reports("price_unknown", "price_not_in_force", "price_uncertain")
def quote(
    book: PriceBook,
    *,
    model: str,
    endpoint: str,
    quality: str | None,
    size: str | None,
    tier: str | None,
    images: int,
    day: dt.date,
    basis: PriceBasis = "charged",
    followed: PriceBook | None = None,
) -> Quote:
    """Price `images` images of `model` from `book` on `day` (see the module docstring).

    `followed` is the book `book` follows on `day` (PriceBook.followed_on), whose entries and USD
    rate then apply; `book`'s own overrides (Catalog.with_price) still win."""
    priced_by = followed if followed is not None else book
    entries = priced_by.entries_for(model, basis)
    override = book.overrides.get(model)
    usd_rate, usd_source = usd_rate_of(priced_by, day)
    chosen: PriceEntry | None = None
    any_in_force = False
    for entry in entries:
        if not entry.in_force(day):
            continue
        any_in_force = True
        if (
            (entry.endpoint is None or entry.endpoint == endpoint)
            and (entry.quality is None or entry.quality == quality)
            and (entry.size is None or entry.size == size)
            and (entry.tier is None or entry.tier == tier)
        ):
            chosen = entry
            break

    if chosen is None and override is None:
        problem = _why_unknown(priced_by, model, entries, any_in_force, day, basis)
        return Quote(book.currency, None, None, None, None, None, problem, None, usd_rate, usd_source)

    per: Literal["image", "request"] = chosen.per if chosen is not None else "image"
    multiplier = chosen.multiplier_for(tier) if chosen is not None else _ONE
    amount = override if override is not None else (chosen.amount if chosen is not None else None)
    source = OVERRIDE_SOURCE if override is not None else (chosen.source if chosen is not None else None)
    if followed is not None and override is None and source is not None and book.follows is not None:
        source = f"{book.name} sells at {followed.name}'s prices from {book.follows.effective_from.isoformat()}" + (
            f" ({book.follows.source}); {source}"
        )
    if amount is None:
        if chosen is not None and chosen.note:
            problem = ("price_unknown", f"{chosen.note}; cost is unknown.")
            return Quote(book.currency, None, multiplier, None, per, source, problem, None, usd_rate, usd_source)
        problem = (
            "price_unknown",
            f"{book.name} publishes no base price for {model}"
            f"{f' (only a {multiplier}x multiplier for the {tier} tier)' if multiplier != _ONE else ''};"
            f" supply one with Catalog.with_price({book.provider!r}, {model!r}, ...).",
        )
        return Quote(book.currency, None, multiplier, None, per, source, problem, None, usd_rate, usd_source)
    cost = cost_of(amount, multiplier, per, images)
    caveat = None
    if override is None and chosen is not None and chosen.uncertain is not None:
        caveat = ("price_uncertain", f"{chosen.uncertain}.")
    equivalent = MONEY_CONTEXT.multiply(cost, usd_rate) if usd_rate is not None else None
    return Quote(book.currency, amount, multiplier, cost, per, source, None, caveat, usd_rate, usd_source, equivalent)


def cost_of(amount: Decimal, multiplier: Decimal, per: str, images: int) -> Decimal:
    """What `images` images cost at `amount` times `multiplier`, billed per image or once per
    request (a request returning no image bills nothing): the one billing rule, exact.

    >>> cost_of(Decimal("0.09"), Decimal(1), "request", 3), cost_of(Decimal("0.11"), Decimal(1), "image", 3)
    (Decimal('0.09'), Decimal('0.33'))
    """
    count = images if per == "image" else (1 if images else 0)
    return MONEY_CONTEXT.multiply(MONEY_CONTEXT.multiply(amount, multiplier), count)


def _why_unknown(
    book: PriceBook, model: str, of_basis: tuple[PriceEntry, ...], any_in_force: bool, day: dt.date, basis: str
) -> tuple[str, str]:
    """Why no entry priced the request; `of_basis` are the model's entries of that basis."""
    if of_basis and not any_in_force:
        starts = [e.effective_from for e in of_basis if e.effective_from is not None]
        earliest = f" (the earliest starts {min(starts).isoformat()})" if starts else ""
        return (
            "price_not_in_force",
            f"{book.name} has no {basis} price for {model} in force on {day.isoformat()}{earliest}; cost is unknown.",
        )
    if of_basis:
        return (
            "price_unknown",
            f"{book.name} has no {basis} price for {model} that matches this request's quality, size or endpoint;"
            " cost is unknown.",
        )
    return (
        "price_unknown",
        f"{book.name} has no sourced {basis} price for {model}; supply one with"
        f" Catalog.with_price({book.provider!r}, {model!r}, ...) to get a cost.",
    )
