"""Properties from the platform's published constraints, and hints that are right.

Facts (written here, not copied): the platform's OpenAPI spec (acedata-openapi) types the image
requests with these enums and ranges: quality auto, high, medium, low, hd, standard on generations
(auto, high, medium, low, standard on edits); n 1-10; output_compression 0-100; partial_images 0-3;
edits image up to 16 items for every model; size "auto" or WIDTHxHEIGHT. A request that meets them,
and that no seed forbids, must get no error from `check` (an error means upstream will certainly
reject). What the seeds forbid: a dall-e-3 n above 1, a quality the seeds list for no model of the
family (hd on a GPT image model), a size outside a fixed-size model's list, a gpt-image-2 size that
breaks its hard constraints, a prompt above a model's limit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagepricing import check, default_catalog, estimate
from imagepricing.cli import main
from imagepricing.strategies import gpt_image_2_sizes

CATALOG = default_catalog()
PLATFORM_MODELS = [
    "dall-e-2",
    "dall-e-3",
    "gpt-image-1",
    "gpt-image-1.5",
    "gpt-image-2",
    "gpt-image-2:reverse",
    "gpt-image-2:official",
    "nano-banana",
    "nano-banana-2-lite",
    "nano-banana-2",
    "nano-banana-pro",
]
GEN_QUALITY = ("auto", "high", "medium", "low", "hd", "standard")
EDIT_QUALITY = ("auto", "high", "medium", "low", "standard")
# The values the seeds give each family (acedata-api-reference: quality per model); auto is the
# platform's documented default for every model (acedata-openapi, acedata-mcp).
SEED_QUALITY = {
    "dall-e-2": {"standard", "auto"},
    "dall-e-3": {"standard", "hd", "auto"},
    "gpt-image": {"auto", "high", "medium", "low"},
}


def _family(model: str) -> str:
    return CATALOG.models[model].family


def _quality(model: str, endpoint: str) -> st.SearchStrategy[str]:
    enum = GEN_QUALITY if endpoint == "generations" else EDIT_QUALITY
    family = _family(model)
    if family == "nano-banana":
        return st.sampled_from(enum)  # the adapter drops quality without validating it
    allowed = SEED_QUALITY.get(model) or SEED_QUALITY[family]
    if family == "gpt-image" and endpoint == "edits":
        allowed = allowed | {"standard"}  # in the platform's edits enum: the sources disagree
    return st.sampled_from([q for q in enum if q in allowed])


def _size(model: str, endpoint: str) -> st.SearchStrategy[str]:
    capability = CATALOG.models[model].endpoints.get(endpoint)
    rule = capability.size_rule if capability is not None else None
    if rule is None or rule.aspect_map is not None:
        return st.sampled_from(["auto", "1024x1024", "1792x1024", "800x600", "2048x2048"])
    if rule.allowed is not None:
        return st.sampled_from(["auto", *rule.allowed_order])
    return st.one_of(st.just("auto"), gpt_image_2_sizes(model=model, endpoint=endpoint))


def _whole(low: int, high: int) -> st.SearchStrategy[object]:
    # An integer, or the same whole number written with a fraction (the platform's schema says integer).
    return st.integers(low, high).flatmap(lambda n: st.sampled_from([n, float(n)]))


@st.composite
def platform_requests(draw: st.DrawFn, endpoint: str) -> dict[str, Any]:
    model = draw(st.sampled_from(PLATFORM_MODELS))
    request: dict[str, Any] = {"prompt": draw(st.text(min_size=1, max_size=40).filter(str.strip))}
    optional: dict[str, st.SearchStrategy[object]] = {
        "n": st.just(1) if model == "dall-e-3" else _whole(1, 10),
        "quality": _quality(model, endpoint),
        "size": _size(model, endpoint),
        "response_format": st.sampled_from(["url", "b64_json"]),
        "background": st.sampled_from(["transparent", "opaque", "auto"]),
        "output_format": st.sampled_from(["png", "jpeg", "webp"]),
        "output_compression": _whole(0, 100),
        "callback_url": st.just("https://example.com/hook"),
        "async": st.booleans(),
    }
    if endpoint == "generations":
        optional |= {
            "style": st.sampled_from(["vivid", "natural"]),
            "moderation": st.sampled_from(["low", "auto"]),
            "partial_images": _whole(0, 3),
        }
    else:
        request["image"] = draw(
            st.one_of(
                st.just("https://example.com/0.png"),
                st.integers(1, 16).map(lambda k: [f"https://example.com/{i}.png" for i in range(k)]),
            )
        )
        optional["input_fidelity"] = st.sampled_from(["high", "low"])
    for name, strategy in optional.items():
        if draw(st.booleans()):
            request[name] = draw(strategy)
    # The platform's edits schema makes model optional; generations require it.
    if endpoint == "generations" or draw(st.integers(0, 9)) > 0:
        request["model"] = model
    return request


class TestPlatformConstraints:
    """acedata-openapi: a request within the platform's published constraints that no seed forbids is not an error."""

    @pytest.mark.parametrize("endpoint", ["generations", "edits"])
    @given(data=st.data())
    def test_no_error(self, endpoint: str, data: st.DataObject) -> None:
        request = data.draw(platform_requests(endpoint))
        report = check(request, endpoint=endpoint)
        assert report.errors == (), (request, [(f.param, f.code, f.message) for f in report.errors])


