"""Data integrity (issue 5, part 4): every way a hand edit can break a shipped table is refused
at load, naming the file and the path, with every problem listed, and nothing half-loaded is
ever used.

Each corruption is applied to a copy of the shipped tables and must raise `CatalogError`. The
cases go wider than tests/test_catalog.py (which has one example per kind): each kind is tried
in each table it applies to. A corruption that loaded silently would be a bug in catalog.py or
_table_shapes.py, not in this list.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import attrs
import pytest

from imagepricing import CatalogError, check, default_catalog, load_catalog, load_price_book
from imagepricing.catalog import Catalog, shipped_data_dir

Edit = Callable[[Path], None]

# What every problem line looks like: the file (relative to the data directory), then either a
# JSON path into it, or why the file as a whole could not be read.
PROBLEM_LINE = re.compile(
    r"(?:parameters|models|sizes|prices/[^/:]+)\.toml: (?:\$|not valid TOML: .*\(at line \d+, column \d+\)|"
    r"cannot be read: |file missing )"
    r"|[^/:]+\.toml: unexpected table"
    r"|prices/: no price book found"
)


def found(expected: str, problems: tuple[str, ...]) -> bool:
    """Whether a problem contains `expected`, where `[*]` stands for any array index."""
    pattern = re.compile(re.escape(expected).replace(re.escape("[*]"), r"\[\d+\]"))
    return any(pattern.search(problem) for problem in problems)


class Corruption(NamedTuple):
    name: str
    edit: Edit
    expected: str  # a fragment of one problem: "file: $.path: message" or the file-level reason


# ------------------------------------------------------------------------------ edit helpers


def replace(rel: str, old: str, new: str) -> Edit:
    def apply(directory: Path) -> None:
        path = directory / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"test set-up: {old!r} is no longer in {rel}; update this corruption"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def append(rel: str, text: str) -> Edit:
    def apply(directory: Path) -> None:
        with (directory / rel).open("a", encoding="utf-8") as handle:
            handle.write(text)

    return apply


def write_bytes(rel: str, data: bytes) -> Edit:
    def apply(directory: Path) -> None:
        (directory / rel).write_bytes(data)

    return apply


def prepend_bytes(rel: str, data: bytes) -> Edit:
    def apply(directory: Path) -> None:
        path = directory / rel
        path.write_bytes(data + path.read_bytes())

    return apply


def append_bytes(rel: str, data: bytes) -> Edit:
    def apply(directory: Path) -> None:
        with (directory / rel).open("ab") as handle:
            handle.write(data)

    return apply


def copy(rel: str, to: str) -> Edit:
    def apply(directory: Path) -> None:
        shutil.copyfile(directory / rel, directory / to)

    return apply


def remove(rel: str) -> Edit:
    def apply(directory: Path) -> None:
        target = directory / rel
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()

    return apply


def replace_with_dir(rel: str) -> Edit:
    def apply(directory: Path) -> None:
        (directory / rel).unlink()
        (directory / rel).mkdir()

    return apply


def make_dir(rel: str) -> Edit:
    def apply(directory: Path) -> None:
        (directory / rel).mkdir()

    return apply


def both(*edits: Edit) -> Edit:
    def apply(directory: Path) -> None:
        for edit in edits:
            edit(directory)

    return apply


# Stable anchors in the shipped tables.
DALLE2_GEN_RESPONSE_FORMAT = (
    'response_format = { values = ["url", "b64_json"], default = "url", '
    'source = "acedata-api-reference: response_format for dall-e-2 / dall-e-3" }'
)
DALLE3_STYLE = 'style = { values = ["vivid", "natural"], default = "vivid",'
DALLE3_PROMPT = (
    'prompt = { max_chars = 4000, source = "acedata-api-reference: dall-e-3 supports up to 4,000 characters" }'
)
# The fact in force since 2026-04-30 (the second of gpt-image-2's dated size facts on generations).
GPT2_GEN_SIZE = '{ constraints = "gpt-image-2", tiers = "gpt-image-2", default = "auto", effective_from = 2026-04-30'

NANO_SIZE = 'size = { aspect_map = "nano-banana", source'
XHUO_NANO = 'model = "nano-banana"\nper = "request"\namount = "0.14"'
ACE_NANO = 'model = "nano-banana"\nper = "request"\namount = "0.14"'
ACE_PUBLISHED = 'effective_from = 2026-05-05\neffective_until = 2026-05-26\nbasis = "published"'
OPENAI_DALLE2 = 'model = "dall-e-2"\nendpoint = "generations"\nsize = "256x256"\namount = "0.016"'
OPENAI_DALLE3 = 'model = "dall-e-3"\nendpoint = "generations"\nquality = "standard"\nsize = "1024x1024"'
OPENAI_GPT1 = 'model = "gpt-image-1"\nendpoint = "generations"\nquality = "low"\nsize = "1024x1024"\namount = "0.011"'
XHUO_MULT = 'tier_multipliers = { other = "1.5" }'
DALLE2_SET = '"256x256", "512x512", "1024x1024"'
ENTRY = "\n[[prices]]\nmodel = {model}\n{keys}\nsource = {source}\n"


def new_entry(model: str = '"nano-banana"', keys: str = 'amount = "1"', source: str = '"a test"') -> str:
    return ENTRY.format(model=model, keys=keys, source=source)


# ------------------------------------------------------------------------------ corruptions

PARAMETERS = [
    Corruption(
        "missing kind",
        replace("parameters.toml", 'kind = "text"\nendpoints', "endpoints"),
        "parameters.toml: $.parameters['prompt'].kind: required key missing",
    ),
    Corruption(
        "missing schema_version",
        replace("parameters.toml", "schema_version = 1", ""),
        "parameters.toml: $.schema_version: required key missing",
    ),
    Corruption(
        "string for a boolean",
        replace("parameters.toml", "required = true", 'required = "true"'),
        "parameters.toml: $.parameters['model'].required: expected true or false",
    ),
    Corruption(
        "integer for a boolean",
        replace("parameters.toml", "required = true", "required = 1"),
        "parameters.toml: $.parameters['model'].required: expected true or false, got int 1",
    ),
    Corruption(
        "string for an array",
        replace("parameters.toml", 'endpoints = ["edits"]', 'endpoints = "edits"'),
        "parameters.toml: $.parameters['image'].endpoints",
    ),
    Corruption(
        "boolean for an integer",
        replace("parameters.toml", "min = 1\nmax = 10", "min = true\nmax = 10"),
        "parameters.toml: $.parameters['n'].min: expected an integer, got the boolean true",
    ),
    Corruption(
        "float for an integer",
        replace("parameters.toml", "min = 1\nmax = 10", "min = 1\nmax = 10.0"),
        "parameters.toml: $.parameters['n'].max: expected an integer, got float 10.0",
    ),
    Corruption(
        "negative integer",
        replace("parameters.toml", "min = 0\nmax = 100", "min = -1\nmax = 100"),
        "parameters.toml: $.parameters['output_compression'].min: expected a non-negative integer, got -1",
    ),
    Corruption(
        "min above max",
        replace("parameters.toml", "min = 1\nmax = 10", "min = 11\nmax = 10"),
        "parameters.toml: $.parameters.n: min 11 is above max 10",
    ),
    Corruption(
        "unknown kind",
        replace("parameters.toml", 'kind = "boolean"', 'kind = "bool"'),
        "parameters.toml: $.parameters['async'].kind: expected one of",
    ),
    Corruption(
        "unknown endpoint",
        replace("parameters.toml", 'endpoints = ["edits"]', 'endpoints = ["edit"]'),
        "parameters.toml: $.parameters['image'].endpoints[0]: expected one of 'generations', 'edits'",
    ),
    Corruption(
        "unknown handled_by",
        replace(
            "parameters.toml",
            'handled_by = "platform"\nsource = "acedata-api-reference',
            'handled_by = "gateway"\nsource = "acedata-api-reference',
        ),
        "parameters.toml: $.parameters['callback_url'].handled_by: expected one of 'model', 'platform'",
    ),
    Corruption(
        "unknown key in a parameter",
        replace("parameters.toml", 'kind = "url"', 'kind = "url"\nformat = "uri"'),
        "parameters.toml: $.parameters['callback_url']: extra fields found (format)",
    ),
    Corruption(
        "unknown key at the top",
        replace("parameters.toml", "schema_version = 1", "schema_version = 1\nversion = 2"),
        "parameters.toml: $: extra fields found (version)",
    ),
    Corruption(
        "duplicate parameter",
        append("parameters.toml", '\n[parameters.prompt]\nkind = "text"\nendpoints = ["edits"]\nsource = "x"\n'),
        "parameters.toml: not valid TOML: Cannot declare ('parameters', 'prompt') twice",
    ),
    Corruption(
        "blank source",
        replace("parameters.toml", 'source = "acedata-api-reference: n ranges from 1 to 10"', 'source = " "'),
        "parameters.toml: $.parameters.n.source: blank; every fact needs a source",
    ),
    Corruption(
        "integer parameter without limits",
        replace("parameters.toml", "min = 0\nmax = 3\n", ""),
        "parameters.toml: $.parameters.partial_images: an integer parameter needs min and max",
    ),
    Corruption(
        "limits on a text parameter",
        replace("parameters.toml", 'kind = "text"', 'kind = "text"\nmax = 5'),
        "parameters.toml: $.parameters.prompt: min/max apply only to integer parameters",
    ),
    Corruption(
        "schema version 2",
        replace("parameters.toml", "schema_version = 1", "schema_version = 2"),
        "parameters.toml: $.schema_version: expected one of 1",
    ),
]

MODELS = [
    Corruption(
        "missing family",
        replace("models.toml", '[models."dall-e-3"]\nfamily = "dall-e"\n', '[models."dall-e-3"]\n'),
        "models.toml: $.models['dall-e-3'].family: required key missing",
    ),
    Corruption(
        "missing source of a parameter entry",
        replace(
            "models.toml",
            DALLE2_GEN_RESPONSE_FORMAT,
            'response_format = { values = ["url", "b64_json"], default = "url" }',
        ),
        "models.toml: $.models['dall-e-2'].endpoints['generations'].params['response_format'].source:"
        " required key missing",
    ),
    Corruption(
        "integer for a string",
        replace("models.toml", '[models."dall-e-3"]\nfamily = "dall-e"', '[models."dall-e-3"]\nfamily = 3'),
        "models.toml: $.models['dall-e-3'].family: expected a string, got int 3",
    ),
    Corruption(
        "string for an array of values",
        replace("models.toml", 'values = ["vivid", "natural"]', 'values = "vivid"'),
        "models.toml: $.models['dall-e-3'].endpoints['generations'].params['style'].values: expected an array",
    ),
    Corruption(
        "non-string in an array of values",
        replace("models.toml", 'values = ["vivid", "natural"]', 'values = ["vivid", 2]'),
        "params['style'].values: expected an array of strings; item 1 is int 2",
    ),
    Corruption(
        "string for an integer",
        replace("models.toml", "max_chars = 4000", 'max_chars = "4000"'),
        "models.toml: $.models['dall-e-3'].endpoints['generations'].params['prompt'].max_chars: expected an integer",
    ),
    Corruption(
        "boolean for an integer",
        replace("models.toml", "max_chars = 4000", "max_chars = true"),
        "params['prompt'].max_chars: expected an integer, got the boolean true",
    ),
    Corruption(
        "float for an integer",
        replace("models.toml", "max_chars = 4000", "max_chars = 4e3"),
        "params['prompt'].max_chars: expected an integer, got float 4000.0",
    ),
    Corruption(
        "negative integer",
        replace("models.toml", "max_chars = 4000", "max_chars = -4000"),
        "params['prompt'].max_chars: expected a non-negative integer, got -4000",
    ),
    Corruption(
        "zero prompt limit",
        replace("models.toml", "max_chars = 4000", "max_chars = 0"),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.prompt.max_chars: 0 would refuse every value",
    ),
    Corruption(
        "zero image limit",
        replace(
            "models.toml",
            'image = { max_items = 16, source = "xhuoapi-edits',
            'image = { max_items = 0, source = "xhuoapi-edits',
        ),
        "models.toml: $.models.gpt-image-2.endpoints.edits.params.image.max_items: 0 would refuse every value",
    ),
    Corruption(
        "integer limit above the platform range",
        replace("models.toml", "n = { max = 1,", "n = { max = 11,"),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.n.max: 11 is outside the parameter's range 1-10",
    ),
    Corruption(
        "duplicate endpoint table",
        append("models.toml", '\n[models."dall-e-3".endpoints.generations]\ndropped_reason = "x"\n'),
        "models.toml: not valid TOML: Cannot declare ('models', 'dall-e-3', 'endpoints', 'generations') twice",
    ),
    Corruption(
        "duplicate key in an inline table",
        replace("models.toml", "max_chars = 4000,", "max_chars = 4000, max_chars = 3000,"),
        "models.toml: not valid TOML: Duplicate inline table key 'max_chars'",
    ),
    Corruption(
        "duplicate value in a choice",
        replace("models.toml", 'values = ["vivid", "natural"]', 'values = ["vivid", "natural", "vivid"]'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.style.values: lists a value twice",
    ),
    Corruption(
        "empty choice",
        replace("models.toml", DALLE3_STYLE, 'style = { values = [], default = "vivid",'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.style.values: empty",
    ),
    Corruption(
        "default not among the values",
        replace("models.toml", DALLE3_STYLE, 'style = { values = ["vivid", "natural"], default = "Vivid",'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.style.default: 'Vivid' is not one of the values",
    ),
    Corruption(
        "unknown endpoint",
        replace("models.toml", '[models."dall-e-2".endpoints.edits]', '[models."dall-e-2".endpoints.edit]'),
        "models.toml: $.models['dall-e-2'].endpoints['edit']: expected one of 'generations', 'edits'",
    ),
    Corruption(
        "unknown key in an endpoint table",
        replace(
            "models.toml",
            '[models."dall-e-3".endpoints.generations]\n',
            '[models."dall-e-3".endpoints.generations]\nstream = false\n',
        ),
        "models.toml: $.models['dall-e-3'].endpoints['generations']: extra fields found (stream)",
    ),
    Corruption(
        "unknown key in a parameter entry",
        replace("models.toml", "max_chars = 4000,", "max_chars = 4000, min_chars = 1,"),
        "models.toml: $.models['dall-e-3'].endpoints['generations'].params['prompt']: extra fields found (min_chars)",
    ),
    Corruption(
        "unknown key in advice",
        replace("models.toml", "slow = { note =", "slow = { seconds = 90, note ="),
        "models.toml: $.models['gpt-image-2'].slow: extra fields found (seconds)",
    ),
    Corruption(
        "unknown key at the top",
        replace("models.toml", "schema_version = 1", "schema_version = 1\nupdated = 2026-05-01"),
        "models.toml: $: extra fields found (updated)",
    ),
    Corruption(
        "a key that does not fit the kind",
        replace(
            "models.toml", DALLE3_STYLE, 'style = { values = ["vivid", "natural"], max_chars = 5, default = "vivid",'
        ),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.style.max_chars: does not apply to a choice",
    ),
    Corruption(
        "a parameter parameters.toml does not define",
        replace("models.toml", DALLE3_PROMPT, DALLE3_PROMPT + '\nseed = { source = "x" }'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.seed: 'seed' is not a parameter defined",
    ),
    Corruption(
        "a parameter of the other endpoint",
        replace("models.toml", DALLE3_PROMPT, DALLE3_PROMPT + '\nmask = { source = "x" }'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.mask: 'mask' is not a parameter of the"
        " generations endpoint",
    ),
    Corruption(
        "a platform parameter listed",
        replace("models.toml", DALLE3_PROMPT, DALLE3_PROMPT + '\ncallback_url = { source = "x" }'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.callback_url: handled by the platform",
    ),
    Corruption(
        "model listed as a parameter",
        replace("models.toml", DALLE3_PROMPT, DALLE3_PROMPT + '\nmodel = { source = "x" }'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.model: 'model' is implied",
    ),
    Corruption(
        "a required parameter dropped",
        replace("models.toml", DALLE3_PROMPT + "\n", ""),
        "models.toml: $.models.dall-e-3.endpoints.generations.params: the required parameter 'prompt' must be listed",
    ),
    Corruption(
        "overridden_to without a reason",
        replace("models.toml", DALLE3_STYLE, 'style = { overridden_to = "vivid", default = "vivid",'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.style: overridden_to and reason go together",
    ),
    Corruption(
        "size set reference pointing nowhere",
        replace("models.toml", 'sizes = "dall-e-2"', 'sizes = "dall-e2"'),
        "models.toml: $.models.dall-e-2.endpoints.generations.params.size.sizes: unknown size set 'dall-e2'",
    ),
    Corruption(
        "constraint set reference pointing nowhere",
        replace(
            "models.toml", GPT2_GEN_SIZE, GPT2_GEN_SIZE.replace('constraints = "gpt-image-2"', 'constraints = "gpt2"')
        ),
        "models.toml: $.models.gpt-image-2.endpoints.generations.params.size[1].constraints:"
        " unknown constraint set 'gpt2'",
    ),
    Corruption(
        "tiering reference pointing nowhere",
        replace("models.toml", GPT2_GEN_SIZE, GPT2_GEN_SIZE.replace('tiers = "gpt-image-2"', 'tiers = "gpt2"')),
        "models.toml: $.models.gpt-image-2.endpoints.generations.params.size[1].tiers: unknown tiering 'gpt2'",
    ),
    Corruption(
        "aspect map reference pointing nowhere",
        replace("models.toml", NANO_SIZE, 'size = { aspect_map = "nano", source'),
        "models.toml: $.models.nano-banana.endpoints.generations.params.size.aspect_map: unknown aspect map 'nano'",
    ),
    Corruption(
        "inherits pointing nowhere",
        replace("models.toml", 'inherits = "nano-banana"', 'inherits = "nano_banana"'),
        "models.toml: $.models.nano-banana-2.inherits: unknown model 'nano_banana'",
    ),
    Corruption(
        "size entry with two rules",
        replace("models.toml", NANO_SIZE, 'size = { aspect_map = "nano-banana", sizes = "dall-e-2", source'),
        "models.toml: $.models.nano-banana.endpoints.generations.params.size: a size entry needs exactly one of",
    ),
    Corruption(
        "size default outside its set",
        replace("models.toml", 'sizes = "dall-e-3", default = "1024x1024"', 'sizes = "dall-e-3", default = "512x512"'),
        "models.toml: $.models.dall-e-3.endpoints.generations.params.size.default: '512x512' is not in size set",
    ),
    Corruption(
        "size default its constraints refuse",
        replace("models.toml", GPT2_GEN_SIZE, GPT2_GEN_SIZE.replace('default = "auto"', 'default = "1000x1000"')),
        "models.toml: $.models.gpt-image-2.endpoints.generations.params.size[1].default: '1000x1000' is not a size",
    ),
    Corruption(
        "size default beside an aspect map",
        replace("models.toml", NANO_SIZE, 'size = { aspect_map = "nano-banana", default = "1024x1024", source'),
        "models.toml: $.models.nano-banana.endpoints.generations.params.size.default: does not apply with aspect_map",
    ),
    Corruption(
        "blank source",
        replace(
            "models.toml",
            '[models."dall-e-3"]\nfamily = "dall-e"\nsource = "acedata-api-reference: supported models"',
            '[models."dall-e-3"]\nfamily = "dall-e"\nsource = ""',
        ),
        "models.toml: $.models.dall-e-3.source: blank; every fact needs a source",
    ),
]

SIZES = [
    Corruption(
        "missing key",
        replace("sizes.toml", 'sizes = ["256x256", "512x512", "1024x1024"]\n', ""),
        "sizes.toml: $.size_sets['dall-e-2'].sizes: required key missing",
    ),
    Corruption(
        "missing fallback",
        replace("sizes.toml", 'fallback = "1:1"\n', ""),
        "sizes.toml: $.aspect_maps['nano-banana'].fallback: required key missing",
    ),
    Corruption(
        "string for an array",
        replace("sizes.toml", 'exempt = ["1k-aliases"]', 'exempt = "1k-aliases"'),
        "sizes.toml: $.constraints['gpt-image-2'].exempt: expected an array of strings, got str '1k-aliases'",
    ),
    Corruption(
        "boolean for an integer",
        replace("sizes.toml", "max_pixels = 8294400", "max_pixels = false"),
        "sizes.toml: $.constraints['gpt-image-2'].max_pixels: expected an integer, got the boolean false",
    ),
    Corruption(
        "float for an integer",
        replace("sizes.toml", "max_pixels = 8294400", "max_pixels = 8294400.0"),
        "sizes.toml: $.constraints['gpt-image-2'].max_pixels: expected an integer, got float",
    ),
    Corruption(
        "negative integer",
        replace("sizes.toml", "max_aspect_ratio = 3", "max_aspect_ratio = -3"),
        "sizes.toml: $.constraints['gpt-image-2'].max_aspect_ratio: expected a non-negative integer, got -3",
    ),
    Corruption(
        "zero step",
        replace("sizes.toml", "multiple_of = 16", "multiple_of = 0"),
        "sizes.toml: $.constraints.gpt-image-2.multiple_of: must be positive",
    ),
    Corruption(
        "full-width digits",
        replace("sizes.toml", DALLE2_SET, '"２５６x２５６", "512x512", "1024x1024"'),
        "sizes.toml: $.size_sets.dall-e-2.sizes[0]: '２５６x２５６' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "trailing newline",
        replace("sizes.toml", DALLE2_SET, '"256x256\\n", "512x512", "1024x1024"'),
        "sizes.toml: $.size_sets.dall-e-2.sizes[0]: '256x256\\n' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "capital X",
        replace("sizes.toml", DALLE2_SET, '"256X256", "512x512", "1024x1024"'),
        "sizes.toml: $.size_sets.dall-e-2.sizes[0]: '256X256' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "multiplication sign",
        replace("sizes.toml", DALLE2_SET, '"256×256", "512x512", "1024x1024"'),
        "sizes.toml: $.size_sets.dall-e-2.sizes[0]: '256×256' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "missing side",
        replace("sizes.toml", DALLE2_SET, '"256x", "512x512", "1024x1024"'),
        "sizes.toml: $.size_sets.dall-e-2.sizes[0]: '256x' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "leading zeros",
        replace("sizes.toml", DALLE2_SET, '"0256x256", "512x512", "1024x1024"'),
        "sizes.toml: $.size_sets.dall-e-2.sizes[0]: '0256x256' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "zero side",
        replace("sizes.toml", DALLE2_SET, '"0x256", "512x512", "1024x1024"'),
        "sizes.toml: $.size_sets.dall-e-2.sizes[0]: '0x256' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "duplicate size in a set",
        replace("sizes.toml", DALLE2_SET, '"256x256", "512x512", "1024x1024", "512x512"'),
        "sizes.toml: $.size_sets.dall-e-2.sizes: lists a size twice",
    ),
    Corruption(
        "empty size set",
        replace("sizes.toml", DALLE2_SET, ""),
        "sizes.toml: $.size_sets.dall-e-2.sizes: empty",
    ),
    Corruption(
        "duplicate size set",
        append("sizes.toml", '\n[size_sets."dall-e-3"]\nsizes = ["1024x1024"]\nsource = "x"\n'),
        "sizes.toml: not valid TOML: Cannot declare ('size_sets', 'dall-e-3') twice",
    ),
    Corruption(
        "duplicate aspect map size",
        replace("sizes.toml", '"512x512" = "1:1"', '"1792x1024" = "1:1"'),
        "sizes.toml: not valid TOML",
    ),
    Corruption(
        "exempt set pointing nowhere",
        replace("sizes.toml", 'exempt = ["1k-aliases"]', 'exempt = ["1k-alias"]'),
        "sizes.toml: $.constraints.gpt-image-2.exempt: names size set '1k-alias', which sizes.toml does not define",
    ),
    Corruption(
        "preset set pointing nowhere",
        replace("sizes.toml", 'presets = ["1k-presets", "2k-presets", "4k-presets"]', 'presets = ["1k-presets", "3k"]'),
        "sizes.toml: $.constraints.gpt-image-2.presets: names size set '3k', which sizes.toml does not define",
    ),
    Corruption(
        "tier set pointing nowhere",
        replace("sizes.toml", '"1k" = ["1k-presets", "1k-aliases"]', '"1k" = ["1k-presets", "1k_aliases"]'),
        "sizes.toml: $.tierings.gpt-image-2.tiers.1k: names size set '1k_aliases'",
    ),
    Corruption(
        "auto tier that is no tier",
        replace("sizes.toml", 'auto_tier = "1k"', 'auto_tier = "1K"'),
        "sizes.toml: $.tierings.gpt-image-2.auto_tier: '1K' is neither a listed tier nor the fallback tier",
    ),
    Corruption(
        "fallback tier listing sizes",
        replace("sizes.toml", 'fallback_tier = "other"', 'fallback_tier = "1k"'),
        "sizes.toml: $.tierings.gpt-image-2.fallback_tier: '1k' must not also list sizes",
    ),
    Corruption(
        "a size in two tiers",
        replace(
            "sizes.toml",
            '"1k" = ["1k-presets", "1k-aliases"]',
            '"1k" = ["1k-presets", "1k-aliases"]\n"2k" = ["1k-aliases"]',
        ),
        "sizes.toml: $.tierings.gpt-image-2.tiers: 1254x1254 is in two tiers",
    ),
    Corruption(
        "returned alias in another tier",
        replace("sizes.toml", '"1024x1024" = "1254x1254"', '"1024x1024" = "2048x2048"'),
        "sizes.toml: $.tierings.gpt-image-2.returned_as.1024x1024: 2048x2048 is not in the 1k tier of 1024x1024",
    ),
    Corruption(
        "returned alias not WxH",
        replace("sizes.toml", '"1024x1024" = "1254x1254"', '"1024x1024" = "1254 x 1254"'),
        "sizes.toml: $.tierings.gpt-image-2.returned_as: '1254 x 1254' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "aspect map size not WxH",
        replace("sizes.toml", '"512x512" = "1:1"', '"512x0512" = "1:1"'),
        "sizes.toml: $.aspect_maps.nano-banana.sizes: '512x0512' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "ratio not W:H",
        replace("sizes.toml", '"1792x1024" = "16:9"', '"1792x1024" = "16x9"'),
        "sizes.toml: $.aspect_maps.nano-banana.sizes.1792x1024: '16x9' is not an aspect ratio",
    ),
    Corruption(
        "fallback ratio not W:H",
        replace("sizes.toml", 'fallback = "1:1"', 'fallback = "square"'),
        "sizes.toml: $.aspect_maps.nano-banana.fallback: 'square' is not an aspect ratio",
    ),
    Corruption(
        "unknown key in a size set",
        replace("sizes.toml", "sizes = [" + DALLE2_SET, "size = []\nsizes = [" + DALLE2_SET),
        "sizes.toml: $.size_sets['dall-e-2']: extra fields found (size)",
    ),
    Corruption(
        "unknown key in constraints",
        replace("sizes.toml", "max_side = 3840", "max_side = 3840\nmin_side = 16"),
        "sizes.toml: $.constraints['gpt-image-2']: extra fields found (min_side)",
    ),
    Corruption(
        "unknown key in a tiering",
        replace("sizes.toml", 'auto_tier = "1k"', 'auto_tier = "1k"\ndefault_tier = "1k"'),
        "sizes.toml: $.tierings['gpt-image-2']: extra fields found (default_tier)",
    ),
    Corruption(
        "unknown key in an aspect map",
        replace("sizes.toml", 'fallback = "1:1"', 'fallback = "1:1"\nratios = []'),
        "sizes.toml: $.aspect_maps['nano-banana']: extra fields found (ratios)",
    ),
    Corruption(
        "blank limits source",
        replace("sizes.toml", 'limits_source = "openai-image-guide', 'limits_source = ""\nx = "later'),
        "sizes.toml: $.constraints.gpt-image-2.limits_source: blank; every fact needs a source",
    ),
]

PRICES = [
    Corruption(
        "missing model",
        replace("prices/xhuoapi.toml", XHUO_NANO, 'per = "request"\namount = "0.14"'),
        "prices/xhuoapi.toml: $.prices[0].model: required key missing",
    ),
    Corruption(
        "missing currency",
        replace("prices/openai.toml", 'currency = "USD"\n', ""),
        "prices/openai.toml: $.currency: required key missing",
    ),
    Corruption(
        "float price",
        replace("prices/openai.toml", 'amount = "0.016"', "amount = 0.016"),
        'prices/openai.toml: $.prices[*].amount: expected a decimal string such as "0.14" (prices are never floats)',
    ),
    Corruption(
        "integer price",
        replace("prices/xhuoapi.toml", 'amount = "0.14"', "amount = 1"),
        'prices/xhuoapi.toml: $.prices[0].amount: expected a decimal string such as "0.14" (prices are never floats)',
    ),
    Corruption(
        "negative price",
        replace("prices/openai.toml", 'amount = "0.011"', 'amount = "-0.011"'),
        "prices/openai.toml: $.prices[0].amount: expected a non-negative decimal string such as \"0.14\", got '-0.011'",
    ),
    Corruption(
        "negative multiplier",
        replace("prices/xhuoapi.toml", XHUO_MULT, 'tier_multipliers = { other = "-1.5" }'),
        "prices/xhuoapi.toml: $.prices[3].tier_multipliers['other']: expected a non-negative decimal string",
    ),
    *[
        Corruption(
            f"price written {written!r}",
            replace("prices/acedata.toml", ACE_NANO, ACE_NANO.replace('"0.14"', f'"{written}"')),
            # The TOML string "0.14\\n" holds a real newline; the message shows the value read.
            "prices/acedata.toml: $.prices[0].amount: expected a non-negative decimal string such as"
            f' "0.14", got {written.replace(chr(92) + "n", chr(10))!r}',
        )
        for written in (
            "1.4e-1",
            "14E-2",
            " 0.14",
            "0.14 ",
            "0.14\\n",
            "+0.14",
            ".14",
            "0.",
            "0,14",
            "NaN",
            "Infinity",
            "",
            "０.１４",
            "0_14",
            "0x1",
        )
    ],
    Corruption(
        "model that does not exist",
        replace("prices/openai.toml", OPENAI_DALLE3, OPENAI_DALLE3.replace('"dall-e-3"', '"dall-e-4"')),
        "prices/openai.toml: $.prices[*].model: 'dall-e-4' is not a model in models.toml",
    ),
    Corruption(
        "model written with a look-alike letter",
        replace("prices/acedata.toml", ACE_NANO, ACE_NANO.replace("nano-banana", "nanо-banana")),  # Cyrillic о
        "prices/acedata.toml: $.prices[0].model: 'nanо-banana' is not a model in models.toml",
    ),
    Corruption(
        "model with another case",
        replace("prices/xhuoapi.toml", XHUO_NANO, XHUO_NANO.replace("nano-banana", "Nano-Banana")),
        "prices/xhuoapi.toml: $.prices[0].model: 'Nano-Banana' is not a model in models.toml",
    ),
    Corruption(
        "tier that does not exist",
        append("prices/acedata.toml", new_entry('"gpt-image-2"', 'tier = "4k"\namount = "1"\nbasis = "published"')),
        "prices/acedata.toml: $.prices[*].tier: '4k' is not a tier of gpt-image-2 (tiers: 1k, other)",
    ),
    Corruption(
        "tier multiplier for a model without tiers",
        replace("prices/xhuoapi.toml", XHUO_NANO, XHUO_NANO + '\ntier_multipliers = { "1k" = "2" }'),
        "prices/xhuoapi.toml: $.prices[0].tier_multipliers: '1k' is not a tier of nano-banana (tiers: none)",
    ),
    Corruption(
        "quality the model does not take",
        replace("prices/openai.toml", OPENAI_DALLE3, OPENAI_DALLE3.replace('"standard"', '"low"')),
        "prices/openai.toml: $.prices[*].quality: 'low' is not a quality dall-e-3 takes",
    ),
    Corruption(
        "quality for a model without quality",
        replace("prices/xhuoapi.toml", XHUO_NANO, XHUO_NANO + '\nquality = "hd"'),
        "prices/xhuoapi.toml: $.prices[0].quality: 'hd' is not a quality nano-banana takes",
    ),
    # "endpoint the model does not serve": every shipped model serves both endpoints since issue 20
    # (dall-e-3 on edits is disputed, not absent); tests/test_catalog.py covers it with edited tables.
    Corruption(
        "unknown endpoint",
        replace("prices/openai.toml", OPENAI_DALLE2, OPENAI_DALLE2.replace("generations", "generation")),
        "prices/openai.toml: $.prices[*].endpoint: expected one of 'generations', 'edits'",
    ),
    Corruption(
        "size not WxH",
        replace("prices/openai.toml", OPENAI_DALLE2, OPENAI_DALLE2.replace("256x256", "256x256 ")),
        "prices/openai.toml: $.prices[*].size: '256x256 ' is not WIDTHxHEIGHT",
    ),
    Corruption(
        "size the model never accepts",
        replace("prices/openai.toml", OPENAI_DALLE2, OPENAI_DALLE2.replace("256x256", "300x300")),
        "prices/openai.toml: $.prices[*].size: dall-e-2 accepts no size 300x300, so the price could never apply",
    ),
    Corruption(
        "free-form size the constraints refuse",
        append(
            "prices/acedata.toml", new_entry('"gpt-image-2"', 'size = "1000x1000"\namount = "1"\nbasis = "published"')
        ),
        "prices/acedata.toml: $.prices[*].size: gpt-image-2 accepts no size 1000x1000",
    ),
    Corruption(
        "effective_until before effective_from",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace("2026-05-26", "2026-05-01")),
        "prices/acedata.toml: $.prices[*].effective_until: must be after effective_from",
    ),
    Corruption(
        "effective_until equal to effective_from",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace("2026-05-26", "2026-05-05")),
        "prices/acedata.toml: $.prices[*].effective_until: must be after effective_from",
    ),
    Corruption(
        "overlapping dated entries",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace("2026-05-26", "2026-06-30")),
        "prices/acedata.toml: $.prices[*]: overlaps another published entry for gpt-image-2 with the same keys",
    ),
    Corruption(
        "identical entry twice",
        append("prices/xhuoapi.toml", new_entry('"nano-banana"', 'per = "request"\namount = "0.14"')),
        "prices/xhuoapi.toml: $.prices[*]: overlaps another charged entry for nano-banana with the same keys",
    ),
    Corruption(
        "datetime instead of a date",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace("2026-05-05", "2026-05-05T00:00:00")),
        "prices/acedata.toml: $.prices[*].effective_from: expected a TOML date such as 2026-05-05, got datetime",
    ),
    Corruption(
        "datetime with an offset",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace("2026-05-26", "2026-05-26T00:00:00+08:00")),
        "prices/acedata.toml: $.prices[*].effective_until: expected a TOML date such as 2026-05-05, got datetime",
    ),
    Corruption(
        "time of day instead of a date",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace("2026-05-05", "08:00:00")),
        "prices/acedata.toml: $.prices[*].effective_from: expected a TOML date such as 2026-05-05, got time",
    ),
    Corruption(
        "quoted date",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace("2026-05-05", '"2026-05-05"')),
        "prices/acedata.toml: $.prices[*].effective_from: expected a TOML date such as 2026-05-05,"
        " got str '2026-05-05'",
    ),
    Corruption(
        "impossible date",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace("2026-05-05", "2026-02-30")),
        "prices/acedata.toml: not valid TOML",
    ),
    Corruption(
        "per that does not exist",
        replace("prices/xhuoapi.toml", XHUO_NANO, XHUO_NANO.replace('"request"', '"call"')),
        "prices/xhuoapi.toml: $.prices[0].per: expected one of 'image', 'request'",
    ),
    Corruption(
        "basis that does not exist",
        replace("prices/acedata.toml", ACE_PUBLISHED, ACE_PUBLISHED.replace('"published"', '"list"')),
        "prices/acedata.toml: $.prices[*].basis: expected one of 'charged', 'published'",
    ),
    Corruption(
        "string for a table",
        replace("prices/xhuoapi.toml", XHUO_MULT, 'tier_multipliers = "other = 1.5"'),
        "prices/xhuoapi.toml: $.prices[3].tier_multipliers: expected a mapping",
    ),
    Corruption(
        "prices as a table, not an array of tables",
        replace("prices/openai.toml", '[[prices]]\nmodel = "gpt-image-1"', '[prices]\nmodel = "gpt-image-1"'),
        "prices/openai.toml: not valid TOML",
    ),
    Corruption(
        "provider not the file name",
        replace("prices/openai.toml", 'provider = "openai"', 'provider = "OpenAI"'),
        "prices/openai.toml: $.provider: 'OpenAI' must match the file name 'openai'",
    ),
    Corruption(
        "blank currency",
        replace("prices/openai.toml", 'currency = "USD"', 'currency = ""'),
        "prices/openai.toml: $.currency: empty",
    ),
    Corruption(
        "blank entry source",
        append("prices/xhuoapi.toml", new_entry('"nano-banana-2"', 'amount = "1"\nbasis = "published"', '"  "')),
        "prices/xhuoapi.toml: $.prices[*].source: blank; every fact needs a source",
    ),
    Corruption(
        "unknown key in an entry",
        replace("prices/xhuoapi.toml", XHUO_NANO, XHUO_NANO + '\nprice = "0.14"'),
        "prices/xhuoapi.toml: $.prices[0]: extra fields found (price)",
    ),
    Corruption(
        "unknown key in the book",
        replace("prices/openai.toml", 'currency = "USD"', 'currency = "USD"\nvat = "0.2"'),
        "prices/openai.toml: $: extra fields found (vat)",
    ),
    Corruption(
        "schema version missing",
        replace("prices/xhuoapi.toml", "schema_version = 1\n", ""),
        "prices/xhuoapi.toml: $.schema_version: required key missing",
    ),
]

FILES = [
    *[
        Corruption(f"{rel} empty", write_bytes(rel, b""), f"{rel}: $.schema_version: required key missing")
        for rel in ("parameters.toml", "models.toml", "sizes.toml", "prices/acedata.toml")
    ],
    *[
        Corruption(f"{rel} missing", remove(rel), f"{rel}: file missing")
        for rel in ("parameters.toml", "models.toml", "sizes.toml")
    ],
    *[
        Corruption(f"{rel} binary", write_bytes(rel, b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe"), f"{rel}: cannot be read")
        for rel in ("parameters.toml", "models.toml", "sizes.toml", "prices/xhuoapi.toml")
    ],
    Corruption(
        "models.toml in Latin-1",
        append_bytes("models.toml", "# café\n".encode("latin-1")),
        "models.toml: cannot be read: 'utf-8' codec can't decode",
    ),
    Corruption("sizes.toml with a BOM", prepend_bytes("sizes.toml", b"\xef\xbb\xbf"), "sizes.toml: not valid TOML"),
    Corruption(
        "parameters.toml is JSON",
        write_bytes("parameters.toml", b'{"schema_version": 1}'),
        "parameters.toml: not valid TOML",
    ),
    Corruption(
        "models.toml is YAML",
        write_bytes("models.toml", b"schema_version: 1\nmodels:\n  - x\n"),
        "models.toml: not valid TOML",
    ),
    Corruption("sizes.toml is a directory", replace_with_dir("sizes.toml"), "sizes.toml: cannot be read"),
    Corruption(
        "models.toml nested 100,000 arrays deep",
        append("models.toml", "\nx = " + "[" * 100_000 + "]" * 100_000 + "\n"),
        "models.toml: cannot be read: arrays or inline tables nested too deeply",
    ),
    Corruption(
        "a price book nested 100,000 inline tables deep",
        append("prices/xhuoapi.toml", "\nx = " + "{a=" * 100_000 + "1" + "}" * 100_000 + "\n"),
        "prices/xhuoapi.toml: cannot be read: arrays or inline tables nested too deeply",
    ),
    Corruption("no prices directory", remove("prices"), "prices/: no price book found"),
    Corruption(
        "empty prices directory",
        both(remove("prices"), make_dir("prices")),
        "prices/: no price book found",
    ),
    Corruption(
        "a stray table next to the others",
        write_bytes("aliases.toml", b"schema_version = 1\n"),
        "aliases.toml: unexpected table",
    ),
    Corruption(
        "two books for one provider",
        copy("prices/openai.toml", "prices/openai-2026.toml"),
        "prices/openai-2026.toml: $.provider: 'openai' must match the file name 'openai-2026'",
    ),
]

TABLES = {"parameters": PARAMETERS, "models": MODELS, "sizes": SIZES, "prices": PRICES, "files": FILES}
ALL = [(table, corruption) for table, cases in TABLES.items() for corruption in cases]
IDS = [f"{table}: {corruption.name}" for table, corruption in ALL]


def case(table: str, name: str) -> Corruption:
    [found] = [c for c in TABLES[table] if c.name == name]
    return found


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(shipped_data_dir(), target)
    return target


def problems_of(directory: Path) -> tuple[str, ...]:
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    return info.value.problems


def comparable(catalog: Catalog) -> Catalog:
    """A catalog with the one field that names where it was loaded from blanked."""
    return attrs.evolve(catalog, source_dir="")


# ------------------------------------------------------------------------------ tests


class TestEveryCorruptionIsRefused:
    """Each hand-edit mistake fails the load, with the file and the JSON path of the mistake."""

    @pytest.mark.parametrize("corruption", [c for _, c in ALL], ids=IDS)
    def test_corruption(self, data_copy: Path, corruption: Corruption) -> None:
        corruption.edit(data_copy)
        problems = problems_of(data_copy)
        assert found(corruption.expected, problems), problems
        for problem in problems:
            assert PROBLEM_LINE.match(problem), problem

    def test_the_copy_loads_before_corruption(self, data_copy: Path) -> None:
        # Without this the corruptions above could pass on a copy that never loaded.
        assert comparable(load_catalog(data_copy)) == comparable(load_catalog())

    def test_the_cases_are_distinct(self) -> None:
        assert len(set(IDS)) == len(IDS)


class TestAllProblemsAreListed:
    def test_one_corruption_in_every_file(self, data_copy: Path) -> None:
        chosen = [
            case("parameters", "integer for a boolean"),
            case("models", "float for an integer"),
            case("sizes", "duplicate size in a set"),
            case("prices", "negative price"),
            case("prices", "unknown key in the book"),
        ]
        for corruption in chosen:
            corruption.edit(data_copy)
        problems = problems_of(data_copy)
        for corruption in chosen:
            assert found(corruption.expected, problems), (corruption.name, problems)

    @pytest.mark.parametrize(
        "names",
        [
            # Cross-table problems of one file.
            ("size the model never accepts", "quality the model does not take", "provider not the file name"),
            # Shape problems of one file (wrong types, bad values, unknown keys).
            ("float price", "negative price", "unknown key in the book", "unknown endpoint"),
        ],
        ids=["cross-table", "shape"],
    )
    def test_many_corruptions_in_one_file(self, data_copy: Path, names: tuple[str, ...]) -> None:
        chosen = [case("prices", name) for name in names]
        for corruption in chosen:
            corruption.edit(data_copy)
        problems = problems_of(data_copy)
        for corruption in chosen:
            assert found(corruption.expected, problems), (corruption.name, problems)

    def test_a_broken_file_does_not_hide_the_others(self, data_copy: Path) -> None:
        # models.toml cannot be parsed, so cross-table checks cannot run; the independent
        # checks of every other table still report.
        chosen = [
            case("files", "models.toml missing"),
            case("sizes", "full-width digits"),
            case("parameters", "float for an integer"),
            case("prices", "negative price"),
        ]
        for corruption in chosen:
            corruption.edit(data_copy)
        problems = problems_of(data_copy)
        for corruption in chosen:
            assert found(corruption.expected, problems), (corruption.name, problems)

    def test_the_error_message_holds_every_problem(self, data_copy: Path) -> None:
        for corruption in (
            case("models", "missing family"),
            case("sizes", "missing key"),
            case("prices", "missing model"),
        ):
            corruption.edit(data_copy)
        with pytest.raises(CatalogError) as info:
            load_catalog(data_copy)
        message = str(info.value)
        assert f"invalid data tables ({len(info.value.problems)} problems)" in message
        assert all(problem in message for problem in info.value.problems)


class TestNothingHalfLoaded:
    """A failed load returns nothing, caches nothing and changes nothing already loaded."""

    def test_a_failed_load_changes_no_catalog(self, data_copy: Path) -> None:
        default = default_catalog()
        default_before = comparable(default)
        loaded = load_catalog(data_copy)
        loaded_before = comparable(loaded)
        request = {"model": "gpt-image-2", "prompt": "p", "size": "2048x2048"}
        quote_before = check(request, catalog=loaded).to_dict()
        for corruption in (
            case("prices", "negative price"),
            case("models", "missing family"),
            case("sizes", "returned alias in another tier"),
        ):
            corruption.edit(data_copy)
        for _ in range(2):  # refused every time: no partial state is kept between attempts
            problems_of(data_copy)
        assert default_catalog() is default
        assert comparable(default) == default_before
        assert comparable(loaded) == loaded_before
        assert check(request, catalog=loaded).to_dict() == quote_before
        assert comparable(default) == comparable(load_catalog())

    def test_repairing_the_tables_loads_them_whole(self, data_copy: Path, tmp_path: Path) -> None:
        pristine = tmp_path / "pristine"
        shutil.copytree(data_copy, pristine)
        case("prices", "negative price").edit(data_copy)
        problems_of(data_copy)
        shutil.rmtree(data_copy)
        shutil.copytree(pristine, data_copy)
        assert comparable(load_catalog(data_copy)) == comparable(load_catalog(pristine))

    def test_a_failed_load_in_one_thread_does_not_disturb_others(self, data_copy: Path) -> None:
        case("sizes", "missing key").edit(data_copy)
        good = load_catalog()
        outcomes: list[object] = []

        def load_bad() -> None:
            try:
                load_catalog(data_copy)
            except CatalogError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=load_bad) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(outcomes) == 8
        assert all(isinstance(o, CatalogError) for o in outcomes)
        assert comparable(good) == comparable(load_catalog())

    def test_a_bad_user_price_book_leaves_the_catalog_alone(self, tmp_path: Path) -> None:
        catalog = load_catalog()
        before = comparable(catalog)
        path = tmp_path / "mine.toml"
        path.write_text(
            'schema_version = 1\nprovider = "xhuoapi"\nname = "mine"\ncurrency = "credits"\nsource = "invoice"\n'
            '[[prices]]\nmodel = "gpt-image-2"\namount = 0.2\nsource = "invoice"\n'
            '[[prices]]\nmodel = "gpt-image-2"\namount = "0.2"\nsource = "invoice"\nregion = "eu"\n',
            encoding="utf-8",
        )
        with pytest.raises(CatalogError) as info:
            load_price_book(path, catalog)
        assert len(info.value.problems) == 2
        assert all(p.startswith(f"{path}: $.prices[") for p in info.value.problems)
        assert comparable(catalog) == before
