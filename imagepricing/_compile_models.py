"""Compiling models.toml: each model's capabilities on each endpoint, era by era.

A parameter entry may be one fact or dated facts (an array, each in force from `effective_from`
until `effective_until`); a model may carry `availability` windows. The dates every fact starts or
ends cut the record into eras, and each era gets its own compiled models (a fact the same in two
eras compiles once, so eras share their ParamSpecs); the rule and model changes that cut the eras
are listed for `imagepricing changes`. Every problem is collected with its file and path.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

from imagepricing._table_shapes import (
    AvailabilityTable,
    EndpointTable,
    ModelsFile,
    ModelTable,
    ParamEntry,
    ParamSpecTable,
)
from imagepricing.capabilities import AVAILABILITY_CODES, Advice, Capability, Change, Era, Model, Parameter, ParamSpec
from imagepricing.sizes import AUTO_SIZES, AspectMap, Constraints, SizeRule, Tiering, constraint_problems, parse_size

__all__ = ["check_name", "compile_models", "models_in_eras", "platform_spec"]


# What a model id or a choice value may be written with: ASCII letters and digits, with . _ : / + -
# inside. A request matches these names exactly, so a trailing space, a zero-width character, a
# Cyrillic or full-width look-alike or an empty string would make a value no request can ever
# match (or a model no request can name) while the table loads without complaint.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._:/+-]*[A-Za-z0-9])?")


def check_name(text: str, where: str, what: str, problems: list[str]) -> bool:
    """Whether `text` is a plain name; otherwise adds a problem saying what is wrong with it."""
    if _NAME.fullmatch(text):
        return True
    if not text:
        reason = "is empty"
    elif text != text.strip() or text != "".join(text.split()):
        reason = "contains whitespace (a trailing, leading or inner space, tab or newline)"
    elif not text.isascii():
        odd = next(ch for ch in text if not ch.isascii())
        reason = (
            f"contains the non-ASCII character U+{ord(odd):04X} {unicodedata.name(odd, '(unnamed)')}"
            " (a look-alike, invisible or full-width character)"
        )
    else:
        reason = "must be ASCII letters and digits, with . _ : / + - only between them"
    problems.append(f"{where}: {what} {reason}; requests compare names exactly, so it could never match")
    return False


def models_in_eras(eras: tuple[Era, ...]) -> dict[str, tuple[Model, ...]]:
    """Each model id with its Model in every era (what a price book is checked against: a price
    may apply in any era)."""
    found: dict[str, list[Model]] = {}
    for era in eras:
        for model_id, model in era.models.items():
            found.setdefault(model_id, []).append(model)
    return {model_id: tuple(models) for model_id, models in found.items()}


def platform_spec(param: Parameter) -> ParamSpec:
    return ParamSpec(
        name=param.name, kind=param.kind, source=param.source, min=param.min, max=param.max, range_source=param.source
    )


# Which keys of a parameter entry fit which kind of parameter (see models.toml's header).
_KEYS_BY_KIND: dict[str, frozenset[str]] = {
    "choice": frozenset({"values", "default", "disputed_values"}),
    "integer": frozenset({"max", "honoured_max", "disputed_above"}),
    "text": frozenset({"max_chars"}),
    "images": frozenset({"max_items", "disputed_max_items"}),
    "image": frozenset(),
    "size": frozenset({"sizes", "constraints", "aspect_map", "default", "tiers", "documented"}),
    "url": frozenset(),
    "boolean": frozenset(),
    "model": frozenset(),
}


_SPEC_KEYS = (
    "values",
    "default",
    "max",
    "honoured_max",
    "max_chars",
    "max_items",
    "sizes",
    "constraints",
    "aspect_map",
    "tiers",
    "disputed_values",
    "disputed_max_items",
    "disputed_above",
    "documented",
)


def _resolve_endpoints(
    model_id: str, models: Mapping[str, ModelTable], problems: list[str]
) -> dict[str, EndpointTable]:
    """A model's endpoint tables with `inherits` applied (the child's parameters win)."""

    chain = [model_id]
    row = models[model_id]
    while row.inherits is not None:
        if row.inherits not in models:
            problems.append(f"models.toml: $.models.{chain[-1]}.inherits: unknown model {row.inherits!r}")
            break
        if row.inherits in chain:
            problems.append(f"models.toml: $.models.{model_id}.inherits: cycle {' -> '.join([*chain, row.inherits])}")
            break
        chain.append(row.inherits)
        row = models[row.inherits]
    merged: dict[str, EndpointTable] = {}
    for ancestor in reversed(chain):
        for endpoint, table in models[ancestor].endpoints.items():
            base = merged.get(endpoint)
            if base is None:
                merged[endpoint] = table
                continue
            merged[endpoint] = EndpointTable(
                dropped_reason=table.dropped_reason or base.dropped_reason,
                source=table.source or base.source,
                params={**base.params, **table.params},
                disputed=table.disputed or base.disputed,
            )
    return merged


# The finding code of each availability status (models.toml `availability`).
def _dated_problems(start: dt.date | None, until: dt.date | None, where: str, problems: list[str]) -> None:
    if start is not None and until is not None and start >= until:
        problems.append(f"{where}.effective_until: must be after effective_from")


def _variants(entry: ParamEntry, where: str, problems: list[str]) -> tuple[ParamSpecTable, ...]:
    """The dated facts of one parameter entry, checked: one undated table, or tables in date order
    that follow each other without a gap (the first open at the start, the last open at the end),
    each after the first saying what changed."""
    if not isinstance(entry, tuple):
        if entry.effective_from is not None or entry.effective_until is not None or entry.change is not None:
            problems.append(f"{where}: a single fact is in force for all time; write dated facts as an array")
        if entry.dropped:
            problems.append(f"{where}.dropped: a parameter dropped for all time is simply not listed")
        return (entry,)
    for i, variant in enumerate(entry):
        at = f"{where}[{i}]"
        _dated_problems(variant.effective_from, variant.effective_until, at, problems)
        if i == 0 and variant.effective_from is not None:
            problems.append(f"{at}.effective_from: the first fact holds from the start of the record; omit it")
        if i > 0 and variant.effective_from is None:
            problems.append(f"{at}.effective_from: required after the first fact")
        if i == len(entry) - 1 and variant.effective_until is not None:
            problems.append(f"{at}.effective_until: the last fact is still in force; omit it (add a dated fact)")
        if i < len(entry) - 1 and variant.effective_until != entry[i + 1].effective_from:
            problems.append(f"{at}.effective_until: must be the next fact's effective_from (no gap, no overlap)")
        if i > 0 and not (variant.change or "").strip():
            problems.append(f"{at}.change: say what changed on effective_from (imagepricing changes lists it)")
    return entry


def _in_force(start: dt.date | None, until: dt.date | None, era_start: dt.date | None) -> bool:
    """Whether a fact of [start, until) holds through the era beginning `era_start` (None: the era
    before every recorded change); eras are cut at every date a fact starts or ends."""
    if era_start is None:
        return start is None
    return (start is None or start <= era_start) and (until is None or era_start < until)


def _availability(model_id: str, models: Mapping[str, ModelTable]) -> tuple[AvailabilityTable, ...]:
    """A model's availability record: its own, else the nearest ancestor's (inherits)."""
    seen: set[str] = set()
    row: ModelTable | None = models.get(model_id)
    while row is not None and model_id not in seen:
        if row.availability:
            return row.availability
        seen.add(model_id)
        model_id = row.inherits or ""
        row = models.get(model_id)
    return ()


def compile_models(
    table: ModelsFile,
    parameters: Mapping[str, Parameter],
    size_sets: Mapping[str, tuple[str, ...]],
    constraints: Mapping[str, Constraints],
    tierings: Mapping[str, Tiering],
    aspect_maps: Mapping[str, AspectMap],
    problems: list[str],
) -> tuple[tuple[Era, ...], tuple[Change, ...]]:
    """Every model as the platform served it in each era, and the rule changes that cut the eras.

    An era is a stretch of days over which no fact of models.toml changes: the dates every dated
    fact starts or ends cut the record into eras, and each era gets its own compiled models (a
    parameter fact the same in two eras compiles once, so eras share their ParamSpecs)."""
    # model -> endpoint -> parameter -> [(variant, its compiled spec or None when dropped)]
    facts: dict[str, dict[str, dict[str, list[tuple[ParamSpecTable, ParamSpec | None]]]]] = {}
    cuts: set[dt.date] = set()
    endpoint_tables: dict[str, dict[str, EndpointTable]] = {}
    changes: dict[tuple[object, ...], tuple[list[str], list[str]]] = {}

    sources_of: dict[tuple[object, ...], list[str]] = {}

    def record(key: tuple[object, ...], source: str, model_id: str, endpoint: str) -> None:
        # One change of one fact, whichever models (by inheritance) and endpoints share it; a model
        # the record shows served only later is left out (its facts before then are inherited).
        day = key[1]
        assert isinstance(day, dt.date)
        if (
            any(
                w.status == "not_yet_available" and _in_force(w.effective_from, w.effective_until, day)
                for w in _availability(model_id, table.models)
            )
            and key[0] != "model"
        ):
            return
        models_of, endpoints_of = changes.setdefault(key, ([], []))
        if model_id not in models_of:
            models_of.append(model_id)
        if endpoint not in endpoints_of:
            endpoints_of.append(endpoint)
        cited = sources_of.setdefault(key, [])
        if source not in cited:
            cited.append(source)

    for model_id in table.models:
        if not check_name(model_id, f"models.toml: $.models.{model_id}", "a model id", problems):
            continue
        endpoint_tables[model_id] = _resolve_endpoints(model_id, table.models, problems)
        facts[model_id] = {}
        for endpoint, ep in endpoint_tables[model_id].items():
            where = f"models.toml: $.models.{model_id}.endpoints.{endpoint}"
            by_param: dict[str, list[tuple[ParamSpecTable, ParamSpec | None]]] = {}
            for name, entry in ep.params.items():
                variants = _variants(entry, f"{where}.params.{name}", problems)
                compiled: list[tuple[ParamSpecTable, ParamSpec | None]] = []
                for i, variant in enumerate(variants):
                    at = f"{where}.params.{name}" + (f"[{i}]" if isinstance(entry, tuple) else "")
                    spec = None
                    if not variant.dropped:
                        spec = _compile_spec(
                            name,
                            endpoint,
                            variant,
                            parameters,
                            size_sets,
                            constraints,
                            tierings,
                            aspect_maps,
                            at,
                            problems,
                        )
                        if spec is None:
                            continue
                    elif parameters.get(name) is not None and parameters[name].required:
                        problems.append(f"{at}.dropped: {name!r} is required; a model cannot drop it")
                    compiled.append((variant, spec))
                    cuts.update(d for d in (variant.effective_from, variant.effective_until) if d is not None)
                    if i > 0 and variant.effective_from is not None:
                        record(
                            ("rule", variant.effective_from, name, variant.change), variant.source, model_id, endpoint
                        )
                by_param[name] = compiled
            for name, param in parameters.items():
                if endpoint not in param.endpoints:
                    continue
                if param.required and param.kind != "model" and name not in by_param:
                    problems.append(
                        f"{where}.params: the required parameter {name!r} must be listed (a model cannot drop it)"
                    )
                if param.platform and name in by_param:
                    problems.append(f"{where}.params.{name}: handled by the platform for every model; do not list it")
            facts[model_id][endpoint] = by_param
        if not endpoint_tables[model_id]:
            problems.append(f"models.toml: $.models.{model_id}.endpoints: the model serves no endpoint")
        for i, window in enumerate(_availability(model_id, table.models)):
            where = f"models.toml: $.models.{model_id}.availability[{i}]"
            _dated_problems(window.effective_from, window.effective_until, where, problems)
            if window.effective_from is None and window.effective_until is None:
                problems.append(f"{where}: give effective_from or effective_until (a window of the record)")
            for endpoint in window.endpoints:
                if endpoint not in endpoint_tables[model_id]:
                    problems.append(f"{where}.endpoints: {model_id} does not serve {endpoint}")
            cuts.update(d for d in (window.effective_from, window.effective_until) if d is not None)
            # A model recorded as not yet served until a date is served from that date; a model
            # recorded as retired from a date is retired from that date.
            if window.status == "not_yet_available" and window.effective_until is not None:
                summary = f"served from this date: {window.note}"
                record(
                    ("model", window.effective_until, "model", summary),
                    window.source,
                    model_id,
                    ",".join(window.endpoints),
                )
            if window.effective_from is not None:
                record(
                    ("model", window.effective_from, "model", window.note),
                    window.source,
                    model_id,
                    ",".join(window.endpoints),
                )

    eras: list[Era] = []
    starts: list[dt.date | None] = [None, *sorted(cuts)]
    capabilities: dict[tuple[object, ...], Capability] = {}
    for index, era_start in enumerate(starts):
        until = starts[index + 1] if index + 1 < len(starts) else None
        models: dict[str, Model] = {}
        for model_id, row in table.models.items():
            if model_id not in facts:
                continue
            windows = _availability(model_id, table.models)
            endpoints: dict[str, Capability] = {}
            for endpoint, by_param in facts[model_id].items():
                ep = endpoint_tables[model_id][endpoint]
                chosen = {
                    name: next(
                        (spec for v, spec in variants if _in_force(v.effective_from, v.effective_until, era_start)),
                        None,
                    )
                    for name, variants in by_param.items()
                }
                notices = tuple(
                    (AVAILABILITY_CODES[w.status], w.note, w.source)
                    for w in windows
                    if endpoint in w.endpoints and _in_force(w.effective_from, w.effective_until, era_start)
                )
                key = (model_id, endpoint, tuple(id(spec) for spec in chosen.values()), notices)
                capability = capabilities.get(key)
                if capability is None:
                    specs = {name: spec for name, spec in chosen.items() if spec is not None}
                    for name, param in parameters.items():
                        if param.platform and endpoint in param.endpoints:
                            specs[name] = platform_spec(param)
                    capability = capabilities[key] = Capability(
                        model=model_id,
                        endpoint=endpoint,
                        params=MappingProxyType(specs),
                        dropped_reason=ep.dropped_reason
                        or f"{model_id} does not take this parameter; upstream drops it",
                        source=ep.source or row.source,
                        slow=Advice(row.slow.note, row.slow.source) if row.slow else None,
                        dispute=(ep.disputed.note, ep.disputed.source) if ep.disputed is not None else None,
                        notices=notices,
                    )
                endpoints[endpoint] = capability
            models[model_id] = Model(model_id, row.family, row.source, MappingProxyType(endpoints))
        eras.append(Era(era_start, until, MappingProxyType(models)))
    listed = tuple(
        Change(
            day=key[1],  # type: ignore[arg-type]
            kind=str(key[0]),
            subject=str(key[2]),
            models=tuple(models_of),
            endpoints=tuple(sorted({e for joined in endpoints_of for e in joined.split(",")})),
            summary=str(key[3]),
            source="; ".join(sources_of[key]),
        )
        for key, (models_of, endpoints_of) in changes.items()
    )
    return tuple(eras), tuple(sorted(listed, key=lambda c: c.day))


def _compile_spec(
    name: str,
    endpoint: str,
    row: ParamSpecTable,
    parameters: Mapping[str, Parameter],
    size_sets: Mapping[str, tuple[str, ...]],
    constraints: Mapping[str, Constraints],
    tierings: Mapping[str, Tiering],
    aspect_maps: Mapping[str, AspectMap],
    where: str,
    problems: list[str],
) -> ParamSpec | None:
    param = parameters.get(name)
    if param is None:
        problems.append(f"{where}: {name!r} is not a parameter defined in parameters.toml")
        return None
    if endpoint not in param.endpoints:
        problems.append(f"{where}: {name!r} is not a parameter of the {endpoint} endpoint")
        return None
    if param.kind == "model":
        problems.append(f"{where}: 'model' is implied and must not be listed")
        return None
    allowed = _KEYS_BY_KIND[param.kind]
    for key in _SPEC_KEYS:
        if getattr(row, key) is not None and key not in allowed:
            problems.append(f"{where}.{key}: does not apply to a {param.kind} parameter")
    if (row.overridden_to is None) != (row.reason is None) and row.honoured_max is None:
        problems.append(f"{where}: overridden_to and reason go together")
    for key in ("max", "honoured_max"):
        limit = getattr(row, key)
        if (
            limit is not None
            and param.min is not None
            and param.max is not None
            and not param.min <= limit <= param.max
        ):
            problems.append(f"{where}.{key}: {limit} is outside the parameter's range {param.min}-{param.max}")
    for key in ("max_chars", "max_items"):
        if getattr(row, key) == 0:
            problems.append(f"{where}.{key}: 0 would refuse every value; must be positive")
    if param.kind == "choice" and row.values is not None:
        if not row.values and not row.disputed_values:
            problems.append(f"{where}.values: empty (and no disputed_values)")
        if len(set(row.values)) != len(row.values):
            problems.append(f"{where}.values: lists a value twice")
        elif len({value.casefold() for value in row.values}) != len(row.values):
            problems.append(f"{where}.values: lists a value twice in different case; requests compare exactly")
        for i, value in enumerate(row.values):
            check_name(value, f"{where}.values[{i}]", "a choice value", problems)
        if row.default is not None and row.default not in row.values:
            problems.append(f"{where}.default: {row.default!r} is not one of the values")
    disputed = any(
        getattr(row, key) is not None
        for key in ("disputed_values", "disputed_max_items", "disputed_above", "documented")
    )
    if disputed != (row.disputed_note is not None) or disputed != (row.disputed_source is not None):
        problems.append(
            f"{where}: disputed_values (or disputed_max_items, disputed_above, documented), disputed_note and"
            " disputed_source go together"
        )
    if row.disputed_max_items is not None and (row.max_items is None or row.disputed_max_items <= row.max_items):
        problems.append(f"{where}.disputed_max_items: must be above max_items")
    if param.kind == "choice" and row.values is None and row.overridden_to is None:
        problems.append(f"{where}: a choice parameter needs values (or overridden_to)")
    size_rule = (
        _compile_size_rule(row, size_sets, constraints, tierings, aspect_maps, where, problems)
        if param.kind == "size"
        else None
    )
    return ParamSpec(
        name=name,
        kind=param.kind,
        source=row.source,
        values=row.values,
        default=row.default,
        min=param.min,
        max=param.max,
        model_max=row.max,
        honoured_max=row.honoured_max,
        max_chars=row.max_chars,
        max_items=row.max_items,
        size=size_rule,
        overridden_to=row.overridden_to,
        reason=row.reason,
        disputed_values=frozenset(row.disputed_values or ()),
        disputed_max_items=row.disputed_max_items,
        disputed_above=row.disputed_above,
        disputed_note=row.disputed_note,
        disputed_source=row.disputed_source,
        range_source=param.source,
    )


def _compile_size_rule(
    row: ParamSpecTable,
    size_sets: Mapping[str, tuple[str, ...]],
    constraints: Mapping[str, Constraints],
    tierings: Mapping[str, Tiering],
    aspect_maps: Mapping[str, AspectMap],
    where: str,
    problems: list[str],
) -> SizeRule | None:
    chosen = [key for key in ("sizes", "constraints", "aspect_map") if getattr(row, key) is not None]
    if len(chosen) != 1:
        problems.append(
            f"{where}: a size entry needs exactly one of sizes, constraints, aspect_map (has {chosen or 'none'})"
        )
        return None
    tiering = None
    if row.tiers is not None:
        tiering = tierings.get(row.tiers)
        if tiering is None:
            problems.append(f"{where}.tiers: unknown tiering {row.tiers!r}")
    default = row.default if row.default is not None else "auto"
    if row.sizes is not None:
        allowed = size_sets.get(row.sizes)
        if allowed is None:
            problems.append(f"{where}.sizes: unknown size set {row.sizes!r}")
            return None
        if default not in allowed and default not in AUTO_SIZES:
            problems.append(f"{where}.default: {default!r} is not in size set {row.sizes!r}")
        return SizeRule(default=default, allowed=frozenset(allowed), allowed_order=allowed, tiering=tiering)
    documented: frozenset[str] | None = None
    if row.documented is not None:
        listed = size_sets.get(row.documented)
        if listed is None:
            problems.append(f"{where}.documented: unknown size set {row.documented!r}")
        elif row.constraints is None:
            problems.append(f"{where}.documented: applies only to a free-form size (constraints)")
        else:
            documented = frozenset(listed)
    if row.constraints is not None:
        limits = constraints.get(row.constraints)
        if limits is None:
            problems.append(f"{where}.constraints: unknown constraint set {row.constraints!r}")
            return None
        size = parse_size(default)
        if (
            default not in AUTO_SIZES
            and default not in limits.exempt
            and limits.multiple_of != 0  # 0 is reported with the constraint set, and would divide by zero
            and (size is None or constraint_problems(size, limits))
        ):
            problems.append(f"{where}.default: {default!r} is not a size constraint set {row.constraints!r} accepts")
        return SizeRule(default=default, constraints=limits, tiering=tiering, documented=documented)
    assert row.aspect_map is not None
    if row.default is not None:
        # An aspect map falls back to its own ratio; a size default would be silently unused.
        problems.append(f"{where}.default: does not apply with aspect_map (its fallback ratio is the default)")
    amap = aspect_maps.get(row.aspect_map)
    if amap is None:
        problems.append(f"{where}.aspect_map: unknown aspect map {row.aspect_map!r}")
        return None
    return SizeRule(default=default, aspect_map=amap, tiering=tiering)
