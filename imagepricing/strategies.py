"""Hypothesis strategies for imagepricing's rules: test your own validator against the reference.

Install with ``pip install 'imagepricing[hypothesis]'``. Every strategy reads the same tables as
the engine (the shipped catalog, or the `catalog` you pass), so a change to `data/*.toml` flows
through: a new model, a new size preset or a new prompt limit changes what is generated.

A property test of your own validator (an API gateway, a form, a billing job), in a few lines::

    from hypothesis import given

    from imagepricing import check
    from imagepricing.strategies import invalid_requests, valid_requests

    from my_gateway import validate  # yours: returns a list of (param, code) problems


    @given(valid_requests(endpoint="generations"))
    def test_accepts_what_upstream_accepts(request):
        assert validate(request) == []


    @given(invalid_requests(endpoint="edits"))
    def test_rejects_each_kind_of_violation(labelled):
        request, (param, code) = labelled  # e.g. ("size", "size_not_multiple")
        assert validate(request) != []
        assert check(request, endpoint="edits").errors[0].code == code  # the reference agrees

What the strategies promise (and imagepricing's own property tests check):

- `valid_requests` are accepted by `check` (report.ok) under both URL policies. With `extras`
  (default) they also carry what upstream ignores: parameters the model drops (any JSON value),
  unknown keys, and null for optional parameters (null counts as omitted).
- `invalid_requests` yields ``(request, (param, code))``: a valid request with exactly one
  violation, and `check` reports exactly that one error, ``[(param, code)]``.
- `gpt_image_2_sizes(accepted=True)` are sizes `check` accepts for gpt-image-2;
  ``accepted=False`` ones it rejects. `sizes_in_tier("1k")` / `sizes_in_tier("other")` are
  accepted sizes billed at that tier.
- `json_values` is any JSON value (nested junk), for "never raises" properties.

Building a strategy reads the tables; build them once, at module level, not inside a test body.

Why one long module (about 800 lines): it is the public face users import as one
(`imagepricing.strategies`), a strategy for every parameter kind and size constraint, each next
to the oracle it derives from the tables.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping

try:
    from hypothesis import strategies as st
    from hypothesis.strategies import SearchStrategy
except ImportError as exc:  # pragma: no cover - exercised only without the extra installed
    raise ImportError("imagepricing.strategies needs hypothesis: pip install 'imagepricing[hypothesis]'") from exc

from imagepricing._clock import today
from imagepricing.catalog import Capability, Catalog, ParamSpec, default_catalog
from imagepricing.sizes import AUTO_SIZES, Constraints, SizeRule, Tiering

__all__ = [
    "Label",
    "dropped_parameters",
    "gpt_image_2_sizes",
    "http_urls",
    "image_refs",
    "invalid_requests",
    "json_values",
    "junk_requests",
    "size_violations",
    "sizes_in_tier",
    "valid_requests",
    "violation_labels",
]


def _of_today(catalog: Catalog | None) -> Catalog:
    """The catalog as `check` judges by it today (its rules are dated facts: Catalog.on), so that
    the requests drawn are the ones `check` accepts or rejects today."""
    return (catalog or default_catalog()).on(today())


Label = tuple[str | None, str]
"""A violation: the request parameter (None for the request as a whole) and the finding code."""

Request = dict[str, object]

# The spec's WIDTHxHEIGHT: ASCII digits only (Python's \d and int() accept other digits).
_SIZE_FORMAT = re.compile(r"[0-9]+x[0-9]+")

# Data URIs the upstream accepts as images (seed 002: multipart uploads become data URIs).
_DATA_URIS = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
    "data:image/jpeg;base64,/9j/4AAQSkZJRg==",
    "data:image/webp;base64,UklGRg==",
)
_BAD_DATA_URIS = (
    "data:image/svg+xml;base64,PHN2Zz4=",
    "data:text/html;base64,PGI+",
    "data:image/png;base64,",
    "data:image/png,rawbytes",
)
_OTHER_SCHEMES = ("ftp", "ftps", "ws", "wss", "gopher", "sftp", "s3")
_TLDS = ("com", "org", "net", "io", "dev", "ai", "cloud")
_LONG_CHARS = ("a", "\u00e9", "\U0001f600")  # 1, 2 and 4 UTF-8 bytes; limits count characters


# ------------------------------------------------------------------------------ JSON values


@functools.cache
def json_values(*, allow_nan: bool = False, max_leaves: int = 10) -> SearchStrategy[object]:
    """Any JSON value, nested: null, booleans, integers of any size, floats, strings, arrays,
    objects. `allow_nan` adds NaN and infinities (not JSON, but Python's json module reads them)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=allow_nan, allow_infinity=allow_nan)
        | st.text(max_size=30)
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
        max_leaves=max_leaves,
    )


