"""Compiling the price books (data/prices/*.toml), checked against every era of the models (a
price may apply in any era), and the books that follow another provider's prices."""

from __future__ import annotations

import re
from collections.abc import Mapping

from imagepricing._table_shapes import PriceBookFile
from imagepricing.capabilities import Model
from imagepricing.pricing import Follows, PriceBook, PriceEntry, UsdRate
from imagepricing.sizes import AS_WRITTEN, constraint_problems, parse_size, table_size

__all__ = ["check_follows", "compile_book"]


# A host as written in a price book: lowercase ASCII labels, no port, no trailing dot.
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")


def _accepts_size(model: Model, endpoint: str | None, text: str) -> bool:
    """Whether `model` accepts size `text` on `endpoint` (on any endpoint when None)."""
    for name, capability in model.endpoints.items():
        spec = capability.params.get("size")
        if (endpoint is not None and name != endpoint) or spec is None or spec.size is None:
            continue
        rule = spec.size
        if rule.aspect_map is not None or (rule.allowed is not None and text in rule.allowed):
            return True
        limits = rule.constraints
        size = parse_size(text)
        if (
            limits is not None
            and size is not None
            and (text in limits.exempt or limits.multiple_of == 0 or not constraint_problems(size, limits))
        ):
            return True
    return False


def compile_book(
    label: str,
    book: PriceBookFile,
    models: Mapping[str, tuple[Model, ...]],
    problems: list[str],
) -> PriceBook:
    """One price book, checked against every era of the models (a price may apply in any)."""
    entries: list[PriceEntry] = []
    seen: dict[tuple[object, ...], list[PriceEntry]] = {}
    if not book.currency.strip():
        problems.append(f"{label}: $.currency: empty")
    for i, row in enumerate(book.prices):
        where = f"{label}: $.prices[{i}]"
        in_eras = models.get(row.model)
        if in_eras is None:
            problems.append(f"{where}.model: {row.model!r} is not a model in models.toml")
            continue
        tier_names = _tier_names(in_eras)
        if row.endpoint is not None and not any(row.endpoint in model.endpoints for model in in_eras):
            problems.append(f"{where}.endpoint: {row.model} does not serve {row.endpoint}")
        if row.size is not None and table_size(row.size) is None:
            problems.append(f"{where}.size: {row.size!r} is not WIDTHxHEIGHT{AS_WRITTEN}")
        elif row.size is not None and not any(_accepts_size(model, row.endpoint, row.size) for model in in_eras):
            problems.append(f"{where}.size: {row.model} accepts no size {row.size}, so the price could never apply")
        if row.tier is not None and row.tier not in tier_names:
            problems.append(
                f"{where}.tier: {row.tier!r} is not a tier of {row.model} (tiers: {', '.join(tier_names) or 'none'})"
            )
        for tier in row.tier_multipliers:
            if tier not in tier_names:
                problems.append(
                    f"{where}.tier_multipliers: {tier!r} is not a tier of {row.model}"
                    f" (tiers: {', '.join(tier_names) or 'none'})"
                )
        if row.quality is not None and row.quality not in _qualities(in_eras, row.endpoint):
            problems.append(f"{where}.quality: {row.quality!r} is not a quality {row.model} takes")
        if row.effective_from and row.effective_until and row.effective_from >= row.effective_until:
            problems.append(f"{where}.effective_until: must be after effective_from")
        if not row.source.strip():
            problems.append(f"{where}.source: every price needs a source")
        if row.uncertain is not None and row.amount is None:
            problems.append(f"{where}.uncertain: applies to a price with an amount (an unknown one says so itself)")
        entry = PriceEntry(
            model=row.model,
            amount=row.amount,
            per=row.per,
            endpoint=row.endpoint,
            quality=row.quality,
            size=row.size,
            tier=row.tier,
            tier_multipliers=row.tier_multipliers,
            effective_from=row.effective_from,
            effective_until=row.effective_until,
            basis=row.basis,
            source=row.source,
            note=row.note,
            uncertain=row.uncertain,
        )
        key = (row.model, row.basis, *entry.keys)
        for other in seen.get(key, []):
            if _overlap(entry, other):
                problems.append(
                    f"{where}: overlaps another {row.basis} entry for {row.model} with the same keys;"
                    " the price would be ambiguous"
                )
                break
        seen.setdefault(key, []).append(entry)
        entries.append(entry)
    for i, host in enumerate(book.hosts):
        if not _HOST_NAME.fullmatch(host):
            problems.append(f"{label}: $.hosts[{i}]: {host!r} is not a lowercase DNS host name")
    rates: list[UsdRate] = []
    for i, rate_row in enumerate(book.usd_rates):
        where = f"{label}: $.usd_rates[{i}]"
        rate = UsdRate(
            rate_row.amount, rate_row.effective_from, rate_row.effective_until, rate_row.source, rate_row.note
        )
        if rate_row.effective_from and rate_row.effective_until and rate_row.effective_from >= rate_row.effective_until:
            problems.append(f"{where}.effective_until: must be after effective_from")
        if any(_overlap(rate, other) for other in rates):
            problems.append(f"{where}: overlaps another rate; the equivalent would be ambiguous")
        if book.currency == "USD":
            problems.append(f"{where}: the book's currency is USD already")
        rates.append(rate)
    follows = None
    if book.follows is not None:
        row_f = book.follows
        follows = Follows(row_f.provider, row_f.effective_from, row_f.note, row_f.source)
        for i, entry in enumerate(entries):
            if entry.effective_until is None or entry.effective_until > row_f.effective_from:
                problems.append(
                    f"{label}: $.prices[{i}]: in force after {row_f.effective_from.isoformat()}, when the book"
                    f" follows {row_f.provider!r} ($.follows): end it on that day (effective_until)"
                )
        for i, rate in enumerate(rates):
            if rate.effective_until is None or rate.effective_until > row_f.effective_from:
                problems.append(f"{label}: $.usd_rates[{i}]: in force after the book follows {row_f.provider!r}")
    return PriceBook(
        provider=book.provider,
        name=book.name,
        currency=book.currency,
        source=book.source,
        entries=tuple(entries),
        hosts=book.hosts,
        follows=follows,
        usd_rates=tuple(rates),
    )


