"""The Report `check` returns: findings, the effective request, and the quote."""

from __future__ import annotations

from imagepricing.frozen import Frozen, build

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; see frozen.py)
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping
    from decimal import Decimal
    from typing import Any

    from imagepricing.findings import Finding

__all__ = ["Report"]

_FIELDS = (
    "endpoint",
    "provider",
    "model",
    "errors",
    "ignored",
    "warnings",
    "effective",
    "tier",
    "multiplier",
    "images",
    "unit_price",
    "cost",
    "currency",
    "price_source",
    "price_basis",
    "as_of",
    "price_per",
    "usd_equivalent",
    "usd_rate",
    "usd_rate_source",
)


class _ReportSlots:
    __slots__ = ("__weakref__", *_FIELDS)


class _ReportBeingBuilt(_ReportSlots):
    """A Report while `Report.__new__` fills it: the same layout, without the frozen setattr."""

    __slots__ = ()


class Report(_ReportSlots, Frozen, init=False):
    """Everything `check` found about one request.

    `ok` is True iff there are no errors. `ignored` lists, one finding per parameter, what
    upstream drops or overrides; `effective` is what upstream will actually use. `images` is the
    number of images billed (0 when the request would be rejected: failures are not billed).
    `cost` is `images x unit_price x multiplier` in `currency` (per-request prices are not
    multiplied by images), or None when the request is invalid or the price is unknown (a
    warning then says which).

    `usd_equivalent` is `cost` in US dollars at the reference rate of `currency` in force on
    `as_of` (`usd_rate`, from `usd_rate_source`): an equivalent for comparing amounts, never what
    an account is charged (the platform sells credits in packages, each at its own rate). It is
    None when the cost or the rate is unknown; for a price in USD it is the cost itself.
    """

    endpoint: str
    provider: str
    model: str | None
    errors: tuple[Finding, ...]
    ignored: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    effective: Mapping[str, object]
    tier: str | None
    multiplier: Decimal | None
    images: int
    unit_price: Decimal | None
    cost: Decimal | None
    currency: str
    price_source: str | None
    price_basis: str
    as_of: dt.date
    # "image" or "request": what unit_price is the price of (None when no entry applied).
    price_per: str | None
    usd_equivalent: Decimal | None
    usd_rate: Decimal | None
    usd_rate_source: str | None

    __slots__ = ()
    _fields = _compared = _FIELDS

    def __new__(
        cls,
        endpoint: str,
        provider: str,
        model: str | None,
        errors: tuple[Finding, ...],
        ignored: tuple[Finding, ...],
        warnings: tuple[Finding, ...],
        effective: Mapping[str, object],
        tier: str | None,
        multiplier: Decimal | None,
        images: int,
        unit_price: Decimal | None,
        cost: Decimal | None,
        currency: str,
        price_source: str | None,
        price_basis: str,
        as_of: dt.date,
        price_per: str | None = None,
        usd_equivalent: Decimal | None = None,
        usd_rate: Decimal | None = None,
        usd_rate_source: str | None = None,
    ) -> Report:
        # Built on every check the memo does not answer: plain stores, then the class (frozen.Frozen).
        if cls is not Report:
            values = (endpoint, provider, model, errors, ignored, warnings, effective, tier, multiplier, images)
            rest = (unit_price, cost, currency, price_source, price_basis, as_of, price_per)
            usd = (usd_equivalent, usd_rate, usd_rate_source)
            return build(cls, cls._fields, values + rest + usd)
        self: Any = _new(_ReportBeingBuilt)
        self.endpoint = endpoint
        self.provider = provider
        self.model = model
        self.errors = errors
        self.ignored = ignored
        self.warnings = warnings
        self.effective = effective
        self.tier = tier
        self.multiplier = multiplier
        self.images = images
        self.unit_price = unit_price
        self.cost = cost
        self.currency = currency
        self.price_source = price_source
        self.price_basis = price_basis
        self.as_of = as_of
        self.price_per = price_per
        self.usd_equivalent = usd_equivalent
        self.usd_rate = usd_rate
        self.usd_rate_source = usd_rate_source
        self.__class__ = cls
        return self  # type: ignore[no-any-return]

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> Report:
        """Raise `RequestRejected` when upstream would reject the request; return self otherwise.

        >>> import imagepricing
        >>> imagepricing.check({"model": "nano-banana", "prompt": "p"}).raise_for_errors().cost
        Decimal('0.14')
        """
        if self.errors:
            from imagepricing.errors import RequestRejected  # noqa: PLC0415 (errors imports report for types)

            raise RequestRejected(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; Decimals become strings so no digit is lost."""
        return {
            "ok": self.ok,
            "endpoint": self.endpoint,
            "provider": self.provider,
            "model": self.model,
            "errors": [f.to_dict() for f in self.errors],
            "ignored": [f.to_dict() for f in self.ignored],
            "warnings": [f.to_dict() for f in self.warnings],
            "effective": dict(self.effective),
            "tier": self.tier,
            "multiplier": _text(self.multiplier),
            "images": self.images,
            "unit_price": _text(self.unit_price),
            "cost": _text(self.cost),
            "currency": self.currency,
            "price_source": self.price_source,
            "price_basis": self.price_basis,
            "as_of": self.as_of.isoformat(),
            # An equivalent at a reference rate, labelled as such: never added to `cost`.
            "usd_equivalent": _text(self.usd_equivalent),
            "usd_rate": _text(self.usd_rate),
            "usd_rate_source": self.usd_rate_source,
        }


_new = object.__new__


def _text(value: Decimal | None) -> str | None:
    # Plain notation: str() would write a tiny or huge amount as '1.5E-61'.
    return None if value is None else format(value, "f")
