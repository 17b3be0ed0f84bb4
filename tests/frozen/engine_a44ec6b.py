# FROZEN COPY, for tests/test_engine_memo.py only: imagepricing/engine.py as of commit a44ec6b (before
# issue 11 added the verdict memo), unchanged below this header. The differential test checks the
# engine of today against it on more than 100,000 fuzzed requests. Do not edit or import it elsewhere.
# ruff: noqa
# mypy: ignore-errors
"""`check`: the loop that runs the rules over one request and prices the result.

request -> model and capability -> one rule per parameter (rules.RULES) -> whole-request rules
(rules.CROSS_RULES) -> tier and images -> quote (pricing.quote) -> Report.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from types import MappingProxyType

from imagepricing._describe import describe, escape_unprintable, looks_secret, plausible_token
from imagepricing._tables import ENDPOINTS
from imagepricing._url_codes import URL_POLICIES
from imagepricing.catalog import Capability, Catalog, default_catalog
from imagepricing.pricing import PRICE_BASES, PriceBasis, quote
from imagepricing.report import Report
from imagepricing.rules import CROSS_RULES, RULES, Context

__all__ = ["MODEL_OPTIONAL_ON", "check"]

# Endpoints where a request without model is accepted with a sources_disagree warning (decision,
# issue 9): the platform's edits schema requires only image and prompt.
MODEL_OPTIONAL_ON: frozenset[str] = frozenset({"edits"})

_UTC = dt.UTC
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MAX_KEY_SHOWN = 64
_EDITS_MODEL_OPTIONAL = (
    "acedata-openapi: /openai/images/edits requires only image and prompt, model defaults to dall-e-3;"
    " xhuoapi-edits: the models the edits API supports"
)


def check(
    request: object,
    endpoint: str = "generations",
    provider: str = "acedata",
    catalog: Catalog | None = None,
    *,
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
    url_policy: str = "basic",
) -> Report:
    """Validate `request` for `endpoint`, say what upstream ignores, and price it at `provider`.

    Never raises for any `request`; raises ValueError only for an unknown `endpoint`,
    `provider`, `price_basis` or `url_policy`, and TypeError for an `as_of` that is not a date.
    `as_of` picks the prices in force that day (default: today, UTC).

    >>> report = check({"model": "nano-banana", "prompt": "an apple", "quality": "best"})
    >>> report.ok, [f.param for f in report.ignored], report.cost
    (True, ['quality'], Decimal('0.14'))
    """
    catalog = default_catalog() if catalog is None else catalog
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
    book = catalog.price_books.get(provider)
    if book is None:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(catalog.price_books)}")
    if price_basis not in PRICE_BASES:
        raise ValueError(f"unknown price_basis {price_basis!r}; expected one of {', '.join(PRICE_BASES)}")
    if url_policy not in URL_POLICIES:
        raise ValueError(f"unknown url_policy {url_policy!r}; expected one of {', '.join(URL_POLICIES)}")
    day = _day(as_of)

    ctx = Context(None, url_policy, catalog)
    if not isinstance(request, Mapping):
        ctx.error("not_an_object", None, f"the request must be a JSON object; got {describe(request)}.")
        return _report(ctx, endpoint, provider, book.currency, price_basis, day)

    capability = _resolve_model(ctx, request.get("model"), endpoint, catalog)
    ctx.capability = capability
    parameters = catalog.parameters
    for key, value in request.items():
        if key == "model":
            continue
        if type(key) is not str:
            ctx.error("key_not_string", None, f"request keys must be strings; got {describe(key)}.")
            continue
        param = parameters.get(key)
        known = catalog.known_parameters.get(key) if param is None else None
        if known is not None and endpoint in known.endpoints:
            ctx.ignore("undocumented_parameter", key, f"{key}: {known.note}", known.source)
            continue
        if param is None or endpoint not in param.endpoints:
            shown = _shown_key(key)
            ctx.ignore(
                "unknown_parameter",
                shown,
                f"{shown!r} is not a parameter of the {endpoint} endpoint; upstream drops it.",
                path=_path(shown),
            )
            continue
        if value is None:
            # null means omitted for an optional parameter; a required one is reported below.
            continue
        if capability is None:
            # Without a model only the platform's own parameters can be judged.
            spec = catalog.platform_specs.get(key)
            if spec is not None:
                RULES[spec.kind](ctx, key, value, spec)
            continue
        spec = capability.params.get(key)
        if spec is None:
            ctx.ignore("dropped", key, f"{key}: {capability.dropped_reason}.", capability.source)
            continue
        RULES[spec.kind](ctx, key, value, spec)

    if capability is None and ctx.model is None and endpoint in MODEL_OPTIONAL_ON and request.get("model") is None:
        # Decision (issue 9): the platform's edits schema makes model optional (only image and prompt
        # are required), so its absence is a disagreement between sources, not a certain rejection.
        ctx.warn(
            "sources_disagree",
            "model",
            "model is absent: accepted, but the platform's edits schema makes it optional with default dall-e-3,"
            " which the edits seed does not list among the edits models; name the model to know what is served"
            " and billed.",
            catalog.cite(_EDITS_MODEL_OPTIONAL),
        )
    for name in catalog.required[endpoint]:
        if request.get(name) is None:
            ctx.error("missing", name, f"{name} is required on {endpoint}.", parameters[name].source)

    if capability is not None:
        _fill_defaults(ctx, capability, request)
        for rule in CROSS_RULES:
            rule(ctx, request)
    return _report(ctx, endpoint, provider, book.currency, price_basis, day, catalog, capability)


def _resolve_model(ctx: Context, value: object, endpoint: str, catalog: Catalog) -> Capability | None:
    model = catalog.models.get(value) if type(value) is str else None
    if model is not None:
        ctx.model = model.id
        ctx.effective["model"] = model.id
        capability = model.endpoints.get(endpoint)
        dispute = model.disputed_endpoints.get(endpoint) if capability is None else None
        if dispute is not None:
            ctx.warn(
                "sources_disagree",
                "model",
                f"{model.id} on the {endpoint} endpoint is accepted, but {dispute[0]}; only the platform's own"
                " parameters are checked, and the price is unknown.",
                dispute[1],
            )
        elif capability is None:
            serving = ", ".join(m.id for m in catalog.models.values() if endpoint in m.endpoints)
            ctx.error(
                "endpoint_unsupported",
                "model",
                f"{model.id} does not serve the {endpoint} endpoint; models that do: {serving}.",
                model.source,
            )
        return capability
    known = ", ".join(catalog.models)
    if value is None and endpoint in MODEL_OPTIONAL_ON:
        return None  # reported after the parameters (see check)
    if value is None:
        ctx.error("missing", "model", f"model is required; one of {known}.", catalog.parameters["model"].source)
    elif type(value) is not str:
        ctx.error("wrong_type", "model", f"model must be a string, one of {known}; got {describe(value)}.")
    else:
        ctx.error(
            "model_unknown",
            "model",
            f"model {describe(value)} is not served{_did_you_mean(value, catalog)}; known models: {known}.",
        )
    return None


def _did_you_mean(value: str, catalog: Catalog) -> str:
    # Only a wrong model name needs difflib; importing it lazily keeps it off every start-up.
    import difflib  # noqa: PLC0415

    candidate = value[:64].strip().lower()
    if candidate in catalog.models:
        return f" (did you mean {candidate!r}?)"
    close = difflib.get_close_matches(candidate, list(catalog.models), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fill_defaults(ctx: Context, capability: Capability, request: Mapping[object, object]) -> None:
    """What upstream uses for what the request leaves out (defaults precomputed by the catalog)."""
    effective = ctx.effective
    for param, key, value in capability.defaults:
        if key not in effective and request.get(param) is None:
            effective[key] = value
    rule = capability.size_rule
    if rule is not None and rule.aspect_map is None and request.get("size") is None:
        ctx.size_text = rule.default
    # Every model returns one image unless it honours a larger n.
    effective.setdefault("n", 1)
    if rule is not None and rule.tiering is not None and ctx.size_text is not None:
        ctx.tier = rule.tiering.tier_for(ctx.size_text)


def _report(
    ctx: Context,
    endpoint: str,
    provider: str,
    currency: str,
    basis: PriceBasis,
    day: dt.date,
    catalog: Catalog | None = None,
    capability: Capability | None = None,
) -> Report:
    unit_price = multiplier = cost = None
    price_source = price_per = None
    ok = not ctx.errors
    images = 0
    if ok and capability is not None and catalog is not None:
        n = ctx.effective.get("n", 1)
        images = n if type(n) is int else 1
    if capability is not None and catalog is not None:
        result = quote(
            catalog.price_books[provider],
            model=capability.model,
            endpoint=endpoint,
            quality=_str_or_none(ctx.effective.get("quality")),
            size=ctx.size_text,
            tier=ctx.tier,
            images=images,
            day=day,
            basis=basis,
        )
        unit_price, multiplier, price_source = result.unit_price, result.multiplier, result.source
        price_per = result.per
        if ok:
            cost = result.cost
            if result.problem is not None:
                ctx.warn(result.problem[0], None, result.problem[1])
    return Report(
        endpoint=endpoint,
        provider=provider,
        model=ctx.model,
        errors=tuple(ctx.errors),
        ignored=tuple(ctx.ignored),
        warnings=tuple(ctx.warnings),
        effective=MappingProxyType(ctx.effective),
        tier=ctx.tier,
        multiplier=multiplier,
        images=images,
        unit_price=unit_price,
        cost=cost,
        currency=currency,
        price_source=price_source,
        price_basis=basis,
        as_of=day,
        price_per=price_per,
    )


def _str_or_none(value: object) -> str | None:
    return value if type(value) is str else None


class _Today:
    """Today's UTC date, recomputed only when a day has passed: reading the clock and building a
    date on every check costs more than the rest of a simple check's pricing."""

    __slots__ = ("_date", "_until")

    def __init__(self) -> None:
        self._date = dt.date(1970, 1, 1)
        self._until = 0.0

    def __call__(self) -> dt.date:
        now = time.time()
        if now >= self._until:
            # The date is stored before its expiry: a thread that sees the new expiry sees the new date.
            day = dt.datetime.fromtimestamp(now, _UTC).date()
            self._date, self._until = day, (now // 86400 + 1) * 86400
        return self._date


_today = _Today()


def _day(as_of: object) -> dt.date:
    if as_of is None:
        return _today()
    if isinstance(as_of, dt.datetime):
        return (as_of.astimezone(_UTC) if as_of.tzinfo is not None else as_of).date()
    if isinstance(as_of, dt.date):
        return as_of
    raise TypeError(f"as_of must be a date or datetime, not {type(as_of).__name__}")


def _shown_key(key: str) -> str:
    if looks_secret(key):
        return f"<key of {len(key)} characters that looks like a credential>"
    if not plausible_token(key, _MAX_KEY_SHOWN):
        # A key is shown only when it could be a parameter name: a URL, a DSN or a random key
        # used as a key may hold a password, so it is described instead.
        return f"<key of {len(key)} characters, not shown>"
    # `param` is printed raw by the CLI and by log lines: a key with a newline, an ANSI escape
    # or a bidi override must not forge or hide output, so non-printable characters are escaped.
    return escape_unprintable(key)[:_MAX_KEY_SHOWN]


def _path(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"$.{key}"
    if key.startswith("<key of "):
        return f"$[{key}]"  # a key not shown: the path names it the same way
    return "$[" + repr(key) + "]"