def check_follows(
    books: Mapping[str, PriceBook], files: list[tuple[str, PriceBookFile]], present: set[str], problems: list[str]
) -> None:
    """A book follows another provider's book of the same currency, which follows none. A book
    whose file is present but did not load has its own problems reported already."""
    for provider, book in books.items():
        follows = book.follows
        if follows is None:
            continue
        label = next((lbl for lbl, f in files if f.provider == provider), provider)
        followed = books.get(follows.provider)
        if followed is None and follows.provider in present and follows.provider != provider:
            continue
        if followed is None or follows.provider == provider:
            problems.append(f"{label}: $.follows.provider: {follows.provider!r} is no other provider's book")
        elif followed.follows is not None:
            problems.append(f"{label}: $.follows.provider: {follows.provider!r} follows another book itself")
        elif followed.currency != book.currency:
            problems.append(
                f"{label}: $.follows.provider: {follows.provider!r} prices in {followed.currency}, not {book.currency}"
            )


def _tier_names(models: tuple[Model, ...]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for model in models:
        for cap in model.endpoints.values():
            size = cap.params.get("size")
            if size is not None and size.size is not None and size.size.tiering is not None:
                names.update(dict.fromkeys(size.size.tiering.tier_names))
    return tuple(names)


def _qualities(models: tuple[Model, ...], endpoint: str | None) -> set[str]:
    """The qualities the model takes, in any era, on `endpoint` (on any endpoint when None)."""
    found: set[str] = set()
    for model in models:
        for name, cap in model.endpoints.items():
            if endpoint is not None and name != endpoint:
                continue
            spec = cap.params.get("quality")
            if spec is not None and spec.values:
                found.update(spec.values)
    return found


def _overlap(a: PriceEntry | UsdRate, b: PriceEntry | UsdRate) -> bool:
    a_end, b_end = a.effective_until, b.effective_until
    a_start, b_start = a.effective_from, b.effective_from
    starts_before_b_ends = b_end is None or a_start is None or a_start < b_end
    b_starts_before_a_ends = a_end is None or b_start is None or b_start < a_end
    return starts_before_b_ends and b_starts_before_a_ends
