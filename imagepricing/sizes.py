"""Size truth: strict `WIDTHxHEIGHT` parsing and the compiled size rules of the tables.

Parsing is deliberately narrower than Python's number parsing. `int()` and `str.isdigit()` accept
full-width and other Unicode digits ("１０２４"), and a `$` anchor matches before a trailing newline;
upstream accepts neither (xhuoapi-generations: "any other format will return 400"). So a size is ASCII digits, a
lowercase `x`, ASCII digits, and nothing else, matched with `fullmatch`.

>>> parse_size("1024x1536")
Size(width=1024, height=1536)
>>> parse_size("1024x1024\\n") is None, parse_size("１０２４x１０２４") is None, parse_size("1024X1024") is None
(True, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from imagepricing.findings import declare, reports

__all__ = [
    "AS_WRITTEN",
    "AUTO_SIZES",
    "LIMIT_CODES",
    "MAX_SIDE_DIGITS",
    "AspectMap",
    "Constraints",
    "Size",
    "SizeRule",
    "Tiering",
    "constraint_problems",
    "nearest_accepted",
    "parse_size",
    "table_size",
]

# "auto" and "" both mean "the model chooses" (xhuoapi-generations + acedata-api-reference).
AUTO_SIZES = frozenset({"auto", ""})

# A side longer than this many digits is far beyond any limit; refusing to convert it keeps the
# work linear and avoids int()'s 4,300-digit ValueError on hostile input.
MAX_SIDE_DIGITS = 9


_NO_OVERSIZE: tuple[str | None, str | None] = (None, None)


@attrs.frozen(weakref_slot=True)
class Size:
    """A parsed `WIDTHxHEIGHT`.

    A side with more than MAX_SIDE_DIGITS significant digits is far beyond every limit; it is
    stood in for by 10**MAX_SIDE_DIGITS (so the limits reject it without multiplying huge
    numbers) and its digits are kept, so that `remainder` still judges divisibility exactly.
    `oversize_digits` is neither compared nor shown.
    """

    width: int
    height: int
    oversize_digits: tuple[str | None, str | None] = attrs.field(default=_NO_OVERSIZE, eq=False, repr=False)

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def text(self) -> str:
        return f"{self.width}x{self.height}"

    def remainders(self, divisor: int) -> tuple[int, int]:
        """(width % divisor, height % divisor), exact even for oversize sides."""
        wide, high = self.oversize_digits
        return (
            self.width % divisor if wide is None else _digits_mod(wide, divisor),
            self.height % divisor if high is None else _digits_mod(high, divisor),
        )


def parse_size(text: str) -> Size | None:
    """The size `text` denotes, or None if it is not strictly `WIDTHxHEIGHT`."""
    # Strictly ASCII digits, "x", ASCII digits: the regular expression ([0-9]+)x([0-9]+) fully
    # matched, in str methods (C loops, and no `re` on a valid check's path: docs/startup.md). A
    # side cannot hold an "x", so the split is at the first; str.isdigit alone would also take
    # other scripts' digits and superscripts, hence isascii. tests/test_sizes.py holds the two equal.
    width, x, height = text.partition("x")
    if not (x and width.isdigit() and height.isdigit() and width.isascii() and height.isascii()):
        return None
    if len(width) <= MAX_SIDE_DIGITS and len(height) <= MAX_SIDE_DIGITS:
        return Size(int(width), int(height))
    # Leading zeros do not count towards the bound: "0000001024" is 1024.
    width, height = width.lstrip("0") or "0", height.lstrip("0") or "0"
    oversize = (width if len(width) > MAX_SIDE_DIGITS else None, height if len(height) > MAX_SIDE_DIGITS else None)
    if oversize == (None, None):
        return Size(int(width), int(height))
    return Size(_side(width), _side(height), oversize)


def _side(digits: str) -> int:
    return int(digits) if len(digits) <= MAX_SIDE_DIGITS else 10**MAX_SIDE_DIGITS


_CHUNK_DIGITS = 1000


def _digits_mod(digits: str, divisor: int) -> int:
    """int(digits) % divisor without building the int: chunk by chunk, linear in the digits
    (int() of a long digit string is quadratic, and refuses more than 4,300 digits)."""
    remainder = 0
    for start in range(0, len(digits), _CHUNK_DIGITS):
        chunk = digits[start : start + _CHUNK_DIGITS]
        remainder = (remainder * pow(10, len(chunk), divisor) + int(chunk)) % divisor
    return remainder


@attrs.frozen(weakref_slot=True)
class Constraints:
    """Limits on a free-form size (gpt-image-2). `exempt` sizes pass whatever the limits say.

    A limit of None is no limit (the platform's own edits schema checks only the form). The limits
    named in `disputed` are ones some cited sources state and others contradict: a size breaking
    only those is accepted with a `sources_disagree` warning carrying `disputed_note` and
    `disputed_source` (data/sizes.toml gives the decision).
    """

    name: str
    multiple_of: int | None
    max_side: int | None
    max_pixels: int | None
    min_pixels: int | None
    max_aspect_ratio: int | None
    exempt: frozenset[str]
    presets: tuple[str, ...]
    source: str
    limits_source: str
    disputed: frozenset[str] = frozenset()
    disputed_note: str | None = None
    disputed_source: str | None = None
    # Derived, not compared: the finding codes of the disputed limits.
    disputed_codes: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        codes = frozenset(LIMIT_CODES[limit] for limit in self.disputed if limit in LIMIT_CODES)
        object.__setattr__(self, "disputed_codes", codes)

    def limits(self) -> list[tuple[str, str, str, bool]]:
        """Each limit the set has, as (code, what it asks, source, disputed): for the docs and the
        command line, so every description of the limits reads them from here."""
        stated: list[tuple[str, str, str, bool]] = []
        wording = (
            ("multiple_of", "both sides are multiples of {}", self.source),
            ("max_side", "the longer side is at most {}", self.source),
            ("max_pixels", "width x height is at most {:,}", self.source),
            ("min_pixels", "width x height is at least {:,}", self.limits_source),
            ("max_aspect_ratio", "the long side is at most {} x the short side", self.limits_source),
        )
        for limit, text, source in wording:
            value = getattr(self, limit)
            if value is not None:
                stated.append((LIMIT_CODES[limit], text.format(value), source, limit in self.disputed))
        return stated


# Kept (size_not_positive and the next three): the seeds name them upstream hard constraints.
declare("size_not_positive", "error", "A side of the size is zero.", "xhuoapi-generations: upstream hard constraints")
declare(
    "size_not_multiple",
    "error",
    "A side is not a multiple of 16.",
    "xhuoapi-generations: both width and height multiples of 16",
)
declare("size_side_too_long", "error", "The longer side exceeds 3840.", "xhuoapi-generations: the longer side <= 3840")
declare(
    "size_too_many_pixels",
    "error",
    "width x height exceeds 8,294,400.",
    "xhuoapi-generations: total pixels <= 8,294,400",
)
# Errors only for tables that state these limits undisputed. The shipped tables dispute them
# (decision, issue 20, data/sizes.toml): OpenAI and the platform's later docs state them, while
# the platform's own OpenAPI spec states none and its web app offers smaller and narrower custom
# sizes; a shipped gpt-image-2 size breaking only these is a `sources_disagree` warning.
declare(
    "size_too_few_pixels",
    "error",
    "width x height is below the minimum (a warning where the sources disagree, as on gpt-image-2).",
    "openai-image-guide + openai-python-2: gpt-image-2 total pixels at least 655,360",
)
declare(
    "size_aspect_ratio",
    "error",
    "The long side is more than the maximum ratio times the short side (a warning where the sources disagree).",
    "openai-image-guide + openai-python-2: gpt-image-2 aspect ratio between 1:3 and 3:1",
)

# The finding code of each limit of a constraint set, so a table can name the limits it disputes.
LIMIT_CODES: Mapping[str, str] = MappingProxyType(
    {
        "multiple_of": "size_not_multiple",
        "max_side": "size_side_too_long",
        "max_pixels": "size_too_many_pixels",
        "min_pixels": "size_too_few_pixels",
        "max_aspect_ratio": "size_aspect_ratio",
    }
)


@reports("size_not_positive", *LIMIT_CODES.values())
def constraint_problems(size: Size, limits: Constraints) -> list[tuple[str, str, str]]:
    """Every limit `size` breaks, as (code, message, source); empty when it is accepted."""
    problems: list[tuple[str, str, str]] = []
    w, h = size.width, size.height
    exact = size.oversize_digits == (None, None)
    if w == 0 or h == 0:
        problems.append(
            ("size_not_positive", f"size {_shown(size)} has a zero side; both sides must be positive.", limits.source)
        )
        return problems
    step = limits.multiple_of
    if step is not None and ((w % step or h % step) if exact else any(size.remainders(step))):
        suggestion = nearest_accepted(w, h, limits) if exact else None
        nearest = f" (nearest accepted size: {suggestion[0]}x{suggestion[1]})" if suggestion is not None else ""
        problems.append(
            (
                "size_not_multiple",
                f"size {_shown(size)}: width and height must both be multiples of {step}{nearest}.",
                limits.source,
            )
        )
    if limits.max_side is not None and max(w, h) > limits.max_side:
        problems.append(
            (
                "size_side_too_long",
                f"size {_shown(size)}: the longer side must be at most {limits.max_side}.",
                limits.source,
            )
        )
    if limits.max_pixels is not None and w * h > limits.max_pixels:
        problems.append(
            (
                "size_too_many_pixels",
                f"size {_shown(size)} has {f'{w * h:,}' if exact else 'far more'} pixels;"
                f" at most {limits.max_pixels:,} are allowed.",
                limits.source,
            )
        )
    if limits.min_pixels is not None and w * h < limits.min_pixels:
        problems.append(
            (
                "size_too_few_pixels",
                f"size {_shown(size)} has {w * h:,} pixels; at least {limits.min_pixels:,} are required.",
                limits.limits_source,
            )
        )
    ratio = limits.max_aspect_ratio
    if ratio is not None and max(w, h) > ratio * min(w, h):
        problems.append(
            (
                "size_aspect_ratio",
                f"size {_shown(size)}: the long side may be at most {ratio} times the short side.",
                limits.limits_source,
            )
        )
    return problems


def _shown(size: Size) -> str:
    """The size as a message may show it: an oversize side by its length, not its digits."""
    wide, high = size.oversize_digits
    width = f"<{len(wide):,} digits>" if wide is not None else str(size.width)
    height = f"<{len(high):,} digits>" if high is not None else str(size.height)
    return f"{width}x{height}"


def _round_to(value: int, step: int) -> int:
    return max(step, round(value / step) * step)


def nearest_accepted(width: int, height: int, limits: Constraints) -> tuple[int, int] | None:
    """A size close to width x height, and of about the same aspect ratio, that passes every limit
    of `limits`; None when none is found. A hint must never name a size the rules reject
    (5000x1000 rounded to multiples of 16 is 4992x992, still too long and too narrow).

    >>> from imagepricing.catalog import default_catalog
    >>> limits = default_catalog().constraints["gpt-image-2"]
    >>> nearest_accepted(5000, 1000, limits), nearest_accepted(800, 600, limits), nearest_accepted(2890, 2890, limits)
    ((3840, 1280), (928, 720), (2880, 2880))
    """
    step = limits.multiple_of or 1
    if width <= 0 or height <= 0:
        return None
    # Clamp the ratio first (the long side at most max_aspect_ratio times the short one).
    ratio = limits.max_aspect_ratio
    w, h = width, height
    if ratio is not None:
        if w > ratio * h:
            h = -(-w // ratio)
        elif h > ratio * w:
            w = -(-h // ratio)
    # Then scale into [min_pixels, max_pixels] and under max_side, keeping the ratio (integers only:
    # w' = sqrt(w * P / h) gives w' * h' = P at the same ratio).
    if limits.max_side is not None and max(w, h) > limits.max_side:
        longest = max(w, h)
        w, h = max(1, w * limits.max_side // longest), max(1, h * limits.max_side // longest)
    if limits.max_pixels is not None and w * h > limits.max_pixels:
        w, h = max(1, math.isqrt(w * limits.max_pixels // h)), max(1, math.isqrt(h * limits.max_pixels // w))
    if limits.min_pixels is not None and w * h < limits.min_pixels:
        w, h = math.isqrt(w * limits.min_pixels // h) + 1, math.isqrt(h * limits.min_pixels // w) + 1
    base_w, base_h = _round_to(w, step), _round_to(h, step)
    # Rounding may cross a limit by a step: look at the neighbours, closest first.
    candidates = sorted(
        ((base_w + dw * step, base_h + dh * step) for dw in range(-3, 4) for dh in range(-3, 4)),
        key=lambda c: (abs(c[0] - base_w) + abs(c[1] - base_h), c),
    )
    for cw, ch in candidates:
        if cw > 0 and ch > 0 and not constraint_problems(Size(cw, ch), limits):
            return cw, ch
    return None


@attrs.frozen(weakref_slot=True)
class Tiering:
    """Billing tiers by size: a size in a tier's sets bills at that tier (gpt-image-2)."""

    name: str
    auto_tier: str
    fallback_tier: str
    tier_of_size: Mapping[str, str]
    returned_as: Mapping[str, str]
    source: str

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.auto_tier, *self.tier_of_size.values(), self.fallback_tier]))

    def tier_for(self, size_text: str) -> str:
        """The tier of an *accepted* size string (matched exactly, as the seeds say)."""
        if size_text in AUTO_SIZES:
            return self.auto_tier
        return self.tier_of_size.get(size_text, self.fallback_tier)