_SIZE_IN_TEXT = re.compile(r"\b([0-9]+)x([0-9]+)\b")


class TestSizeHints:
    """A size a finding suggests passes every rule (5000x1000 once suggested 4992x992, itself rejected)."""

    @pytest.mark.parametrize(
        ("size", "suggested"),
        [("5000x1000", "3840x1280"), ("800x600", "928x720"), ("3850x2000", "3840x2000"), ("2890x2890", "2880x2880")],
    )
    def test_known_cases(self, size: str, suggested: str) -> None:
        report = check({"model": "gpt-image-2", "prompt": "p", "size": size})
        assert f"nearest accepted size: {suggested}" in report.errors[0].message
        assert check({"model": "gpt-image-2", "prompt": "p", "size": suggested}).ok

    @given(width=st.integers(1, 20_000), height=st.integers(1, 20_000))
    def test_every_size_named_in_a_size_finding_is_accepted(self, width: int, height: int) -> None:
        asked = f"{width}x{height}"
        report = check({"model": "gpt-image-2", "prompt": "p", "size": asked})
        for finding in (*report.errors, *report.warnings):
            if finding.param != "size":
                continue
            for w, h in _SIZE_IN_TEXT.findall(finding.message):
                named = f"{w}x{h}"
                if named != asked:
                    assert check({"model": "gpt-image-2", "prompt": "p", "size": named}).ok, (asked, finding.message)


class TestMessages:
    def test_no_url_message_demands_https_under_the_basic_policy(self) -> None:
        for url in ("//example.com/h", "example.com:8080/h", "example.com/h"):
            report = check({"model": "dall-e-3", "prompt": "p", "callback_url": url})
            unusable = [f for f in report.warnings if f.code == "callback_unusable"]
            assert unusable
            assert all("must start with https://" not in f.message for f in unusable)
        assert check({"model": "dall-e-3", "prompt": "p", "callback_url": "http://example.com/h"}).ok


class TestMessageGrammar:
    """Messages a person reads say it right: no "at at", no "price price", "1 request has", per-call prices."""

    def test_a_control_character_is_reported_once_with_at(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        log.write_text('{"model": "dall-e-2", "prompt": "a\x01b"}\n', encoding="utf-8")
        assert main(["check", str(log)]) != 0
        err = capsys.readouterr().err
        assert "Invalid control character at line 1" in err
        assert "at at" not in err
        result = estimate([log.read_text(encoding="utf-8")])
        [bad] = result.bad_lines
        assert "at at" not in bad.reason
        assert bad.reason.startswith("not JSON: Invalid control character at column")

    def test_unknown_price_message_names_the_book_once(self) -> None:
        report = check({"model": "gpt-image-1", "prompt": "p", "quality": "auto"}, provider="openai")
        [warning] = [f for f in report.warnings if f.code == "price_unknown"]
        assert "prices price" not in warning.message
        assert warning.message.startswith("OpenAI list prices has no charged price for gpt-image-1")

    def test_one_unknown_price_has(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = tmp_path / "log.jsonl"
        log.write_text('{"model": "dall-e-2", "prompt": "p"}\n', encoding="utf-8")
        main(["estimate", str(log)])
        out = capsys.readouterr().out
        assert "1 accepted request has no known price" in out

    def test_a_per_call_price_is_not_shown_per_image(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        request = tmp_path / "r.json"
        request.write_text('{"model": "nano-banana", "prompt": "p"}', encoding="utf-8")
        main(["check", str(request)])
        out = capsys.readouterr().out
        assert "0.14 per call" in out
        assert "image x 0.14" not in out
