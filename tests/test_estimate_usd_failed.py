"""USD equivalents beside every credits amount (issue 20, item 4), failed calls counted as such
(issue 21, item 6), and unknown counts per currency (issue 21, the dashboard's).

- `GroupTotals.usd_equivalent` is, per currency, the exact sum of the priced lines' equivalents
  (`Report.usd_equivalent`: the cost at the reference rate of the line's day); `usd_unknown` counts,
  per currency, the priced lines whose day has no rate (credits before 2026-05-24). Never added to
  `cost`, nor across currencies.
- A call whose envelope says it failed (status 400 or more, `"success": false`, an error and no
  data) is `failed`, unless the rules reject the request (then `rejected`, as predicted): out of
  accepted, images and cost, and what it would have cost is kept apart.
- `unknown_price_by_currency` and `unknown_model_by_currency` split the unknown counts by the
  currency of the line's price book.

The same counts come from `estimate`, the Arrow kernel's rows (`arrow.totals`), `Estimate.merge`
and `Estimate.from_dict`: they all count through `spend.Tally`.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagepricing import check, default_catalog
from imagepricing.cli import main
from imagepricing.cli._estimate import render_csv
from imagepricing.estimation import Estimate, GroupTotals, estimate
from imagepricing.per_request import RequestPricer
from imagepricing.spend import LINE_STATUSES, Tally, line_status

DAY = dt.date(2026, 5, 1)  # before any USD rate is recorded
RATED = dt.date(2026, 6, 1)  # credits at 0.095215 USD
RATE = Decimal("0.095215")
CATALOG = default_catalog()


def nano(**params: Any) -> dict[str, Any]:
    return {"model": "nano-banana", "prompt": "an apple", **params}


def run(lines: list[Any], **options: Any) -> Estimate:
    options.setdefault("as_of", DAY)
    return estimate(lines, **options)


# ------------------------------------------------------------------------------ generated logs

STATUSES = [None, 200, "201", 400, 429, 500, 503]
RESPONSES = [
    None,
    {"success": True, "data": [{"url": "a"}]},
    {"success": True, "data": [{"url": "a"}, {"url": "b"}]},
    {"success": True, "data": []},
    {"success": False, "error": {"code": "x"}},
    {"error": {"code": "x"}},
    "not json",
]
TIMES = {None: None, "2026-05-01T10:00:00Z": DAY, "2026-05-23T23:59:59Z": dt.date(2026, 5, 23), "2026-06-01": RATED}
REQUESTS = [
    nano(),
    {"model": "nano-banana-2", "prompt": "p"},
    {"model": "gpt-image-2", "prompt": "p", "size": "2048x1152"},
    {"model": "gpt-image-2:official", "prompt": "p"},  # no price before 2026-06-27
    {"model": "dall-e-3", "prompt": "p"},
    {"model": "dall-e-3", "prompt": "p", "n": 2},  # rejected
    {"model": "gpt-image-9", "prompt": "p"},  # unknown model
    {"model": "nano-banana"},  # rejected: no prompt
]


def _failed(status: object, response: object) -> bool:
    """The oracle, written apart from imagepricing._envelopes: a failure is a status of 400 or
    more, `"success": false`, or an error object without success or data."""
    code = int(status) if isinstance(status, (int, str)) else None
    if code is not None and code >= 400:
        return True
    if isinstance(response, dict):
        if response.get("success") is False:
            return True
        return "data" not in response and "success" not in response and isinstance(response.get("error"), dict)
    return False


@st.composite
def logs(draw: st.DrawFn) -> list[tuple[dict[str, Any], tuple[Any, str, dt.date | None, bool]]]:
    """(line, (request, provider, day, failed)) pairs."""
    entries = []
    for _ in range(draw(st.integers(0, 30))):
        request = draw(st.sampled_from(REQUESTS))
        provider = draw(st.sampled_from(list(CATALOG.price_books)))
        moment = draw(st.sampled_from(list(TIMES)))
        line: dict[str, Any] = {"provider": provider, "request": request}
        if moment is not None:
            line["time"] = moment
        status, response = draw(st.sampled_from(STATUSES)), draw(st.sampled_from(RESPONSES))
        if status is not None:
            line["status"] = status
        if response is not None:
            line["response"] = response
        entries.append((line, (request, provider, TIMES[moment], _failed(status, response))))
    return entries


def _add(sums: dict[str, Any], key: str, amount: Decimal) -> None:
    sums[key] = sums.get(key, Decimal(0)) + amount


class TestAgainstCheck:
    """For any log, every new figure is what per-line `check()` reports say, added up."""

    @settings(max_examples=150)
    @given(logs())
    def test_totals_equal_the_per_line_reports(self, entries: list[Any]) -> None:
        result = run([line for line, _ in entries], group_by=())
        cost: dict[str, Decimal] = {}
        would: dict[str, Decimal] = {}
        usd: dict[str, Decimal] = {}
        usd_unknown: dict[str, int] = {}
        unknown_price: dict[str, int] = {}
        unknown_model: dict[str, int] = {}
        failed = failed_cost_unknown = rejected = images = 0
        for _, (request, provider, day, call_failed) in entries:
            report = check(request, "generations", provider, as_of=day or DAY)
            is_unknown_model = any(error.code == "model_unknown" for error in report.errors)
            if not report.ok and not is_unknown_model:
                rejected += 1
            elif call_failed:
                failed += 1
                if report.cost is None:
                    failed_cost_unknown += 1
                else:
                    _add(would, report.currency, report.cost)
            elif is_unknown_model:
                unknown_model[report.currency] = unknown_model.get(report.currency, 0) + 1
            elif report.cost is None:
                unknown_price[report.currency] = unknown_price.get(report.currency, 0) + 1
                images += report.images
            else:
                images += report.images
                _add(cost, report.currency, report.cost)
                if report.usd_equivalent is None:
                    usd_unknown[report.currency] = usd_unknown.get(report.currency, 0) + 1
                else:
                    _add(usd, report.currency, report.usd_equivalent)
        totals = result.totals
        assert dict(totals.cost) == cost
        assert dict(totals.usd_equivalent) == usd
        assert dict(totals.usd_unknown) == usd_unknown
        assert (totals.failed, totals.failed_cost_unknown, dict(totals.failed_would_have_cost)) == (
            failed,
            failed_cost_unknown,
            would,
        )
        assert (dict(totals.unknown_price_by_currency), dict(totals.unknown_model_by_currency)) == (
            unknown_price,
            unknown_model,
        )
        assert (totals.rejected, totals.images) == (rejected, images)
        assert totals.requests == totals.accepted + totals.rejected + totals.unknown_model + totals.failed
        assert totals.accepted == totals.priced + totals.unknown_price
        assert totals.unknown_price == sum(totals.unknown_price_by_currency.values())
        assert totals.unknown_model == sum(totals.unknown_model_by_currency.values())

    @settings(max_examples=60)
    @given(logs(), st.sampled_from([("model",), ("provider", "day"), ("month",)]))
    def test_memo_merge_and_json_all_agree(self, entries: list[Any], group_by: tuple[str, ...]) -> None:
        lines = [json.dumps(line) for line, _ in entries]
        whole = run(lines, group_by=group_by)
        assert whole == run(lines, group_by=group_by, memoize=False)
        assert Estimate.from_dict(json.loads(json.dumps(whole.to_dict()))) == whole
        half = len(lines) // 2
        merged = run(lines[:half], group_by=group_by).merge(run(lines[half:], group_by=group_by))
        assert (merged.totals, merged.groups) == (whole.totals, whole.groups)

    @settings(max_examples=40)
    @given(logs())
    def test_the_arrow_kernel_counts_as_estimate_does(self, entries: list[Any]) -> None:
        pa = pytest.importorskip("pyarrow")
        from imagepricing import arrow  # the arrow extra, once pyarrow is known to be there

        lines = [json.dumps(line) for line, _ in entries]
        rows = arrow.price_batch(pa.table({"line": pa.array(lines, pa.string())}), as_of=DAY)
        for group_by in [(), ("model", "day")]:
            whole = run(lines, group_by=group_by)
            summed = arrow.totals(rows, group_by=group_by, as_of=DAY)
            assert (summed.totals, summed.groups) == (whole.totals, whole.groups)


# ------------------------------------------------------------------------------ usd equivalents


class TestUsdEquivalent:
    def test_credits_from_the_day_a_rate_is_recorded(self) -> None:
        lines = [
            {"time": "2026-06-01T10:00:00Z", "request": nano()},
            {"time": "2026-06-02T10:00:00Z", "request": nano()},
            {"time": "2026-05-23T10:00:00Z", "request": nano()},  # the day before the rate
            nano(),  # priced as of DAY: no rate
        ]
        totals = run(lines).totals
        assert totals.cost == {"credits": Decimal("0.56")}
        assert totals.usd_equivalent == {"credits": Decimal("0.14") * RATE * 2}
        assert totals.usd_unknown == {"credits": 2}

    def test_a_usd_price_is_its_own_equivalent_and_currencies_stay_apart(self) -> None:
        lines = [
            {"provider": "openai", "request": {"model": "dall-e-2", "prompt": "p", "size": "256x256"}},
            {"time": "2026-06-01T10:00:00Z", "request": nano()},
        ]
        totals = run(lines).totals
        assert totals.cost == {"credits": Decimal("0.14"), "USD": Decimal("0.016")}
        assert totals.usd_equivalent == {"credits": Decimal("0.01333010"), "USD": Decimal("0.016")}
        assert dict(totals.usd_unknown) == {}

    def test_rejected_unknown_and_failed_lines_have_none(self) -> None:
        day = {"time": "2026-06-01T10:00:00Z"}
        lines = [
            {**day, "request": {"model": "nano-banana"}},  # rejected
            {**day, "request": {"model": "gpt-image-9", "prompt": "p"}},  # unknown model
            {**day, "request": {"model": "gpt-image-2:official", "prompt": "p"}},  # unknown price
            {**day, "request": nano(), "status": 500},  # failed
        ]
        totals = run(lines).totals
        assert (dict(totals.usd_equivalent), dict(totals.usd_unknown)) == ({}, {})

    def test_per_request_rows_carry_the_equivalent_and_the_rate(self) -> None:
        pricer = RequestPricer(as_of=DAY)
        rated, unrated, rejected = pricer.price_lines(
            [json.dumps({"time": "2026-06-01T10:00:00Z", "request": nano()}), json.dumps(nano()), '{"model": "x"}']
        )
        assert (rated.usd_equivalent, rated.usd_rate) == (Decimal("0.01333010"), RATE)
        assert (unrated.usd_equivalent, unrated.usd_rate) == (None, None)
        assert (rejected.usd_equivalent, rejected.usd_rate) == (None, None)

    def test_the_arrow_rows_and_table_hold_it_exactly(self) -> None:
        pa = pytest.importorskip("pyarrow")
        from imagepricing import arrow  # the arrow extra, once pyarrow is known to be there

        # A price of 9 decimal places times the rate needs 15: decimal128(38, 18) holds it exactly.
        catalog = CATALOG.with_price("acedata", "nano-banana", "0.123456789")
        line = json.dumps({"time": "2026-06-01T10:00:00Z", "request": nano()})
        row = arrow.price_batch(pa.table({"line": [line]}), catalog=catalog, as_of=DAY).to_pylist()[0]
        assert row["usd_equivalent"] == Decimal("0.123456789") * RATE
        assert row["usd_rate"] == RATE
        table = estimate([line], catalog=catalog, as_of=DAY).to_arrow()
        assert table.column("usd_equivalent_credits").to_pylist() == [Decimal("0.123456789") * RATE * 1]
        assert table.column("usd_unknown_credits").to_pylist() == [0]

    def test_the_table_shows_it_apart_from_the_cost(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = tmp_path / "log.jsonl"
        lines = [{"time": "2026-06-01T10:00:00Z", "request": nano()}, nano()]
        log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        assert main(["estimate", str(log), "--as-of", "2026-05-01"]) == 0
        out = capsys.readouterr().out
        header, row = out.splitlines()[2], out.splitlines()[3]
        assert header.split("  ")[-1] == "USD equivalent"
        assert row.endswith("0.28 credits  ≈ 0.01333010 USD (+ 1 without a rate)")
        assert "credits at 0.095215 USD each from 2026-05-24 (acedata's rate)" in out
        assert "no credits rate is recorded before 2026-05-24" in out
        assert "never what an account is charged" in out
        assert "1 priced request has no rate on its day and no equivalent." in out

    def test_csv_and_json_label_it(self) -> None:
        result = run([{"time": "2026-06-01T10:00:00Z", "request": nano()}, nano()])
        rows = list(csv.DictReader(io.StringIO(render_csv(result))))
        assert (rows[0]["cost_credits"], rows[0]["usd_equivalent_credits"], rows[0]["usd_unknown_credits"]) == (
            "0.28",
            "0.01333010",
            "1",
        )
        data = result.to_dict()["totals"]
        assert (data["cost"], data["usd_equivalent"], data["usd_unknown"]) == (
            {"credits": "0.28"},
            {"credits": "0.01333010"},
            {"credits": 1},
        )

    def test_prices_lists_the_rates(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["prices"]) == 0
        out = capsys.readouterr().out
        assert "acedata   credits at 0.095215 USD each  2026-05-24 to now" in out
        assert "billing.mdx" in out  # the source


# ------------------------------------------------------------------------------ failed calls


class TestFailedCalls:
    def test_five_hundred_failed_calls_are_not_spend(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        # Issue 21's case: a log of calls that returned status 500.
        log = tmp_path / "log.jsonl"
        line = json.dumps({"time": "2026-06-01T10:00:00Z", "status": 500, "request": nano()})
        log.write_text((line + "\n") * 500 + json.dumps({"status": 200, "request": nano()}) + "\n", encoding="utf-8")
        assert main(["estimate", str(log), "--format", "json", "--as-of", "2026-06-01"]) == 0
        data = json.loads(capsys.readouterr().out)
        totals = data["totals"]
        assert (totals["requests"], totals["accepted"], totals["failed"], totals["images"]) == (501, 1, 500, 1)
        assert totals["cost"] == {"credits": "0.14"}
        assert totals["failed_would_have_cost"] == {"credits": "70.00"}
        assert totals["billed"] == {"observed": 501, "differ": 500, "images": 1, "cost": {"credits": "0.14"}}
        assert data["lines"]["failed"] == 500
        assert main(["estimate", str(log), "--as-of", "2026-06-01"]) == 0
        out = capsys.readouterr().out
        assert "500 failed (not billed)" in out.splitlines()[0]
        assert "  unknown model  failed  images  " in out.splitlines()[2]
        assert (
            '500 calls failed (HTTP status 400 or more, or "success": false) and billed nothing: the costs and'
            " images leave them out; they would have cost 70.00 credits."
        ) in out

    def test_a_rejected_request_stays_rejected_whatever_its_status(self) -> None:
        totals = run([{"request": {"model": "nano-banana"}, "status": 400}]).totals
        assert (totals.rejected, totals.failed, totals.billed_differ) == (1, 0, 0)

    def test_an_unknown_model_that_failed_is_failed_of_unknown_cost(self) -> None:
        totals = run([{"request": {"model": "gpt-image-9", "prompt": "p"}, "status": 502}]).totals
        assert (totals.failed, totals.unknown_model, totals.failed_cost_unknown) == (1, 0, 1)
        assert dict(totals.unknown_model_by_currency) == {}

    def test_a_success_that_returned_no_image_did_not_fail(self) -> None:
        totals = run([{"request": nano(), "status": 200, "response": {"success": True, "data": []}}]).totals
        assert (totals.failed, totals.accepted, totals.billed_images, totals.billed_differ) == (0, 1, 0, 1)
        assert totals.cost == {"credits": Decimal("0.14")}  # predicted; billed says 0

    def test_rows_say_failed(self) -> None:
        pricer = RequestPricer(as_of=DAY)
        (row,) = pricer.price_lines([json.dumps({"request": nano(), "response": {"success": False}})])
        assert (row.status, row.ok, row.cost, row.billed, row.billed_cost) == (
            "failed",
            True,
            Decimal("0.14"),  # what it would have cost
            0,
            Decimal(0),
        )

    def test_the_per_request_file_says_failed(self, tmp_path: Path) -> None:
        log = tmp_path / "log.jsonl"
        lines = [{"time": "2026-06-01T10:00:00Z", "status": 503, "request": nano()}]
        log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        out = tmp_path / "rows.csv"
        assert main(["estimate", str(log), "--per-request", str(out)]) == 0
        (row,) = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
        assert (row["status"], row["http_status"], row["cost"], row["usd_equivalent"], row["usd_rate"]) == (
            "failed",
            "503",
            "0.14",
            "0.01333010",
            "0.095215",
        )


# ------------------------------------------------------------------------------ the shared tally


class TestTally:
    def test_line_status_covers_every_case(self) -> None:
        seen = {
            line_status(ok=ok, unknown_model=unknown and not ok, priced=priced, failed=failed)
            for ok in (True, False)
            for unknown in (True, False)
            for priced in (True, False)
            for failed in (True, False)
        }
        assert seen == set(LINE_STATUSES)

    def test_json_without_the_new_fields_still_reads_and_merges(self) -> None:
        result = run([{"time": "2026-06-01T10:00:00Z", "request": nano()}, {"request": nano(), "status": 500}])
        data = result.to_dict()
        for group in [data["totals"], *data["groups"]]:
            for key in ("failed", "failed_would_have_cost", "failed_cost_unknown", "unknown_by_currency"):
                del group[key]
            for key in ("usd_equivalent", "usd_unknown"):
                del group[key]
        old = Estimate.from_dict(data)
        assert (old.totals.failed, dict(old.totals.usd_equivalent), dict(old.totals.usd_unknown)) == (0, {}, {})
        both = old.merge(result)
        assert both.totals.failed == 1
        assert both.totals.usd_equivalent == result.totals.usd_equivalent

    def test_amounts_are_exact_in_any_caller_context(self) -> None:
        tally = Tally()
        with decimal.localcontext() as ctx:
            ctx.prec = 1
            ctx.traps[decimal.Inexact] = True
            tally.add("priced", 3, "credits", images=1, cost=Decimal("0.14"), usd_equivalent=Decimal("0.0133301"))
            tally.add("failed", 7, "credits", images=1, cost=Decimal("0.14"))
            other = Tally()
            other.merge(tally)
            other.merge(tally.freeze({}))
        totals: GroupTotals = other.freeze({})
        assert totals.usd_equivalent == {"credits": Decimal("0.0799806")}
        assert totals.failed_would_have_cost == {"credits": Decimal("1.96")}
