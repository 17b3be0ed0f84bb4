# FROZEN COPY, for tests/test_compiled_checkers.py and tests/test_engine_memo.py only: imagepricing/engine.py
# as of commit 35acddf (before issue 11 item 1 compiled the checkers): the plain loop over the rules, each
# request judged key by key through the catalog's tables. The differential tests check the engine of today,
# memo off and on, against it on more than 100,000 fuzzed requests. It runs today's rules (imagepricing.rules).
# Edited once, in issue 20, where the rules themselves changed on purpose (nothing the compiled checkers or
# the memo do): a request is judged by the catalog of its day (Catalog.on), a capability's availability
# notices and dispute are reported, an edits request without model takes the platform's default model, and
# a report carries the followed book's price, the USD equivalent and the stale-tables warning. Do not edit
# or import it elsewhere.
# ruff: noqa
# mypy: ignore-errors
"""`check`: the loop that runs the rules over one request and prices the result.

request -> model and capability -> one rule per parameter (rules.RULES) -> whole-request rules
(rules.CROSS_RULES) -> an `Outcome` (findings, effective values, tier, images: the same whatever
the day, provider and price basis) -> priced for a provider, day and basis (pricing.quote) -> Report.

Both steps are memoised (_memo.py). The outcome by the request's *shape*: each rule says how it
abstracts its input (rules.ABSTRACTIONS) and _shapes.py builds the key from that, so a request
whose shape was seen skips the rules. The report by (outcome, provider, day, basis), so a repeated
request gets the very same Report object, and a known shape on a new day costs one price lookup.
Requests the memo must not hold go straight to the rules.

`Checker` binds the options once for callers that check many requests (estimate, the per-request
pricer, the Arrow kernel); `check` validates its options and takes the same path.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from types import MappingProxyType

from imagepricing._describe import describe, escape_unprintable, looks_secret, plausible_token
from imagepricing._memo import WINDOW, VerdictMemo, memo_for
from imagepricing._shapes import shape
from imagepricing._tables import ENDPOINTS
from imagepricing._url_codes import URL_POLICIES
from imagepricing.catalog import Capability, Catalog, default_catalog
from imagepricing.findings import Finding
from imagepricing._clock import today
from imagepricing.pricing import PRICE_BASES, PriceBasis, quote, usd_rate_of
from imagepricing.report import Report
from imagepricing.rules import CROSS_RULES, RULES, Context, make_finding

__all__ = ["MODEL_OPTIONAL_ON", "Checker", "Outcome", "check"]

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
    if (
        endpoint not in ENDPOINTS
        or provider not in catalog.price_books
        or price_basis not in PRICE_BASES
        or url_policy not in URL_POLICIES
    ):
        _validate(catalog, endpoint, provider, price_basis, url_policy)  # raises, saying which
    day = _day(as_of)
    catalog = catalog.on(day)
    return _check(request, endpoint, provider, day, catalog, memo_for(catalog), price_basis, url_policy)


class Checker:
    """`check` with its options bound once, for callers that check many requests.

    Bound: the catalog, the default endpoint, the price basis, the URL policy and whether to use
    the memo; each call names the request, and optionally its endpoint, provider and day (a date;
    default today, UTC). A call returns what `check` returns for the same arguments (the same
    Report object for a repeated request, while the memo holds it), without re-validating the
    bound options. ValueError for a bad option, at construction; for an unknown endpoint or
    provider, at the call. Thread-safe: a checker holds no state of its own beyond its options.

    >>> checker = Checker(price_basis="published")
    >>> june = dt.date(2026, 6, 1)
    >>> report = checker({"model": "nano-banana", "prompt": "an apple"}, provider="xhuoapi", day=june)
    >>> report.ok, report.price_basis, report.as_of
    (True, 'published', datetime.date(2026, 6, 1))
    >>> checker({"model": "nano-banana", "prompt": "a pear"}, provider="xhuoapi", day=june) is report
    True
    """

    __slots__ = ("_books", "_memoize", "catalog", "endpoint", "price_basis", "url_policy")

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        endpoint: str = "generations",
        price_basis: PriceBasis = "charged",
        url_policy: str = "basic",
        memoize: bool = True,
    ) -> None:
        self.catalog = default_catalog() if catalog is None else catalog
        _validate(self.catalog, endpoint, None, price_basis, url_policy)
        self.endpoint = endpoint
        self.price_basis: PriceBasis = price_basis
        self.url_policy = url_policy
        self._books = self.catalog.price_books
        # memoize=False checks every request afresh (the same reports, never the same objects).
        self._memoize = memoize

    def check(
        self, request: object, endpoint: str | None = None, provider: str = "acedata", day: dt.date | None = None
    ) -> Report:
        """The report of `request` (see the class docstring); `checker.check(...)` is `checker(...)`,
        a little faster in a loop (a bound method call is cheaper than calling an instance)."""
        if endpoint is None:
            endpoint = self.endpoint
        elif endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
        if provider not in self._books:
            raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(self._books)}")
        if type(day) is not dt.date:
            day = _day(day)
        catalog = self.catalog.on(day)
        memo = memo_for(catalog) if self._memoize else None
        return _check(request, endpoint, provider, day, catalog, memo, self.price_basis, self.url_policy)

    __call__ = check


def _validate(catalog: Catalog, endpoint: str, provider: str | None, price_basis: str, url_policy: str) -> None:
    """Raise ValueError for the first option that is not known (a provider of None is not checked)."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
    if provider is not None and provider not in catalog.price_books:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(catalog.price_books)}")
    if price_basis not in PRICE_BASES:
        raise ValueError(f"unknown price_basis {price_basis!r}; expected one of {', '.join(PRICE_BASES)}")
    if url_policy not in URL_POLICIES:
        raise ValueError(f"unknown url_policy {url_policy!r}; expected one of {', '.join(URL_POLICIES)}")


