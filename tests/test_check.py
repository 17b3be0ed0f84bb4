"""Every validation rule of SPEC.md, one test class per clause, edges included."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from imagepricing import Report, check, load_catalog
from imagepricing.catalog import shipped_data_dir


def codes(report: Report, kind: str = "errors") -> list[tuple[str | None, str]]:
    findings = getattr(report, kind)
    return [(f.param, f.code) for f in findings]


def advice(report: Report) -> list[tuple[str | None, str]]:
    """Warnings other than the price ones (tested in test_pricing.py)."""
    return [(f.param, f.code) for f in report.warnings if not f.code.startswith("price_")]


def gen(model: str, **params: Any) -> dict[str, Any]:
    return {"model": model, "prompt": "a small red apple", **params}


def edit(model: str, **params: Any) -> dict[str, Any]:
    return {"model": model, "prompt": "add a leaf", "image": "https://example.com/apple.png", **params}


class TestRequestShape:
    """check never raises; a request that is not an object is simply not ok."""

    @pytest.mark.parametrize("request_", [None, [], [{"model": "dall-e-2"}], "model", 3, 2.5, True, b"x"])
    def test_non_objects_are_rejected_with_one_finding(self, request_: object) -> None:
        report = check(request_)
        assert not report.ok
        assert codes(report) == [(None, "not_an_object")]
        assert report.cost is None
        assert report.images == 0

    def test_empty_object_reports_every_missing_required_parameter(self) -> None:
        assert codes(check({})) == [("model", "missing"), ("prompt", "missing")]
        # The platform's edits schema makes model optional: its absence is a warning there.
        report = check({}, endpoint="edits")
        assert codes(report) == [("prompt", "missing"), ("image", "missing")]
        assert ("model", "sources_disagree") in codes(report, "warnings")

    def test_non_string_keys_are_errors(self) -> None:
        request: dict[object, object] = {3: "x"}
        request.update(gen("dall-e-2"))
        report = check(request)
        assert codes(report) == [(None, "key_not_string")]

    def test_null_optional_parameter_counts_as_omitted(self) -> None:
        report = check(gen("dall-e-3", size=None, quality=None, n=None))
        assert report.ok
        assert report.ignored == ()
        assert report.effective["size"] == "1024x1024"

    def test_null_required_parameter_is_missing(self) -> None:
        assert codes(check({"model": "dall-e-2", "prompt": None})) == [("prompt", "missing")]

    def test_unknown_parameters_are_ignored_not_errors(self) -> None:
        report = check(gen("dall-e-2", colour_depth=42))
        assert report.ok
        assert codes(report, "ignored") == [("colour_depth", "unknown_parameter")]

    def test_generations_only_parameter_on_edits_is_unknown_there(self) -> None:
        report = check(edit("gpt-image-1", style="vivid"), endpoint="edits")
        assert codes(report, "ignored") == [("style", "unknown_parameter")]

    def test_unknown_endpoint_or_provider_raise_value_error(self) -> None:
        with pytest.raises(ValueError, match="endpoint"):
            check(gen("dall-e-2"), endpoint="variations")
        with pytest.raises(ValueError, match="provider"):
            check(gen("dall-e-2"), provider="nobody")


class TestModel:
    """SPEC.md Models and endpoints; xhuoapi-edits: the edits models."""

    def test_unknown_model(self) -> None:
        report = check(gen("dall-e-4"))
        assert codes(report) == [("model", "model_unknown")]
        assert "gpt-image-2" in report.errors[0].message

    @pytest.mark.parametrize(("sent", "suggested"), [("GPT-Image-2", "gpt-image-2"), ("nano-banana ", "nano-banana")])
    def test_unknown_model_suggests_the_near_miss(self, sent: str, suggested: str) -> None:
        assert f"did you mean {suggested!r}" in check(gen(sent)).errors[0].message

    @pytest.mark.parametrize("model", [3, True, ["dall-e-2"], {"id": "dall-e-2"}])
    def test_model_must_be_a_string(self, model: object) -> None:
        assert codes(check(gen("x") | {"model": model})) == [("model", "wrong_type")]

    def test_dall_e_3_on_edits_is_disputed_not_rejected(self) -> None:
        # The edits seed does not list dall-e-3; the platform's edits schema does (and defaults to it).
        report = check(edit("dall-e-3"), endpoint="edits")
        assert report.ok
        assert ("model", "sources_disagree") in codes(report, "warnings")
        warning = next(f for f in report.warnings if f.code == "sources_disagree")
        assert "XHuoAPI" in warning.source
        assert "AceDataCloud/Docs" in warning.source
        assert report.cost is None

    def test_a_model_without_the_endpoint_and_no_dispute_is_unsupported(self, tmp_path: Path) -> None:
        data = tmp_path / "data"
        shutil.copytree(shipped_data_dir(), data)
        models = data / "models.toml"
        text = models.read_text(encoding="utf-8")
        # Without its edits table (and so without the dispute it carries), dall-e-3 serves no edits.
        start = text.index('[models."dall-e-3".endpoints.edits]')
        models.write_text(text[:start] + text[text.index("# ----", start) :], encoding="utf-8")
        parameters = data / "parameters.toml"  # and so it cannot be the default model of edits
        parameters.write_text(parameters.read_text(encoding="utf-8").replace('default_on = { edits = "dall-e-3" }', ""))
        report = check(edit("dall-e-3"), endpoint="edits", catalog=load_catalog(data))
        assert codes(report) == [("model", "endpoint_unsupported")]
        assert "gpt-image-2" in report.errors[0].message

    @pytest.mark.parametrize(
        "model",
        [
            "dall-e-2",
            "dall-e-3",
            "gpt-image-1",
            "gpt-image-1.5",
            "gpt-image-2",
            "nano-banana",
            "nano-banana-2",
            "nano-banana-pro",
        ],
    )
    def test_every_seed_model_accepts_a_minimal_generation(self, model: str) -> None:
        assert check(gen(model)).ok

    @pytest.mark.parametrize(
        "model",
        ["dall-e-2", "gpt-image-1", "gpt-image-1.5", "gpt-image-2", "nano-banana", "nano-banana-2", "nano-banana-pro"],
    )
    def test_every_edits_model_accepts_a_minimal_edit(self, model: str) -> None:
        assert check(edit(model), endpoint="edits").ok


class TestPrompt:
    """acedata-api-reference: dall-e-2 1,000 characters, dall-e-3 4,000, GPT image models 32,000."""

    @pytest.mark.parametrize(
        ("model", "limit"), [("dall-e-2", 1000), ("dall-e-3", 4000), ("gpt-image-1", 32000), ("gpt-image-2", 32000)]
    )
    def test_at_the_limit_passes_and_one_over_fails(self, model: str, limit: int) -> None:
        assert check(gen(model, prompt="a" * limit)).ok
        report = check(gen(model, prompt="a" * (limit + 1)))
        assert codes(report) == [("prompt", "too_long")]
        assert f"{limit:,}" in report.errors[0].message

    def test_limit_counts_characters_not_bytes(self) -> None:
        assert check(gen("dall-e-2", prompt="é" * 1000)).ok

    def test_nano_banana_has_no_documented_limit(self) -> None:
        assert check(gen("nano-banana", prompt="a" * 100_000)).ok

    @pytest.mark.parametrize(
        ("prompt", "code"), [("", "empty"), (5, "wrong_type"), (["a"], "wrong_type"), (True, "wrong_type")]
    )
    def test_prompt_must_be_a_non_empty_string(self, prompt: object, code: str) -> None:
        assert codes(check(gen("dall-e-2", prompt=prompt))) == [("prompt", code)]


class TestN:
    """SPEC.md: n is an integer 1-10 (true is not an integer). dall-e-2 honours it; dall-e-3 needs 1;
    GPT image models silently use 1; nano-banana drops it unvalidated."""

    @pytest.mark.parametrize("n", [1, 10])
    def test_dall_e_2_honours_n_within_range(self, n: int) -> None:
        report = check(gen("dall-e-2", n=n))
        assert report.ok
        assert report.effective["n"] == n
        assert report.images == n

    @pytest.mark.parametrize("n", [0, 11, -1, 10**100])
    def test_out_of_range(self, n: int) -> None:
        report = check(gen("dall-e-2", n=n))
        assert codes(report) == [("n", "out_of_range")]
        assert "1 to 10" in report.errors[0].message

    @pytest.mark.parametrize("n", [True, False, "2", "２", 2.5, float("nan"), float("inf"), [2], {"n": 2}])
    def test_n_must_be_a_json_integer(self, n: object) -> None:
        assert codes(check(gen("dall-e-2", n=n))) == [("n", "wrong_type")]

    @pytest.mark.parametrize(("n", "images"), [(2.0, 2), (1.0, 1), (10.0, 10)])
    def test_a_whole_number_with_a_fraction_is_that_integer(self, n: float, images: int) -> None:
        # The platform's schema types n as integer; JSON Schema counts 2.0 as the integer 2.
        report = check(gen("dall-e-2", n=n))
        assert report.ok
        assert report.images == images
        assert type(report.effective["n"]) is int

    def test_a_whole_float_out_of_range_is_out_of_range(self) -> None:
        assert codes(check(gen("dall-e-2", n=11.0))) == [("n", "out_of_range")]
        assert codes(check(gen("gpt-image-1", output_format="jpeg", output_compression=101.0))) == [
            ("output_compression", "out_of_range")
        ]

    def test_out_of_range_cites_the_platform_range_not_the_model_note(self) -> None:
        # gpt-image-2's n entry says "silently ignored"; an error must not cite that.
        finding = check(gen("gpt-image-2", n=11)).errors[0]
        assert finding.code == "out_of_range"
        assert "silently" not in finding.source
        assert "n ranges from 1 to 10" in finding.source
        typed = check(gen("gpt-image-2", n="2")).errors[0]
        assert typed.code == "wrong_type"
        assert "silently" not in typed.source

    def test_dall_e_3_only_supports_1(self) -> None:
        assert check(gen("dall-e-3", n=1)).ok
        assert codes(check(gen("dall-e-3", n=2))) == [("n", "above_model_limit")]
        assert codes(check(gen("dall-e-3", n=11))) == [("n", "out_of_range")]

    @pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-1.5", "gpt-image-2"])
    def test_gpt_image_downgrades_n_to_1_and_bills_1(self, model: str) -> None:
        report = check(gen(model, n=10))
        assert report.ok
        assert codes(report, "ignored") == [("n", "downgraded")]
        assert "concurrent" in report.ignored[0].message
        assert report.effective["n"] == 1
        assert report.images == 1

    def test_gpt_image_n_1_is_honoured_not_ignored(self) -> None:
        report = check(gen("gpt-image-2", n=1))
        assert report.ignored == ()

    def test_gpt_image_still_validates_n(self) -> None:
        assert codes(check(gen("gpt-image-2", n=11))) == [("n", "out_of_range")]
        assert codes(check(gen("gpt-image-2", n=True))) == [("n", "wrong_type")]

    @pytest.mark.parametrize("n", [1, 5, 11, True, "many", None])
    def test_nano_banana_drops_n_without_validating_it(self, n: object) -> None:
        report = check(gen("nano-banana", n=n))
        assert report.ok
        assert report.images == 1
        if n is not None:
            assert codes(report, "ignored") == [("n", "dropped")]


class TestChoices:
    """acedata-api-reference: quality, style, response_format, background, moderation, output_format per model."""

    @pytest.mark.parametrize(
        ("model", "param", "good", "bad"),
        [
            ("dall-e-2", "quality", "standard", "hd"),
            ("dall-e-3", "quality", "hd", "high"),
            ("gpt-image-1", "quality", "medium", "hd"),
            ("gpt-image-2", "quality", "low", "standard"),
            ("dall-e-3", "style", "natural", "vivid "),
            ("dall-e-2", "response_format", "b64_json", "base64"),
            ("gpt-image-2", "background", "transparent", "clear"),
            ("gpt-image-2", "moderation", "low", "off"),
            ("gpt-image-1.5", "output_format", "webp", "gif"),
        ],
    )
    def test_allowed_and_not_allowed_values(self, model: str, param: str, good: str, bad: str) -> None:
        assert check(gen(model, **{param: good})).ok
        report = check(gen(model, **{param: bad}))
        assert codes(report) == [(param, "not_allowed")]
        assert good in report.errors[0].message  # the message names the allowed values

    def test_choice_values_are_case_sensitive_strings(self) -> None:
        assert codes(check(gen("dall-e-3", quality="HD"))) == [("quality", "not_allowed")]
        assert codes(check(gen("dall-e-3", quality=1))) == [("quality", "wrong_type")]

    @pytest.mark.parametrize("value", ["url", "b64_json", "anything", 5])
    def test_gpt_image_overrides_response_format_to_base64(self, value: object) -> None:
        report = check(gen("gpt-image-1", response_format=value))
        assert report.ok
        assert codes(report, "ignored") == [("response_format", "overridden")]
        assert report.effective["response_format"] == "b64_json"

    @pytest.mark.parametrize("value", ["url", "b64_json"])
    def test_gpt_image_2_response_format_is_disputed_not_asserted(self, value: str) -> None:
        # The seeds disagree: base64 always (API reference) or hosted URLs (the gpt-image-2 guides).
        report = check(gen("gpt-image-2", response_format=value))
        assert report.ok
        assert codes(report, "ignored") == []
        assert ("response_format", "sources_disagree") in codes(report, "warnings")
        assert report.effective["response_format"] == value
        assert codes(check(gen("gpt-image-2", response_format="png"))) == [("response_format", "not_allowed")]

    @pytest.mark.parametrize(
        ("model", "param", "value"),
        [
            ("dall-e-2", "style", "vivid"),
            ("gpt-image-2", "style", "vivid"),
            ("dall-e-3", "background", "transparent"),
            ("dall-e-2", "output_format", "png"),
            ("dall-e-3", "moderation", "low"),
            ("dall-e-3", "partial_images", 2),
            ("dall-e-2", "output_compression", 50),
        ],
    )
    def test_parameters_a_model_does_not_take_are_dropped(self, model: str, param: str, value: object) -> None:
        report = check(gen(model, **{param: value}))
        assert report.ok
        assert codes(report, "ignored") == [(param, "dropped")]
        assert param not in report.effective

    def test_dropped_parameters_are_not_validated(self) -> None:
        report = check(gen("dall-e-3", background=12345))
        assert report.ok
        assert codes(report, "ignored") == [("background", "dropped")]


class TestGptImageOutputOptions:
    """acedata-api-reference: output_compression 0-100 for jpeg/webp; partial_images 0-3; transparent wants png/webp."""

    @pytest.mark.parametrize(("value", "ok"), [(0, True), (100, True), (101, False), (-1, False)])
    def test_output_compression_range(self, value: int, ok: bool) -> None:
        assert check(gen("gpt-image-2", output_format="jpeg", output_compression=value)).ok is ok

    @pytest.mark.parametrize(("value", "ok"), [(0, True), (3, True), (4, False)])
    def test_partial_images_range(self, value: int, ok: bool) -> None:
        assert check(gen("gpt-image-1", partial_images=value)).ok is ok

    def test_compression_with_png_output_is_unused(self) -> None:
        report = check(gen("gpt-image-2", output_compression=50))
        assert report.ok
        assert codes(report, "ignored") == [("output_compression", "unused")]
        assert "output_compression" not in report.effective

    def test_compression_with_webp_is_honoured(self) -> None:
        report = check(gen("gpt-image-2", output_format="webp", output_compression=50))
        assert report.ignored == ()
        assert report.effective["output_compression"] == 50

    def test_transparent_background_with_jpeg_warns(self) -> None:
        report = check(gen("gpt-image-1", background="transparent", output_format="jpeg"))
        assert report.ok
        assert advice(report) == [("background", "transparent_needs_alpha")]
        assert advice(check(gen("gpt-image-1", background="transparent", output_format="webp"))) == []


class TestPlatformParameters:
    """SPEC.md: callback_url and async are kept for every model; the platform handles them."""

    @pytest.mark.parametrize("model", ["nano-banana", "dall-e-3", "gpt-image-2"])
    def test_callback_url_and_async_are_kept_for_every_model(self, model: str) -> None:
        report = check(gen(model, callback_url="https://hooks.example.com/x", **{"async": True}))
        assert report.ok
        assert report.ignored == ()
        assert report.effective["async"] is True

    @pytest.mark.parametrize("url", ["not a url", "ftp://example.com/x", "/relative", "", "https://example.com/\n"])
    def test_an_unusable_callback_url_is_a_warning_under_the_basic_policy(self, url: str) -> None:
        # Decision (issue 20): the platform's schema takes any string; nothing says it refuses one.
        report = check(gen("nano-banana", callback_url=url))
        assert report.ok
        assert ("callback_url", "callback_unusable") in codes(report, "warnings")
        strict = check(gen("nano-banana", callback_url=url), url_policy="strict")
        assert not strict.ok
        assert all(param == "callback_url" and code.startswith("url_") for param, code in codes(strict))

    def test_callback_url_is_checked_even_for_an_unknown_model(self) -> None:
        report = check({"model": "x", "prompt": "p", "callback_url": "ftp://x"})
        assert ("callback_url", "callback_unusable") in codes(report, "warnings")
        assert ("callback_url", "url_scheme") in codes(
            check({"model": "x", "prompt": "p", "callback_url": "ftp://x"}, url_policy="strict")
        )

    @pytest.mark.parametrize("value", ["true", 1, 0, "yes"])
    def test_async_must_be_a_boolean(self, value: object) -> None:
        assert codes(check(gen("dall-e-2", **{"async": value}))) == [("async", "wrong_type")]

    def test_strict_url_policy_flags_private_addresses(self) -> None:
        request = gen("dall-e-2", callback_url="http://169.254.169.254/latest/meta-data")
        assert check(request).ok
        strict = check(request, url_policy="strict")
        assert ("callback_url", "url_metadata") in codes(strict)


class TestAdvice:
    """xhuoapi-generations: gpt-image-2 takes 60-90 s, 4K 4-8 minutes: suggest callback_url/async.
    A 1K request may come back at 1254x1254 / 1672x941 / 941x1672."""

    def test_gpt_image_2_without_callback_gets_advice(self) -> None:
        assert advice(check(gen("gpt-image-2"))) == [(None, "suggest_async")]

    @pytest.mark.parametrize("extra", [{"callback_url": "https://example.com/hook"}, {"async": True}])
    def test_no_advice_with_callback_or_async(self, extra: dict[str, object]) -> None:
        assert advice(check(gen("gpt-image-2", **extra))) == []

    def test_async_false_still_gets_advice(self) -> None:
        assert advice(check(gen("gpt-image-2", **{"async": False}))) == [(None, "suggest_async")]

    def test_other_models_get_no_latency_advice(self) -> None:
        assert advice(check(gen("gpt-image-1"))) == []

    @pytest.mark.parametrize(
        ("size", "alias"), [("1024x1024", "1254x1254"), ("1792x1024", "1672x941"), ("1024x1792", "941x1672")]
    )
    def test_1k_request_may_come_back_at_an_alias(self, size: str, alias: str) -> None:
        report = check(gen("gpt-image-2", size=size, **{"async": True}))
        assert advice(report) == [("size", "size_may_return_alias")]
        assert alias in report.warnings[0].message


class TestFixedSizes:
    """acedata-api-reference: dall-e-2 256/512/1024 squares; dall-e-3 1024x1024, 1792x1024, 1024x1792;
    gpt-image-1 (OpenAI API reference) 1024x1024, 1536x1024, 1024x1536; auto or empty for all."""

    @pytest.mark.parametrize(
        ("model", "size", "ok"),
        [
            ("dall-e-2", "256x256", True),
            ("dall-e-2", "512x512", True),
            ("dall-e-2", "1792x1024", False),
            ("dall-e-3", "1792x1024", True),
            ("dall-e-3", "512x512", False),
            ("gpt-image-1", "1536x1024", True),
            ("gpt-image-1", "1792x1024", False),
            ("gpt-image-1.5", "2048x2048", False),
            ("dall-e-2", "auto", True),
            ("dall-e-2", "", True),
            ("dall-e-3", "1024x1024\n", False),
        ],
    )
    def test_fixed_size_sets(self, model: str, size: str, ok: bool) -> None:
        report = check(gen(model, size=size))
        assert report.ok is ok
        if not ok:
            assert codes(report) == [("size", "size_not_supported")]

    def test_auto_uses_the_model_default(self) -> None:
        assert check(gen("dall-e-2", size="auto")).effective["size"] == "1024x1024"
        assert check(gen("gpt-image-1", size="")).effective["size"] == "auto"

    @pytest.mark.parametrize("size", [1024, ["1024x1024"], True])
    def test_size_must_be_a_string(self, size: object) -> None:
        assert codes(check(gen("dall-e-2", size=size))) == [("size", "wrong_type")]


class TestNanoBanana:
    """acedata-generations-guide + xhuoapi-edits: the adapter honours model, prompt, size (generations)
    and model, prompt, image
    (edits); size maps to an aspect ratio, unlisted sizes degrade to 1:1; the rest is dropped."""

    @pytest.mark.parametrize(
        ("size", "ratio"),
        [("1024x1024", "1:1"), ("512x512", "1:1"), ("256x256", "1:1"), ("1792x1024", "16:9"), ("1024x1792", "9:16")],
    )
    def test_size_maps_to_aspect_ratio(self, size: str, ratio: str) -> None:
        report = check(gen("nano-banana-2", size=size))
        assert report.ok
        assert report.effective["aspect_ratio"] == ratio
        assert report.warnings == ()

    @pytest.mark.parametrize("size", ["2048x2048", "1536x1024", "whatever"])
    def test_other_sizes_degrade_to_square_with_a_warning(self, size: str) -> None:
        report = check(gen("nano-banana-pro", size=size))
        assert report.ok
        assert report.effective["aspect_ratio"] == "1:1"
        assert codes(report, "warnings") == [("size", "aspect_fallback")]

    def test_omitted_size_is_square_without_warning(self) -> None:
        report = check(gen("nano-banana"))
        assert report.effective["aspect_ratio"] == "1:1"
        assert report.warnings == ()

    def test_everything_else_is_dropped_unvalidated_one_finding_each(self) -> None:
        junk = {"quality": "ultra", "style": 3, "response_format": None, "background": [], "output_format": "tiff"}
        report = check(gen("nano-banana", **junk))
        assert report.ok
        # null response_format counts as omitted, so it is not reported
        assert codes(report, "ignored") == [(k, "dropped") for k in ("quality", "style", "background", "output_format")]

    def test_edits_drop_mask_n_size_response_format(self) -> None:
        report = check(
            edit("nano-banana", mask="https://example.com/m.png", n=3, size="1792x1024", response_format="url"),
            endpoint="edits",
        )
        assert report.ok
        assert codes(report, "ignored") == [(p, "dropped") for p in ("mask", "n", "size", "response_format")]
        assert "aspect_ratio" not in report.effective


class TestEditsImages:
    """xhuoapi-edits: gpt-image-2 takes one URL or an array of up to 16; dall-e-2 one image (OpenAI API
    reference); nano-banana one URL."""

    def test_image_is_required_on_edits(self) -> None:
        assert codes(check({"model": "gpt-image-2", "prompt": "p"}, endpoint="edits")) == [("image", "missing")]

    def test_up_to_16_urls(self) -> None:
        urls = [f"https://example.com/{i}.png" for i in range(16)]
        assert check(edit("gpt-image-2", image=urls), endpoint="edits").ok
        report = check(edit("gpt-image-2", image=[*urls, "https://example.com/17.png"]), endpoint="edits")
        assert codes(report) == [("image", "too_many_items")]

    @pytest.mark.parametrize("model", ["dall-e-2", "nano-banana", "nano-banana-pro"])
    def test_several_images_for_a_one_image_model_are_disputed(self, model: str) -> None:
        # One image per OpenAI (dall-e-2) or the edits seed (nano-banana); up to 16 per the platform's schema.
        two = ["https://a.example/1.png", "https://a.example/2.png"]
        report = check(edit(model, image=two), endpoint="edits")
        assert report.ok
        assert ("image", "sources_disagree") in codes(report, "warnings")
        seventeen = [f"https://a.example/{i}.png" for i in range(17)]
        assert codes(check(edit(model, image=seventeen), endpoint="edits")) == [("image", "too_many_items")]

    @pytest.mark.parametrize(("image", "code"), [([], "empty"), (5, "wrong_type"), ({"url": "x"}, "wrong_type")])
    def test_image_shape(self, image: object, code: str) -> None:
        assert codes(check(edit("gpt-image-2", image=image), endpoint="edits")) == [("image", code)]

    def test_bad_items_carry_their_index_in_the_path(self) -> None:
        report = check(edit("gpt-image-2", image=["https://example.com/a.png", 7, "nope"]), endpoint="edits")
        assert [f.path for f in report.errors] == ["$.image[1]", "$.image[2]"]

    def test_a_huge_array_yields_bounded_findings(self) -> None:
        report = check(edit("gpt-image-2", image=[1] * 100_000), endpoint="edits")
        assert not report.ok
        assert len(report.errors) <= 25
        assert report.errors[-1].code == "more_problems"

    def test_edits_tier_depends_only_on_requested_size(self) -> None:
        report = check(edit("gpt-image-2", size="2048x2048"), endpoint="edits")
        assert report.tier == "other"


class TestFindingsAreWellFormed:
    def test_every_finding_has_a_registered_code_message_and_source(self) -> None:
        from imagepricing import CODES

        report = check(gen("nano-banana", quality="x", n=4, size="9x9", callback_url="nope"))
        for finding in (*report.errors, *report.ignored, *report.warnings):
            assert finding.code in CODES
            assert finding.message.endswith((".", ")"))
            assert finding.source

    def test_ok_is_exactly_no_errors(self) -> None:
        assert check(gen("dall-e-2", n=0)).ok is False
        assert check(gen("dall-e-2", seed=1)).ok is True


class TestSourcesDisagree:
    """Where the sources we cite disagree, the request is accepted and a warning names both sides."""

    @pytest.mark.parametrize("model", ["dall-e-2", "dall-e-3"])
    def test_quality_auto_on_dall_e(self, model: str) -> None:
        # The platform's own OpenAPI example sends quality auto with dall-e-2; the seeds list standard (and hd).
        report = check(gen(model, quality="auto"))
        assert report.ok
        [warning] = [f for f in report.warnings if f.code == "sources_disagree"]
        assert warning.param == "quality"
        assert "AceDataCloud/Docs" in warning.source
        assert "OpenAI Images Generations API" in warning.source
        assert codes(check(gen(model, quality="best"))) == [("quality", "not_allowed")]

    def test_the_platform_openapi_example_is_accepted(self) -> None:
        example = {
            "prompt": "A cute baby sea otter",
            "model": "dall-e-2",
            "n": 1,
            "size": "1024x1024",
            "quality": "auto",
            "response_format": "url",
            "style": "vivid",
        }
        assert check(example).ok

    @pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-1.5", "gpt-image-2"])
    def test_quality_standard_on_gpt_image_edits(self, model: str) -> None:
        report = check(edit(model, quality="standard"), endpoint="edits")
        assert report.ok
        assert ("quality", "sources_disagree") in codes(report, "warnings")
        # On generations no source gives GPT image models standard.
        assert codes(check(gen(model, quality="standard"))) == [("quality", "not_allowed")]

    @pytest.mark.parametrize("endpoint", ["generations", "edits"])
    def test_gpt_image_2_transparent_background(self, endpoint: str) -> None:
        request = (
            edit("gpt-image-2", background="transparent")
            if endpoint == "edits"
            else gen("gpt-image-2", background="transparent")
        )
        report = check(request, endpoint=endpoint)
        assert report.ok
        [warning] = [f for f in report.warnings if f.code == "sources_disagree"]
        assert "Image generation guide" in warning.source
        assert check(gen("gpt-image-1", background="transparent")).warnings == () or all(
            f.code != "sources_disagree" for f in check(gen("gpt-image-1", background="transparent")).warnings
        )

    def test_gpt_image_2_input_fidelity(self) -> None:
        report = check(edit("gpt-image-2", input_fidelity="high"), endpoint="edits")
        assert report.ok
        assert ("input_fidelity", "sources_disagree") in codes(report, "warnings")
        assert all(
            f.code != "sources_disagree"
            for f in check(edit("gpt-image-1", input_fidelity="high"), endpoint="edits").warnings
        )

    def test_edits_without_model(self) -> None:
        report = check({"prompt": "add a leaf", "image": "https://example.com/apple.png"}, endpoint="edits")
        assert report.ok
        assert advice(report) == [("model", "sources_disagree")]
        assert report.cost is None
        # Checked against the platform's edits schema for its default model (issue 20): dall-e-3's
        # n is fixed at 1 (its range 1-10 makes that a downgrade), and the edits quality enum has no hd.
        strict = check({"prompt": "p", "image": "https://example.com/a.png", "n": 2, "quality": "hd"}, endpoint="edits")
        assert codes(strict) == [("quality", "not_allowed")]
        assert codes(strict, "ignored") == [("n", "downgraded")]
        assert codes(check({"prompt": "p", "image": "https://example.com/a.png", "n": 11}, endpoint="edits")) == [
            ("n", "out_of_range")
        ]
        assert strict.model is None
        assert strict.effective["model"] == "dall-e-3"
        # On generations the platform's schema and the seeds both require it.
        assert codes(check({"prompt": "x"})) == [("model", "missing")]


class TestKnownParameters:
    """OpenAI's own image parameters are known, not "not a parameter"."""

    @pytest.mark.parametrize(
        ("name", "value"), [("stream", True), ("user", "user-1234"), ("safety_identifier", "h-1"), ("seed", 7)]
    )
    def test_openai_parameters_are_undocumented_not_unknown(self, name: str, value: object) -> None:
        report = check(gen("gpt-image-1", **{name: value}))
        assert report.ok
        [finding] = report.ignored
        assert (finding.param, finding.code) == (name, "undocumented_parameter")
        assert "not a parameter" not in finding.message
        assert "https://" in finding.source

    def test_stream_and_user_on_edits(self) -> None:
        report = check(edit("gpt-image-1", stream=True, user="u"), endpoint="edits")
        assert codes(report, "ignored") == [("stream", "undocumented_parameter"), ("user", "undocumented_parameter")]

    def test_openai_json_edits_images_is_known(self) -> None:
        # OpenAI's JSON edits body says `images`; the platform takes `image`.
        report = check(
            {"model": "gpt-image-2", "prompt": "p", "images": [{"image_url": "https://a.example/1.png"}]},
            endpoint="edits",
        )
        assert codes(report) == [("image", "missing")]
        assert codes(report, "ignored") == [("images", "undocumented_parameter")]
        assert "send the URLs as image" in report.ignored[0].message

    def test_partial_images_without_stream_have_no_effect(self) -> None:
        report = check(gen("gpt-image-1", partial_images=2))
        assert report.ok
        assert ("partial_images", "unused") in codes(report, "ignored")
        assert "partial_images" not in report.effective
        streamed = check(gen("gpt-image-1", partial_images=2, stream=True))
        assert ("partial_images", "unused") not in codes(streamed, "ignored")
        assert streamed.effective["partial_images"] == 2
        assert ("partial_images", "unused") not in codes(check(gen("gpt-image-1", partial_images=0)), "ignored")
