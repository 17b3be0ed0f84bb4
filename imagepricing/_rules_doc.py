"""Render docs/rules.md: every rule with its finding code, what it checks and its source.

Generated from two places only, so the document cannot drift from the code:
- the tables (the catalog): parameters, models, sizes, tiers, aspect maps, price books;
- the rule declarations: each code as declared next to its check (`findings.declare`: severity,
  summary, default source), the checks that report it (`findings.reports`), `rules.RULES` and
  `rules.CROSS_RULES`.

`python -m imagepricing rules --out docs/rules.md` writes it; tests/test_rules_doc.py fails when
the committed file differs from what this module renders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from imagepricing.catalog import Catalog, ParamSpec, default_catalog
from imagepricing.findings import CODES, SEVERITIES, codes_of, reported_by
from imagepricing.pricing import PriceEntry, quote
from imagepricing.rules import CROSS_RULES, RULES
from imagepricing.sizes import AUTO_SIZES

__all__ = ["REFRESH_COMMAND", "render_rules"]

REFRESH_COMMAND = "python -m imagepricing rules --out docs/rules.md"

# The modules whose checks are the engine's own (the rest come from the rules and the quote).
_ENGINE_MODULES = ("engine", "_checkers")


# ---------------------------------------------------------------------------------- render


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Sequence[object]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _code(text: str) -> str:
    return f"`{text}`" if text else '`""`'


def _accepts(spec: ParamSpec) -> str:
    """What a model accepts for one parameter, in words."""
    if spec.overridden_to is not None:
        return f"any value; upstream uses {_code(spec.overridden_to)} ({spec.reason})"
    kind = spec.kind
    if kind == "text":
        limit = f"at most {spec.max_chars:,} characters" if spec.max_chars is not None else "no documented limit"
        return f"non-empty string, {limit}"
    if kind == "integer":
        text = f"integer {spec.min}-{spec.max}"
        if spec.model_max is not None:
            text += f"; this model at most {spec.model_max}"
        if spec.honoured_max is not None:
            text += f"; above {spec.honoured_max} silently used as {spec.honoured_max}"
        return text
    if kind == "choice":
        text = ", ".join(_code(v) for v in spec.values or ())
        return text + (f" (default {_code(spec.default)})" if spec.default is not None else "")
    if kind == "boolean":
        return "true or false"
    if kind == "url":
        return "http(s) URL"
    if kind == "image":
        return "http(s) URL or image data URI"
    if kind == "images":
        limit = f", at most {spec.max_items}" if spec.max_items is not None else ""
        return f"http(s) URL or image data URI, or an array of them{limit}"
    if kind == "size" and spec.size is not None:
        rule = spec.size
        if rule.allowed is not None:
            default = f"; auto means {_code(rule.default)}" if rule.default not in AUTO_SIZES else ""
            return ", ".join(_code(s) for s in rule.allowed_order) + f', `auto`, `""`{default}'
        if rule.constraints is not None:
            tiers = f"; billed by tiering `{rule.tiering.name}`" if rule.tiering is not None else ""
            return f'`auto`, `""` or WIDTHxHEIGHT within constraints `{rule.constraints.name}`{tiers}'
        if rule.aspect_map is not None:
            return f"any string, mapped by aspect map `{rule.aspect_map.name}`"
    return kind


def _entry_scope(entry: PriceEntry) -> str:
    keys = [
        f"{k} {v}"
        for k, v in (
            ("endpoint", entry.endpoint),
            ("quality", entry.quality),
            ("size", entry.size),
            ("tier", entry.tier),
        )
        if v is not None
    ]
    return ", ".join(keys) or "all requests"


def _span(start: dt.date | None, end: dt.date | None) -> str:
    if start is None and end is None:
        return "undated"
    return f"{start.isoformat() if start else '…'} to {end.isoformat() + ' (exclusive)' if end else 'now'}"


def render_rules(catalog: Catalog | None = None) -> str:
    """The whole of docs/rules.md, deterministic for given tables and code."""
    catalog = catalog or default_catalog()
    out: list[str] = [
        "# Rules reference",
        "",
        "<!-- Generated: do not edit. Refresh with `" + REFRESH_COMMAND + "`. -->",
        "",
        "Every rule imagepricing applies, generated from the data tables (`data/*.toml`) and the rule",
        "declarations (each code is declared next to the check that reports it: `findings.declare`).",
        "Each finding `check` reports carries the source of its rule in `finding.source`: a citation of",
        "a source of [docs/sources.md](sources.md) (publisher, title, address, and the section or a short",
        "quote). The finding-code table cites sources by id; the tables below carry them as findings do.",
        "Each error code's verdict under the rule of certainty (an error means upstream will certainly",
        "reject) is written next to its declaration; where sources disagree, the value is",
        "accepted with a `sources_disagree` warning.",
        "",
        "Sections: [Finding codes](#finding-codes) · [Rules](#rules) · [Parameters](#parameters) ·",
        "[Models](#models) · [Sizes](#sizes) · [Prices](#prices)",
        "",
    ]
    out += _codes_section()
    out += _rules_section(catalog)
    out += _parameters_section(catalog)
    out += _models_section(catalog)
    out += _sizes_section(catalog)
    out += _prices_section(catalog)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def _codes_section() -> list[str]:
    where = reported_by()
    lines = [
        "## Finding codes",
        "",
        "Severity `error`: upstream rejects the request (nothing is billed). `ignored`: accepted, but",
        "upstream drops or replaces the value. `warning`: accepted; worth attention.",
        "",
    ]
    rows = [
        (_code(code), info.severity, info.summary, ", ".join(f"`{f}`" for f in where[code]) or "-", info.source)
        for code, info in sorted(CODES.items(), key=lambda item: (SEVERITIES.index(item[1].severity), item[0]))
    ]
    return lines + _table(("code", "severity", "what it checks", "reported by", "default source"), rows)


def _rules_section(catalog: Catalog) -> list[str]:
    lines = [
        "## Rules",
        "",
        "One rule per parameter kind (`imagepricing.rules.RULES`), chosen by the parameter's `kind` in",
        "`data/parameters.toml` and driven by the model's row in `data/models.toml`; then the",
        "whole-request rules (`CROSS_RULES`), in this order. The engine (`engine.check`) reports the",
        "request's shape, the model, unknown and dropped parameters and missing required ones; the",
        "quote (`pricing.quote`) reports unknown prices.",
        "",
    ]
    rows: list[tuple[str, ...]] = []
    for kind, rule in RULES.items():
        params = [name for name, p in catalog.parameters.items() if p.kind == kind]
        rows.append(
            (
                f"`{kind}`",
                f"`rules.{rule.__name__}`",
                ", ".join(f"`{p}`" for p in params) or "-",
                ", ".join(_code(c) for c in sorted(codes_of(rule))),
            )
        )
    lines += _table(("kind", "rule", "parameters", "codes"), rows)
    rows = [(f"`rules.{rule.__name__}`", ", ".join(_code(c) for c in sorted(codes_of(rule)))) for rule in CROSS_RULES]
    rows.append(
        (
            "`engine.check`",
            ", ".join(_code(c) for c in sorted(_engine_codes())),
        )
    )
    rows.append(("`pricing.quote`", ", ".join(_code(c) for c in sorted(codes_of(quote)))))
    return [*lines, "Whole-request rules, the engine and the quote:", "", *_table(("rule", "codes"), rows)]


def _parameters_section(catalog: Catalog) -> list[str]:
    lines = [
        "## Parameters",
        "",
        "The request parameters as the platform defines them (`data/parameters.toml`). `null` for an",
        "optional parameter counts as omitted; `null` for a required one is `missing`. A key that is",
        "not a parameter of the endpoint is `unknown_parameter` (ignored).",
        "",
    ]
    rows = [
        (
            f"`{name}`",
            p.kind,
            ", ".join(sorted(p.endpoints, key=("generations", "edits").index)),
            "yes" if p.required else "no",
            f"{p.min}-{p.max}" if p.min is not None else "-",
            "platform (kept for every model)" if p.platform else "model",
            p.source,
        )
        for name, p in catalog.parameters.items()
    ]
    return lines + _table(("parameter", "kind", "endpoints", "required", "range", "handled by", "source"), rows)


def _models_section(catalog: Catalog) -> list[str]:
    lines = [
        "## Models",
        "",
        "What each model accepts on each endpoint (`data/models.toml`). Parameters of the endpoint a",
        "model does not list are dropped by upstream without being validated (`dropped`).",
        "",
    ]
    for model in catalog.models.values():
        lines += [f"### {model.id}", "", f"Family `{model.family}`. Source: {model.source}.", ""]
        missing = [e for e in ("generations", "edits") if e not in model.endpoints]
        for endpoint in missing:
            lines += [f"Does not serve **{endpoint}** (`endpoint_unsupported`).", ""]
        advice_shown = False
        for endpoint, capability in model.endpoints.items():
            lines += [f"#### {model.id} on {endpoint}", ""]
            rows = [(f"`{name}`", _accepts(spec), spec.source) for name, spec in capability.params.items()]
            lines += _table(("parameter", "accepts", "source"), rows)
            dropped = [
                name
                for name, param in catalog.parameters.items()
                if endpoint in param.endpoints and param.kind != "model" and name not in capability.params
            ]
            if dropped:
                names = ", ".join(f"`{d}`" for d in dropped)
                lines += [f"Dropped without validation: {names} ({capability.dropped_reason}).", ""]
            if capability.slow is not None and not advice_shown:
                lines += [f"Advice (`suggest_async`): {capability.slow.note}. Source: {capability.slow.source}.", ""]
                advice_shown = True
    return lines


def _sizes_section(catalog: Catalog) -> list[str]:
    lines = ["## Sizes", "", "From `data/sizes.toml`. Sizes match as written (exact strings).", ""]
    lines += ["### Size sets", ""]
    lines += _table(("set", "sizes"), [(f"`{name}`", ", ".join(sizes_)) for name, sizes_ in catalog.size_sets.items()])
    lines += ["### Free-form size constraints", ""]
    for name, c in catalog.constraints.items():
        rows: list[tuple[str, ...]] = [
            (
                "`size_format`",
                '`auto`, `""` or WIDTHxHEIGHT: ASCII digits, a lowercase x, nothing else',
                CODES["size_format"].source,
            ),
            ("`size_not_positive`", "neither side is zero", CODES["size_not_positive"].source),
        ]
        for code, text, source, disputed in c.limits():
            rows.append((f"`{code}`" + (" (disputed: a `sources_disagree` warning)" if disputed else ""), text, source))
        exempt = ", ".join(f"`{s}`" for s in sorted(c.exempt)) or "none"
        lines += [f"#### `{name}`", "", *_table(("code", "rule", "source"), rows)]
        if c.disputed:
            lines += [f"Disputed: {c.disputed_note}. Sources: {c.disputed_source}.", ""]
        lines += [
            f"Exempt (accepted whatever the limits say): {exempt}. Presets: {', '.join(c.presets) or 'none'}.",
            "",
        ]
        lines += [f"Source: {c.source}.", ""]
    lines += ["### Billing tiers", ""]
    for name, t in catalog.tierings.items():
        by_tier: dict[str, list[str]] = {}
        for size, tier in t.tier_of_size.items():
            by_tier.setdefault(tier, []).append(size)
        rows = [(f"`{tier}`", ", ".join(s)) for tier, s in by_tier.items()]
        rows.append((f"`{t.fallback_tier}`", "every other accepted size"))
        lines += [f"#### `{name}`", "", f'Size omitted, `auto` or `""`: `{t.auto_tier}`. Source: {t.source}.', ""]
        lines += _table(("tier", "sizes"), rows)
        if t.returned_as:
            shown = ", ".join(f"{a} may come back as {b}" for a, b in t.returned_as.items())
            lines += [f"Advice (`size_may_return_alias`): {shown}.", ""]
    lines += ["### Aspect maps", ""]
    for name, amap in catalog.aspect_maps.items():
        rows = [(f"`{size}`", ratio) for size, ratio in amap.ratio_of_size.items()]
        rows.append(('anything else (`aspect_fallback` warning; `auto`, `""` or omitted silently)', amap.fallback))
        lines += [f"#### `{name}`", "", f"Source: {amap.source}.", "", *_table(("size", "aspect ratio"), rows)]
    return lines


def _prices_section(catalog: Catalog) -> list[str]:
    lines = [
        "## Prices",
        "",
        "From `data/prices/*.toml`. Of the entries in force on the day asked and of the basis asked",
        "(`charged` by default), the most specific match prices the request (size, then tier, then",
        "quality, then endpoint). Cost = amount x tier multiplier, x images billed for per-image",
        "prices. A request no entry prices has an unknown cost (`price_unknown`, or",
        "`price_not_in_force` when the book has entries for the model but none that day).",
        "",
    ]
    for book in catalog.price_books.values():
        lines += [f"### {book.provider}: {book.name} ({book.currency})", "", f"Source: {book.source}.", ""]
        rows = [
            (
                f"`{e.model}`",
                f"{e.amount} {book.currency}" if e.amount is not None else "unknown",
                e.per,
                _entry_scope(e),
                ", ".join(f"{t} x{m}" for t, m in e.tier_multipliers.items()) or "-",
                _span(e.effective_from, e.effective_until),
                e.basis,
                e.source,
            )
            for e in book.entries
        ]
        lines += _table(("model", "amount", "per", "applies to", "multipliers", "in force", "basis", "source"), rows)
    return lines


def _engine_codes() -> set[str]:
    """The codes the engine's own checks report (their declarations, findings.reports)."""
    return {
        code
        for code, reporters in reported_by().items()
        if any(reporter.partition(".")[0] in _ENGINE_MODULES for reporter in reporters)
    }