def _check(
    request: object,
    endpoint: str,
    provider: str,
    day: dt.date,
    catalog: Catalog,
    memo: VerdictMemo | None,
    price_basis: PriceBasis,
    url_policy: str,
) -> Report:
    """The one path of `check` and `Checker`, for validated options."""
    if memo is None or memo.skip:
        if memo is not None:
            # Shapes rarely repeat in this traffic: the memo sits out a while (see _memo.py).
            memo.skip -= 1
        return _priced(_judged(request, endpoint, catalog, url_policy), provider, day, catalog, price_basis)
    key = shape(request, endpoint, catalog, memo, url_policy)
    if key is None:
        return _priced(_judged(request, endpoint, catalog, url_policy), provider, day, catalog, price_basis)
    # The young generation and the hit counters are read inline: this is every memoised call's path.
    shapes = memo.shapes
    outcome: Outcome | None = shapes.young.get(key) or shapes.from_old(key)
    memo.lookups += 1
    if outcome is None:
        outcome = _judged(request, endpoint, catalog, url_policy)
        shapes.put(key, outcome)
    else:
        memo.hits += 1
    if memo.lookups >= WINDOW:
        memo.end_window()
    # The report last priced from this outcome first: a shape repeated at one provider, day and
    # basis (a service checking today's requests) then costs no key tuple and no second lookup.
    last = outcome.last
    if last is not None and last[1] == day and last[0] == provider and last[2] == price_basis:
        return last[3]
    reports = memo.reports
    priced_key = (outcome, provider, day, price_basis)
    report: Report | None = reports.young.get(priced_key) or reports.from_old(priced_key)
    if report is None:
        report = _priced(outcome, provider, day, catalog, price_basis)
        reports.put(priced_key, report)
    # One tuple, replaced whole: a thread reads one consistent entry or the previous one.
    outcome.last = (provider, day, price_basis, report)
    return report


class Outcome:
    """What the rules say of a request on an endpoint, before pricing: the same whatever the day,
    provider and price basis. Immutable once built, but for `last` (the engine's one-entry cache of
    the report it last priced from it); compared and hashed by identity (the memo keys reports by
    it)."""

    __slots__ = (
        "effective",
        "endpoint",
        "errors",
        "ignored",
        "images",
        "last",
        "model",
        "priced_as",
        "quality",
        "size",
        "tier",
        "warnings",
    )

    def __init__(self, ctx: Context, endpoint: str, capability: Capability | None) -> None:
        self.endpoint = endpoint
        self.model = ctx.model
        self.errors = tuple(ctx.errors)
        self.ignored = tuple(ctx.ignored)
        self.warnings: tuple[Finding, ...] = tuple(ctx.warnings)
        self.effective = MappingProxyType(ctx.effective)
        self.tier = ctx.tier
        # What pricing reads: the model priced (None without a capability: no price at all), the
        # accepted size, the effective quality, and the images billed (0 for a rejected request).
        self.priced_as = capability.model if capability is not None else None
        self.size = ctx.size_text
        quality = ctx.effective.get("quality")
        self.quality = quality if type(quality) is str else None
        images = 0
        if not ctx.errors and capability is not None:
            n = ctx.effective.get("n", 1)
            images = n if type(n) is int else 1
        self.images = images
        self.last: tuple[str, dt.date, str, Report] | None = None


