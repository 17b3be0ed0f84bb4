"""Money is computed in the library's own exact decimal context, whatever the caller's (issue 10, item 3).

A caller may lower the precision of the thread's decimal context, set traps, or shrink the exponent
range; none of it may change a cost, make `check` raise, or change how an amount is written.
`with_price` takes a `Decimal` on the same terms as a string: plain, non-negative, finite.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from imagepricing import Catalog, check, load_catalog
from imagepricing.estimation import estimate


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def hostile_context() -> Iterator[decimal.Context]:
    """The caller's context: 1 digit, every trap set, a tiny exponent range."""
    with decimal.localcontext() as ctx:
        ctx.prec = 1
        ctx.Emax = 2
        ctx.Emin = -2
        for signal in (decimal.Inexact, decimal.Rounded, decimal.Overflow, decimal.Underflow, decimal.Subnormal):
            ctx.traps[signal] = True
        yield ctx


DALL_E_2 = {"model": "dall-e-2", "prompt": "p", "n": 7}


def test_cost_ignores_the_callers_precision(hostile_context: decimal.Context) -> None:
    report = check(DALL_E_2, provider="openai")
    assert report.cost == Decimal("0.14")
    assert report.to_dict()["cost"] == "0.14"


def test_the_callers_context_is_left_as_it_was(hostile_context: decimal.Context) -> None:
    check(DALL_E_2, provider="openai")
    assert decimal.getcontext().prec == 1
    assert decimal.getcontext().traps[decimal.Inexact]


@pytest.mark.parametrize("prec", [1, 2, 3, 28])
def test_every_model_and_provider_prices_alike_in_any_context(catalog: Catalog, prec: int) -> None:
    requests = [
        ("generations", "openai", {"model": "dall-e-3", "prompt": "p", "quality": "hd", "size": "1792x1024"}),
        ("generations", "acedata", {"model": "nano-banana-pro", "prompt": "p"}),
        ("generations", "acedata", {"model": "gpt-image-2", "prompt": "p", "size": "3840x2160"}),
    ]
    expected = [check(r, e, p, catalog).to_dict() for e, p, r in requests]
    with decimal.localcontext() as ctx:
        ctx.prec = prec
        ctx.traps[decimal.Inexact] = True
        ctx.traps[decimal.Rounded] = True
        assert [check(r, e, p, catalog).to_dict() for e, p, r in requests] == expected


class TestWithPriceDecimal:
    @pytest.mark.parametrize(
        "amount",
        [
            Decimal("1E+5"),
            Decimal("-0"),
            Decimal("-0.00"),
            Decimal("9E+999999999"),
            Decimal("1E+1"),
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            Decimal("-1"),
            Decimal("1E-1001"),
            Decimal("1" * 1001),
        ],
    )
    def test_refuses_what_a_string_may_not_say(self, catalog: Catalog, amount: Decimal) -> None:
        with pytest.raises(ValueError, match="price"):
            catalog.with_price("xhuoapi", "gpt-image-2", amount)

    @pytest.mark.parametrize(
        "text",
        ["1E+5", "-0", "1e5", " 1", "1 ", "+1", "0x1", "1_000", "١", "1.", ".5", "1" * 1001, "0." + "0" * 1000 + "1"],
    )
    def test_refuses_the_same_strings(self, catalog: Catalog, text: str) -> None:
        with pytest.raises(ValueError, match="price"):
            catalog.with_price("xhuoapi", "gpt-image-2", text)

    @pytest.mark.parametrize(
        ("amount", "written"),
        [
            (Decimal("0.20"), "0.20"),
            (Decimal("0"), "0"),
            (Decimal("100000"), "100000"),
            (Decimal("0.00000010"), "0.00000010"),
            (7, "7"),
            ("0.0000001", "0.0000001"),
        ],
    )
    def test_accepts_plain_amounts_and_writes_them_plainly(
        self, catalog: Catalog, amount: Decimal | int | str, written: str
    ) -> None:
        priced = catalog.with_price("xhuoapi", "gpt-image-2", amount)
        report = check({"model": "gpt-image-2", "prompt": "p"}, provider="xhuoapi", catalog=priced)
        assert report.to_dict()["unit_price"] == written

    def test_decimal_and_string_are_equivalent(self, catalog: Catalog) -> None:
        for text in ["0.2", "12.345", "0", "1000000000000000000000000000000000001"]:
            a = check(
                {"model": "gpt-image-2", "prompt": "p"},
                provider="xhuoapi",
                catalog=catalog.with_price("xhuoapi", "gpt-image-2", text),
            )
            b = check(
                {"model": "gpt-image-2", "prompt": "p"},
                provider="xhuoapi",
                catalog=catalog.with_price("xhuoapi", "gpt-image-2", Decimal(text)),
            )
            assert a.to_dict() == b.to_dict()


class TestExactBeyondTwentyEightDigits:
    BIG = "1111111111111111111111111111111.5"  # 32 digits

    def test_other_tier_multiplier_is_exact(self, catalog: Catalog) -> None:
        priced = catalog.with_price("xhuoapi", "gpt-image-2", self.BIG)
        report = check({"model": "gpt-image-2", "prompt": "p", "size": "3840x2160"}, provider="xhuoapi", catalog=priced)
        assert report.multiplier == Decimal("1.5")
        assert report.cost == Decimal("1666666666666666666666666666667.25")
        assert report.to_dict()["cost"] == "1666666666666666666666666666667.25"

    def test_to_dict_is_plain_notation(self, catalog: Catalog) -> None:
        tiny = "0." + "0" * 60 + "1"
        priced = catalog.with_price("xhuoapi", "gpt-image-2", tiny)
        out: dict[str, Any] = check(
            {"model": "gpt-image-2", "prompt": "p", "size": "3840x2160"}, provider="xhuoapi", catalog=priced
        ).to_dict()
        assert out["unit_price"] == tiny
        assert out["cost"] == "0." + "0" * 60 + "15"
        for key in ("unit_price", "cost", "multiplier"):
            assert "E" not in out[key]
            assert "e" not in out[key]
        json.dumps(out)

    def test_cli_json_is_plain_notation(self, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
        from imagepricing.cli import main

        tiny = "0." + "0" * 60 + "1"
        request = tmp_path / "r.json"
        request.write_text(json.dumps({"model": "gpt-image-2", "prompt": "p", "size": "3840x2160"}))
        code = main(
            ["check", "--provider", "xhuoapi", "--price", f"xhuoapi:gpt-image-2={tiny}", "--json", str(request)]
        )
        out = json.loads(capsys.readouterr().out)
        assert code == 0
        assert out["cost"] == "0." + "0" * 60 + "15"


def test_estimate_sums_are_exact_in_any_context(catalog: Catalog, hostile_context: decimal.Context) -> None:
    lines = [json.dumps(DALL_E_2)] * 3
    result = estimate(lines, provider="openai", catalog=catalog)
    assert result.totals.cost["USD"] == Decimal("0.42")


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "html"])
def test_estimate_renders_in_any_context(catalog: Catalog, hostile_context: decimal.Context, fmt: str) -> None:
    from imagepricing.cli._estimate import render

    lines = [json.dumps(DALL_E_2), json.dumps({"model": "dall-e-3", "prompt": "p"})]
    text = render(estimate(lines, provider="openai", catalog=catalog), fmt)
    assert "0.14" in text
