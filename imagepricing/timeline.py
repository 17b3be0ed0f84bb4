"""What changed when: every dated change of the rules, the models, the prices and the rates.

The tables record the platform as a series of dated facts (models.toml's dated parameter facts and
`availability` windows; the price books' `effective_from`/`effective_until`, `follows` and
`usd_rates`). `changes()` lists the days one of them starts or ends, oldest first, each with what
changed and its source, which `imagepricing changes` prints:

>>> import datetime as dt
>>> [(c.day.isoformat(), c.kind, c.subject) for c in changes(model="nano-banana-2-lite", since=dt.date(2026, 7, 8))][:2]
[('2026-07-08', 'model', 'model'), ('2026-07-08', 'price', 'acedata nano-banana-2-lite')]

Rule and model changes are compiled with the catalog (`Catalog.changes`); price changes are read
from the price books here, so a book added with `Catalog.with_price_book` is listed too.
"""

from __future__ import annotations

import datetime as dt

from imagepricing.catalog import Catalog, Change, default_catalog
from imagepricing.pricing import PriceBook, PriceEntry, format_amount

__all__ = ["changes"]

_BOTH = ("generations", "edits")


def changes(
    catalog: Catalog | None = None, *, since: dt.date | None = None, model: str | None = None
) -> tuple[Change, ...]:
    """Every dated change of `catalog` (default: the shipped tables), oldest first; those on or after
    `since`, and those that concern `model`, when given. ValueError for a model the catalog does not
    know."""
    catalog = default_catalog() if catalog is None else catalog
    if model is not None and model not in catalog.models:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(catalog.models)}")
    listed = [*catalog.changes]
    for book in catalog.price_books.values():
        listed.extend(_book_changes(book, catalog))
    kept = [
        change
        for change in listed
        if (since is None or change.day >= since) and (model is None or model in change.models)
    ]
    kinds = {"model": 0, "rule": 1, "follows": 2, "price": 3, "rate": 4}
    return tuple(sorted(kept, key=lambda c: (c.day, kinds.get(c.kind, 9), c.subject)))


def _book_changes(book: PriceBook, catalog: Catalog) -> list[Change]:
    found: list[Change] = []
    starts = {(e.model, e.basis, e.keys, e.effective_from) for e in book.entries}
    for entry in book.entries:
        endpoints = (entry.endpoint,) if entry.endpoint is not None else _BOTH
        subject = f"{book.provider} {entry.model}"
        if entry.effective_from is not None:
            found.append(
                Change(
                    entry.effective_from,
                    "price",
                    subject,
                    (entry.model,),
                    endpoints,
                    _described(entry, book),
                    entry.source,
                )
            )
        # An entry that ends with no entry of the same keys taking over that day: the price ends.
        until = entry.effective_until
        if until is not None and (entry.model, entry.basis, entry.keys, until) not in starts:
            followed = book.follows is not None and until >= book.follows.effective_from
            summary = f"{entry.basis} price no longer in force: {_described(entry, book)}"
            if followed:
                summary += f" (from {book.follows.effective_from.isoformat()} the book follows {book.follows.provider})"  # type: ignore[union-attr]
            found.append(Change(until, "price", subject, (entry.model,), endpoints, summary, entry.source))
    if book.follows is not None:
        follows = book.follows
        found.append(
            Change(
                follows.effective_from,
                "follows",
                f"{book.provider} prices",
                tuple(catalog.models),
                _BOTH,
                f"{book.name} sells at the prices of {follows.provider}: {follows.note}",
                follows.source,
            )
        )
    for rate in book.usd_rates:
        if rate.effective_from is not None:
            note = f" ({rate.note})" if rate.note else ""
            found.append(
                Change(
                    rate.effective_from,
                    "rate",
                    f"{book.provider} {book.currency} in USD",
                    tuple(catalog.models),
                    _BOTH,
                    f"reference rate {format_amount(rate.amount)} USD per {book.currency.rstrip('s')}{note}",
                    rate.source,
                )
            )
    return found


def _described(entry: PriceEntry, book: PriceBook) -> str:
    """An entry as a reader says it: '0.09 credits per request (charged)'."""
    keys = [
        f"{name} {value}"
        for name, value in zip(("endpoint", "quality", "size", "tier"), entry.keys, strict=True)
        if value
    ]
    scope = f" for {', '.join(keys)}" if keys else ""
    if entry.amount is None:
        what = entry.note or "no base price"
    else:
        what = f"{format_amount(entry.amount)} {book.currency} per {entry.per}"
    multipliers = ", ".join(f"{tier} x{format_amount(m)}" for tier, m in entry.tier_multipliers.items())
    extra = f", tier multipliers {multipliers}" if multipliers else ""
    doubt = " (uncertain: see the source)" if entry.uncertain else ""
    return f"{what}{scope}{extra} ({entry.basis}){doubt}"