def _judged(request: object, endpoint: str, catalog: Catalog, url_policy: str) -> Outcome:
    """The rules over one request, for arguments `check` has validated."""
    ctx = Context(None, url_policy, catalog)
    if not isinstance(request, Mapping):
        ctx.error("not_an_object", None, f"the request must be a JSON object; got {describe(request)}.")
        return Outcome(ctx, endpoint, None)

    capability = _resolve_model(ctx, request.get("model"), endpoint, catalog)
    ctx.capability = capability
    defaulted = capability is not None and request.get("model") is None
    if capability is not None:
        for code, note, source in capability.notices:
            ctx.warn(code, "model", f"{capability.model}: {note}.", source)
        if capability.dispute is not None and not defaulted:
            ctx.warn(
                "sources_disagree",
                "model",
                f"{capability.model} on the {endpoint} endpoint is accepted, but {capability.dispute[0]}; the request"
                " is checked against the platform's own schema, and the price is unknown.",
                capability.dispute[1],
            )
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

    if defaulted:
        default = catalog.default_models[endpoint]
        ctx.warn(
            "sources_disagree",
            "model",
            f"model is absent: accepted, but the platform's {endpoint} schema makes it optional with default"
            f" {default}, which the edits seed does not list among the edits models; the request is checked"
            f" against the platform's schema for {default}. Name the model to know what is served and billed.",
            catalog.cite(_EDITS_MODEL_OPTIONAL),
        )
    for name in catalog.required[endpoint]:
        if request.get(name) is None:
            ctx.error("missing", name, f"{name} is required on {endpoint}.", parameters[name].source)

    if capability is not None:
        _fill_defaults(ctx, capability, request)
        for rule in CROSS_RULES:
            rule(ctx, request)
    if defaulted:
        ctx.model = None
    return Outcome(ctx, endpoint, capability)


def _resolve_model(ctx: Context, value: object, endpoint: str, catalog: Catalog) -> Capability | None:
    if value is None and endpoint in catalog.default_models:
        value = catalog.default_models[endpoint]
    model = catalog.models.get(value) if type(value) is str else None
    if model is not None:
        ctx.model = model.id
        ctx.effective["model"] = model.id
        capability = model.endpoints.get(endpoint)
        if capability is None:
            serving = ", ".join(m.id for m in catalog.models.values() if endpoint in m.endpoints)
            ctx.error(
                "endpoint_unsupported",
                "model",
                f"{model.id} does not serve the {endpoint} endpoint; models that do: {serving}.",
                model.source,
            )
        return capability
    known = ", ".join(catalog.models)
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


def _priced(outcome: Outcome, provider: str, day: dt.date, catalog: Catalog, basis: PriceBasis) -> Report:
    """The report of `outcome` priced at `provider` on `day`: only the price side and a warning
    saying why a price is unknown depend on these."""
    book = catalog.price_books[provider]
    unit_price = multiplier = cost = usd = None
    price_source = price_per = None
    followed = book.followed_on(day, catalog.price_books)
    usd_rate, usd_source = usd_rate_of(followed or book, day)
    warnings = outcome.warnings
    if outcome.priced_as is not None:
        result = quote(
            book,
            followed=followed,
            model=outcome.priced_as,
            endpoint=outcome.endpoint,
            quality=outcome.quality,
            size=outcome.size,
            tier=outcome.tier,
            images=outcome.images,
            day=day,
            basis=basis,
        )
        unit_price, multiplier, price_source = result.unit_price, result.multiplier, result.source
        price_per = result.per
        if not outcome.errors:
            cost, usd = result.cost, result.usd_equivalent
            said = result.problem or result.caveat
            if said is not None:
                warnings = (*warnings, make_finding(said[0], None, said[1], catalog.code_source(said[0])))
    if catalog.reviewed is not None and day > catalog.reviewed:
        warnings = (
            *warnings,
            make_finding(
                "tables_may_be_stale",
                None,
                f"prices and rules after {catalog.reviewed.isoformat()} assumed unchanged: the tables' sources were last"
                " reviewed that day, and the platform may have changed since (imagepricing changes lists what is"
                " recorded).",
                catalog.code_source("tables_may_be_stale"),
            ),
        )
    return Report(
        endpoint=outcome.endpoint,
        provider=provider,
        model=outcome.model,
        errors=outcome.errors,
        ignored=outcome.ignored,
        warnings=warnings,
        effective=outcome.effective,
        tier=outcome.tier,
        multiplier=multiplier,
        images=outcome.images,
        unit_price=unit_price,
        cost=cost,
        currency=book.currency,
        price_source=price_source,
        price_basis=basis,
        as_of=day,
        price_per=price_per,
        usd_equivalent=usd,
        usd_rate=usd_rate,
        usd_rate_source=usd_source,
    )


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
        return today()
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
