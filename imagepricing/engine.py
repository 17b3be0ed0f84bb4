"""`check`: the loop that runs the rules over one request and prices the result.

request -> model and capability -> one rule per parameter (rules.RULES) -> whole-request rules
(rules.CROSS_RULES) -> an `Outcome` (findings, effective values, tier, images: the same whatever
the day, provider and price basis) -> priced for a provider, day and basis (pricing.quote) -> Report.
The loop reads the compiled checker of the model on the endpoint (_checkers.py: per key, its rule
and spec or a finding built once), compiled on first use per catalog.

Both steps are memoised (_memo.py). The outcome by the request's *shape*: each rule says how it
abstracts its input (rules.ABSTRACTIONS) and _shapes.py builds the key from that, so a request
whose shape was seen skips the rules. The report by (outcome, provider, day, basis), so a repeated
request gets the very same Report object, and a known shape on a new day costs one price lookup.
Requests the memo must not hold go straight to the rules.

`Checker` binds the options once for callers that check many requests (estimate, the per-request
pricer, the Arrow kernel); `check` validates its options and takes the same path: `_outcome`
(the rules, or the memoised outcome of the shape), then `_report` (its price). `Checker.judge` and
`Checker.price` are the two halves, for batch callers.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Mapping
from types import MappingProxyType

from imagepricing._checkers import (
    DROPPED,
    MAX_CACHED_TEXT,
    SKIP,
    UNDOCUMENTED,
    CompiledCatalog,
    compiled_for,
)
from imagepricing._clock import today
from imagepricing._describe import describe
from imagepricing._memo import WINDOW, VerdictMemo, memo_for
from imagepricing._shapes import shape
from imagepricing._tables import ENDPOINTS
from imagepricing._url_codes import URL_POLICIES
from imagepricing.catalog import Capability, Catalog, default_catalog
from imagepricing.findings import PLATFORM_SCHEMA, SEED_REQUEST_BODY, Finding, declare, reports
from imagepricing.options import Options, known_endpoint, known_price_basis, known_provider, known_url_policy
from imagepricing.pricing import PRICE_BASES, PriceBasis, PriceBook, Quote, quote, usd_rate_of
from imagepricing.report import Report
from imagepricing.rules import Context, make_finding

__all__ = ["Checker", "Outcome", "check"]

_UTC = dt.UTC
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
    `as_of` picks the rules and the prices in force that day (default: today, UTC): the request is
    judged by the platform as it was on that day (`Catalog.on`).

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
        Options(catalog, endpoint, provider, None, price_basis, url_policy)  # raises, saying which
    # The one path, in its two halves (_outcome, then _report), as Checker.check takes it, under
    # the rules of the day asked (catalog.on: the era of the dated facts). Called here directly,
    # the day read here too: a repeated request costs a few microseconds, of which each extra call
    # frame would be a few percent.
    day = today() if as_of is None else _day(as_of)
    catalog = catalog.on(day)
    memo = memo_for(catalog)
    outcome = _outcome(request, endpoint, catalog, memo, url_policy)
    return _report(outcome, provider, day, catalog, memo, price_basis)


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
        # The provider and the day are named per call; the rest is validated once, here.
        known_endpoint(endpoint)
        known_price_basis(price_basis)
        known_url_policy(url_policy)
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
            known_endpoint(endpoint)  # raises
        if provider not in self._books:
            known_provider(provider, self.catalog)  # raises
        if type(day) is not dt.date:
            day = _day(day)
        catalog = self.catalog.on(day)
        memo = memo_for(catalog) if self._memoize else None
        outcome = _outcome(request, endpoint, catalog, memo, self.url_policy)  # the one path, as check takes it
        return _report(outcome, provider, day, catalog, memo, self.price_basis)

    __call__ = check

    def memo(self, day: dt.date) -> VerdictMemo | None:
        """The memo this checker uses on `day` (that era's catalog's), or None with
        memoize=False: for the package's batch callers that call the engine's first half
        themselves (estimate)."""
        return memo_for(self.catalog.on(day)) if self._memoize else None

    def judge(self, request: object, endpoint: str | None = None, day: dt.date | None = None) -> Outcome:
        """What the rules say of `request` on `endpoint` before pricing: `check`'s first half, for
        batch callers that price one outcome for many providers and days, or that key their own
        results by outcome (an outcome is hashed by identity, and a repeated request shape gets the
        very same Outcome while the memo holds it), under the rules in force on `day` (a date;
        default today, UTC). `price(judge(r, e, d), p, d)` is `check(r, e, p, d)`; an outcome may be
        priced on any day of the era it was judged in (`Catalog.on`).

        >>> checker = Checker()
        >>> june = dt.date(2026, 6, 1)
        >>> outcome = checker.judge({"model": "nano-banana", "prompt": "an apple"}, day=june)
        >>> outcome is checker.judge({"model": "nano-banana", "prompt": "a pear"}, day=june)
        True
        >>> checker.price(outcome, "xhuoapi", june).ok
        True
        """
        if endpoint is None:
            endpoint = self.endpoint
        elif endpoint not in ENDPOINTS:
            known_endpoint(endpoint)  # raises
        if type(day) is not dt.date:
            day = _day(day)
        catalog = self.catalog.on(day)
        return _outcome(request, endpoint, catalog, memo_for(catalog) if self._memoize else None, self.url_policy)

    def price(self, outcome: Outcome, provider: str = "acedata", day: dt.date | None = None) -> Report:
        """The report of an outcome from `judge` (of this checker's catalog), priced at `provider`
        on `day` (a date; default today, UTC) on this checker's price basis: `check`'s second half.
        ValueError when `day` falls in another era of the rules than the outcome was judged in."""
        if type(outcome) is not Outcome:
            raise TypeError(f"outcome must be an Outcome from Checker.judge, not {type(outcome).__name__}")
        if provider not in self._books:
            known_provider(provider, self.catalog)  # raises
        if type(day) is not dt.date:
            day = _day(day)
        catalog = self.catalog.on(day)
        judged_by = outcome.catalog()
        if judged_by is not catalog:
            if judged_by is not None and judged_by.on(day) is catalog:
                raise ValueError(
                    f"outcome was judged under the rules of another day than {day.isoformat()} (the platform changed"
                    " in between); judge it for that day"
                )
            raise ValueError("outcome was judged by a checker of another catalog; judge it with this one")
        return _report(outcome, provider, day, catalog, memo_for(catalog) if self._memoize else None, self.price_basis)


def _outcome(request: object, endpoint: str, catalog: Catalog, memo: VerdictMemo | None, url_policy: str) -> Outcome:
    """What the rules say of `request`: the memoised outcome of its shape, or the rules run afresh."""
    if memo is None or memo.skip:
        if memo is not None:
            # Shapes rarely repeat in this traffic: the memo sits out a while (see _memo.py).
            memo.skip -= 1
        return _judged(request, endpoint, catalog, url_policy)
    key = shape(request, endpoint, catalog, memo, url_policy)
    if key is None:
        return _judged(request, endpoint, catalog, url_policy)
    # The young generation and the hit counters are read inline: this is every memoised call's path.
    shapes = memo.shapes
    outcome: Outcome | None = shapes.young.get(key) or shapes.from_old(key)
    memo.lookups += 1
    if outcome is None:
        outcome = _judged(request, endpoint, catalog, url_policy)
        outcome.memoised = True  # before it is shared: a thread that finds it sees the flag
        shapes.put(key, outcome)
    else:
        memo.hits += 1
    if memo.lookups >= WINDOW:
        memo.end_window()
    return outcome


def _report(
    outcome: Outcome, provider: str, day: dt.date, catalog: Catalog, memo: VerdictMemo | None, price_basis: PriceBasis
) -> Report:
    """`outcome` priced at `provider` on `day`: the memoised report of a memoised outcome (so a
    repeated request gets the very same Report object), else priced afresh."""
    # The report last priced from this outcome first: a shape repeated at one provider, day and
    # basis (a service checking today's requests) then costs no key tuple and no second lookup.
    last = outcome.last
    if last is not None and last[1] == day and last[0] == provider and last[2] == price_basis:
        return last[3]
    if memo is None or not outcome.memoised:
        # An outcome the memo does not hold is one of a kind: its reports would never be found again.
        return _priced(outcome, provider, day, catalog, price_basis)
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
        "catalog",
        "effective",
        "endpoint",
        "errors",
        "ignored",
        "images",
        "last",
        "memoised",
        "model",
        "priced_as",
        "quality",
        "size",
        "tier",
        "warnings",
    )

    def __init__(self, ctx: Context, endpoint: str, capability: Capability | None, catalog: Catalog) -> None:
        # The catalog that judged it, weakly (the memo of that catalog holds its outcomes): only a
        # checker of the same catalog may price it.
        self.catalog = weakref.ref(catalog)
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
        # Whether the memo holds it (set by the engine before sharing it): only then are its
        # reports memoised too.
        self.memoised = False


# Kept: every source's body is a JSON object.
declare("not_an_object", "error", "The request is not a JSON object.", f"{SEED_REQUEST_BODY}; {PLATFORM_SCHEMA}")
# Kept: JSON object names are strings.
declare(
    "key_not_string",
    "error",
    "A request key is not a string (JSON keys always are).",
    "rfc8259: section 4, names are strings",
)


@reports("not_an_object", "key_not_string", "sources_disagree")
def _judged(request: object, endpoint: str, catalog: Catalog, url_policy: str) -> Outcome:
    """The rules over one request, for arguments `check` has validated: the loop over the compiled
    checker of its model on the endpoint (_checkers.Plan: key -> rule and spec, or a finding)."""
    ctx = Context(None, url_policy, catalog)
    if type(request) is not dict and not isinstance(request, Mapping):
        ctx.error("not_an_object", None, f"the request must be a JSON object; got {describe(request)}.")
        return Outcome(ctx, endpoint, None, catalog)

    compiled = compiled_for(catalog)
    named = request.get("model")
    capability = _resolve_model(ctx, named, endpoint, catalog, compiled)
    plan = compiled.plan(catalog, capability, endpoint)
    ctx.capability = capability
    defaulted = capability is not None and named is None
    if plan.notices:
        ctx.warnings.extend(plan.notices)
    if plan.dispute is not None and not defaulted:
        ctx.warnings.append(plan.dispute)
    actions = plan.actions
    ignored = ctx.ignored
    for key, value in request.items():
        if key == "model":
            continue
        if type(key) is not str:
            ctx.error("key_not_string", None, f"request keys must be strings; got {describe(key)}.")
            continue
        action = actions.get(key)
        if action is None:
            ignored.append(compiled.unknown_parameter(catalog, key, endpoint))
            continue
        rule, arg = action
        if rule is UNDOCUMENTED:
            ignored.append(arg)  # whatever the value, null included
        elif value is None:
            # null means omitted for an optional parameter; a required one is reported below.
            continue
        elif rule is DROPPED:
            ignored.append(arg)
        elif rule is not SKIP:
            rule(ctx, key, value, arg)

    if defaulted:
        # Decision (issue 9, issue 20): the platform's edits schema makes model optional (only image
        # and prompt are required) with dall-e-3 as its default, which the edits seed does not list:
        # a disagreement, not a certain rejection. The request is checked against what upstream
        # certainly enforces there, the platform's own schema for its default model.
        default = catalog.default_models[endpoint]
        ctx.warn(
            "sources_disagree",
            "model",
            f"model is absent: accepted, but the platform's {endpoint} schema makes it optional with default"
            f" {default}, which the edits seed does not list among the edits models; the request is checked"
            f" against the platform's schema for {default}. Name the model to know what is served and billed.",
            catalog.cite(_EDITS_MODEL_OPTIONAL),
        )
    for name, missing in plan.required:
        if request.get(name) is None:
            ctx.errors.append(missing)

    if capability is not None:
        _fill_defaults(ctx, capability, request)
        for cross_rule in plan.cross_rules:  # rules.CROSS_RULES that can fire for this capability
            cross_rule(ctx, request)
    if defaulted:
        ctx.model = None  # the request names no model; `effective` says which one upstream uses
    return Outcome(ctx, endpoint, capability, catalog)


# Kept: the model is in no source's list.
declare(
    "model_unknown",
    "error",
    "The model is not one the API serves.",
    f"{SEED_REQUEST_BODY}: model; {PLATFORM_SCHEMA}",
)
# Kept for a model the tables give no such endpoint and no dispute (user tables). dall-e-3 on
# edits is a `sources_disagree` warning instead (models.toml `disputed_endpoints`): the edits
# seed and OpenAI do not serve it, the platform's edits schema lists it and defaults to it.
declare(
    "endpoint_unsupported",
    "error",
    "The model does not serve this endpoint (dall-e-3 has no edits).",
    "xhuoapi-edits: the API supports dall-e-2, gpt-image-1, gpt-image-2 and the nano-banana series",
)


@reports("endpoint_unsupported", "missing", "wrong_type", "model_unknown")
def _resolve_model(
    ctx: Context, value: object, endpoint: str, catalog: Catalog, compiled: CompiledCatalog
) -> Capability | None:
    if value is None and endpoint in catalog.default_models:
        # The platform's default model for the endpoint (reported after the parameters, see _judged).
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
        # The same finding for the same name (up to 64 characters, per catalog): describing the
        # name (a scan for credentials) and finding the nearest model cost more than the check.
        unknown: Finding | None = compiled.unknown_models.get(value) if len(value) <= MAX_CACHED_TEXT else None
        if unknown is None:
            nearest = _did_you_mean(value, catalog, compiled)
            unknown = make_finding(
                "model_unknown",
                "model",
                f"model {describe(value)} is not served{nearest}; known models: {known}.",
                catalog.code_source("model_unknown"),
            )
            if len(value) <= MAX_CACHED_TEXT:
                compiled.unknown_models.put(value, unknown)
        ctx.errors.append(unknown)
    return None


def _did_you_mean(value: str, catalog: Catalog, compiled: CompiledCatalog) -> str:
    candidate = value[:64].strip().lower()
    if candidate in catalog.models:
        return f" (did you mean {candidate!r}?)"
    # A pure function of the candidate (64 characters at most), kept per catalog: difflib costs
    # five times the rest of the check.
    suggestion: str | None = compiled.suggestions.get(candidate)
    if suggestion is None:
        # Only a wrong model name needs difflib; importing it lazily keeps it off every start-up.
        import difflib  # noqa: PLC0415

        close = difflib.get_close_matches(candidate, list(catalog.models), n=1)
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        compiled.suggestions.put(candidate, suggestion)
    return suggestion


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
    """The report of `outcome` priced at `provider` on `day`: only the price side and the warnings
    saying why a price is unknown or in doubt (and that the tables may be stale) depend on these."""
    book = catalog.price_books[provider]
    unit_price = multiplier = cost = usd = None
    price_source = price_per = None
    usd_rate, usd_source = usd_rate_of(book.followed_on(day, catalog.price_books) or book, day)
    warnings = outcome.warnings
    if outcome.priced_as is not None:
        result, problem = _quoted(outcome, book, provider, day, basis, catalog)
        unit_price, multiplier, price_source = result.unit_price, result.multiplier, result.source
        price_per = result.per
        if not outcome.errors:
            cost, usd = result.cost, result.usd_equivalent
            if problem is not None:
                warnings = (*warnings, problem)
    reviewed = catalog.reviewed
    if reviewed is not None and day > reviewed:
        warnings = (*warnings, _stale(catalog, reviewed))
    # Positional: with keywords, building the report costs a third more (docs/fast-path.md).
    return Report(
        outcome.endpoint,
        provider,
        outcome.model,
        outcome.errors,
        outcome.ignored,
        warnings,
        outcome.effective,
        outcome.tier,
        multiplier,
        outcome.images,
        unit_price,
        cost,
        book.currency,
        price_source,
        basis,
        day,
        price_per,
        usd,
        usd_rate,
        usd_source,
    )


declare(
    "tables_may_be_stale",
    "warning",
    "The date asked is after the day the tables' sources were last reviewed; later changes of the platform"
    " are not known.",
    "imagepricing: every fact has a date and a source",
)


@reports("tables_may_be_stale")
def _stale(catalog: Catalog, reviewed: dt.date) -> Finding:
    """The warning of a report dated after the day the tables' sources were last reviewed (one
    per catalog: every report after that day carries it)."""
    compiled = compiled_for(catalog)
    found = compiled.stale
    if found is None:
        found = compiled.stale = make_finding(
            "tables_may_be_stale",
            None,
            f"prices and rules after {reviewed.isoformat()} assumed unchanged: the tables' sources were last"
            " reviewed that day, and the platform may have changed since (imagepricing changes lists what is"
            " recorded).",
            catalog.code_source("tables_may_be_stale"),
        )
    return found


def _quoted(
    outcome: Outcome, book: PriceBook, provider: str, day: dt.date, basis: PriceBasis, catalog: Catalog
) -> tuple[Quote, Finding | None]:
    """`quote` for what `outcome` bills, with the finding of its problem (or of its caveat: a price
    the sources leave in doubt); kept per catalog for what pricing reads (a new shape mostly bills
    like shapes seen before; a size over 64 characters is quoted afresh)."""
    compiled = compiled_for(catalog)
    size, model = outcome.size, outcome.priced_as
    key = (provider, model, outcome.endpoint, outcome.quality, size, outcome.tier, outcome.images, day, basis)
    found: tuple[Quote, Finding | None] | None = compiled.quotes.get(key)
    if found is not None:
        return found
    assert model is not None
    result = quote(
        book,
        model=model,
        endpoint=outcome.endpoint,
        quality=outcome.quality,
        size=size,
        tier=outcome.tier,
        images=outcome.images,
        day=day,
        basis=basis,
        followed=book.followed_on(day, catalog.price_books),
    )
    said = result.problem or result.caveat
    problem = make_finding(said[0], None, said[1], catalog.code_source(said[0])) if said is not None else None
    found = (result, problem)
    if size is None or len(size) <= MAX_CACHED_TEXT:
        compiled.quotes.put(key, found)
    return found


def _day(as_of: object) -> dt.date:
    if as_of is None:
        return today()
    if isinstance(as_of, dt.datetime):
        return (as_of.astimezone(_UTC) if as_of.tzinfo is not None else as_of).date()
    if isinstance(as_of, dt.date):
        return as_of
    raise TypeError(f"as_of must be a date or datetime, not {type(as_of).__name__}")
