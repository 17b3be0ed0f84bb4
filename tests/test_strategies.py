"""imagepricing.strategies itself: driven by the tables, honest about what it yields, and able
to catch the classic mistakes of a hand-written validator."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import find, given, settings

from imagepricing import Catalog, check, default_catalog, load_catalog
from imagepricing.strategies import (
    dropped_parameters,
    gpt_image_2_sizes,
    http_urls,
    image_refs,
    invalid_requests,
    json_values,
    size_violations,
    sizes_in_tier,
    valid_requests,
    violation_labels,
)
from imagepricing.urls import url_problems

CATALOG = default_catalog()
EDITS_VIOLATIONS = invalid_requests(endpoint="edits")


def _edited_catalog(tmp: Path, edits: dict[str, tuple[str, str] | list[tuple[str, str]]]) -> Catalog:
    data = tmp / "data"
    shutil.copytree(CATALOG.source_dir, data)
    for name, changes in edits.items():
        path = data / name
        text = path.read_text(encoding="utf-8")
        for old, new in changes if isinstance(changes, list) else [changes]:
            assert old in text
            text = text.replace(old, new, 1)
        path.write_text(text, encoding="utf-8")
    return load_catalog(data)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The shipped tables with two edits: a 10-character dall-e-2 prompt and a new dall-e-2 size."""
    return _edited_catalog(
        tmp_path_factory.mktemp("tables"),
        {
            "models.toml": (
                'prompt = { max_chars = 1000, source = "acedata-api-reference',
                'prompt = { max_chars = 10, source = "acedata-api-reference',
            ),
            "sizes.toml": (
                'sizes = ["256x256", "512x512", "1024x1024"]',
                'sizes = ["256x256", "512x512", "768x768", "1024x1024"]',
            ),
        },
    )


class TestDataChangesFlowThrough:
    """SPEC issue 4: "Driven by the same tables as the engine, so a data change flows through"."""

    def test_prompt_limit(self, edited: Catalog) -> None:
        @settings(max_examples=50)
        @given(valid_requests("dall-e-2", catalog=edited))
        def valid(request: dict[str, Any]) -> None:
            assert len(request["prompt"]) <= 10
            assert check(request, catalog=edited).ok

        valid()
        at_limit = find(valid_requests("dall-e-2", catalog=edited), lambda r: r["prompt"] == "a" * 10)
        assert check(at_limit, catalog=edited).ok
        request, label = find(invalid_requests("dall-e-2", catalog=edited, codes={"too_long"}), lambda t: True)
        assert label == ("prompt", "too_long")
        assert isinstance(request, dict)
        assert len(request["prompt"]) >= 11

    def test_new_size(self, edited: Catalog) -> None:
        found = find(valid_requests("dall-e-2", catalog=edited), lambda r: r.get("size") == "768x768")
        assert check(found, catalog=edited).ok
        assert not check(found).ok  # the shipped tables do not have it

    def test_new_constraints(self, tmp_path: Path) -> None:
        # A stricter minimum, and undisputed (the shipped one is disputed: a warning, issue 20).
        stricter = _edited_catalog(
            tmp_path,
            {
                "sizes.toml": [
                    ("min_pixels = 655360", "min_pixels = 1048576"),
                    ('disputed = ["min_pixels", "max_aspect_ratio"]', 'disputed = ["max_aspect_ratio"]'),
                ]
            },
        )

        @settings(max_examples=100)
        @given(gpt_image_2_sizes(catalog=stricter))
        def accepted(size: str) -> None:
            assert check({"model": "gpt-image-2", "prompt": "p", "size": size}, catalog=stricter).ok

        accepted()
        size, _ = find(size_violations(catalog=stricter, codes={"size_too_few_pixels"}), lambda t: True)
        request = {"model": "gpt-image-2", "prompt": "p", "size": size}
        width, height = (int(side) for side in size.split("x"))
        assert width * height < 1048576
        assert [f.code for f in check(request, catalog=stricter).errors] == ["size_too_few_pixels"]


