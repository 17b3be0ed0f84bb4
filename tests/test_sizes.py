"""Size parsing and the gpt-image-2 size constraints (xhuoapi-generations, SPEC.md Sizes)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagepricing import check
from imagepricing.sizes import parse_size


class TestParseSize:
    """xhuoapi-generations: size must match WIDTHxHEIGHT; any other format returns 400. ASCII digits, lowercase x."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1024x1024", (1024, 1024)),
            ("16x16", (16, 16)),
            ("0x0", (0, 0)),
            ("01024x1024", (1024, 1024)),
        ],
    )
    def test_accepts_ascii_width_x_height(self, text: str, expected: tuple[int, int]) -> None:
        size = parse_size(text)
        assert size is not None
        assert (size.width, size.height) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "1024x1024\n",  # a `$` anchor would let this through
            "\n1024x1024",
            " 1024x1024",
            "1024x1024 ",
            "1024 x 1024",
            "1024X1024",
            "１０２４x１０２４",  # full-width digits: int() would accept them
            "1024×1024",  # multiplication sign
            "١٠٢٤x١٠٢٤",  # Arabic-Indic digits
            "1024x",
            "x1024",
            "1024",
            "auto",
            "",
            "1024x1024x1024",
            "+1024x1024",
            "-16x16",
            "1_024x1024",
            "1024.0x1024",
        ],
    )
    def test_rejects_anything_else(self, text: str) -> None:
        assert parse_size(text) is None

    def test_huge_sides_are_not_converted_digit_by_digit(self) -> None:
        # int() raises past 4,300 digits; a hostile size must still parse to "too large".
        size = parse_size("9" * 100_000 + "x16")
        assert size is not None
        assert size.width >= 10**9


def _gpt2(size: str) -> list[str]:
    report = check({"model": "gpt-image-2", "prompt": "p", "size": size})
    return [f.code for f in report.errors]


def _disputed(size: str) -> list[str | None]:
    report = check({"model": "gpt-image-2", "prompt": "p", "size": size})
    return [f.param for f in report.warnings if f.code == "sources_disagree"]


class TestGptImage2Constraints:
    """xhuoapi-generations: multiples of 16, longer side <= 3840, total pixels <= 8,294,400 (all 4xx upstream).
    SPEC.md public facts: total pixels >= 655,360 and long:short <= 3:1."""

    @pytest.mark.parametrize(
        "size",
        ["3840x2160", "2160x3840", "2880x2880", "3264x2448", "2048x2048", "1024x1024", "1536x1024", "816x816"],
    )
    def test_accepts_sizes_within_every_limit(self, size: str) -> None:
        assert _gpt2(size) == []

    def test_longer_side_exactly_3840_passes_and_3856_fails(self) -> None:
        assert _gpt2("3840x1280") == []
        assert "size_side_too_long" in _gpt2("3856x1296")

    def test_pixels_exactly_at_cap_pass_and_one_step_over_fail(self) -> None:
        assert 2880 * 2880 == 8_294_400
        assert _gpt2("2880x2880") == []
        assert _gpt2("2896x2880") == ["size_too_many_pixels"]

    @pytest.mark.parametrize("size", ["1000x1008", "1008x1000", "1025x1024", "800x600"])
    def test_sides_must_be_multiples_of_16(self, size: str) -> None:
        assert "size_not_multiple" in _gpt2(size)

    def test_not_multiple_message_names_the_nearest_valid_size(self) -> None:
        report = check({"model": "gpt-image-2", "prompt": "p", "size": "1010x1010"})
        assert "1008x1008" in report.errors[0].message

    @pytest.mark.parametrize("size", ["1254x1254", "1672x941", "941x1672"])
    def test_1k_aliases_pass_although_not_multiples_of_16(self, size: str) -> None:
        assert _gpt2(size) == []

    def test_alias_like_sizes_that_are_not_aliases_fail(self) -> None:
        assert "size_not_multiple" in _gpt2("1254x1255")
        assert "size_not_multiple" in _gpt2("941x1673")

    def test_minimum_pixels_is_disputed(self) -> None:
        # Issue 20: OpenAI's limit and the platform's later guides against its specs and web app.
        assert 1024 * 640 == 655_360
        assert _gpt2("1024x640") == []
        assert _gpt2("1008x640") == []
        assert _disputed("1008x640") == ["size"]
        assert _disputed("1024x640") == []

    def test_aspect_ratio_is_disputed(self) -> None:
        assert _gpt2("3072x1024") == []
        assert _gpt2("3088x1024") == []
        assert _disputed("3088x1024") == ["size"]
        assert _disputed("1024x3088") == ["size"]
        assert _disputed("3072x1024") == []

    def test_zero_side(self) -> None:
        assert _gpt2("0x1024") == ["size_not_positive"]

    def test_every_broken_limit_is_reported(self) -> None:
        assert set(_gpt2("4001x4001")) == {"size_not_multiple", "size_side_too_long", "size_too_many_pixels"}

    @pytest.mark.parametrize("size", ["1024x1024\n", "1024X1024", "１０２４x１０２４", "big", "1024*1024", " auto"])
    def test_bad_format_is_a_400(self, size: str) -> None:
        assert _gpt2(size) == ["size_format"]

    def test_huge_numbers_are_a_finding_not_an_exception(self) -> None:
        codes = _gpt2("9" * 5000 + "x" + "9" * 5000)
        assert "size_side_too_long" in codes


