"""Compiled checkers: what `check` needs for one model on one endpoint, built once per catalog.

The engine's loop (engine._judged) asks, for every key of a request: is it a parameter of this
endpoint, does the platform document it, does this model read it, and with which rule and spec?
Those answers come from four tables (the catalog's parameters, its known undocumented
parameters, the endpoint's membership, the capability's specs); a `Plan` holds them all in one
dict per (model, endpoint), with the findings that depend on nothing else built once and shared
(a Finding is immutable):

    key -> (UNDOCUMENTED, finding)   reported whatever the value, even null
           (DROPPED, finding)        reported unless the value is null
           (SKIP, None)              nothing to judge (no model: only the platform's parameters are)
           (rule, spec)              rules.RULES[spec.kind], or a size rule with its own cache
    a key not in the dict            unknown_parameter (its finding cached, see `unknown_parameter`)

plus the missing-parameter findings of the endpoint and the whole-request rules that can fire
for the model (rules.cross_rules_for). Plans are compiled on first use, per catalog (found by
identity, dropped with it), for each model on each endpoint it serves and for "no model" on each
endpoint: at most (models + 1) x endpoints of them, 15-25 us each to build.

Caches keyed by request content are bounded (`_memo.Generations`, least recently used out first),
and hold only what is a pure function of their key:

- the unknown_parameter finding per (key, endpoint), for keys of up to 64 characters (1,024);
- per catalog, the model_unknown finding of an unknown model name of up to 64 characters, and the
  "did you mean" suggestion per first 64 characters, lower-cased (1,024 each): difflib cost five
  times a whole check;
- per model with a free-form size (gpt-image-2), what rules.check_size did with a size string of
  up to 64 characters (1,024 per model and endpoint);
- per catalog, the quote and its problem finding per (provider, model, endpoint, quality, size,
  tier, images, day, basis), sizes of up to 64 characters (4,096; engine._quoted).

tests/test_compiled_checkers.py checks the engine, memo off and on, against a frozen copy of the
rules and engine before this module (tests/frozen/*_35acddf.py) on 120,000 fuzzed requests and
under hypothesis.
"""

from __future__ import annotations

import re
from typing import Any

from imagepricing._describe import escape_unprintable, looks_secret, plausible_token
from imagepricing._memo import Generations, Registry, made_for
from imagepricing.capabilities import AVAILABILITY_CODES, Capability, Catalog, ParamSpec
from imagepricing.findings import PLATFORM_SCHEMA, SEED_PARAMETERS, SEED_REQUEST_BODY, Finding, declare, reports
from imagepricing.rules import RULES, Context, CrossRule, check_size, cross_rules_for, make_finding

# (a marker or a rule, its finding or its argument): see the module docstring.
Action = tuple[Any, Any]

__all__ = [
    "DROPPED",
    "MAX_CACHED_TEXT",
    "SKIP",
    "UNDOCUMENTED",
    "CompiledCatalog",
    "Plan",
    "compiled_for",
]

# Markers of a plan's actions (see the module docstring).
UNDOCUMENTED = ("undocumented",)
DROPPED = ("dropped",)
SKIP = ("skip",)

# Request keys, size strings and model names longer than this are judged afresh each time: a cache
# keyed by them would hold untrusted text.
MAX_CACHED_TEXT = 64
# Entries of each content-keyed cache (two generations; see _memo.Generations).
_UNKNOWN_KEYS = 1024
_SUGGESTIONS = 1024
_SIZES = 1024
_QUOTES = 4096


class Plan:
    """The compiled checker of one model (or no model) on one endpoint (see `compile_plan`)."""

    __slots__ = ("actions", "cross_rules", "dispute", "notices", "required")

    def __init__(
        self,
        actions: dict[str, Action],
        required: tuple[tuple[str, Finding], ...],
        cross_rules: tuple[CrossRule, ...],
        notices: tuple[Finding, ...] = (),
        dispute: Finding | None = None,
    ) -> None:
        self.actions = actions
        # The endpoint's required parameters (other than model), each with the finding of its absence.
        self.required = required
        # The whole-request rules that can fire for the capability (none without one).
        self.cross_rules = cross_rules
        # The warnings every request to the capability carries in its era (not yet, or no longer,
        # served), and the one of an endpoint the sources disagree the model serves at all.
        self.notices = notices
        self.dispute = dispute


