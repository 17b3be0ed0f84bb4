"""Findings: what `check` says about a request, and the registry of every finding code.

A finding is one fact about one parameter: a stable machine `code`, the `param` it concerns (the
request key, or None for the request as a whole), a `message` a person can act on (it names the
allowed values or limits), the JSON `path` of the offending value, and the `source` of the rule
(a citation of data/sources.toml, rendered as publisher, title and address: see `Catalog.cite`: the
catalog checked against renders it from its own sources.toml).

Codes follow jsonschema's habit of naming the rule, not the parameter: `out_of_range` with
`param="n"` rather than `n_out_of_range`, so one code means one kind of check everywhere.
URL codes (`url_*`) come from `imagepricing.urls`.
"""

from __future__ import annotations

from typing import Literal

import attrs

from imagepricing._url_codes import URL_PROBLEM_CODES

Severity = Literal["error", "ignored", "warning"]

__all__ = ["CODES", "CodeInfo", "Finding", "Severity"]


@attrs.frozen(weakref_slot=True)
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


@attrs.frozen(weakref_slot=True)
class CodeInfo:
    """What a finding code means: where it is reported, what it checks, and its default source."""

    severity: Severity
    summary: str
    source: str


# Default sources, as citations of data/sources.toml ("<id>: <section or quote>"); a finding carries
# them rendered by the catalog in hand (`Catalog.code_source`). Each error code's verdict under the
# rule of certainty (an error means upstream will certainly reject: a seed says so, or every cited
# source agrees) is written next to it; docs/rules.md lists the verdicts.
_SEED_GEN = "acedata-api-reference: request body"
_SEED_PARAMS = "xhuoapi-generations + acedata-generations-guide"
_OPENAPI = "acedata-openapi: request schemas of /openai/images/generations and /openai/images/edits"

