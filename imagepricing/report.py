"""The Report `check` returns: findings, the effective request, and the quote."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from imagepricing.findings import Finding

__all__ = ["Report", "RequestRejected"]


@attrs.frozen(weakref_slot=True)
class Report:
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
    price_per: str | None = None
    usd_equivalent: Decimal | None = None
    usd_rate: Decimal | None = None
    usd_rate_source: str | None = None

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


def _text(value: Decimal | None) -> str | None:
    # Plain notation: str() would write a tiny or huge amount as '1.5E-61'.
    return None if value is None else format(value, "f")


class RequestRejected(ValueError):
    """A request upstream would certainly reject, raised by `Report.raise_for_errors` and the guards.

    `.report` is the whole Report (its quote, ignored parameters and warnings too); `.findings`
    are its errors. The text lists every error as `code (param): message`; messages never quote
    a secret, so the text is safe to log.

    >>> import imagepricing
    >>> try:
    ...     imagepricing.check({"model": "dall-e-3", "prompt": "p", "n": 2}).raise_for_errors()
    ... except imagepricing.RequestRejected as rejected:
    ...     print([f.code for f in rejected.findings])
    ['above_model_limit']
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        self.findings: tuple[Finding, ...] = report.errors
        count = len(self.findings)
        lines = [f"request rejected ({count} error{'s' if count != 1 else ''}):"]
        lines.extend(f"{f.code} ({f.param or 'request'}): {f.message}" for f in self.findings)
        super().__init__("\n  ".join(lines))