@functools.cache
def _not_strings() -> SearchStrategy[object]:
    """JSON values of every type but string and null (null means omitted)."""
    return st.one_of(
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(json_values(max_leaves=3), max_size=3),
        st.dictionaries(st.text(max_size=5), json_values(max_leaves=3), max_size=3),
    )


@functools.cache
def _not_integers() -> SearchStrategy[object]:
    """JSON values that are not integers: true/false, 2.5-style floats, numeric strings, ...

    A whole number written with a fraction (2.0) *is* an integer (JSON Schema; the platform's schema
    types these parameters as integer), so it is not drawn here.
    """
    return st.one_of(
        st.booleans(),
        st.integers(-5, 20).map(lambda n: n + 0.5),
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
        st.integers(-5, 20).map(str),
        st.text(max_size=5),
        st.lists(st.integers(), min_size=1, max_size=2),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )


@functools.cache
def _not_booleans() -> SearchStrategy[object]:
    return st.one_of(
        st.integers(),
        st.sampled_from(["true", "false", "yes", "1"]),
        st.text(max_size=5),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.booleans(), max_size=2),
    )


# ------------------------------------------------------------------------------------ URLs


@functools.cache
def http_urls() -> SearchStrategy[str]:
    """https URLs on public-looking names, acceptable under both URL policies."""
    label = st.from_regex(r"[a-z][a-z0-9]{0,11}", fullmatch=True)
    host = st.builds(
        lambda labels, tld: ".".join([*labels, tld]), st.lists(label, min_size=1, max_size=3), st.sampled_from(_TLDS)
    )
    path = st.from_regex(r"(/[A-Za-z0-9_.-]{0,16}){0,3}(\.png)?", fullmatch=True)
    return st.builds(lambda h, p: f"https://{h}{p}", host, path)


@functools.cache
def image_refs() -> SearchStrategy[str]:
    """What an edits request may give as one image: an https URL or an image data URI."""
    return st.one_of(http_urls(), st.sampled_from(_DATA_URIS))


@functools.cache
def _hosts() -> SearchStrategy[str]:
    return http_urls().map(lambda url: url[len("https://") :].split("/", 1)[0])


def _url_violations(*, allow_data_uri: bool) -> list[tuple[str, SearchStrategy[object]]]:
    found: list[tuple[str, SearchStrategy[object]]] = [
        ("url_empty", st.sampled_from(["", "   "])),
        (
            "url_not_absolute",
            st.builds(lambda h, rel: f"//{h}/a.png" if rel else f"{h}/a.png", _hosts(), st.booleans()),
        ),
        ("url_scheme", st.builds(lambda s, h: f"{s}://{h}/a.png", st.sampled_from(_OTHER_SCHEMES), _hosts())),
    ]
    if allow_data_uri:
        found.append(("url_data_uri_invalid", st.sampled_from(_BAD_DATA_URIS)))
    else:
        found.append(("url_data_uri_not_allowed", st.sampled_from(_DATA_URIS)))
    return found


# ----------------------------------------------------------------------------------- sizes


def _ceil_to(value: float, step: int) -> int:
    return math.ceil(value / step) * step


def _floor_to(value: float, step: int) -> int:
    return math.floor(value / step) * step


# Where a constraint set has no such limit (the platform's schema checks only the form), sizes are
# generated up to this side; it bounds generation, never what is accepted.
_GENERATED_SIDE = 4096


def _bounds(limits: Constraints) -> tuple[int, int, int]:
    """(step, longest side, most pixels) to generate sizes within: the limits, or generous stand-ins."""
    step = limits.multiple_of or 1
    top = limits.max_side or _GENERATED_SIDE
    return step, top, limits.max_pixels or top * top


