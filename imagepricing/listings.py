"""Listings: what the tables hold, as plain JSON-ready rows, for the command line and the service.

`models_table` (what each model accepts and costs on a day), `prices_table` (every price entry),
`usd_rates_table` (the USD reference rates) and `changes_table` (every dated change) are what
`imagepricing models|prices|changes --json` print and what the service answers on /v1/models and
/v1/prices: one place, so the two never differ.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from imagepricing.capabilities import Catalog, ParamSpec
from imagepricing.pricing import PriceBook
from imagepricing.timeline import changes

__all__ = ["changes_table", "models_table", "prices_table", "usd_rates_table"]


def models_table(catalog: Catalog, day: dt.date) -> list[dict[str, Any]]:
    """What each model accepts and costs on `day`, as plain data (used by `imagepricing models`)."""
    rows = []
    catalog = catalog.on(day)
    for model in catalog.models.values():
        endpoints: dict[str, Any] = {}
        for endpoint, cap in model.endpoints.items():
            params = {name: _describe_spec(spec) for name, spec in cap.params.items()}
            dropped = [
                name
                for name, param in catalog.parameters.items()
                if endpoint in param.endpoints and name not in cap.params and param.kind != "model"
            ]
            endpoints[endpoint] = {
                "params": params,
                "dropped": dropped,
                "disputed": cap.dispute[0] if cap.dispute is not None else None,
                "notices": [f"{code}: {note}" for code, note, _ in cap.notices],
            }
        prices = {provider: _price_summary(book, model.id, day) for provider, book in catalog.price_books.items()}
        rows.append({"model": model.id, "family": model.family, "endpoints": endpoints, "prices": prices})
    return rows


def _describe_spec(spec: ParamSpec) -> str:
    if spec.size is not None:
        rule = spec.size
        if rule.allowed is not None:
            return " | ".join(rule.allowed_order) + " | auto"
        if rule.constraints is not None:
            stated = [text + (" (disputed)" if disputed else "") for _, text, _, disputed in rule.constraints.limits()]
            return "WIDTHxHEIGHT" + "".join(f", {text}" for text in stated) + " | auto"
        if rule.aspect_map is not None:
            amap = rule.aspect_map
            return ", ".join(f"{s}->{r}" for s, r in amap.ratio_of_size.items()) + f", else {amap.fallback}"
    if spec.overridden_to is not None:
        return f"ignored, always {spec.overridden_to}"
    if spec.values is not None:
        return " | ".join(spec.values)
    if spec.kind == "integer":
        if spec.model_max is not None:
            return (
                f"integer, must be {spec.min}" if spec.model_max == spec.min else f"integer {spec.min}-{spec.model_max}"
            )
        if spec.honoured_max is not None:
            return f"integer {spec.min}-{spec.max}, above {spec.honoured_max} used as {spec.honoured_max}"
        return f"integer {spec.min}-{spec.max}"
    if spec.kind == "text":
        return f"text, at most {spec.max_chars:,} characters" if spec.max_chars else "text, no documented limit"
    if spec.kind == "images":
        return f"URL or array of up to {spec.max_items} URLs"
    return str(spec.kind)


def _price_summary(book: PriceBook, model: str, day: dt.date) -> str:
    override = book.overrides.get(model)
    entries = [e for e in book.entries_for(model, "charged") if e.in_force(day)]
    if override is not None:
        return f"{override} {book.currency} (user override)"
    if not entries:
        return "unknown"
    parts = []
    for entry in entries:
        keys = ", ".join(
            f"{k}={v}" for k, v in (("quality", entry.quality), ("size", entry.size), ("tier", entry.tier)) if v
        )
        amount = f"{entry.amount:f} {book.currency}/{entry.per}" if entry.amount is not None else "base unknown"
        mult = "".join(f", {t} x{m}" for t, m in entry.tier_multipliers.items())
        parts.append(f"{amount}{f' [{keys}]' if keys else ''}{mult}")
    return "; ".join(parts[:6]) + (f"; … ({len(parts)} entries)" if len(parts) > 6 else "")


def changes_table(catalog: Catalog, since: dt.date | None = None, model: str | None = None) -> list[dict[str, Any]]:
    """Every dated change of the rules, models and prices (`timeline.changes`), JSON-ready.
    ValueError for a model the catalog does not know."""
    return [
        {
            "day": c.day.isoformat(),
            "kind": c.kind,
            "subject": c.subject,
            "models": list(c.models),
            "endpoints": list(c.endpoints),
            "summary": c.summary,
            "source": c.source,
        }
        for c in changes(catalog, since=since, model=model)
    ]


def usd_rates_table(catalog: Catalog) -> list[dict[str, Any]]:
    """Every price book's USD reference rates (`usd_rates`), JSON-ready: the rates behind
    `Report.usd_equivalent` and estimate's USD equivalents. A book in USD needs none (its
    equivalent is the amount itself); a book that follows another uses that book's rates."""
    return [
        {
            "provider": book.provider,
            "currency": book.currency,
            "usd": _dec(rate.amount),
            "effective_from": rate.effective_from.isoformat() if rate.effective_from else None,
            "effective_until": rate.effective_until.isoformat() if rate.effective_until else None,
            "note": rate.note,
            "source": rate.source,
        }
        for book in catalog.price_books.values()
        for rate in book.usd_rates
    ]


def prices_table(catalog: Catalog) -> list[dict[str, Any]]:
    """Every price book entry and override as plain, JSON-ready data."""
    rows: list[dict[str, Any]] = []
    for book in catalog.price_books.values():
        for entry in book.entries:
            rows.append(
                {
                    "provider": book.provider,
                    "currency": book.currency,
                    "model": entry.model,
                    "amount": _dec(entry.amount),
                    "per": entry.per,
                    "endpoint": entry.endpoint,
                    "quality": entry.quality,
                    "size": entry.size,
                    "tier": entry.tier,
                    "tier_multipliers": {t: str(m) for t, m in entry.tier_multipliers.items()},
                    "effective_from": entry.effective_from.isoformat() if entry.effective_from else None,
                    "effective_until": entry.effective_until.isoformat() if entry.effective_until else None,
                    "basis": entry.basis,
                    "source": entry.source,
                }
            )
        for model, amount in book.overrides.items():
            rows.append(
                {
                    "provider": book.provider,
                    "currency": book.currency,
                    "model": model,
                    "amount": str(amount),
                    "per": "image",
                    "endpoint": None,
                    "quality": None,
                    "size": None,
                    "tier": None,
                    "tier_multipliers": {},
                    "effective_from": None,
                    "effective_until": None,
                    "basis": "charged",
                    "source": "user override",
                }
            )
    return rows


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