@attrs.frozen(weakref_slot=True)
class AspectMap:
    """How the nano-banana adapter turns a size into an aspect ratio."""

    name: str
    fallback: str
    ratio_of_size: Mapping[str, str]
    source: str


@attrs.frozen(weakref_slot=True)
class SizeRule:
    """The size rule of one model on one endpoint: exactly one of a fixed set, free-form
    constraints, or an aspect map. `documented`, when set, is the set of sizes the platform
    documented at the time: an accepted free-form size outside it is a `sources_disagree` warning
    (the size spec's disputed_note and disputed_source say why)."""

    default: str
    allowed: frozenset[str] | None = None
    allowed_order: tuple[str, ...] = ()
    constraints: Constraints | None = None
    aspect_map: AspectMap | None = None
    tiering: Tiering | None = None
    documented: frozenset[str] | None = None


# How a table must write a size (the messages of a bad one say so).
AS_WRITTEN = " (ASCII digits, lowercase x, positive sides, no leading zeros)"


def table_size(text: str) -> Size | None:
    """A size as a table must write it: strict WIDTHxHEIGHT, canonical and positive. Requests are
    matched against table sizes as written, so "01024x1024" or "0x256" would never match."""
    size = parse_size(text)
    if size is None or size.text != text or size.width == 0 or size.height == 0:
        return None
    return size