# Kept for prompt (both endpoints), model on generations and image on edits: required by the
# seeds and the platform's schema alike. An edits request without model is a warning instead
# (`sources_disagree`): the platform's schema makes model optional there.
declare(
    "missing",
    "error",
    "A required parameter (model, prompt; image on edits) is absent or null.",
    f"{SEED_REQUEST_BODY}; {PLATFORM_SCHEMA}",
)
declare(
    "undocumented_parameter",
    "ignored",
    "A parameter of OpenAI's images API that the platform does not document; it is likely dropped.",
    "openai-python-3: images API parameters; acedata-openapi: not in the request schema",
)
declare(
    "dropped",
    "ignored",
    "The model does not take this parameter; upstream drops it without validating it.",
    SEED_PARAMETERS + ": nano-banana supports only model, prompt, size",
)


@reports("undocumented_parameter", "dropped", "missing", *AVAILABILITY_CODES.values(), "sources_disagree")
def compile_plan(catalog: Catalog, capability: Capability | None, endpoint: str) -> Plan:
    """The plan of `capability` (None: no model, or one not served) on `endpoint`: what
    engine._judged did per key through the catalog's tables, decided once."""
    actions: dict[str, Action] = {}
    parameters = catalog.parameters
    for key, known in catalog.known_parameters.items():
        if key not in parameters and endpoint in known.endpoints:
            finding = make_finding("undocumented_parameter", key, f"{key}: {known.note}", known.source)
            actions[key] = (UNDOCUMENTED, finding)
    for key, param in parameters.items():
        if key == "model" or endpoint not in param.endpoints:
            continue  # "model" is the engine's; a parameter of the other endpoint is unknown here
        if capability is None:
            # Without a model only the platform's own parameters can be judged.
            spec = catalog.platform_specs.get(key)
            actions[key] = (SKIP, None) if spec is None else _rule_of(spec, None)
            continue
        spec = capability.params.get(key)
        if spec is None:
            finding = make_finding("dropped", key, f"{key}: {capability.dropped_reason}.", capability.source)
            actions[key] = (DROPPED, finding)
        else:
            actions[key] = _rule_of(spec, capability.model)
    required = tuple(
        (name, make_finding("missing", name, f"{name} is required on {endpoint}.", parameters[name].source))
        for name in catalog.required[endpoint]
    )
    if capability is None:
        return Plan(actions, required, ())
    notices = tuple(
        make_finding(code, "model", f"{capability.model}: {note}.", source) for code, note, source in capability.notices
    )
    dispute = None
    if capability.dispute is not None:
        note, source = capability.dispute
        dispute = make_finding(
            "sources_disagree",
            "model",
            f"{capability.model} on the {endpoint} endpoint is accepted, but {note}; the request is checked against"
            " the platform's own schema, and the price is unknown.",
            source,
        )
    return Plan(actions, required, cross_rules_for(capability), notices, dispute)


def _rule_of(spec: ParamSpec, model: str | None) -> Action:
    size = spec.size
    if size is not None and size.constraints is not None and size.aspect_map is None and model is not None:
        # A free-form size (gpt-image-2): parsing it and checking every limit is the costliest rule.
        return (_cached_size, SizeCache(spec, model))
    return (RULES[spec.kind], spec)


class SizeCache:
    """What `rules.check_size` did for each size string of one model's free-form size rule: the
    findings it added and the size it accepted, replayed as it did them."""

    __slots__ = ("model", "seen", "spec")

    def __init__(self, spec: ParamSpec, model: str) -> None:
        self.spec = spec
        self.model = model
        self.seen = Generations(_SIZES)


