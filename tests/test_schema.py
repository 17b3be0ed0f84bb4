"""The JSON Schema export agrees with the engine wherever a schema can say anything.

Which vectors the schema expresses (documented in docs/reference.md): a vector is expressible
when its verdict does not depend on what a schema cannot say, that is when
- it is accepted (every accepted request must validate), or every error it expects has a code in
  `schema.SCHEMA_CODES`;
- no parameter the engine reads as an integer is written as a float (JSON Schema compares
  numbers by value, so 2.0 validates as an integer);
- it is not a known deviation of the engine.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from imagepricing import check, default_catalog
from imagepricing.schema import (
    _SIZE_PATTERN,
    DIALECT,
    NOT_EXPRESSED,
    SCHEMA_CODES,
    endpoint_schema,
    request_schema,
)
from imagepricing.strategies import gpt_image_2_sizes, invalid_requests, size_violations, valid_requests
from imagepricing.vectors import DEFAULTS, build_request, load_vectors

CATALOG = default_catalog()
INTEGER_PARAMS = frozenset(name for name, p in CATALOG.parameters.items() if p.kind == "integer")
ENDPOINTS = ("generations", "edits")
VALIDATORS = {endpoint: Draft202012Validator(endpoint_schema(endpoint)) for endpoint in ENDPOINTS}
MODEL_VALIDATORS = {
    (model.id, endpoint): Draft202012Validator(request_schema(model.id, endpoint))
    for model in CATALOG.models.values()
    for endpoint in model.endpoints
}


def _integer_written_as_float(request: object) -> bool:
    return isinstance(request, dict) and any(isinstance(request.get(name), float) for name in INTEGER_PARAMS)


def expressible(vector: dict[str, Any]) -> bool:
    expect = vector["expect"]
    if "known_deviation" in vector or _integer_written_as_float(build_request(vector)):
        return False
    if vector.get("url_policy", DEFAULTS["url_policy"]) != "basic":
        return False  # the schema is the basic policy's
    codes = {code for _, code in expect.get("errors", [])}
    return bool(expect["ok"]) or ("errors" in expect and codes <= SCHEMA_CODES)


# Built once: a strategy is built from the tables, which costs more than drawing from it.
VALID = {endpoint: valid_requests(endpoint=endpoint) for endpoint in ENDPOINTS}
VIOLATIONS = {endpoint: invalid_requests(endpoint=endpoint, codes=SCHEMA_CODES) for endpoint in ENDPOINTS}

VECTORS = load_vectors()
EXPRESSIBLE = [v for v in VECTORS if expressible(v)]


class TestSchemasAreValid:
    """Every exported schema is itself valid JSON Schema 2020-12 and needs no network."""

    @pytest.mark.parametrize(("model", "endpoint"), sorted(MODEL_VALIDATORS))
    def test_model_schema(self, model: str, endpoint: str) -> None:
        schema = request_schema(model, endpoint)
        assert schema["$schema"] == DIALECT
        Draft202012Validator.check_schema(schema)
        json.dumps(schema)  # plain JSON, no Python objects

    @pytest.mark.parametrize("endpoint", ENDPOINTS)
    def test_endpoint_schema(self, endpoint: str) -> None:
        Draft202012Validator.check_schema(endpoint_schema(endpoint))

    def test_unknown_model_or_unserved_endpoint_raise(self) -> None:
        with pytest.raises(ValueError, match="unknown model"):
            request_schema("dall-e-4")
        # dall-e-3 serves edits in the platform's schema, with the dispute said (issue 20).
        assert "x-imagepricing-sources-disagree" in request_schema("dall-e-3", "edits")
        with pytest.raises(ValueError, match="unknown endpoint"):
            endpoint_schema("variations")


class TestAgreesWithTheVectors:
    """For every vector the schema can express, jsonschema's verdict is the engine's `ok`."""

    def test_most_vectors_are_expressible(self) -> None:
        assert len(EXPRESSIBLE) > len(VECTORS) // 2
        assert any(not v["expect"]["ok"] for v in EXPRESSIBLE)

    @pytest.mark.parametrize("vector", EXPRESSIBLE, ids=[v["id"] for v in EXPRESSIBLE])
    def test_vector(self, vector: dict[str, Any]) -> None:
        request = build_request(vector)
        endpoint = vector["endpoint"]
        day = dt.date.fromisoformat(vector.get("as_of", DEFAULTS["as_of"]))
        ok = check(
            request,
            endpoint=endpoint,
            provider=vector["provider"],
            url_policy=vector.get("url_policy", "basic"),
            as_of=day,
        ).ok
        # The rules are dated: the schema of the vector's own day.
        assert Draft202012Validator(endpoint_schema(endpoint, as_of=day)).is_valid(request) is ok
        model = request.get("model") if isinstance(request, dict) else None
        if isinstance(model, str) and (model, endpoint) in MODEL_VALIDATORS:
            schema = request_schema(model, endpoint, as_of=day)
            assert Draft202012Validator(schema).is_valid(request) is ok


class TestAgreesWithTheStrategies:
    """Valid requests validate; labelled violations the schema expresses do not."""

    @pytest.mark.parametrize("endpoint", ENDPOINTS)
    @given(data=st.data())
    def test_valid_requests_validate(self, endpoint: str, data: st.DataObject) -> None:
        request = data.draw(VALID[endpoint])
        errors = [e.message for e in VALIDATORS[endpoint].iter_errors(request)]
        assert errors == []

    @pytest.mark.parametrize("endpoint", ENDPOINTS)
    @given(data=st.data())
    def test_expressible_violations_are_rejected(self, endpoint: str, data: st.DataObject) -> None:
        request, label = data.draw(VIOLATIONS[endpoint])
        assume(not _integer_written_as_float(request))
        assert not VALIDATORS[endpoint].is_valid(request), label

    @given(gpt_image_2_sizes(accepted=True))
    def test_accepted_sizes_validate(self, size: str) -> None:
        assert MODEL_VALIDATORS[("gpt-image-2", "generations")].is_valid(
            {"model": "gpt-image-2", "prompt": "p", "size": size}
        )

    @given(size_violations(codes={"size_format"}))
    def test_malformed_sizes_are_rejected(self, labelled: tuple[str, str]) -> None:
        request = {"model": "gpt-image-2", "prompt": "p", "size": labelled[0]}
        assert not MODEL_VALIDATORS[("gpt-image-2", "generations")].is_valid(request)


class TestPortablePatterns:
    """Python's re lets `$` match before a final newline; the schema must not inherit that."""

    def test_python_dollar_alone_would_accept_a_trailing_newline(self) -> None:
        # Why the schema pairs its pattern with a no-newline clause: jsonschema uses re.search.
        assert re.search(_SIZE_PATTERN, "1024x1024\n") is not None

    @pytest.mark.parametrize("size", ["1024x1024\n", "\n", "auto\n", "１０２４x１０２４", "1024X1024", " 1024x1024"])
    def test_near_miss_sizes_are_rejected(self, size: str) -> None:
        request = {"model": "gpt-image-2", "prompt": "p", "size": size}
        assert not MODEL_VALIDATORS[("gpt-image-2", "generations")].is_valid(request)
        assert not check(request).ok

    def test_patterns_avoid_non_portable_syntax(self) -> None:
        text = json.dumps([request_schema(m, e) for m, e in MODEL_VALIDATORS])
        for construct in ("\\\\d", "(?=", "(?!", "(?<", "\\\\z", "\\\\Z"):
            assert construct not in text