class TestLabels:
    """invalid_requests covers each kind of violation the tables define, per model."""

    def test_labels_follow_each_models_row(self) -> None:
        assert ("n", "above_model_limit") in violation_labels("dall-e-3")
        assert ("n", "above_model_limit") not in violation_labels("dall-e-2")
        assert ("size", "size_not_supported") in violation_labels("gpt-image-1")
        assert {("size", c) for c in ("size_format", "size_not_multiple", "size_too_many_pixels")} <= violation_labels(
            "gpt-image-2"
        )
        # Disputed limits are warnings (issue 20), so no request violates them.
        assert ("size", "size_too_few_pixels") not in violation_labels("gpt-image-2")
        assert ("prompt", "too_long") not in violation_labels("nano-banana")  # no documented limit
        assert not any(p == "response_format" for p, _ in violation_labels("gpt-image-1"))  # overridden: any value
        # gpt-image-2: the seeds disagree (base64 or URLs): url and b64_json pass, anything else does not.
        assert ("response_format", "not_allowed") in violation_labels("gpt-image-2")
        assert not any(p == "quality" for p, _ in violation_labels("nano-banana"))  # dropped unvalidated
        assert ("image", "too_many_items") in violation_labels("gpt-image-2", "edits")

    def test_request_level_labels_only_without_a_model(self) -> None:
        assert {(None, "not_an_object"), ("model", "model_unknown")} <= violation_labels()
        # dall-e-3 on edits is disputed (a warning), and edits may omit model (a warning).
        assert ("model", "endpoint_unsupported") not in violation_labels(endpoint="edits")
        assert ("model", "missing") not in violation_labels(endpoint="edits")
        assert ("model", "missing") in violation_labels(endpoint="generations")
        assert ("model", "endpoint_unsupported") not in violation_labels(endpoint="generations")
        assert (None, "not_an_object") not in violation_labels("dall-e-2")

    def test_codes_selects(self) -> None:
        _, label = find(invalid_requests(codes={"above_model_limit"}), lambda t: True)
        assert label == ("n", "above_model_limit")
        with pytest.raises(ValueError, match="no violation"):
            invalid_requests("nano-banana", codes={"too_long"})

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda: valid_requests("dall-e-4"), "unknown model"),
            (lambda: sizes_in_tier("4k"), "unknown tier"),
            (lambda: gpt_image_2_sizes(model="dall-e-2"), "no free-form size constraints"),
            (lambda: size_violations("nano-banana"), "no size violation"),
            (lambda: size_violations("nano-banana", "edits"), "takes no size"),
        ],
    )
    def test_impossible_requests_raise(self, call: Any, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            call()


class TestValues:
    @given(json_values())
    def test_json_values_are_json(self, value: object) -> None:
        assert json.loads(json.dumps(value, allow_nan=False)) == value

    @given(http_urls())
    def test_urls_pass_the_strict_policy(self, url: str) -> None:
        assert url_problems(url, policy="strict") == ()

    @given(image_refs())
    def test_image_refs_are_accepted_images(self, url: str) -> None:
        assert url_problems(url, policy="strict", allow_data_uri=True) == ()

    @given(size_violations())
    def test_each_size_violation_earns_exactly_its_code(self, labelled: tuple[str, str]) -> None:
        size, code = labelled
        assert [f.code for f in check({"model": "gpt-image-2", "prompt": "p", "size": size}).errors] == [code]

    @given(dropped_parameters("nano-banana-pro", "edits"))
    def test_dropped_parameters_are_the_ones_the_model_drops(self, junk: dict[str, object]) -> None:
        assert not {"model", "prompt", "image", "callback_url", "async"} & set(junk)
        assert set(junk) <= {
            "mask",
            "n",
            "size",
            "response_format",
            "quality",
            "background",
            "output_format",
            "output_compression",
            "partial_images",
            "input_fidelity",
        }


class TestCatchesTheClassicMistakes:
    """What a user's property test finds in a validator written from the seeds' own pattern."""

    @staticmethod
    def naive_accepts(size: str) -> bool:
        # Ace Data Cloud's OpenAPI pattern as Python would run it: \\d is Unicode, $ skips a final \\n.
        return re.match(r"^(auto|\d+x\d+)$", size) is not None

    def test_finds_a_size_the_naive_pattern_wrongly_accepts(self) -> None:
        size, code = find(size_violations(codes={"size_format"}), lambda t: self.naive_accepts(t[0]))
        assert code == "size_format"
        assert not check({"model": "gpt-image-2", "prompt": "p", "size": size}).ok

    def test_finds_a_boolean_n_that_isinstance_accepts(self) -> None:
        def naive_n_ok(value: object) -> bool:
            return isinstance(value, int) and 1 <= value <= 10

        request, label = find(
            invalid_requests("dall-e-2", codes={"wrong_type"}),
            lambda t: isinstance(t[0], dict) and t[1][0] == "n" and naive_n_ok(t[0]["n"]),
        )
        assert isinstance(request, dict)
        assert request["n"] is True
        assert label == ("n", "wrong_type")

    @given(EDITS_VIOLATIONS)
    def test_the_docstring_example_shape(self, labelled: tuple[object, tuple[str | None, str]]) -> None:
        request, (param, code) = labelled
        assert check(request, endpoint="edits").errors[0].code == code
        assert check(request, endpoint="edits").errors[0].param == param
