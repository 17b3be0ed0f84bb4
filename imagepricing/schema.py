"""JSON Schema (draft 2020-12) of an acceptable request, built from the tables.

`request_schema(model, endpoint)` describes what one model accepts on one endpoint;
`endpoint_schema(endpoint)` accepts a request for any model serving the endpoint (it dispatches
on `model`). The schemas describe *acceptable* requests: what upstream drops or ignores (a
parameter the model does not take, an unknown key, null for an optional parameter) is allowed.

A JSON Schema can say less than the rules. It does not express (see `NOT_EXPRESSED`):
sides that are multiples of 16, the longest side, the pixel limits and the aspect ratio of a
free-form size, the 1K aliases being exempt from the 16 rule, most of the URL policy, the
cross-parameter advice and anything about billing. It also cannot tell `2` from `2.0` (JSON
Schema compares numbers by value; the rules refuse `2.0` where an integer is expected).
Everything it does express agrees with `check`; `SCHEMA_CODES` lists the finding codes whose
every occurrence the schema rejects as well.

Portability: patterns use only the interoperable regex subset (no `\\d`, no lookaround) and never
rely on `$` alone. Python's `re` (used by the `jsonschema` package) lets `$` match before a
trailing newline, so `^(?:auto|[0-9]+x[0-9]+)$` alone would accept "1024x1024\\n"; every anchored
pattern is paired with ``"not": {"type": "string", "pattern": "\\n"}``, which is redundant for
ECMA-262 engines and closes the gap for Python's.

>>> schema = request_schema("dall-e-3")
>>> schema["properties"]["n"]["maximum"], schema["required"]
(1, ['model', 'prompt'])
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from imagepricing._clock import today
from imagepricing._tables import ENDPOINTS
from imagepricing._version import __version__
from imagepricing.catalog import Capability, Catalog, ParamSpec, default_catalog
from imagepricing.sizes import AUTO_SIZES, SizeRule

__all__ = ["DIALECT", "NOT_EXPRESSED", "SCHEMA_CODES", "endpoint_schema", "request_schema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Finding codes the schema rejects whenever check reports them, as long as the value is not a
# float where an integer is expected. model_unknown and endpoint_unsupported need
# endpoint_schema (a model's own schema only knows that model).
SCHEMA_CODES: frozenset[str] = frozenset(
    {
        "not_an_object",
        "missing",
        "wrong_type",
        "empty",
        "too_long",
        "too_many_items",
        "out_of_range",
        "above_model_limit",
        "not_allowed",
        "model_unknown",
        "endpoint_unsupported",
        "size_not_supported",
        "size_format",
        "url_empty",
        "url_not_absolute",
        "url_scheme",
    }
)

NOT_EXPRESSED: tuple[str, ...] = (
    "free-form sizes: sides multiples of 16, the longest side, the pixel limits (maximum and minimum)"
    " and the aspect ratio (x-imagepricing-size-constraints gives the numbers)",
    "the 1K aliases being exempt from the multiple-of-16 rule",
    "a zero side (size_not_positive)",
    "URLs beyond an http(s) or data: prefix: hosts, ports, whitespace, data URI payloads, the strict policy"
    " (the schema is the basic policy's: any string is a callback_url, an unusable one only a warning)",
    "cross-parameter advice and warnings (transparent background with jpeg, unused compression,"
    " suggest async, returned aliases)",
    "what upstream ignores (dropped, overridden, downgraded values are accepted, not reported)",
    "where the sources disagree (sources_disagree): such values are accepted, so the schema admits them",
    "billing: tiers, multipliers, images billed, prices",
)

# Anchored patterns are paired with this so that Python's `$` (which matches before a final
# newline) cannot accept "1024x1024\n"; ECMA-262 engines reject it already.
_NO_NEWLINE: dict[str, Any] = {"not": {"type": "string", "pattern": "\n"}}
_HTTP_OR_DATA_URL = "^(?:[Hh][Tt][Tt][Pp][Ss]?://|[Dd][Aa][Tt][Aa]:)"
_SIZE_PATTERN = "^(?:auto|[0-9]+x[0-9]+)?$"


def request_schema(
    model: str, endpoint: str = "generations", catalog: Catalog | None = None, *, as_of: dt.date | None = None
) -> dict[str, Any]:
    """The JSON Schema of a request `check` accepts for `model` on `endpoint` on `as_of` (default
    today, UTC: the rules are dated facts).

    Raises ValueError for an unknown model or endpoint, or a model that does not serve it.
    """
    day = as_of if as_of is not None else today()
    catalog = (catalog or default_catalog()).on(day)
    capability = catalog.capability(model, endpoint)
    return {
        "$schema": DIALECT,
        "$id": f"urn:imagepricing:{__version__}:request:{endpoint}:{model}:{day.isoformat()}",
        **_model_schema(capability, catalog),
    }


def endpoint_schema(
    endpoint: str = "generations", catalog: Catalog | None = None, *, as_of: dt.date | None = None
) -> dict[str, Any]:
    """The JSON Schema of a request `check` accepts on `endpoint` on `as_of` (default today, UTC),
    for any model serving it."""
    day = as_of if as_of is not None else today()
    catalog = (catalog or default_catalog()).on(day)
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
    serving = [m for m in catalog.models.values() if endpoint in m.endpoints]
    defs = {m.id: _model_schema(m.endpoints[endpoint], catalog) for m in serving}
    default = catalog.default_models.get(endpoint)
    optional = default is not None
    rules: list[dict[str, Any]] = [
        {
            "if": {"properties": {"model": {"const": m.id}}, "required": ["model"]},
            "then": {"$ref": f"#/$defs/{m.id}"},
        }
        for m in serving
    ]
    if default is not None:
        # Without a model (or with null) the platform uses its default model for the endpoint, and
        # the engine checks the request against that model's rules (data/parameters.toml).
        defs["(default)"] = _model_schema(catalog.models[default].endpoints[endpoint], catalog, model_required=False)
        rules.append(
            {
                "if": {"anyOf": [{"not": {"required": ["model"]}}, {"properties": {"model": {"type": "null"}}}]},
                "then": {"$ref": "#/$defs/(default)"},
            }
        )
    return {
        "$schema": DIALECT,
        "$id": f"urn:imagepricing:{__version__}:request:{endpoint}:{day.isoformat()}",
        "title": f"imagepricing: a request to the images {endpoint} endpoint",
        "type": "object",
        "required": [*([] if optional else ["model"]), *catalog.required[endpoint]],
        "properties": {"model": _nullable({"enum": [m.id for m in serving]}, optional)},
        "allOf": rules,
        "$defs": defs,
        "x-imagepricing-not-expressed": list(NOT_EXPRESSED),
    }


def _model_schema(capability: Capability, catalog: Catalog, *, model_required: bool = True) -> dict[str, Any]:
    endpoint = capability.endpoint
    required = [*(["model"] if model_required else []), *catalog.required[endpoint]]
    properties: dict[str, Any] = {"model": {"const": capability.model}} if model_required else {}
    for name, spec in capability.params.items():
        properties[name] = _property(spec, optional=name not in required)
    dropped = [
        name
        for name, param in catalog.parameters.items()
        if endpoint in param.endpoints and param.kind != "model" and name not in capability.params
    ]
    return {
        "title": f"imagepricing: a {capability.model} request to the images {endpoint} endpoint",
        "description": f"{capability.source}. Parameters not listed are dropped by upstream and accepted.",
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": True,
        "x-imagepricing-model": capability.model,
        "x-imagepricing-endpoint": endpoint,
        "x-imagepricing-dropped": dropped,
        "x-imagepricing-not-expressed": list(NOT_EXPRESSED),
        **({"x-imagepricing-sources-disagree": capability.dispute[0]} if capability.dispute is not None else {}),
    }


def _nullable(schema: dict[str, Any], optional: bool) -> dict[str, Any]:
    """null means omitted for an optional parameter (data/parameters.toml)."""
    if not optional:
        return schema
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*kinds, "null"]}
    return {"anyOf": [{"type": "null"}, schema]}


def _property(spec: ParamSpec, *, optional: bool) -> dict[str, Any]:
    notes: dict[str, Any] = {"x-imagepricing-source": spec.source}
    kind = spec.kind
    body: dict[str, Any]
    if kind == "text":
        body = {"type": "string", "minLength": 1}
        if spec.max_chars is not None:
            # maxLength counts code points, as the rule does (not UTF-16 units, not bytes).
            body["maxLength"] = spec.max_chars
    elif kind == "integer":
        top = spec.model_max if spec.model_max is not None else spec.max
        body = {"type": "integer", "minimum": spec.min, "maximum": top}
        if spec.honoured_max is not None:
            notes["x-imagepricing-honoured-max"] = spec.honoured_max
    elif kind == "choice":
        if spec.overridden_to is not None:
            # Upstream replaces whatever is sent, so nothing is rejected.
            return {**notes, "x-imagepricing-overridden-to": spec.overridden_to}
        # A value the sources disagree on is accepted (with a warning), so the schema admits it.
        body = {"enum": [*(spec.values or ()), *sorted(spec.disputed_values - set(spec.values or ()))]}
        if spec.default is not None:
            notes["default"] = spec.default
    elif kind == "boolean":
        body = {"type": "boolean"}
    elif kind == "url":
        # Any string (issue 20): the platform's schema takes any string as callback_url, and an
        # unusable one is a `callback_unusable` warning under the basic policy, not a rejection. The
        # format ("iri", not "uri": internationalised host names are fine) is an annotation.
        body = {"type": "string", "format": "iri"}
    elif kind == "image":
        body = {"type": "string", "pattern": _HTTP_OR_DATA_URL}
    elif kind == "images":
        one = {"type": "string", "pattern": _HTTP_OR_DATA_URL}
        many: dict[str, Any] = {"type": "array", "minItems": 1, "items": one}
        if spec.max_items is not None:
            many["maxItems"] = max(spec.max_items, spec.disputed_max_items or 0)
        body = {"anyOf": [one, many]}
    elif kind == "size":
        assert spec.size is not None
        body = _size_schema(spec.size, notes)
    else:  # pragma: no cover - the catalog admits no other kind
        body = {}
    return {**notes, **_nullable(body, optional)}


def _size_schema(rule: SizeRule, notes: dict[str, Any]) -> dict[str, Any]:
    if rule.allowed is not None:
        notes["default"] = rule.default
        return {"enum": [*rule.allowed_order, *sorted(AUTO_SIZES, reverse=True)]}
    if rule.constraints is not None:
        limits = rule.constraints
        notes["x-imagepricing-size-constraints"] = {
            "multiple_of": limits.multiple_of,
            "max_side": limits.max_side,
            "max_pixels": limits.max_pixels,
            "min_pixels": limits.min_pixels,
            "max_aspect_ratio": limits.max_aspect_ratio,
            "exempt": sorted(limits.exempt),
            "disputed": sorted(limits.disputed),
            "source": limits.source,
            "limits_source": limits.limits_source,
        }
        if rule.tiering is not None:
            tiering = rule.tiering
            notes["x-imagepricing-tiers"] = {
                "auto": tiering.auto_tier,
                "fallback": tiering.fallback_tier,
                "sizes": dict(tiering.tier_of_size),
                "source": tiering.source,
            }
        return {"type": "string", "pattern": _SIZE_PATTERN, **_NO_NEWLINE}
    assert rule.aspect_map is not None
    amap = rule.aspect_map
    notes["x-imagepricing-aspect-map"] = {"sizes": dict(amap.ratio_of_size), "fallback": amap.fallback}
    return {"type": "string"}