class TestDocumentedLimits:
    """What the schema cannot express (NOT_EXPRESSED) is accepted by it though check rejects it."""

    @pytest.mark.parametrize(
        ("size", "code"),
        [
            ("1000x1000", "size_not_multiple"),
            ("4096x4096", "size_side_too_long"),
            ("0x1024", "size_not_positive"),
        ],
    )
    def test_size_constraints_are_not_expressed(self, size: str, code: str) -> None:
        request = {"model": "gpt-image-2", "prompt": "p", "size": size}
        assert MODEL_VALIDATORS[("gpt-image-2", "generations")].is_valid(request)
        assert code in {f.code for f in check(request).errors}
        assert code not in SCHEMA_CODES

    @pytest.mark.parametrize("size", ["800x800", "3088x1024"])
    def test_disputed_size_limits_are_accepted(self, size: str) -> None:
        # Below 655,360 pixels or beyond 3:1 the sources disagree (issue 20): accepted with a warning.
        request = {"model": "gpt-image-2", "prompt": "p", "size": size}
        assert MODEL_VALIDATORS[("gpt-image-2", "generations")].is_valid(request)
        assert check(request).ok
        assert ("size", "sources_disagree") in {(f.param, f.code) for f in check(request).warnings}

    def test_integral_floats_agree(self) -> None:
        # 2.0 is the integer 2 for JSON Schema and for check alike (the platform types n as integer).
        request = {"model": "dall-e-2", "prompt": "p", "n": 2.0}
        assert MODEL_VALIDATORS[("dall-e-2", "generations")].is_valid(request)
        assert check(request).ok
        half = {"model": "dall-e-2", "prompt": "p", "n": 2.5}
        assert not MODEL_VALIDATORS[("dall-e-2", "generations")].is_valid(half)
        assert not check(half).ok

    def test_the_schema_says_what_it_cannot_express(self) -> None:
        schema = request_schema("gpt-image-2")
        assert schema["x-imagepricing-not-expressed"] == list(NOT_EXPRESSED)
        limits = schema["properties"]["size"]["x-imagepricing-size-constraints"]
        assert (limits["multiple_of"], limits["max_side"], limits["max_pixels"]) == (16, 3840, 8_294_400)


