"""The rules: one small function per kind of parameter, plus the rules that look at several
parameters at once. Each reads the model's `ParamSpec` (from the tables) and writes findings and
effective values into a `Context`; none of them raises, whatever the value.

`RULES` maps a parameter kind (parameters.toml `kind`) to its rule; the engine is the loop over
the request that dispatches through it (see `engine.py`).

Why one long module (about 800 lines): each rule sits next to its declared codes and next to
its memo abstraction (what the rule reads of a value, `ABSTRACTIONS`); moving either away would
put a rule's knowledge in two places.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from imagepricing._describe import describe
from imagepricing._memo import Generations
from imagepricing._url_codes import URL_PROBLEM_CODES
from imagepricing.capabilities import Advice, Capability, Catalog, ParamSpec
from imagepricing.findings import PLATFORM_SCHEMA, SEED_PARAMETERS, SEED_REQUEST_BODY, Finding, declare, reports
from imagepricing.sizes import AUTO_SIZES, LIMIT_CODES, constraint_problems, parse_size

if TYPE_CHECKING:
    from imagepricing.urls import UrlProblem

__all__ = [
    "ABSTRACTIONS",
    "CROSS_RULES",
    "RULES",
    "UNMEMOISABLE",
    "Context",
    "CrossRule",
    "Rule",
    "cross_rules_for",
    "exact_scalar",
    "make_finding",
]

# Beyond this many problems inside one array, the rest are summarised in one finding, so that a
# 100,000-item `image` array cannot produce 100,000 findings.
MAX_ITEM_FINDINGS = 20


class Context:
    """The mutable scratch space of one `check` call; never shared between calls."""

    __slots__ = (
        "capability",
        "catalog",
        "effective",
        "errors",
        "ignored",
        "model",
        "size_text",
        "tier",
        "url_policy",
        "warnings",
    )

    def __init__(self, model: str | None, url_policy: str, catalog: Catalog) -> None:
        self.model = model
        # The catalog checked against: a finding without a source of its own cites its code's,
        # rendered from this catalog's sources.toml.
        self.catalog = catalog
        self.url_policy = url_policy
        self.capability: Capability | None = None
        self.errors: list[Finding] = []
        self.ignored: list[Finding] = []
        self.warnings: list[Finding] = []
        self.effective: dict[str, object] = {}
        # The accepted size string ("auto" when omitted) and its billing tier, once known.
        self.size_text: str | None = None
        self.tier: str | None = None

    def error(self, code: str, param: str | None, message: str, source: str = "", path: str | None = None) -> None:
        self.errors.append(make_finding(code, param, message, source or self.catalog.code_source(code), path))

    def ignore(self, code: str, param: str | None, message: str, source: str = "", path: str | None = None) -> None:
        self.ignored.append(make_finding(code, param, message, source or self.catalog.code_source(code), path))

    def warn(self, code: str, param: str | None, message: str, source: str = "", path: str | None = None) -> None:
        self.warnings.append(make_finding(code, param, message, source or self.catalog.code_source(code), path))


def make_finding(code: str, param: str | None, message: str, source: str, path: str | None = None) -> Finding:
    """A finding as the rules write it: the path from the parameter (`$` for the whole request).
    `source` is rendered already (`Catalog.cite`; `Catalog.code_source` for the code's own)."""
    # Positional: with keywords, building a finding costs nearly twice as much (docs/fast-path.md).
    return Finding(
        code, param, message, source, path if path is not None else (f"$.{param}" if param is not None else "$")
    )


Rule = Callable[[Context, str, object, ParamSpec], None]

# Each code below is declared next to the checks that report it, with its verdict under the rule
# of certainty (an error means upstream will certainly reject: a seed says so, or every cited
# source agrees; docs/rules.md lists them).

# Kept, narrowed: a whole number written with a fraction (2.0) is an integer (JSON Schema), so it
# is accepted; a boolean, a string or 2.5 is not.
declare(
    "wrong_type",
    "error",
    "A value has the wrong JSON type (a boolean is never an integer; 2.0 is one, 2.5 is not).",
    f"{SEED_REQUEST_BODY}; json-schema: an integer is a number with a zero fractional part",
)
# Every source we cite disagrees somewhere; such a value is accepted, and the finding names both.
declare(
    "sources_disagree",
    "warning",
    "The sources we cite disagree on this value; it is accepted, and the finding names both sides.",
    "acedata-openapi: request schema; acedata-api-reference: request body",
)


def _wrong_type(
    ctx: Context, name: str, value: object, expected: str, spec: ParamSpec, path: str | None = None
) -> None:
    # The platform's definition of the parameter gives its type; a model's entry may describe a
    # different fact ("n > 1 is silently ignored"), which a type error must not cite.
    ctx.error(
        "wrong_type", name, f"{name} must be {expected}; got {describe(value)}.", spec.range_source or spec.source, path
    )


# Kept: an empty prompt or an empty image list describes nothing to do.
declare("empty", "error", "A required text or image list is empty.", SEED_REQUEST_BODY)
# Kept: the seeds give each model's limit ("supports up to").
declare("too_long", "error", "The prompt is longer than the model's character limit.", "acedata-api-reference: prompt")


@reports("wrong_type", "empty", "too_long")
def check_text(ctx: Context, name: str, value: object, spec: ParamSpec) -> None:
    if type(value) is not str:
        _wrong_type(ctx, name, value, "a string", spec)
        return
    if not value:
        ctx.error("empty", name, f"{name} must not be empty.", spec.source)
    elif spec.max_chars is not None and len(value) > spec.max_chars:
        ctx.error(
            "too_long",
            name,
            f"{name} has {len(value):,} characters; {ctx.model} accepts at most {spec.max_chars:,}.",
            spec.source,
        )


# Kept: the seeds and the platform's schema give the same ranges (n 1-10, output_compression
# 0-100, partial_images 0-3).
declare(
    "out_of_range",
    "error",
    "An integer is outside the platform's range for the parameter.",
    f"{SEED_REQUEST_BODY}; {PLATFORM_SCHEMA}",
)
# Kept: dall-e-3 n > 1; the seeds and OpenAI agree ("dall-e-3 only supports 1").
declare(
    "above_model_limit",
    "error",
    "An integer is above what this model allows (dall-e-3: n must be 1).",
    "acedata-api-reference: n, dall-e-3 only supports 1; openai-api-reference: for dall-e-3, only n=1",
)
declare(
    "downgraded",
    "ignored",
    "Upstream silently uses a smaller value (n > 1 on single-image models).",
    SEED_PARAMETERS + ": About the n parameter",
)


@reports("wrong_type", "out_of_range", "above_model_limit", "downgraded", "sources_disagree")
def check_integer(ctx: Context, name: str, value: object, spec: ParamSpec) -> None:
    # type() rather than isinstance(): JSON `true` is a bool, and bool is an int subclass.
    # A whole number written with a fraction (2.0) is an integer for JSON Schema, which is how the
    # platform's schema types n, output_compression and partial_images: accepted as that integer.
    if type(value) is not int:
        if type(value) is not float or not value.is_integer():
            _wrong_type(ctx, name, value, "an integer", spec)
            return
        value = int(value)
    low, high = spec.min, spec.max
    if low is not None and high is not None and not low <= value <= high:
        ctx.error(
            "out_of_range",
            name,
            f"{name} must be an integer from {low} to {high}; got {describe(value)}.",
            spec.range_source or spec.source,
        )
    elif spec.model_max is not None and value > spec.model_max:
        ctx.error(
            "above_model_limit",
            name,
            f"{ctx.model} accepts {name} only up to {spec.model_max}; got {value}.",
            spec.source,
        )
    elif spec.honoured_max is not None and value > spec.honoured_max:
        reason = f" {spec.reason}" if spec.reason else ""
        ctx.ignore(
            "downgraded",
            name,
            f"{ctx.model} silently uses {name}={spec.honoured_max} instead of {value}.{reason}",
            spec.source,
        )
        ctx.effective[name] = spec.honoured_max
        if spec.disputed_above is not None and value > spec.disputed_above:
            ctx.warn(
                "sources_disagree",
                name,
                f"{ctx.model} {name}={value}: taken as {spec.honoured_max}, but {spec.disputed_note}.",
                spec.disputed_source or "",
            )
    else:
        ctx.effective[name] = value
        if spec.disputed_above is not None and value > spec.disputed_above:
            ctx.warn(
                "sources_disagree",
                name,
                f"{ctx.model} {name}={value}: taken as {value}, but {spec.disputed_note}.",
                spec.disputed_source or "",
            )


# Kept where the seeds list the model's values and no source we cite gives the value to it;
# a value some source accepts (quality auto on dall-e) is a `sources_disagree` warning.
declare("not_allowed", "error", "A value is not one the model accepts for the parameter.", SEED_REQUEST_BODY)
declare(
    "overridden",
    "ignored",
    "Upstream replaces the value (GPT image models always return base64).",
    "acedata-api-reference: response_format",
)


@reports("overridden", "wrong_type", "sources_disagree", "not_allowed")
def check_choice(ctx: Context, name: str, value: object, spec: ParamSpec) -> None:
    if spec.overridden_to is not None:
        # Upstream replaces the value whatever it is, so it is not validated.
        ctx.ignore(
            "overridden",
            name,
            f"{ctx.model} ignores {name} and uses {spec.overridden_to}: {spec.reason}.",
            spec.source,
        )
        ctx.effective[name] = spec.overridden_to
        return
    if type(value) is not str:
        _wrong_type(ctx, name, value, "a string", spec)
        return
    if value in spec.disputed_values:
        ctx.warn(
            "sources_disagree",
            name,
            f"{ctx.model} {name}: {describe(value)} is accepted, but {spec.disputed_note}.",
            spec.disputed_source or "",
        )
        ctx.effective[name] = value
        return
    values = spec.values or ()
    if value not in values:
        ctx.error(
            "not_allowed",
            name,
            f"{name} must be one of {', '.join((*values, *sorted(spec.disputed_values)))} for {ctx.model};"
            f" got {describe(value)}.",
            spec.source,
        )
        return
    ctx.effective[name] = value


@reports("wrong_type")
def check_boolean(ctx: Context, name: str, value: object, spec: ParamSpec) -> None:
    if type(value) is not bool:
        _wrong_type(ctx, name, value, "true or false", spec)
        return
    ctx.effective[name] = value


declare(
    "callback_unusable",
    "warning",
    "callback_url is not a usable absolute http(s) URL; the platform takes any string there, so the request"
    " is accepted, but the result cannot be delivered to it (url_policy strict rejects it).",
    "acedata-openapi: callback_url is a string; acedata-api-reference: callback_url",
)


@reports("wrong_type", "callback_unusable", *URL_PROBLEM_CODES)
def check_url(ctx: Context, name: str, value: object, spec: ParamSpec) -> None:
    if type(value) is not str:
        _wrong_type(ctx, name, value, "a URL string", spec)
        return
    if ctx.url_policy != "basic":
        _url_findings(ctx, name, value, None, allow_data_uri=False)
        return
    # Decision (issue 20, rule of certainty): the platform's schema takes any string as callback_url
    # and nothing says a request is refused for an unusable one (the platform calls it back only
    # once the image is done), so under the basic policy it is a warning; url_policy="strict" is the
    # caller's own pre-flight policy and rejects it.
    for problem in _url_verdict(value, ctx.url_policy, False):
        ctx.warn(
            "callback_unusable",
            name,
            f"{name}: {problem.message} The request is accepted (the platform's schema takes any string here),"
            " but the result cannot be delivered to it; poll the task instead or fix the URL.",
            "",
        )


@reports("wrong_type", *URL_PROBLEM_CODES)
def check_image(ctx: Context, name: str, value: object, spec: ParamSpec) -> None:
    if type(value) is not str:
        _wrong_type(ctx, name, value, "a URL string", spec)
        return
    _url_findings(ctx, name, value, None, allow_data_uri=True)


# Kept above 16 (the seeds and the platform's schema agree); more images than a model takes but
# at most 16 (dall-e-2, nano-banana) is a `sources_disagree` warning, see models.toml.
declare(
    "too_many_items",
    "error",
    "More images than the edits endpoint takes.",
    "xhuoapi-edits: image may be an array of up to 16 reference images; acedata-openapi: edits image maxItems 16",
)
# Kept: it accompanies errors already found in the same array.
declare(
    "more_problems",
    "error",
    "An array had so many bad items that the rest were not itemised.",
    "imagepricing: bounded output",
)


@reports("wrong_type", "empty", "sources_disagree", "too_many_items", "more_problems", *URL_PROBLEM_CODES)
def check_images(ctx: Context, name: str, value: object, spec: ParamSpec) -> None:
    if type(value) is str:
        _url_findings(ctx, name, value, None, allow_data_uri=True)
        return
    if type(value) is not list:
        _wrong_type(ctx, name, value, "a URL string or an array of URL strings", spec)
        return
    if not value:
        ctx.error("empty", name, f"{name} must hold at least one image.", spec.source)
        return
    if (
        spec.disputed_max_items is not None
        and spec.max_items is not None
        and spec.max_items < len(value) <= (spec.disputed_max_items)
    ):
        ctx.warn(
            "sources_disagree",
            name,
            f"{name} holds {len(value):,} images for {ctx.model}; accepted, but {spec.disputed_note}.",
            spec.disputed_source or "",
        )
    elif spec.max_items is not None and len(value) > max(spec.max_items, spec.disputed_max_items or 0):
        ctx.error(
            "too_many_items",
            name,
            f"{name} holds {len(value):,} images; {ctx.model} takes at most"
            f" {max(spec.max_items, spec.disputed_max_items or 0)}.",
            spec.source,
        )
    before = len(ctx.errors)
    for index, item in enumerate(value):
        if len(ctx.errors) - before >= MAX_ITEM_FINDINGS:
            ctx.error(
                "more_problems",
                name,
                f"{name}: stopped itemising after {MAX_ITEM_FINDINGS} problems;"
                f" items {index} to {len(value) - 1} were not checked.",
                spec.source,
            )
            break
        if type(item) is not str:
            _wrong_type(ctx, name, item, "a URL string", spec, f"$.{name}[{index}]")
        else:
            _url_findings(ctx, name, item, index, allow_data_uri=True)


@functools.cache
def _url_checker() -> Callable[..., tuple[UrlProblem, ...]]:
    # Imported on first use: most requests carry no URL, and the checks' own imports (ipaddress,
    # urllib.parse, unicodedata) cost start-up time.
    from imagepricing.urls import url_problems  # noqa: PLC0415

    return url_problems


# Each distinct URL's verdict is computed once and shared by the memo key (`_abstract_url`) and
# the rule (`_url_findings`): a request that misses the memo would otherwise check its URLs twice.
# Keyed by the whole URL, so it needs no argument about which parts of a URL a verdict reads
# (url_problems keeps its own, proved, memo by authority); bounded and least recently used out
# first (_memo.Generations, as the engine's memo), so a service's recurring URLs stay while a log's
# stream of one-off upload URLs passes through. URLs over _MAX_CACHED_URL characters are not kept.
_URL_VERDICT_LIMIT = 4096
_MAX_CACHED_URL = 2048
_URL_VERDICTS: Generations = Generations(_URL_VERDICT_LIMIT)


def _url_verdict(value: str, url_policy: str, allow_data_uri: bool) -> tuple[UrlProblem, ...]:
    key = (value, url_policy, allow_data_uri)
    # Generations.get tests `is None`: an acceptable URL's verdict, the empty tuple, is found too.
    found: tuple[UrlProblem, ...] | None = _URL_VERDICTS.get(key)
    if found is None:
        found = _url_checker()(value, policy=url_policy, allow_data_uri=allow_data_uri)
        if len(value) <= _MAX_CACHED_URL:
            _URL_VERDICTS.put(key, found)
    return found


def _url_findings(ctx: Context, name: str, value: str, index: int | None, *, allow_data_uri: bool) -> None:
    """The findings of URL `value` of parameter `name` (item `index` of its array, if any)."""
    problems = _url_verdict(value, ctx.url_policy, allow_data_uri)
    if problems:  # the path is built only for a URL with problems
        path = f"$.{name}" if index is None else f"$.{name}[{index}]"
        for problem in problems:
            ctx.error(problem.code, name, f"{name}: {problem.message}", "", path)


# Kept: the seeds list dall-e-2, dall-e-3 and gpt-image-1 sizes, and OpenAI agrees.
declare("size_not_supported", "error", "The size is not one of the model's fixed sizes.", SEED_REQUEST_BODY)
# Kept: the seed says any other format will return 400.
declare(
    "size_format",
    "error",
    "gpt-image-2 size is not auto, empty or WIDTHxHEIGHT (ASCII digits, lowercase x, nothing else).",
    "xhuoapi-generations: any other format will return 400",
)
declare(
    "aspect_fallback",
    "warning",
    "nano-banana maps this size to no aspect ratio; it falls back to 1:1.",
    "acedata-generations-guide",
)
declare(
    "size_not_canonical",
    "warning",
    "The size has leading zeros, so it matches no preset as written.",
    "xhuoapi-generations",
)


@reports(
    "wrong_type",
    "aspect_fallback",
    "size_not_supported",
    "size_format",
    "size_not_positive",
    *LIMIT_CODES.values(),
    "sources_disagree",
    "size_not_canonical",
)
def check_size(ctx: Context, name: str, value: object, spec: ParamSpec) -> None:
    rule = spec.size
    assert rule is not None  # the catalog gives every size entry a rule
    if type(value) is not str:
        _wrong_type(ctx, name, value, "a string: WIDTHxHEIGHT or auto", spec)
        return
    if rule.aspect_map is not None:
        amap = rule.aspect_map
        ratio = amap.ratio_of_size.get(value)
        if ratio is None:
            ratio = amap.fallback
            if value not in AUTO_SIZES:
                mapped = ", ".join(f"{s} ({r})" for s, r in amap.ratio_of_size.items())
                ctx.warn(
                    "aspect_fallback",
                    name,
                    f"{ctx.model} maps only {mapped}; size {describe(value)} falls back to {amap.fallback}.",
                    amap.source,
                )
        ctx.effective["aspect_ratio"] = ratio
        return
    if value in AUTO_SIZES:
        _accept_size(ctx, "auto" if rule.allowed is None else rule.default)
        return
    if rule.allowed is not None:
        if value not in rule.allowed:
            ctx.error(
                "size_not_supported",
                name,
                f"{ctx.model} supports size {', '.join(rule.allowed_order)} or auto; got {describe(value)}.",
                spec.source,
            )
            return
        _accept_size(ctx, value)
        return
    limits = rule.constraints
    assert limits is not None
    size = parse_size(value)
    if size is None:
        ctx.error(
            "size_format",
            name,
            "size must be auto, empty or WIDTHxHEIGHT with ASCII digits and a lowercase x (e.g. 1024x1536);"
            f" got {describe(value)}.",
            spec.source,
        )
        return
    if value not in limits.exempt:
        problems = constraint_problems(size, limits)
        disputed = [p for p in problems if p[0] in limits.disputed_codes]
        certain = [p for p in problems if p[0] not in limits.disputed_codes]
        for code, message, source in certain:
            ctx.error(code, name, message, source)
        if certain:
            return
        for _code, message, _source in disputed:
            ctx.warn(
                "sources_disagree",
                name,
                f"{message[:-1]}: accepted, but {limits.disputed_note}.",
                limits.disputed_source or "",
            )
    if rule.documented is not None and value not in rule.documented:
        ctx.warn(
            "sources_disagree",
            name,
            f"{ctx.model} size {describe(value)}: accepted, but {spec.disputed_note}.",
            spec.disputed_source or "",
        )
    if value != size.text and len(value) <= 40:
        ctx.warn(
            "size_not_canonical",
            name,
            f"size {value!r} has leading zeros; it is matched as written, so it is not the preset {size.text}"
            " and bills at the tier of a custom size.",
            spec.source,
        )
    _accept_size(ctx, value)


def _accept_size(ctx: Context, text: str) -> None:
    ctx.size_text = text
    ctx.effective["size"] = text


declare(
    "transparent_needs_alpha",
    "warning",
    "A transparent background wants png or webp output.",
    "acedata-api-reference: background",
)


@reports("transparent_needs_alpha")
def _transparent_needs_alpha(ctx: Context, request: Mapping[object, object]) -> None:
    if ctx.effective.get("background") == "transparent" and ctx.effective.get("output_format") == "jpeg":
        ctx.warn(
            "transparent_needs_alpha",
            "background",
            "background transparent needs an output format with an alpha channel (png or webp); jpeg has none.",
        )


declare(
    "unused",
    "ignored",
    "The value has no effect with the rest of the request (compression with png output; partial_images"
    " without streaming).",
    "acedata-api-reference: output_compression for webp or jpeg; partial_images during streaming",
)


@reports("unused")
def _compression_unused(ctx: Context, request: Mapping[object, object]) -> None:
    if "output_compression" in ctx.effective and ctx.effective.get("output_format") == "png":
        del ctx.effective["output_compression"]
        ctx.ignore(
            "unused",
            "output_compression",
            "output_compression applies only to jpeg and webp output; with png output upstream ignores it.",
        )


@reports("unused")
def _partial_images_unused(ctx: Context, request: Mapping[object, object]) -> None:
    # partial_images are streamed events: without stream: true there is nothing to carry them.
    if ctx.effective.get("partial_images", 0) != 0 and request.get("stream") is not True:
        del ctx.effective["partial_images"]
        ctx.ignore(
            "unused",
            "partial_images",
            "partial_images has effect only with stream: true (partial images are streaming events); without"
            " streaming the final image comes back alone.",
        )


declare(
    "suggest_async",
    "warning",
    "A slow model without callback_url or async holds the connection for minutes.",
    "xhuoapi-generations: use callback_url for long calls",
)


@reports("suggest_async")
def _suggest_async(ctx: Context, request: Mapping[object, object]) -> None:
    slow = ctx.capability.slow if ctx.capability is not None else None
    if slow is None or request.get("callback_url") is not None or request.get("async") is True:
        return
    ctx.warnings.append(_async_advice(slow))


declare(
    "size_may_return_alias",
    "warning",
    "A 1K request may come back at an alias size of the same aspect ratio.",
    "xhuoapi-generations: common 1K output aliases",
)


@reports("size_may_return_alias")
def _may_return_alias(ctx: Context, request: Mapping[object, object]) -> None:
    rule = ctx.capability.size_rule if ctx.capability is not None else None
    tiering = rule.tiering if rule is not None else None
    if tiering is None or ctx.size_text is None:
        return
    alias = tiering.returned_as.get(ctx.size_text)
    if alias is not None:
        ctx.warn(
            "size_may_return_alias",
            "size",
            f"upstream may return {ctx.size_text} as {alias} (same aspect ratio, same {tiering.auto_tier} price);"
            " reusing it as size is accepted.",
            tiering.source,
        )


RULES: dict[str, Rule] = {
    "text": check_text,
    "integer": check_integer,
    "choice": check_choice,
    "boolean": check_boolean,
    "url": check_url,
    "image": check_image,
    "images": check_images,
    "size": check_size,
}

CrossRule = Callable[[Context, Mapping[object, object]], None]

# Rules over the whole request, run after every parameter has been checked; in this order.
CROSS_RULES: tuple[CrossRule, ...] = (
    _transparent_needs_alpha,
    _compression_unused,
    _partial_images_unused,
    _suggest_async,
    _may_return_alias,
)

# When each whole-request rule can report anything, judged from the capability alone: an effective
# value is set only by the rule of one of the capability's own parameters or by its defaults (which
# come from those parameters), so a rule reading `background` can fire only where the model takes
# it. `cross_rules_for` keeps, per capability, the rules that can; tests/test_compiled_checkers.py
# compares the result with every rule run, on fuzzed requests.
_CAN_FIRE: dict[CrossRule, Callable[[Capability], bool]] = {
    _transparent_needs_alpha: lambda c: "background" in c.params and "output_format" in c.params,
    _compression_unused: lambda c: "output_compression" in c.params and "output_format" in c.params,
    _partial_images_unused: lambda c: "partial_images" in c.params,
    _suggest_async: lambda c: c.slow is not None,
    _may_return_alias: lambda c: c.size_rule is not None and c.size_rule.tiering is not None,
}


def cross_rules_for(capability: Capability) -> tuple[CrossRule, ...]:
    """The whole-request rules that can report anything for `capability`, in CROSS_RULES order,
    each bound to what it reads of the capability (a rule added without saying when it can fire
    is always kept)."""
    kept: list[CrossRule] = []
    for rule in CROSS_RULES:
        can_fire = _CAN_FIRE.get(rule)
        if can_fire is not None and not can_fire(capability):
            continue
        if rule is _suggest_async and capability.slow is not None:
            kept.append(_suggest_async_with(_async_advice(capability.slow)))
        else:
            kept.append(rule)
    return tuple(kept)


def _async_advice(slow: Advice) -> Finding:
    return make_finding(
        "suggest_async",
        None,
        f"{slow.note}; pass callback_url (or async: true) so the call does not hold a connection open.",
        slow.source,
    )


def _suggest_async_with(advice: Finding) -> CrossRule:
    """_suggest_async for one slow capability, its finding built once."""

    def suggest_async(ctx: Context, request: Mapping[object, object]) -> None:
        if request.get("callback_url") is not None or request.get("async") is True:
            return
        ctx.warnings.append(advice)

    return suggest_async


# -- How each rule abstracts its input, for the engine's verdict memo (engine.py, _memo.py).
#
# An abstraction maps a value to something hashable that keeps every fact about it the rule's
# findings, effective values and messages depend on, and drops the rest; `UNMEMOISABLE` when the
# value's text would reach a message (a prompt over its limit, a bad URL, a long string) or when
# keeping it would let the memo grow with untrusted input. Two requests whose abstractions are equal
# get equal reports. Every abstraction is tagged with the value's exact type: `True == 1 == 1.0` in
# a tuple, and the rules tell them apart. None never reaches an abstraction (the engine keys it as
# "absent", which is how every rule and cross rule reads it).
UNMEMOISABLE = object()
# Strings and integers kept verbatim in a memo key are bounded: past these, the request is checked
# without the memo (its report would be one of a kind anyway).
MAX_MEMO_TEXT = 64
_MAX_MEMO_INT = 10**18
_MAX_MEMO_ITEMS = 64

Abstraction = Callable[[object, ParamSpec, str], object]


def exact_scalar(value: object, spec: ParamSpec | None = None, url_policy: str = "basic") -> object:
    """A JSON scalar as (type, value): what choice, boolean, integer and size rules read."""
    kind = type(value)
    if kind is bool or (kind is str and len(value) <= MAX_MEMO_TEXT):  # type: ignore[arg-type]
        return (kind, value)
    if kind is int and -_MAX_MEMO_INT < value < _MAX_MEMO_INT:  # type: ignore[operator]
        return (int, value)
    if kind is float and not math.isnan(value):  # type: ignore[arg-type]
        # NaN never equals itself, so it could never be found again: not worth a slot.
        return (float, value)
    return UNMEMOISABLE


# What a text value within its limit abstracts to: whether it is empty (see _abstract_text).
_TEXT_EMPTY = (str, False)
_TEXT_PRESENT = (str, True)


def _abstract_text(value: object, spec: ParamSpec, url_policy: str) -> object:
    # check_text reads only emptiness and the length against the model's limit; the text itself
    # reaches no message unless it is too long, which is kept out of the memo.
    if type(value) is not str:
        return exact_scalar(value)
    if spec.max_chars is not None and len(value) > spec.max_chars:
        return UNMEMOISABLE
    return _TEXT_PRESENT if value else _TEXT_EMPTY


def _abstract_choice(value: object, spec: ParamSpec, url_policy: str) -> object:
    if spec.overridden_to is not None:
        return _OVERRIDDEN  # replaced whatever it is; the value reaches neither a message nor effective
    return exact_scalar(value)


_OVERRIDDEN = ("overridden",)
_URL_OK = ("url", True)


def _url_ok(value: str, url_policy: str, allow_data_uri: bool) -> bool:
    return not _url_verdict(value, url_policy, allow_data_uri)


def _abstract_url(value: object, spec: ParamSpec, url_policy: str) -> object:
    # A URL by its verdict: an acceptable one adds nothing to the report; a bad one's findings may
    # quote parts of it, so it is kept out of the memo.
    if type(value) is not str:
        return exact_scalar(value)
    return _URL_OK if _url_ok(value, url_policy, allow_data_uri=False) else UNMEMOISABLE


def _abstract_image(value: object, spec: ParamSpec, url_policy: str) -> object:
    if type(value) is not str:
        return exact_scalar(value)
    return _URL_OK if _url_ok(value, url_policy, allow_data_uri=True) else UNMEMOISABLE


def _abstract_images(value: object, spec: ParamSpec, url_policy: str) -> object:
    # An array by its length (messages and the image limits read it) when every item is acceptable.
    if type(value) is str:
        return _abstract_image(value, spec, url_policy)
    if type(value) is not list or not value or len(value) > _MAX_MEMO_ITEMS:
        return exact_scalar(value)  # a non-list scalar keeps its type; an empty or long list is not memoised
    for item in value:
        if type(item) is not str or not _url_ok(item, url_policy, allow_data_uri=True):
            return UNMEMOISABLE
    return (list, len(value))


ABSTRACTIONS: dict[str, Abstraction] = {
    "text": _abstract_text,
    "integer": exact_scalar,
    "choice": _abstract_choice,
    "boolean": exact_scalar,
    "url": _abstract_url,
    "image": _abstract_image,
    "images": _abstract_images,
    "size": exact_scalar,
}
