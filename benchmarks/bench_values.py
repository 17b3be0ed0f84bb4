"""The frozen values `check` builds on every memo miss, against the attrs classes they replace.

    python benchmarks/bench_values.py [--rounds R] [--calls N]

Report (17 fields, built with keywords as the engine builds it), Finding (5, keywords) and Quote
(7, positional) are plain slotted classes since issue 11 (imagepricing/frozen.py). Each row times
building one, against an `attrs.frozen(slots=True)` class with the same fields and defaults (what
they were: defined here, so the comparison runs in the same process) and a floor, `tuple()` of
the same values. Equality and hashing of a Finding are timed too. CPU time per call, median of
rounds (the three of a row interleaved); the ratios are what to compare between runs, the
microseconds move with machine load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from imagepricing.findings import Finding
from imagepricing.pricing import Quote
from imagepricing.report import Report


@attrs.frozen(slots=True)
class AttrsFinding:
    code: str
    param: str | None
    message: str
    source: str = ""
    path: str = "$"


@attrs.frozen(slots=True)
class AttrsQuote:
    currency: str
    unit_price: Decimal | None
    multiplier: Decimal | None
    cost: Decimal | None
    per: str | None
    source: str | None
    problem: tuple[str, str] | None


@attrs.frozen(slots=True)
class AttrsReport:
    endpoint: str
    provider: str
    model: str | None
    errors: tuple[Finding, ...]
    ignored: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    effective: object
    tier: str | None
    multiplier: Decimal | None
    images: int
    unit_price: Decimal | None
    cost: Decimal | None
    currency: str
    price_source: str | None
    price_basis: str
    as_of: dt.date
    price_per: str | None = None


def _per_call(works: list[Callable[[], object]], calls: int, rounds: int) -> list[float]:
    """Median CPU seconds per call of each of `works`, their rounds interleaved so that a burst of
    load elsewhere on the machine hits them all alike."""
    samples: list[list[float]] = [[] for _ in works]
    for _ in range(rounds):
        for work, found in zip(works, samples, strict=True):
            start = time.process_time()
            for _ in range(calls):
                work()
            found.append((time.process_time() - start) / calls)
    return [statistics.median(found) for found in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=50_000)
    args = parser.parse_args()

    effective = MappingProxyType({"model": "gpt-image-2", "size": "1024x1024"})
    multiplier, price, day = Decimal(1), Decimal("0.2"), dt.date(2026, 5, 1)
    report_fields = {
        "endpoint": "generations",
        "provider": "acedata",
        "model": "gpt-image-2",
        "errors": (),
        "ignored": (),
        "warnings": (),
        "effective": effective,
        "tier": "1K",
        "multiplier": Decimal(1),
        "images": 1,
        "unit_price": Decimal("0.2"),
        "cost": Decimal("0.2"),
        "currency": "credits",
        "price_source": "a source",
        "price_basis": "charged",
        "as_of": dt.date(2026, 5, 1),
        "price_per": "image",
    }
    report_values = tuple(report_fields.values())
    finding_fields = {"code": "out_of_range", "param": "n", "message": "m", "source": "s", "path": "$.n"}
    finding_values = tuple(finding_fields.values())
    other_values = tuple(finding_fields.values())
    quote_values: tuple[Any, ...] = ("credits", Decimal("0.2"), Decimal(1), Decimal("0.2"), "image", "a source", None)
    one, other = Finding(**finding_fields), Finding(**finding_fields)
    attrs_one, attrs_other = AttrsFinding(**finding_fields), AttrsFinding(**finding_fields)

    def report(cls: Callable[..., object]) -> Callable[[], object]:
        # Keywords written out, as engine.py writes them (a ** dict is slower for every class).
        def build() -> object:
            return cls(
                endpoint="generations",
                provider="acedata",
                model="gpt-image-2",
                errors=(),
                ignored=(),
                warnings=(),
                effective=effective,
                tier="1K",
                multiplier=multiplier,
                images=1,
                unit_price=price,
                cost=price,
                currency="credits",
                price_source="a source",
                price_basis="charged",
                as_of=day,
                price_per="image",
            )

        return build

    def finding(cls: Callable[..., object]) -> Callable[[], object]:
        def build() -> object:
            return cls(code="out_of_range", param="n", message="m", source="s", path="$.n")

        return build

    rows: list[tuple[str, Callable[[], object], Callable[[], object], Callable[[], object]]] = [
        ("Report(17 keywords)", report(Report), report(AttrsReport), lambda: tuple(report_values)),
        ("Finding(5 keywords)", finding(Finding), finding(AttrsFinding), lambda: tuple(finding_values)),
        (
            "Quote(*7 values)",
            lambda: Quote(*quote_values),
            lambda: AttrsQuote(*quote_values),
            lambda: tuple(quote_values),
        ),
        (
            "Finding == Finding",
            lambda: one == other,
            lambda: attrs_one == attrs_other,
            lambda: finding_values == other_values,
        ),
        ("hash(Finding)", lambda: hash(one), lambda: hash(attrs_one), lambda: hash(finding_values)),
    ]
    print(f"{args.rounds} rounds of {args.calls:,} calls, median CPU time per call")
    print(f"{'case':24} {'plain us':>9} {'attrs us':>9} {'tuple us':>9} {'attrs/plain':>12} {'plain/tuple':>12}")
    for name, plain, with_attrs, floor in rows:
        plain_t, attrs_t, floor_t = _per_call([plain, with_attrs, floor], args.calls, args.rounds)
        print(
            f"{name:24} {plain_t * 1e6:9.3f} {attrs_t * 1e6:9.3f} {floor_t * 1e6:9.3f}"
            f" {attrs_t / plain_t:12.2f} {plain_t / floor_t:12.2f}"
        )


if __name__ == "__main__":
    main()