class TestShape:
    def test_dropped_and_unknown_parameters_are_allowed(self) -> None:
        schema = request_schema("nano-banana")
        assert schema["additionalProperties"] is True
        assert "quality" in schema["x-imagepricing-dropped"]
        validator = Draft202012Validator(schema)
        assert validator.is_valid({"model": "nano-banana", "prompt": "p", "quality": 12, "seed": None})

    def test_null_means_omitted_for_optional_parameters_only(self) -> None:
        validator = MODEL_VALIDATORS[("gpt-image-2", "generations")]
        assert validator.is_valid({"model": "gpt-image-2", "prompt": "p", "size": None, "n": None, "quality": None})
        assert not validator.is_valid({"model": "gpt-image-2", "prompt": None})

    def test_booleans_are_not_integers(self) -> None:
        assert not MODEL_VALIDATORS[("dall-e-2", "generations")].is_valid(
            {"model": "dall-e-2", "prompt": "p", "n": True}
        )

    def test_prompt_length_counts_code_points(self) -> None:
        validator = MODEL_VALIDATORS[("dall-e-2", "generations")]
        assert validator.is_valid({"model": "dall-e-2", "prompt": "\U0001f600" * 1000})
        assert not validator.is_valid({"model": "dall-e-2", "prompt": "\U0001f600" * 1001})

    def test_fixed_sizes_are_an_enum(self) -> None:
        size = request_schema("dall-e-3")["properties"]["size"]
        assert size["enum"] == ["1024x1024", "1792x1024", "1024x1792", "auto", "", None]

    def test_edits_image_array_limit(self) -> None:
        image = request_schema("gpt-image-2", "edits")["properties"]["image"]
        assert image["anyOf"][1]["maxItems"] == 16

    def test_a_data_change_flows_through(self, tmp_path: Path) -> None:
        import shutil

        from imagepricing import load_catalog

        data = tmp_path / "data"
        shutil.copytree(CATALOG.source_dir, data)
        models = data / "models.toml"
        models.write_text(
            models.read_text(encoding="utf-8").replace("max_chars = 4000", "max_chars = 40"), encoding="utf-8"
        )
        schema = request_schema("dall-e-3", catalog=load_catalog(data))
        assert schema["properties"]["prompt"]["maxLength"] == 40


class TestCommandLine:
    def test_schema_for_one_model(self, tmp_path: Path) -> None:
        from imagepricing.cli import main

        out = tmp_path / "s.json"
        assert main(["schema", "--endpoint", "edits", "--model", "gpt-image-2", "--out", str(out)]) == 0
        assert json.loads(out.read_text(encoding="utf-8")) == request_schema("gpt-image-2", "edits")

    def test_schema_for_an_endpoint(self, capsys: pytest.CaptureFixture[str]) -> None:
        from imagepricing.cli import main

        assert main(["schema", "--endpoint", "generations"]) == 0
        assert json.loads(capsys.readouterr().out) == endpoint_schema("generations")

    def test_unserved_endpoint_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        from imagepricing.cli import main

        assert main(["schema", "--endpoint", "edits", "--model", "dall-e-4"]) == 2
        assert "unknown model" in capsys.readouterr().err