def _size_problems(width: int, height: int, limits: Constraints) -> frozenset[str]:
    """The constraint codes a WIDTHxHEIGHT breaks, computed here from the limits' numbers (not by
    the engine), so a strategy can promise exactly one of them. Disputed limits count too: a size
    breaking one is accepted with a warning, so it is neither a clean valid size nor a rejection."""
    if width == 0 or height == 0:
        return frozenset({"size_not_positive"})
    long, short = max(width, height), min(width, height)
    found = set()
    step = limits.multiple_of
    if step is not None and (width % step or height % step):
        found.add("size_not_multiple")
    if limits.max_side is not None and long > limits.max_side:
        found.add("size_side_too_long")
    if limits.max_pixels is not None and width * height > limits.max_pixels:
        found.add("size_too_many_pixels")
    if limits.min_pixels is not None and width * height < limits.min_pixels:
        found.add("size_too_few_pixels")
    if limits.max_aspect_ratio is not None and long > limits.max_aspect_ratio * short:
        found.add("size_aspect_ratio")
    return frozenset(found)


def _pairs(rows: list[tuple[int, int, int]], step: int) -> SearchStrategy[tuple[int, int]]:
    """(first side, other side) from rows of (first side, lowest other, highest other)."""
    if not rows:
        return st.nothing()
    return st.sampled_from(rows).flatmap(
        lambda row: st.integers(row[1] // step, row[2] // step).map(lambda k: (row[0], k * step))
    )


def _oriented(pairs: SearchStrategy[tuple[int, int]]) -> SearchStrategy[tuple[int, int]]:
    return st.tuples(pairs, st.booleans()).map(lambda t: (t[0][1], t[0][0]) if t[1] else t[0])


@functools.cache
def _accepted_pairs(limits: Constraints) -> SearchStrategy[tuple[int, int]]:
    step, top, most = _bounds(limits)
    ratio = limits.max_aspect_ratio
    fewest = limits.min_pixels or 0
    rows = []
    for width in range(step, top + 1, step):
        low = _ceil_to(max(step, width / ratio if ratio else step, fewest / width), step)
        high = _floor_to(min(top, width * ratio if ratio else top, most // width), step)
        if low <= high:
            rows.append((width, low, high))
    return _pairs(rows, step)


def _text(pair: tuple[int, int]) -> str:
    return f"{pair[0]}x{pair[1]}"


def _constraint_sizes(limits: Constraints, catalog: Catalog) -> SearchStrategy[str]:
    presets = {s for name in limits.presets for s in catalog.size_sets.get(name, ())}
    return _accepted_sizes(limits, tuple(sorted(presets | limits.exempt)))


@functools.cache
def _accepted_sizes(limits: Constraints, named: tuple[str, ...]) -> SearchStrategy[str]:
    custom = _accepted_pairs(limits).map(_text)
    return st.one_of(
        st.sampled_from(sorted(AUTO_SIZES)),
        st.sampled_from(named) if named else st.nothing(),
        custom,
        # Leading zeros are still WIDTHxHEIGHT (ASCII digits); they never match a preset string.
        st.tuples(st.integers(1, 3), custom).map(lambda t: "0" * t[0] + t[1]),
    )


def _exactly(limits: Constraints, code: str) -> Callable[[tuple[int, int]], bool]:
    return lambda pair: _text(pair) not in limits.exempt and _size_problems(*pair, limits) == {code}


@functools.cache
def _constraint_violations(limits: Constraints) -> list[tuple[str, SearchStrategy[str]]]:
    """One strategy per constraint code, each breaking that constraint and no other. A code that
    cannot be broken alone under the current limits is left out, and so is a disputed limit (a
    size breaking only that one is accepted with a warning) or a limit the set does not have."""
    step, top, most = _bounds(limits)
    ratio = limits.max_aspect_ratio
    fewest = limits.min_pixels or 0
    found: list[tuple[str, SearchStrategy[str]]] = [
        (
            "size_not_positive",
            st.tuples(st.integers(0, 99_999), st.booleans()).map(lambda t: f"0x{t[0]}" if t[1] else f"{t[0]}x0"),
        ),
    ]

    def add(code: str, rows: list[tuple[int, int, int]]) -> None:
        if rows and code not in limits.disputed_codes:
            found.append((code, _oriented(_pairs(rows, step)).filter(_exactly(limits, code)).map(_text)))

    if step > 1 and "size_not_multiple" not in limits.disputed_codes:
        nudged = st.tuples(_accepted_pairs(limits), st.integers(1, step - 1), st.booleans()).map(
            lambda t: (t[0][0] - t[1], t[0][1]) if t[2] else (t[0][0], t[0][1] - t[1])
        )
        found.append(("size_not_multiple", nudged.filter(_exactly(limits, "size_not_multiple")).map(_text)))

    longest = math.isqrt(most * ratio) if ratio else 4 * top
    rows = []
    for long in range(_ceil_to(top + 1, step), min(longest, 4 * top) + 1, step):
        low = _ceil_to(max(step, long / ratio if ratio else step, fewest / long), step)
        high = _floor_to(min(long, most // long), step)
        if low <= high:
            rows.append((long, low, high))
    if limits.max_side is not None:
        add("size_side_too_long", rows)

    rows = []
    for width in range(step, top + 1, step):
        low = _ceil_to(max(most // width + 1, width / ratio if ratio else step), step)
        high = _floor_to(min(top, width * ratio if ratio else top), step)
        if low <= high:
            rows.append((width, low, high))
    if limits.max_pixels is not None:
        add("size_too_many_pixels", rows)

    if fewest:
        rows = []
        for width in range(step, top + 1, step):
            low = _ceil_to(max(step, width / ratio if ratio else step), step)
            high = _floor_to(min(top, width * ratio if ratio else top, (fewest - 1) // width), step)
            if low <= high:
                rows.append((width, low, high))
        add("size_too_few_pixels", rows)

    if ratio:
        rows = []
        for short in range(step, top + 1, step):
            low = _ceil_to(max(ratio * short + 1, fewest / short), step)
            high = _floor_to(min(top, most // short), step)
            if low <= high:
                rows.append((short, low, high))
        add("size_aspect_ratio", rows)

    found.append(("size_format", _malformed_sizes(limits)))
    return found


def _is_size_text(text: str) -> bool:
    return text in AUTO_SIZES or _SIZE_FORMAT.fullmatch(text) is not None


_FULL_WIDTH = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")


@functools.cache
def _malformed_sizes(limits: Constraints) -> SearchStrategy[str]:
    """Near misses of WIDTHxHEIGHT (the ways a client gets it wrong) and arbitrary text."""
    mutations: tuple[Callable[[int, int], str], ...] = (
        lambda w, h: f"{w}X{h}",
        lambda w, h: f"{w}x{h}\n",
        lambda w, h: f" {w}x{h}",
        lambda w, h: f"{w}x{h} ",
        lambda w, h: f"{w}\u00d7{h}",
        lambda w, h: f"{w}*{h}",
        lambda w, h: f"{w}x{h}".translate(_FULL_WIDTH),
        lambda w, h: f"{w}x",
        lambda w, h: f"x{h}",
        lambda w, h: f"{w}",
        lambda w, h: f"{w}x{h}x{h}",
        lambda w, h: f"-{w}x{h}",
        lambda w, h: f"{w}.0x{h}",
        lambda w, h: f"{w} x {h}",
    )
    near = st.tuples(_accepted_pairs(limits), st.sampled_from(mutations)).map(lambda t: t[1](*t[0]))
    words = st.sampled_from(["AUTO", "Auto", "auto ", " ", "1k", "2K", "4k", "square", "null"])
    return st.one_of(near, words, st.text(max_size=12)).filter(lambda s: not _is_size_text(s))


def _size_rule(catalog: Catalog, model: str, endpoint: str) -> SizeRule:
    rule = catalog.capability(model, endpoint).size_rule
    if rule is None:
        raise ValueError(f"{model} takes no size on {endpoint}")
    return rule


def _constraints(catalog: Catalog, model: str, endpoint: str) -> Constraints:
    rule = _size_rule(catalog, model, endpoint)
    if rule.constraints is None:
        raise ValueError(f"{model} has no free-form size constraints on {endpoint} (fixed sizes or an aspect map)")
    return rule.constraints


def gpt_image_2_sizes(
    accepted: bool = True, *, model: str = "gpt-image-2", endpoint: str = "generations", catalog: Catalog | None = None
) -> SearchStrategy[str]:
    """Sizes `check` accepts (default) or rejects for gpt-image-2 (or another model with free-form
    size constraints). Accepted: auto, "", the presets, the 1K aliases, any WIDTHxHEIGHT within
    the constraints, and those with leading zeros. Rejected: each way of breaking the format or
    one constraint (see `size_violations` for the labelled form)."""
    catalog = _of_today(catalog)
    limits = _constraints(catalog, model, endpoint)
    if accepted:
        return _constraint_sizes(limits, catalog)
    return st.one_of([strategy for _, strategy in _constraint_violations(limits)])


def size_violations(
    model: str = "gpt-image-2",
    endpoint: str = "generations",
    catalog: Catalog | None = None,
    *,
    codes: Collection[str] | None = None,
) -> SearchStrategy[tuple[str, str]]:
    """Rejected sizes labelled with the one code each earns: ``("1000x1000", "size_not_multiple")``.
    Fixed-size models give ``size_not_supported``; a model with an aspect map rejects no string.
    `codes` keeps only those codes."""
    catalog = _of_today(catalog)
    parts = [
        _labelled(strategy, code)
        for code, strategy in _size_string_violations(_size_rule(catalog, model, endpoint))
        if codes is None or code in codes
    ]
    if not parts:
        raise ValueError(f"no size violation with codes {sorted(codes or ())} for {model} on {endpoint}")
    return st.one_of(parts)


def _labelled(sizes: SearchStrategy[str], code: str) -> SearchStrategy[tuple[str, str]]:
    return sizes.map(lambda size: (size, code))


def _size_string_violations(rule: SizeRule) -> list[tuple[str, SearchStrategy[str]]]:
    if rule.constraints is not None:
        return _constraint_violations(rule.constraints)
    if rule.allowed is not None:
        allowed = rule.allowed
        near = st.sampled_from(
            [
                f(size)
                for size in rule.allowed_order
                for f in (str.upper, lambda s: s + "\n", lambda s: " " + s, lambda s: s.replace("x", "*"))
            ]
            + ["2048x2048", "1536x1024", "1792x1024", "256x256", "1254x1254", "AUTO"]
        )
        return [
            (
                "size_not_supported",
                st.one_of(near, st.text(max_size=12)).filter(lambda s: s not in allowed and s not in AUTO_SIZES),
            )
        ]
    return []


def sizes_in_tier(
    tier: str, *, model: str = "gpt-image-2", endpoint: str = "generations", catalog: Catalog | None = None
) -> SearchStrategy[str]:
    """Accepted sizes that bill at `tier` ("1k" or "other" for gpt-image-2): the tier's size sets,
    plus auto/"" for the tier of an omitted size, plus every other accepted size for the fallback
    tier. An omitted size bills at the auto tier too; this strategy yields strings only."""
    catalog = _of_today(catalog)
    rule = _size_rule(catalog, model, endpoint)
    tiering: Tiering | None = rule.tiering
    if tiering is None or rule.constraints is None:
        raise ValueError(f"{model} has no size tiers with free-form sizes on {endpoint}")
    if tier not in tiering.tier_names:
        raise ValueError(f"unknown tier {tier!r}; {model} has {', '.join(tiering.tier_names)}")
    limits = rule.constraints

    def accepted(size: str) -> bool:
        match = _SIZE_FORMAT.fullmatch(size)
        if match is None:
            return False
        width, height = (int(side) for side in size.split("x"))
        return size in limits.exempt or not _size_problems(width, height, limits) - limits.disputed_codes

    parts: list[SearchStrategy[str]] = []
    named = sorted(s for s, t in tiering.tier_of_size.items() if t == tier and accepted(s))
    if named:
        parts.append(st.sampled_from(named))
    if tier == tiering.auto_tier:
        parts.append(st.sampled_from(sorted(AUTO_SIZES)))
    if tier == tiering.fallback_tier:
        parts.append(
            _constraint_sizes(limits, catalog).filter(lambda s: s not in tiering.tier_of_size and s not in AUTO_SIZES)
        )
    return st.one_of(parts)


# -------------------------------------------------------------------------------- requests


def _models_serving(catalog: Catalog, endpoint: str) -> list[str]:
    models = [m.id for m in catalog.models.values() if endpoint in m.endpoints]
    if not models:
        raise ValueError(f"no model serves the {endpoint} endpoint")
    return models


@functools.cache
def _prompts(limit: int | None) -> SearchStrategy[str]:
    short = st.text(min_size=1, max_size=min(limit, 40) if limit else 40)
    if limit is None:
        return st.one_of(short, st.builds(lambda c, k: c * k, st.sampled_from(_LONG_CHARS), st.integers(1, 50_000)))
    # At and just under the limit, with characters of every UTF-8 and UTF-16 width.
    near = st.builds(lambda c, k: c * k, st.sampled_from(_LONG_CHARS), st.integers(max(1, limit - 2), limit))
    return st.one_of(short, near)


def _valid_value(spec: ParamSpec, catalog: Catalog) -> SearchStrategy[object]:
    kind = spec.kind
    if kind == "text":
        return _prompts(spec.max_chars)
    if kind == "integer":
        # The catalog gives every integer parameter both bounds.
        assert spec.min is not None
        assert spec.max is not None
        return st.integers(spec.min, spec.model_max if spec.model_max is not None else spec.max)
    if kind == "choice":
        if spec.overridden_to is not None:
            return json_values()  # upstream replaces whatever is sent
        # Values the sources disagree on are accepted too (with a sources_disagree warning).
        return st.sampled_from(sorted({*(spec.values or ()), *spec.disputed_values}))
    if kind == "boolean":
        return st.booleans()
    if kind == "url":
        return http_urls()
    if kind == "image":
        return image_refs()
    if kind == "images":
        most = max(spec.max_items or 16, spec.disputed_max_items or 0)
        return st.one_of(image_refs(), st.lists(image_refs(), min_size=1, max_size=most))
    if kind == "size":
        assert spec.size is not None
        return _valid_sizes(spec.size, catalog)
    raise ValueError(f"no strategy for parameter kind {kind!r} ({spec.name})")


def _valid_sizes(rule: SizeRule, catalog: Catalog) -> SearchStrategy[object]:
    if rule.constraints is not None:
        return _constraint_sizes(rule.constraints, catalog)
    if rule.allowed is not None:
        return st.sampled_from([*rule.allowed_order, *sorted(AUTO_SIZES)])
    assert rule.aspect_map is not None
    # The adapter maps any string; unlisted ones fall back with a warning, never an error.
    return st.one_of(st.sampled_from([*rule.aspect_map.ratio_of_size, *sorted(AUTO_SIZES)]), st.text(max_size=12))


def _dropped(capability: Capability, catalog: Catalog) -> list[str]:
    return [
        name
        for name, param in catalog.parameters.items()
        if capability.endpoint in param.endpoints and param.kind != "model" and name not in capability.params
    ]


def _merge(*parts: Mapping[str, object]) -> Request:
    merged: Request = {}
    for part in parts:
        merged.update(part)
    return merged


def _valid_for(capability: Capability, catalog: Catalog, *, extras: bool) -> SearchStrategy[Request]:
    required_names = catalog.required[capability.endpoint]
    required: dict[str, SearchStrategy[object]] = {"model": st.just(capability.model)}
    optional: dict[str, SearchStrategy[object]] = {}
    for name, spec in capability.params.items():
        value = _valid_value(spec, catalog)
        if name in required_names:
            required[name] = value
        else:
            optional[name] = st.one_of(st.none(), value) if extras else value
    if extras:
        optional.update({name: json_values() for name in _dropped(capability, catalog)})
    strategy: SearchStrategy[Request] = st.fixed_dictionaries(required, optional=optional)
    if extras:
        unknown = st.text(min_size=1, max_size=12).filter(lambda k: k not in catalog.parameters)
        strategy = st.builds(_merge, strategy, st.dictionaries(unknown, json_values(max_leaves=3), max_size=2))
    return strategy


def valid_requests(
    model: str | None = None, endpoint: str = "generations", catalog: Catalog | None = None, *, extras: bool = True
) -> SearchStrategy[Request]:
    """Requests `check` accepts for `model` (default: any model serving `endpoint`).

    Values come from the model's row in the tables: allowed choices, integer ranges (up to the
    model's own limit), prompts up to exactly the character limit, accepted sizes, one image URL
    or an array up to the model's limit, https callback URLs. With `extras` (default), also
    parameters the model drops (any JSON value), unknown keys and nulls, which upstream ignores.
    """
    catalog = _of_today(catalog)
    models = [model] if model is not None else _models_serving(catalog, endpoint)
    return st.one_of([_valid_for(catalog.capability(m, endpoint), catalog, extras=extras) for m in models])


def dropped_parameters(
    model: str, endpoint: str = "generations", catalog: Catalog | None = None
) -> SearchStrategy[Request]:
    """Some of the parameters `model` drops on `endpoint` without validating them, each with any
    JSON value (for nano-banana: quality, style, n, ...)."""
    catalog = _of_today(catalog)
    names = _dropped(catalog.capability(model, endpoint), catalog)
    return st.fixed_dictionaries({}, optional={name: json_values() for name in names})


def junk_requests(catalog: Catalog | None = None) -> SearchStrategy[dict[object, object]]:
    """JSON objects that look like requests but hold anything: real parameter names and random
    keys, near-valid and arbitrary values, a real model id most of the time."""
    catalog = _of_today(catalog)
    names = sorted(catalog.parameters)
    limits = next(iter(catalog.constraints.values()), None)
    plausible: SearchStrategy[object] = st.one_of(
        json_values(),
        st.integers(-3, 12),
        st.sampled_from(["", "auto", "1024x1024", "1254x1254", "2048x2048", "1024x1024\n", "0x0", "99999999999x1"]),
        _constraint_sizes(limits, catalog) if limits is not None else st.nothing(),
        image_refs(),
        st.lists(st.one_of(image_refs(), json_values(max_leaves=2)), max_size=20),
        st.sampled_from([v for spec in _all_specs(catalog) for v in spec.values or ()] or [""]),
    )
    keys = st.one_of(st.sampled_from(names), st.text(max_size=8))
    body = st.dictionaries(keys, plausible, max_size=8)
    model: SearchStrategy[Request] = st.one_of(
        st.just({}), st.sampled_from(sorted(catalog.models)).map(lambda m: {"model": m})
    )
    return st.builds(_merge_any, body, model)


def _merge_any(body: dict[str, object], extra: Request) -> dict[object, object]:
    merged: dict[object, object] = {}
    merged.update(body)
    merged.update(extra)
    return merged


def _all_specs(catalog: Catalog) -> Iterable[ParamSpec]:
    for model in catalog.models.values():
        for capability in model.endpoints.values():
            yield from capability.params.values()


# ------------------------------------------------------------------------------ violations


def _with(base: Request, name: str, value: object) -> Request:
    return {**base, name: value}


def _without(base: Request, name: str, as_null: bool) -> Request:
    out = {k: v for k, v in base.items() if k != name}
    if as_null:
        out[name] = None
    return out


def _bad_values(spec: ParamSpec) -> list[tuple[str, SearchStrategy[object]]]:
    """(code, values that earn it) for one parameter of one model; each value breaks one rule."""
    kind = spec.kind
    if kind == "text":
        found: list[tuple[str, SearchStrategy[object]]] = [("wrong_type", _not_strings()), ("empty", st.just(""))]
        if spec.max_chars is not None:
            limit = spec.max_chars
            found.append(
                ("too_long", st.builds(lambda c, k: c * (limit + k), st.sampled_from(_LONG_CHARS), st.integers(1, 50)))
            )
        return found
    if kind == "integer":
        assert spec.min is not None
        assert spec.max is not None
        found = [
            ("wrong_type", _not_integers()),
            ("out_of_range", st.one_of(st.integers(max_value=spec.min - 1), st.integers(min_value=spec.max + 1))),
        ]
        if spec.model_max is not None and spec.model_max < spec.max:
            found.append(("above_model_limit", st.integers(spec.model_max + 1, spec.max)))
        return found
    if kind == "choice":
        if spec.overridden_to is not None:
            return []  # upstream replaces any value: nothing to get wrong
        values = {*(spec.values or ()), *spec.disputed_values}
        near = [v for value in sorted(values) for v in (value.upper(), value + " ", " " + value, value.title())]
        return [
            ("wrong_type", _not_strings()),
            (
                "not_allowed",
                st.one_of(st.sampled_from(near), st.text(max_size=10)).filter(lambda s: s not in values),
            ),
        ]
    if kind == "boolean":
        return [("wrong_type", _not_booleans())]
    if kind == "url":
        # An unusable callback_url is a warning under the basic policy (the platform takes any
        # string there); only its type is an error. url_policy="strict" is a caller's own policy.
        return [("wrong_type", _not_strings())]
    if kind == "image":
        return [("wrong_type", _not_strings()), *_url_violations(allow_data_uri=True)]
    if kind == "images":
        not_list_or_string = st.one_of(
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.dictionaries(st.text(max_size=5), json_values(max_leaves=3), min_size=0, max_size=2),
        )
        bad_item = st.builds(
            lambda good, bad, at: [*good[:at], bad, *good[at:]],
            st.lists(image_refs(), max_size=max(0, (spec.max_items or 16) - 1)),
            _not_strings(),
            st.integers(0, 16),
        )
        found = [
            ("wrong_type", st.one_of(not_list_or_string, bad_item)),
            ("empty", st.just([])),
            *_url_violations(allow_data_uri=True),
        ]
        if spec.max_items is not None:
            limit = max(spec.max_items, spec.disputed_max_items or 0)
            found.append(("too_many_items", st.lists(image_refs(), min_size=limit + 1, max_size=limit + 3)))
        return found
    if kind == "size":
        assert spec.size is not None
        return [("wrong_type", _not_strings()), *_size_string_violations(spec.size)]
    return []


def _violations(catalog: Catalog, model: str, endpoint: str) -> list[tuple[Label, SearchStrategy[object]]]:
    capability = catalog.capability(model, endpoint)
    base = _valid_for(capability, catalog, extras=True)
    required = catalog.required[endpoint]
    found: list[tuple[Label, SearchStrategy[object]]] = []
    for name, spec in capability.params.items():
        for code, bad in _bad_values(spec):
            found.append(((name, code), st.builds(_with, base, st.just(name), bad)))
        if name in required:
            found.append(((name, "missing"), st.builds(_without, base, st.just(name), st.booleans())))
    return found


def _request_violations(catalog: Catalog, endpoint: str) -> list[tuple[Label, SearchStrategy[object]]]:
    """Violations of the request as a whole and of `model`, whatever the model."""
    serving = _models_serving(catalog, endpoint)
    base = st.one_of([_valid_for(catalog.capability(m, endpoint), catalog, extras=True) for m in serving])
    unknown = st.one_of(
        st.sampled_from([m.upper() for m in serving] + [m + " " for m in serving] + ["dall-e-4", "gpt-image-3", ""]),
        st.text(max_size=16),
    ).filter(lambda m: m not in catalog.models)
    found: list[tuple[Label, SearchStrategy[object]]] = [
        ((None, "not_an_object"), json_values().filter(lambda v: not isinstance(v, dict))),
        (("model", "wrong_type"), st.builds(_with, base, st.just("model"), _not_strings())),
        (("model", "model_unknown"), st.builds(_with, base, st.just("model"), unknown)),
    ]
    if endpoint not in catalog.default_models:  # without a model, edits is a sources_disagree warning
        found.append((("model", "missing"), st.builds(_without, base, st.just("model"), st.booleans())))
    # A model the sources disagree on for this endpoint is accepted with a warning, not rejected.
    elsewhere = sorted(m.id for m in catalog.models.values() if endpoint not in m.endpoints)
    if elsewhere:
        found.append(
            (("model", "endpoint_unsupported"), st.builds(_with, base, st.just("model"), st.sampled_from(elsewhere)))
        )
    return found


def _all_violations(catalog: Catalog, model: str | None, endpoint: str) -> list[tuple[Label, SearchStrategy[object]]]:
    if model is not None:
        return _violations(catalog, model, endpoint)
    found = _request_violations(catalog, endpoint)
    for m in _models_serving(catalog, endpoint):
        found.extend(_violations(catalog, m, endpoint))
    return found


def violation_labels(
    model: str | None = None, endpoint: str = "generations", catalog: Catalog | None = None
) -> frozenset[Label]:
    """Every (param, code) `invalid_requests` can yield for these arguments."""
    return frozenset(label for label, _ in _all_violations(_of_today(catalog), model, endpoint))


def invalid_requests(
    model: str | None = None,
    endpoint: str = "generations",
    catalog: Catalog | None = None,
    *,
    codes: Collection[str] | None = None,
) -> SearchStrategy[tuple[object, Label]]:
    """``(request, (param, code))``: a request with exactly one violation, labelled.

    Each kind of violation the tables define for `model` (default: every model serving
    `endpoint`, plus violations of `model` itself and of the request's shape): wrong JSON type,
    missing or null required parameter, empty prompt or image list, prompt one or more characters
    over the limit, integer out of range or above the model's limit, value not allowed, size not
    supported, malformed or breaking exactly one size constraint, too many images, bad URLs.
    `check` reports exactly ``[(param, code)]`` as errors. `codes` keeps only those codes.
    """
    catalog = _of_today(catalog)
    chosen = [
        st.tuples(strategy, st.just(label))
        for label, strategy in _all_violations(catalog, model, endpoint)
        if codes is None or label[1] in codes
    ]
    if not chosen:
        raise ValueError(f"no violation with codes {sorted(codes or ())} for {model or 'any model'} on {endpoint}")
    return st.one_of(chosen)