def _cached_size(ctx: Context, name: str, value: object, cache: object) -> None:
    assert isinstance(cache, SizeCache)
    if type(value) is not str or len(value) > MAX_CACHED_TEXT or ctx.model != cache.model:
        check_size(ctx, name, value, cache.spec)
        return
    errors, warnings = ctx.errors, ctx.warnings
    done: tuple[tuple[Finding, ...], tuple[Finding, ...], str | None] | None = cache.seen.get(value)
    if done is None:
        # Run the rule itself and keep what it added. check_size adds errors or warnings and
        # accepts a size (ctx.size_text and the effective size, set by it alone: a request has one
        # size key and defaults are filled after the loop); it writes nothing else.
        had_errors, had_warnings = len(errors), len(warnings)
        check_size(ctx, name, value, cache.spec)
        cache.seen.put(value, (tuple(errors[had_errors:]), tuple(warnings[had_warnings:]), ctx.size_text))
        return
    added_errors, added_warnings, accepted = done
    if added_errors:
        errors.extend(added_errors)
    if added_warnings:
        warnings.extend(added_warnings)
    if accepted is not None:
        ctx.size_text = accepted
        ctx.effective["size"] = accepted


class CompiledCatalog:
    """The plans of one catalog, its findings for unknown model names, its "did you mean"
    suggestions and its quotes."""

    __slots__ = ("plans", "quotes", "stale", "suggestions", "unknown_keys", "unknown_models")

    def __init__(self) -> None:
        # Keyed by (the capability's id, or None without one; endpoint); filled on first use (a
        # plan built twice by two threads at once is the same plan: either may stay). The catalog
        # holds its capabilities, so an id is not reused while these plans live.
        self.plans: dict[tuple[int | None, str], Plan] = {}
        self.suggestions = Generations(_SUGGESTIONS)
        # An unknown model name (up to 64 characters) -> its model_unknown finding.
        self.unknown_models = Generations(_SUGGESTIONS)
        # (a key that is no parameter, up to 64 characters; endpoint) -> its unknown_parameter finding.
        self.unknown_keys = Generations(_UNKNOWN_KEYS)
        # (provider, model, endpoint, quality, size, tier, images, day, basis) -> (Quote, the
        # finding of its problem or None): engine._quoted.
        self.quotes = Generations(_QUOTES)
        # The tables_may_be_stale warning of every report dated after the catalog's `reviewed`.
        self.stale: Finding | None = None

    def plan(self, catalog: Catalog, capability: Capability | None, endpoint: str) -> Plan:
        key = (id(capability) if capability is not None else None, endpoint)
        found = self.plans.get(key)
        if found is None:
            found = self.plans[key] = compile_plan(catalog, capability, endpoint)
        return found

    def unknown_parameter(self, catalog: Catalog, key: str, endpoint: str) -> Finding:
        """The finding of a key that is no parameter of `endpoint`: the same for every model, so
        kept (keys of up to 64 characters; showing a key safely scans it for credentials)."""
        if len(key) > MAX_CACHED_TEXT:
            return _unknown_parameter(catalog, key, endpoint)
        cache_key = (key, endpoint)
        found: Finding | None = self.unknown_keys.get(cache_key)
        if found is None:
            found = _unknown_parameter(catalog, key, endpoint)
            self.unknown_keys.put(cache_key, found)
        return found


# Found by the catalog's identity and dropped with it, as the memo is (_memo.made_for).
_COMPILED: Registry[CompiledCatalog] = {}


def compiled_for(catalog: Catalog) -> CompiledCatalog:
    """The compiled form of `catalog`, made on first use."""
    found = _COMPILED.get(id(catalog))
    if found is not None and found[0]() is catalog:
        return found[1]
    return made_for(_COMPILED, catalog, CompiledCatalog)


# ---------------------------------------------------------------- unknown parameters

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MAX_KEY_SHOWN = 64


declare(
    "unknown_parameter",
    "ignored",
    "Not a parameter of this endpoint in any source we cite; upstream drops it.",
    "acedata-api-reference: request body; xhuoapi-edits: request parameters; openai-python-3: images API parameters",
)


@reports("unknown_parameter")
def _unknown_parameter(catalog: Catalog, key: str, endpoint: str) -> Finding:
    shown = _shown_key(key)
    return make_finding(
        "unknown_parameter",
        shown,
        f"{shown!r} is not a parameter of the {endpoint} endpoint; upstream drops it.",
        catalog.code_source("unknown_parameter"),
        _path(shown),
    )


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