class TestOversizeSides:
    """Sides beyond 9 significant digits are judged without building huge integers, exactly."""

    def test_leading_zeros_do_not_count_towards_the_digit_bound(self) -> None:
        assert parse_size("0000001024x1024") == parse_size("1024x1024")

    @pytest.mark.parametrize(
        ("digits", "mod16", "mod7"),
        [
            ("9" * 20 + "7", 13, int("9" * 20 + "7") % 7),
            ("1" + "0" * 5000, 0, pow(10, 5000, 7)),  # 10**5000
            ("9" * 200_000, 15, (pow(10, 200_000, 7) - 1) % 7),  # 10**200000 - 1
        ],
    )
    def test_remainders_of_oversize_sides_are_exact(self, digits: str, mod16: int, mod7: int) -> None:
        size = parse_size(f"{digits}x16")
        assert size is not None
        assert size.remainders(16) == (mod16, 0)
        assert size.remainders(7) == (mod7, 2)

    def test_huge_odd_side_is_not_a_multiple_of_16(self) -> None:
        assert set(_gpt2("99999999999x16")) == {"size_not_multiple", "size_side_too_long", "size_too_many_pixels"}

    def test_huge_multiple_of_16_is_only_too_large(self) -> None:
        assert "size_not_multiple" not in _gpt2("1" + "0" * 30 + "x16")

    def test_messages_show_the_length_of_an_oversize_side_not_its_digits(self) -> None:
        report = check({"model": "gpt-image-2", "prompt": "p", "size": "9" * 5000 + "x16"})
        assert all("9999999" not in f.message for f in report.errors)
        assert any("<5,000 digits>" in f.message for f in report.errors)


# parse_size accepts exactly what the regular expression ([0-9]+)x([0-9]+) fully matches: it is
# written in str methods (no `re` on a valid check's path), so the two are held equal here, on
# text drawn around the edges: other scripts' digits, superscripts, full-width digits and x,
# an upper-case X, a second x, signs, spaces and newlines.
_SIZE_ALPHABET = "0123456789xX×ｘ١٢²³０９ +-.\n\t\u200b"


@given(st.text(alphabet=_SIZE_ALPHABET, max_size=12) | st.from_regex(r"[0-9]{1,12}x[0-9]{1,12}", fullmatch=True))
def test_parse_size_accepts_what_the_regular_expression_matches(text: str) -> None:
    matched = re.fullmatch(r"([0-9]+)x([0-9]+)", text)
    parsed = parse_size(text)
    assert (parsed is not None) == (matched is not None)
    if matched is not None and parsed is not None and parsed.oversize_digits == (None, None):
        assert (parsed.width, parsed.height) == (int(matched.group(1)), int(matched.group(2)))
