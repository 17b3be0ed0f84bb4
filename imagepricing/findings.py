"""Findings: what `check` says about a request, and the registry of every finding code.

A finding is one fact about one parameter: a stable machine `code`, the `param` it concerns (the
request key, or None for the request as a whole), a `message` a person can act on (it names the
allowed values or limits), the JSON `path` of the offending value, and the `source` of the rule
(a seed file name or a cited public fact).

Codes follow jsonschema's habit of naming the rule, not the parameter: `out_of_range` with
`param="n"` rather than `n_out_of_range`, so one code means one kind of check everywhere.
URL codes (`url_*`) come from `imagepricing.urls`.
"""

from __future__ import annotations

from typing import Literal

import attrs

from imagepricing._url_codes import URL_PROBLEM_CODES

__all__ = ["CODES", "CodeInfo", "Finding", "Severity"]

Severity = Literal["error", "ignored", "warning"]


@attrs.frozen(slots=True)
class Finding:
    """One thing `check` found.

    >>> Finding("out_of_range", "n", "n must be an integer from 1 to 10; got 11.", path="$.n").to_dict()["code"]
    'out_of_range'
    """

    code: str
    param: str | None
    message: str
    source: str = ""
    path: str = "$"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "param": self.param,
            "message": self.message,
            "path": self.path,
            "source": self.source,
        }


@attrs.frozen(slots=True)
class CodeInfo:
    """What a finding code means: where it is reported, what it checks, and its default source."""

    severity: Severity
    summary: str
    source: str


_SEED_GEN = "003_b61386298ebb611a.txt"
_SEED_PARAMS = "000_4a87926548170c5f.txt / 001_6530e9663b073045.txt"

CODES: dict[str, CodeInfo] = {
    # -- errors: upstream would reject the request (4xx), so nothing is billed.
    "not_an_object": CodeInfo("error", "The request is not a JSON object.", _SEED_GEN),
    "key_not_string": CodeInfo("error", "A request key is not a string (JSON keys always are).", "RFC 8259"),
    "missing": CodeInfo("error", "A required parameter (model, prompt; image on edits) is absent or null.", _SEED_GEN),
    "wrong_type": CodeInfo(
        "error", "A value has the wrong JSON type (a boolean is never an integer, a float never an integer).", _SEED_GEN
    ),
    "empty": CodeInfo("error", "A required text or image list is empty.", _SEED_GEN),
    "too_long": CodeInfo("error", "The prompt is longer than the model's character limit.", _SEED_GEN),
    "too_many_items": CodeInfo("error", "More images than the model takes on edits.", "002_ea8a79095a6a27a6.txt"),
    "more_problems": CodeInfo(
        "error", "An array had so many bad items that the rest were not itemised.", "imagepricing (bounded output)"
    ),
    "out_of_range": CodeInfo("error", "An integer is outside the platform's range for the parameter.", _SEED_GEN),
    "above_model_limit": CodeInfo(
        "error", "An integer is above what this model allows (dall-e-3: n must be 1).", _SEED_GEN
    ),
    "not_allowed": CodeInfo("error", "A value is not one the model accepts for the parameter.", _SEED_GEN),
    "model_unknown": CodeInfo("error", "The model is not one the API serves.", _SEED_GEN),
    "endpoint_unsupported": CodeInfo(
        "error", "The model does not serve this endpoint (dall-e-3 has no edits).", "002_ea8a79095a6a27a6.txt"
    ),
    "size_not_supported": CodeInfo("error", "The size is not one of the model's fixed sizes.", _SEED_GEN),
    "size_format": CodeInfo(
        "error",
        "gpt-image-2 size is not auto, empty or WIDTHxHEIGHT (ASCII digits, lowercase x, nothing else).",
        "000_4a87926548170c5f.txt",
    ),
    "size_not_positive": CodeInfo("error", "A side of the size is zero.", "000_4a87926548170c5f.txt"),
    "size_not_multiple": CodeInfo("error", "A side is not a multiple of 16.", "000_4a87926548170c5f.txt"),
    "size_side_too_long": CodeInfo("error", "The longer side exceeds 3840.", "000_4a87926548170c5f.txt"),
    "size_too_many_pixels": CodeInfo("error", "width x height exceeds 8,294,400.", "000_4a87926548170c5f.txt"),
    "size_too_few_pixels": CodeInfo(
        "error", "width x height is below 655,360.", "later platform docs / OpenAI image-generation guide (SPEC.md)"
    ),
    "size_aspect_ratio": CodeInfo(
        "error",
        "The long side is more than 3 times the short side.",
        "later platform docs / OpenAI image-generation guide (SPEC.md)",
    ),
    # -- ignored: accepted, but upstream drops or overrides the value.
    "unknown_parameter": CodeInfo(
        "ignored",
        "Not a parameter of this endpoint; upstream drops it.",
        "003_b61386298ebb611a.txt / 002_ea8a79095a6a27a6.txt",
    ),
    "dropped": CodeInfo(
        "ignored",
        "The model does not take this parameter; upstream drops it without validating it.",
        _SEED_PARAMS + ": nano-banana supports only model, prompt, size",
    ),
    "downgraded": CodeInfo(
        "ignored",
        "Upstream silently uses a smaller value (n > 1 on single-image models).",
        _SEED_PARAMS + ": About the n parameter",
    ),
    "overridden": CodeInfo(
        "ignored", "Upstream replaces the value (GPT image models always return base64).", _SEED_GEN
    ),
    "unused": CodeInfo(
        "ignored", "The value has no effect with the rest of the request (compression with png output).", _SEED_GEN
    ),
    # -- warnings: the request goes through, but something deserves attention.
    "aspect_fallback": CodeInfo(
        "warning", "nano-banana maps this size to no aspect ratio; it falls back to 1:1.", "001_6530e9663b073045.txt"
    ),
    "transparent_needs_alpha": CodeInfo("warning", "A transparent background wants png or webp output.", _SEED_GEN),
    "suggest_async": CodeInfo(
        "warning",
        "A slow model without callback_url or async holds the connection for minutes.",
        "000_4a87926548170c5f.txt",
    ),
    "size_may_return_alias": CodeInfo(
        "warning", "A 1K request may come back at an alias size of the same aspect ratio.", "000_4a87926548170c5f.txt"
    ),
    "size_not_canonical": CodeInfo(
        "warning", "The size has leading zeros, so it matches no preset as written.", "000_4a87926548170c5f.txt"
    ),
    "price_unknown": CodeInfo(
        "warning",
        "No sourced price covers this request; cost is unknown (supply one with Catalog.with_price).",
        "SPEC.md Billing",
    ),
    "price_not_in_force": CodeInfo(
        "warning",
        "The price book has entries for the model, but none in force on the date asked.",
        "SPEC.md public facts (dated prices)",
    ),
}

for _code, _summary in URL_PROBLEM_CODES.items():
    CODES[_code] = CodeInfo("error", _summary, "imagepricing.urls (callback_url: 003_b61386298ebb611a.txt)")
