"""The shape of a request: the key of the engine's memo (_memo.py).

A shape is the request with each value replaced by what its rule reads, as the rule itself
declares it (rules.ABSTRACTIONS), in request order (findings follow it), after the options that
change the outcome (endpoint and URL policy). Not the day, provider or price basis: they change
only the price, which the engine looks up per outcome. `shape` returns None for a request the
memo must not hold (see its docstring); such a request goes straight to the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imagepricing._memo import VerdictMemo
from imagepricing.capabilities import Catalog, ParamSpec
from imagepricing.rules import (
    ABSTRACTIONS,
    MAX_MEMO_TEXT,
    UNMEMOISABLE,
    exact_scalar,
)

__all__ = ["shape"]

# Markers of a shape for values no rule of the model reads: the engine and the cross rules ask only
# whether such a value is absent (None) or exactly `true`.
_ABSENT = ("absent",)
_PRESENT = ("present",)
_TRUE = (bool, True)
_MAX_MEMO_KEYS = 32


def shape(
    request: object, endpoint: str, catalog: Catalog, memo: VerdictMemo, url_policy: str
) -> tuple[object, ...] | None:
    """The memo key of `request`: endpoint and URL policy followed by the request as its rules
    read it; None when the request is not memoised: not a plain dict, too many keys, a key that
    is not a short string, or a value whose text would reach a finding."""
    if type(request) is not dict or len(request) > _MAX_MEMO_KEYS:
        return None
    name = request.get("model")
    compiled = memo.compiled
    abstractions = compiled.get((name, endpoint)) if type(name) is str else None
    if abstractions is None:
        abstractions = _table(name, endpoint, catalog, compiled)
    assert isinstance(abstractions, dict)
    parts: list[object] = [endpoint, url_policy]
    for key, value in request.items():
        # The key's exact type first: 1, 1.0 and True are one dict key in a tuple, not in a request.
        if type(key) is not str or len(key) > MAX_MEMO_TEXT:
            return None
        if value is None:
            part: object = _ABSENT
        else:
            found = abstractions.get(key)
            if found is None:
                # Unknown, undocumented or dropped: only the key reaches a finding.
                part = _TRUE if value is True else _PRESENT
            elif found is exact_scalar:
                kind = type(value)
                if kind is str and len(value) <= MAX_MEMO_TEXT:
                    # A string stands for itself: every other part of this key is a tuple or a
                    # marker, never a str, so it cannot be taken for one (and a tuple is not built).
                    part = value
                elif kind is bool:
                    part = (bool, value)
                else:
                    part = exact_scalar(value)
            elif found is _SERVED:
                part = value  # the name of a model served on this endpoint
            else:
                abstraction, spec = found
                part = abstraction(value, spec, url_policy)
        if part is UNMEMOISABLE:
            return None
        parts.append(key)
        parts.append(part)
    return tuple(parts)


_SERVED = ("served",)


def _table(name: object, endpoint: str, catalog: Catalog, compiled: dict[Any, object]) -> dict[str, object]:
    """How each parameter of a request naming `name` on `endpoint` is abstracted, compiled once
    per model and endpoint, and found by the name of a served model (names the catalog serves are
    few, so the map stays bounded; any other name takes this path each time)."""
    if name is None:
        name = catalog.default_models.get(endpoint)  # the platform's default model, as the engine takes it
    model = catalog.models.get(name) if type(name) is str else None
    capability = model.endpoints.get(endpoint) if model is not None else None
    # Without a capability (no model, an unknown one, an endpoint the model does not serve) only
    # the platform's own parameters are judged, as the engine does; the model's value is then kept
    # exactly, since the messages quote it.
    table_key = (capability.model if capability is not None else None, endpoint)
    table = compiled.get(table_key)
    if table is None:
        specs = capability.params if capability is not None else catalog.platform_specs
        table = compiled[table_key] = _abstractions(specs, served=capability is not None)
    if capability is not None:
        compiled[(name, endpoint)] = table
    assert isinstance(table, dict)
    return table


def _abstractions(specs: Mapping[str, ParamSpec], *, served: bool) -> dict[str, object]:
    """Each parameter judged with its rule's abstraction (exact_scalar is inlined by `shape`);
    "model" as it is when the model is served, else exactly (its messages quote it)."""
    table: dict[str, object] = {}
    for name, spec in specs.items():
        abstraction = ABSTRACTIONS[spec.kind]
        if abstraction is exact_scalar:
            table[name] = exact_scalar
        else:
            table[name] = (abstraction, spec)
    table["model"] = _SERVED if served else exact_scalar
    return table