CODES: dict[str, CodeInfo] = {
    # -- errors: upstream would reject the request (4xx), so nothing is billed.
    # Kept: every source's body is a JSON object.
    "not_an_object": CodeInfo("error", "The request is not a JSON object.", f"{_SEED_GEN}; {_OPENAPI}"),
    # Kept: JSON object names are strings.
    "key_not_string": CodeInfo(
        "error", "A request key is not a string (JSON keys always are).", "rfc8259: section 4, names are strings"
    ),
    # Kept for prompt (both endpoints), model on generations and image on edits: required by the
    # seeds and the platform's schema alike. An edits request without model is a warning instead
    # (`sources_disagree`): the platform's schema makes model optional there.
    "missing": CodeInfo(
        "error", "A required parameter (model, prompt; image on edits) is absent or null.", f"{_SEED_GEN}; {_OPENAPI}"
    ),
    # Kept, narrowed: a whole number written with a fraction (2.0) is an integer (JSON Schema), so it
    # is accepted; a boolean, a string or 2.5 is not.
    "wrong_type": CodeInfo(
        "error",
        "A value has the wrong JSON type (a boolean is never an integer; 2.0 is one, 2.5 is not).",
        f"{_SEED_GEN}; json-schema: an integer is a number with a zero fractional part",
    ),
    # Kept: an empty prompt or an empty image list describes nothing to do.
    "empty": CodeInfo("error", "A required text or image list is empty.", _SEED_GEN),
    # Kept: the seeds give each model's limit ("supports up to").
    "too_long": CodeInfo(
        "error", "The prompt is longer than the model's character limit.", "acedata-api-reference: prompt"
    ),
    # Kept above 16 (the seeds and the platform's schema agree); more images than a model takes but
    # at most 16 (dall-e-2, nano-banana) is a `sources_disagree` warning, see models.toml.
    "too_many_items": CodeInfo(
        "error",
        "More images than the edits endpoint takes.",
        "xhuoapi-edits: image may be an array of up to 16 reference images; acedata-openapi: edits image maxItems 16",
    ),
    # Kept: it accompanies errors already found in the same array.
    "more_problems": CodeInfo(
        "error",
        "An array had so many bad items that the rest were not itemised.",
        "imagepricing: bounded output",
    ),
    # Kept: the seeds and the platform's schema give the same ranges (n 1-10, output_compression
    # 0-100, partial_images 0-3).
    "out_of_range": CodeInfo(
        "error", "An integer is outside the platform's range for the parameter.", f"{_SEED_GEN}; {_OPENAPI}"
    ),
    # Kept: dall-e-3 n > 1; the seeds and OpenAI agree ("dall-e-3 only supports 1").
    "above_model_limit": CodeInfo(
        "error",
        "An integer is above what this model allows (dall-e-3: n must be 1).",
        "acedata-api-reference: n, dall-e-3 only supports 1; openai-api-reference: for dall-e-3, only n=1",
    ),
    # Kept where the seeds list the model's values and no source we cite gives the value to it;
    # a value some source accepts (quality auto on dall-e) is a `sources_disagree` warning.
    "not_allowed": CodeInfo("error", "A value is not one the model accepts for the parameter.", _SEED_GEN),
    # Kept: the model is in no source's list.
    "model_unknown": CodeInfo("error", "The model is not one the API serves.", f"{_SEED_GEN}: model; {_OPENAPI}"),
    # Kept for a model the tables give no such endpoint and no dispute (user tables). dall-e-3 on
    # edits is a `sources_disagree` warning instead (models.toml `disputed_endpoints`): the edits
    # seed and OpenAI do not serve it, the platform's edits schema lists it and defaults to it.
    "endpoint_unsupported": CodeInfo(
        "error",
        "The model does not serve this endpoint (dall-e-3 has no edits).",
        "xhuoapi-edits: the API supports dall-e-2, gpt-image-1, gpt-image-2 and the nano-banana series",
    ),
    # Kept: the seeds list dall-e-2, dall-e-3 and gpt-image-1 sizes, and OpenAI agrees.
    "size_not_supported": CodeInfo("error", "The size is not one of the model's fixed sizes.", _SEED_GEN),
    "size_format": CodeInfo(
        "error",
        "gpt-image-2 size is not auto, empty or WIDTHxHEIGHT (ASCII digits, lowercase x, nothing else).",
        "xhuoapi-generations: any other format will return 400",
    ),
    # Kept (size_format and the four size_* rules below): the seeds name them upstream hard constraints.
    "size_not_positive": CodeInfo(
        "error", "A side of the size is zero.", "xhuoapi-generations: upstream hard constraints"
    ),
    "size_not_multiple": CodeInfo(
        "error", "A side is not a multiple of 16.", "xhuoapi-generations: both width and height multiples of 16"
    ),
    "size_side_too_long": CodeInfo(
        "error", "The longer side exceeds 3840.", "xhuoapi-generations: the longer side <= 3840"
    ),
    "size_too_many_pixels": CodeInfo(
        "error", "width x height exceeds 8,294,400.", "xhuoapi-generations: total pixels <= 8,294,400"
    ),
    # Errors only for tables that state these limits undisputed. The shipped tables dispute them
    # (decision, issue 20, data/sizes.toml): OpenAI and the platform's later docs state them, while
    # the platform's own OpenAPI spec states none and its web app offers smaller and narrower custom
    # sizes; a shipped gpt-image-2 size breaking only these is a `sources_disagree` warning.
    "size_too_few_pixels": CodeInfo(
        "error",
        "width x height is below the minimum (a warning where the sources disagree, as on gpt-image-2).",
        "openai-image-guide + openai-python-2: gpt-image-2 total pixels at least 655,360",
    ),
    "size_aspect_ratio": CodeInfo(
        "error",
        "The long side is more than the maximum ratio times the short side (a warning where the sources disagree).",
        "openai-image-guide + openai-python-2: gpt-image-2 aspect ratio between 1:3 and 3:1",
    ),
    # -- ignored: accepted, but upstream drops or overrides the value.
    "unknown_parameter": CodeInfo(
        "ignored",
        "Not a parameter of this endpoint in any source we cite; upstream drops it.",
        "acedata-api-reference: request body; xhuoapi-edits: request parameters;"
        " openai-python-3: images API parameters",
    ),
    "undocumented_parameter": CodeInfo(
        "ignored",
        "A parameter of OpenAI's images API that the platform does not document; it is likely dropped.",
        "openai-python-3: images API parameters; acedata-openapi: not in the request schema",
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
        "ignored",
        "Upstream replaces the value (GPT image models always return base64).",
        "acedata-api-reference: response_format",
    ),
    "unused": CodeInfo(
        "ignored",
        "The value has no effect with the rest of the request (compression with png output; partial_images"
        " without streaming).",
        "acedata-api-reference: output_compression for webp or jpeg; partial_images during streaming",
    ),
    # -- warnings: the request goes through, but something deserves attention.
    "aspect_fallback": CodeInfo(
        "warning", "nano-banana maps this size to no aspect ratio; it falls back to 1:1.", "acedata-generations-guide"
    ),
    "sources_disagree": CodeInfo(
        "warning",
        "The sources we cite disagree on this value; it is accepted, and the finding names both sides.",
        "acedata-openapi: request schema; acedata-api-reference: request body",
    ),
    "transparent_needs_alpha": CodeInfo(
        "warning", "A transparent background wants png or webp output.", "acedata-api-reference: background"
    ),
    "suggest_async": CodeInfo(
        "warning",
        "A slow model without callback_url or async holds the connection for minutes.",
        "xhuoapi-generations: use callback_url for long calls",
    ),
    "size_may_return_alias": CodeInfo(
        "warning",
        "A 1K request may come back at an alias size of the same aspect ratio.",
        "xhuoapi-generations: common 1K output aliases",
    ),
    "size_not_canonical": CodeInfo(
        "warning", "The size has leading zeros, so it matches no preset as written.", "xhuoapi-generations"
    ),
    "price_unknown": CodeInfo(
        "warning",
        "No sourced price covers this request; cost is unknown (supply one with Catalog.with_price).",
        "imagepricing: prices ship only with a citable source",
    ),
    "price_not_in_force": CodeInfo(
        "warning",
        "The price book has entries for the model, but none in force on the date asked.",
        "acedata-nexior: commits 38e7ed1e5 and 740b76ca2, prices change over time",
    ),
    "price_uncertain": CodeInfo(
        "warning",
        "The cost uses a price the sources leave in doubt for that date (the finding says why).",
        "acedata-roadmap: dated changes of the platform's prices",
    ),
    "model_not_yet_available": CodeInfo(
        "warning",
        "The platform's record first shows the model served after the date asked; the request may have been"
        " refused then (not certain, so not an error).",
        "acedata-roadmap: dated changes of the platform's models",
    ),
    "model_retired": CodeInfo(
        "warning",
        "The platform's record says the model is no longer supported on the date asked, while other sources"
        " still list it; the request may be refused.",
        "acedata-roadmap: 2026-07-27 DALL-E 2 no longer supported",
    ),
    "callback_unusable": CodeInfo(
        "warning",
        "callback_url is not a usable absolute http(s) URL; the platform takes any string there, so the request"
        " is accepted, but the result cannot be delivered to it (url_policy strict rejects it).",
        "acedata-openapi: callback_url is a string; acedata-api-reference: callback_url",
    ),
    "tables_may_be_stale": CodeInfo(
        "warning",
        "The date asked is after the day the tables' sources were last reviewed; later changes of the platform"
        " are not known.",
        "imagepricing: every fact has a date and a source",
    ),
}

for _code, _summary in URL_PROBLEM_CODES.items():
    CODES[_code] = CodeInfo(
        "error", _summary, "acedata-api-reference: callback_url; imagepricing: URL checks (imagepricing.urls)"
    )
