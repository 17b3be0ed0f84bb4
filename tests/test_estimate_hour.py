"""Grouping by hour (issue 14, item 4), the since/until window kept by an estimate and checked by
merge, and what the Arrow kernel's rows say was billed."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imagepricing
from imagepricing import log_lines
from imagepricing.budgets import check_budgets, parse_budget
from imagepricing.cli import main
from imagepricing.estimation import NO_TIME, OTHER_GROUPS, Estimate, estimate

DAY = dt.date(2026, 6, 1)


def timed(moment: str | None, model: str = "nano-banana", **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"request": {"model": model, "prompt": "an apple"}, **extra}
    if moment is not None:
        line["time"] = moment
    return line


def by_label(result: Estimate, dimension: str) -> dict[str, int]:
    return {group.labels[dimension]: group.requests for group in result.groups}


class TestHourLabels:
    def test_a_line_goes_to_its_utc_hour_and_lines_without_an_hour_to_no_time(self) -> None:
        lines = [
            timed("2026-06-01T10:15:00Z"),
            timed("2026-06-01T10:59:59.999999+00:00"),
            timed("2026-06-01T12:30:00+02:00"),  # 10:30 UTC
            timed("2026-06-01T11:00:00Z"),
            timed("2026-06-01 11:45"),  # naive: UTC
            timed(None),
            {"model": "nano-banana", "prompt": "bare"},
            timed("2026-06-01"),  # a date alone has no hour
        ]
        result = estimate(lines, group_by="hour", as_of=DAY)
        assert by_label(result, "hour") == {NO_TIME: 3, "2026-06-01T10:00Z": 3, "2026-06-01T11:00Z": 2}
        assert [group.labels["hour"] for group in result.groups] == [NO_TIME, "2026-06-01T10:00Z", "2026-06-01T11:00Z"]

    def test_the_other_time_dimensions_come_from_the_same_time(self) -> None:
        lines = [timed("2026-12-31T23:30:00-01:00"), timed("2026-06-01"), timed(None)]
        result = estimate(lines, group_by=("month", "week", "day", "hour"), as_of=DAY)
        labels = [dict(group.labels) for group in result.groups]
        assert labels == [
            {"month": NO_TIME, "week": NO_TIME, "day": NO_TIME, "hour": NO_TIME},
            {"month": "2026-06", "week": "2026-W23", "day": "2026-06-01", "hour": NO_TIME},
            {"month": "2027-01", "week": "2026-W53", "day": "2027-01-01", "hour": "2027-01-01T00:00Z"},
        ]

    def test_labels_sort_as_time_and_read_back_as_the_hour(self) -> None:
        rng = random.Random(7)
        moments = [
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randrange(60 * 24 * 400))
            for _ in range(300)
        ]
        result = estimate([timed(moment.isoformat()) for moment in moments], group_by="hour", as_of=DAY)
        labels = [group.labels["hour"] for group in result.groups]
        hours = [dt.datetime.fromisoformat(label) for label in labels]
        assert hours == sorted(hours)
        assert {moment.replace(minute=0) for moment in moments} == set(hours)
        assert all(len(label) == len("2026-06-01T10:00Z") for label in labels)

    def test_prices_follow_the_utc_date_of_the_hour(self) -> None:
        # gpt-image-2's published price is 0.2 credits until 2026-05-26 and 0.11 from then on.
        request = {"model": "gpt-image-2", "prompt": "p", "size": "1024x1024"}
        lines = [
            {"time": "2026-05-25T23:30:00Z", "request": request},
            {"time": "2026-05-25T23:30:00-01:00", "request": request},  # 2026-05-26T00:30Z
        ]
        result = estimate(lines, group_by="hour", price_basis="published", as_of=DAY)
        costs = {group.labels["hour"]: group.cost["credits"] for group in result.groups}
        assert costs == {"2026-05-25T23:00Z": Decimal("0.2"), "2026-05-26T00:00Z": Decimal("0.11")}
        for day, cost in ((dt.date(2026, 5, 25), "0.2"), (dt.date(2026, 5, 26), "0.11")):
            assert imagepricing.check(request, as_of=day, price_basis="published").cost == Decimal(cost)

    def test_unknown_dimension_names_hour_among_the_choices(self) -> None:
        with pytest.raises(ValueError, match="hour, day, week, month"):
            estimate([], group_by="minute")


_moments = (
    st.datetimes(min_value=dt.datetime(2026, 5, 20), max_value=dt.datetime(2026, 6, 10), timezones=st.just(dt.UTC))
    | st.none()
)
_offsets = st.sampled_from(["Z", "+00:00", "+05:30", "-08:00", ""])


@st.composite
def _lines(draw: st.DrawFn) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for moment, offset, model, n in draw(
        st.lists(
            st.tuples(
                _moments, _offsets, st.sampled_from(["gpt-image-2", "nano-banana", "dall-e-2"]), st.integers(1, 3)
            ),
            max_size=40,
        )
    ):
        request = {"model": model, "prompt": "p", "n": n, "size": "1024x1024"}
        if moment is None:
            lines.append({"request": request})
            continue
        if offset in ("", "Z"):
            text = moment.replace(tzinfo=None).isoformat() + offset
        else:
            sign = 1 if offset[0] == "+" else -1
            delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:])) * sign
            text = (moment + delta).replace(tzinfo=None).isoformat() + offset
        lines.append({"time": text, "request": request})
    return lines


class TestHoursAddUpToDays:
    @settings(max_examples=60, deadline=None)
    @given(_lines())
    def test_hours_of_a_day_add_up_to_the_day(self, lines: list[dict[str, Any]]) -> None:
        by_hour = estimate(lines, group_by=("hour", "model"), price_basis="published", as_of=DAY)
        by_day = estimate(lines, group_by=("day", "model"), price_basis="published", as_of=DAY)
        assert by_hour.totals == by_day.totals
        summed: dict[tuple[str, str], dict[str, Decimal]] = {}
        requests: dict[tuple[str, str], int] = {}
        for group in by_hour.groups:
            key = (group.labels["hour"][:10] if group.labels["hour"] != NO_TIME else NO_TIME, group.labels["model"])
            requests[key] = requests.get(key, 0) + group.requests
            for currency, amount in group.cost.items():
                summed.setdefault(key, {})
                summed[key][currency] = summed[key].get(currency, Decimal(0)) + amount
        assert requests == {(g.labels["day"], g.labels["model"]): g.requests for g in by_day.groups}
        assert summed == {(g.labels["day"], g.labels["model"]): dict(g.cost) for g in by_day.groups if g.cost}
        every_line = estimate(lines, group_by=("hour", "model"), price_basis="published", as_of=DAY, memoize=False)
        assert every_line == by_hour


class TestBoundedMemory:
    def _log(self, count: int) -> list[dict[str, Any]]:
        rng = random.Random(14)
        start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        return [
            timed(
                (start + dt.timedelta(minutes=rng.randrange(60 * 24 * 30))).isoformat(),
                rng.choice(["nano-banana", "dall-e-2"]),
            )
            for _ in range(count)
        ]

    def test_the_group_cap_holds_for_hours(self) -> None:
        lines = self._log(3_000)
        whole = estimate(lines, group_by=("hour", "model"), as_of=DAY)
        assert len(whole.groups) > 50
        capped = estimate(lines, group_by=("hour", "model"), as_of=DAY, max_groups=50)
        assert len(capped.groups) == 51
        assert capped.groups[-1].labels == {"hour": OTHER_GROUPS, "model": OTHER_GROUPS}
        assert capped.groups[:50] == whole.groups[:50]  # the first 50 in label order, whatever else
        assert capped.totals == whole.totals
        assert any("more than 50 groups" in warning for warning in capped.warnings)

    def test_folding_the_registries_mid_log_changes_nothing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        lines = self._log(2_000)
        whole = estimate(lines, group_by=("hour", "model"), as_of=DAY)
        monkeypatch.setattr(log_lines, "_REGISTRY_LIMIT", 16)  # fold every few distinct hours
        monkeypatch.setattr(log_lines, "_SEEN_LIMIT", 4)  # the (outcome, provider, day) keys whose verdicts are known
        folded = estimate(lines, group_by=("hour", "model"), as_of=DAY)
        assert folded == whole


class TestWindowAndHour:
    def test_since_and_until_cut_at_the_hour(self) -> None:
        lines = [timed(f"2026-06-01T{hour:02d}:30:00Z") for hour in range(24)] + [timed(None)]
        result = estimate(
            lines,
            group_by="hour",
            as_of=DAY,
            since=dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC),
            until=dt.datetime(2026, 6, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),  # 12:30 UTC
        )
        assert list(by_label(result, "hour")) == ["2026-06-01T10:00Z", "2026-06-01T11:00Z"]
        assert result.outside_window == 23  # 12:30 is excluded, the line without time too


class TestMergeWindows:
    LINES = (timed("2026-06-01T10:00:00Z"), timed("2026-06-02T10:00:00Z"), timed(None))

    def test_the_window_is_kept_and_round_trips(self) -> None:
        result = estimate(list(self.LINES), as_of=DAY, since=dt.date(2026, 6, 1), until=dt.date(2026, 6, 1))
        assert result.since == dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        assert result.until == dt.datetime(2026, 6, 2, tzinfo=dt.UTC)  # the whole of June 1st
        assert result.to_dict()["window"] == {"since": "2026-06-01T00:00:00Z", "until": "2026-06-02T00:00:00Z"}
        assert Estimate.from_dict(json.loads(json.dumps(result.to_dict()))) == result
        unbounded = estimate(list(self.LINES), as_of=DAY)
        assert (unbounded.since, unbounded.until) == (None, None)
        assert Estimate.from_dict(unbounded.to_dict()) == unbounded

    def test_a_dict_written_before_windows_were_kept_reads_as_no_window(self) -> None:
        data = estimate(list(self.LINES), as_of=DAY).to_dict()
        del data["window"]
        assert Estimate.from_dict(data).since is None

    def test_merge_accepts_one_window_written_two_ways(self) -> None:
        one = estimate(list(self.LINES), as_of=DAY, until=dt.date(2026, 6, 1))
        two = estimate(
            list(self.LINES), as_of=DAY, until=dt.datetime(2026, 6, 2, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        )
        assert one.merge(two).requests == 2

    @pytest.mark.parametrize(
        ("since", "until", "message"),
        [
            (None, None, "no window and from 2026-06-01T00:00:00Z to the end"),
            (dt.date(2026, 6, 2), None, "to the end and from 2026-06-02T00:00:00Z to the end"),
            (dt.date(2026, 6, 1), dt.date(2026, 6, 1), "to 2026-06-02T00:00:00Z (excluded)"),
        ],
    )
    def test_merge_refuses_other_windows(self, since: Any, until: Any, message: str) -> None:
        mine = estimate(list(self.LINES), as_of=DAY, since=dt.date(2026, 6, 1))
        other = estimate(list(self.LINES), as_of=DAY, since=since, until=until)
        with pytest.raises(
            ValueError, match=r"^cannot merge estimates made with different since/until windows: "
        ) as found:
            mine.merge(other) if since is not None else other.merge(mine)
        assert message in str(found.value)
        with pytest.raises(ValueError, match="since/until"):
            Estimate.from_dict(mine.to_dict()).merge(Estimate.from_dict(other.to_dict()))

    def test_merge_refuses_another_grouping(self) -> None:
        with pytest.raises(ValueError, match=r"different group_by: \('hour',\) and \('day',\)"):
            estimate([], group_by="hour", as_of=DAY).merge(estimate([], group_by="day", as_of=DAY))


class TestCommandLine:
    @pytest.fixture
    def log(self, tmp_path: Path) -> Path:
        path = tmp_path / "log.jsonl"
        lines = [timed("2026-06-01T10:05:00Z")] * 3 + [timed("2026-06-01T11:05:00+01:00"), timed(None)]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        return path

    def test_group_by_hour_as_json(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert (
            main(["estimate", str(log), "--group-by", "hour,model", "--format", "json", "--as-of", "2026-06-01"]) == 0
        )
        data = json.loads(capsys.readouterr().out)
        assert data["group_by"] == ["hour", "model"]
        assert [(g["labels"]["hour"], g["requests"]) for g in data["groups"]] == [
            (NO_TIME, 1),
            ("2026-06-01T10:00Z", 4),
        ]

    def test_help_names_hour(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit):
            main(["estimate", "--help"])
        assert "hour" in capsys.readouterr().out

    def test_an_hour_budget(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        args = ["estimate", str(log), "--group-by", "hour", "--as-of", "2026-06-01", "--no-progress"]
        assert main([*args, "--budget", "hour=2026-06-01T10:00Z:credits=0.5"]) == 3
        assert "budget exceeded: credits 0.56 > 0.5 (hour=2026-06-01T10:00Z)" in capsys.readouterr().err
        assert main([*args, "--budget", "hour=2026-06-01T10:00Z:credits=0.56"]) == 0
        capsys.readouterr()
        with pytest.raises(SystemExit) as refused:  # this spelling would never match a group
            main([*args, "--budget", "hour=2026-06-01T10:credits=0.5"])
        assert refused.value.code == 2
        assert "hour=2026-06-01T10:00Z:credits=5" in capsys.readouterr().err

    def test_an_hour_budget_in_the_api(self) -> None:
        result = estimate([timed("2026-06-01T10:05:00Z")] * 2, group_by="hour", as_of=DAY)
        breaches = check_budgets(result, [parse_budget("hour=2026-06-01T10:00Z:credits=0.1")])
        assert [str(breach) for breach in breaches] == ["budget exceeded: credits 0.28 > 0.1 (hour=2026-06-01T10:00Z)"]


class TestArrow:
    pa = pytest.importorskip("pyarrow")

    def test_to_arrow_has_hour_labels_and_billed_columns(self) -> None:
        lines = [timed("2026-06-01T10:05:00Z", status=200, response={"success": True, "data": [{"url": "u"}]})]
        lines += [timed("2026-06-01T10:10:00Z", status=500), timed("2026-06-01T11:00:00Z")]
        table = estimate(lines, group_by="hour", as_of=DAY).to_arrow()
        assert table.column("hour").to_pylist() == ["2026-06-01T10:00Z", "2026-06-01T11:00Z"]
        assert table.column("observed").to_pylist() == [2, 0]
        assert table.column("billed_differ").to_pylist() == [1, 0]
        assert table.column("billed_images").to_pylist() == [1, 1]
        # The failed call (status 500) is counted as such and left out of the cost.
        assert table.column("failed").to_pylist() == [1, 0]
        assert table.column("cost_credits").to_pylist() == [Decimal("0.14"), Decimal("0.14")]
        assert table.column("failed_would_have_cost_credits").to_pylist() == [Decimal("0.14"), None]
        assert table.column("billed_cost_credits").to_pylist() == [Decimal("0.14"), Decimal("0.14")]

    def test_kernel_rows_say_what_was_billed_and_totals_count_it_as_estimate_does(self) -> None:
        from imagepricing import arrow

        def dall_e(n: int) -> dict[str, Any]:
            return {"model": "dall-e-2", "prompt": "p", "n": n, "size": "256x256"}

        two = {"success": True, "data": [{"url": "a"}, {"url": "b"}]}
        lines = [
            json.dumps({"provider": "openai", "request": dall_e(2), "status": 200, "response": two}),  # as predicted
            json.dumps({"provider": "openai", "request": dall_e(3), "response": two}),  # 2 of 3 images billed
            json.dumps(timed("2026-06-01T10:00:00Z", status=503)),  # failed: nothing billed
            json.dumps(timed("2026-06-01T10:00:00Z", "gpt-image-9", status=200, response=two)),  # unknown model
            json.dumps(timed("2026-06-01T10:00:00Z")),  # says nothing: as predicted
            # XHuoAPI sells at Ace Data Cloud's prices from 2026-05-07: 0.11 credits on DAY.
            json.dumps({"provider": "xhuoapi", "request": {"model": "gpt-image-2", "prompt": "p"}, "status": 200}),
        ]
        rows = arrow.price_batch(self.pa.table({"line": lines}), as_of=DAY)
        assert rows.schema.field("billed_cost").type == arrow.MONEY
        assert rows.column("billed").to_pylist() == [2, 2, 0, 2, None, 1]
        assert rows.column("billed_cost").to_pylist() == [
            Decimal("0.032"),
            Decimal("0.032"),
            Decimal(0),
            None,
            None,
            Decimal("0.11"),
        ]
        assert rows.column("status").to_pylist()[2] == "failed"
        for group_by in [(), ("model",), ("day", "provider")]:
            whole = estimate(lines, group_by=group_by, as_of=DAY, name="b")
            summed = arrow.totals(rows, group_by=group_by, as_of=DAY, name="b")
            assert summed.totals == whole.totals
            assert summed.groups == whole.groups
        assert whole.totals.observed == 5
        assert whole.totals.billed_differ == 3
        assert (whole.totals.failed, dict(whole.totals.failed_would_have_cost)) == (1, {"credits": Decimal("0.14")})

    def test_kernel_totals_refuse_hour_clearly(self) -> None:
        from imagepricing import arrow

        rows = arrow.price_batch(self.pa.table({"line": [json.dumps(timed("2026-06-01T10:00:00Z"))]}), as_of=DAY)
        with pytest.raises(ValueError, match="not its hour: group them by day, week or month"):
            arrow.totals(rows, group_by="hour")


class TestDashboardHourAxis:
    """The page's hour axis without a browser (tests/test_dashboard_browser.py renders it)."""

    @staticmethod
    def page(lines: list[Any], *args: str, tmp_path: Path) -> str:
        log = tmp_path / "log.jsonl"
        log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        out = tmp_path / "page.html"
        assert main(["estimate", str(log), "--format", "html", "--as-of", "2026-06-01", "-o", str(out), *args]) == 0
        return out.read_text(encoding="utf-8").split("<h2>Details</h2>")[0]

    def test_hours_without_a_line_are_empty_columns(self, tmp_path: Path) -> None:
        lines = [timed("2026-06-01T08:10:00Z"), timed("2026-06-01T11:50:00Z"), timed(None)]
        page = self.page(lines, "--group-by", "hour", tmp_path=tmp_path)
        titles = [part.split('"')[0] for part in page.split('<div class="col" title="')[1:]]
        assert titles == [
            "2026-06-01T08:00Z: 0.14 credits",
            "2026-06-01T09:00Z: 0 credits",
            "2026-06-01T10:00Z: 0 credits",
            "2026-06-01T11:00Z: 0.14 credits",
        ]
        assert "4 hours (UTC); 2 without a line are drawn empty" in page
        assert ">08:00Z</span>" in page  # one day: the hours are the ticks
        assert "1 request without a time (or with a date alone)" in page

    def test_the_finest_time_dimension_is_the_axis(self, tmp_path: Path) -> None:
        lines = [timed("2026-06-01T08:10:00Z"), timed("2026-06-02T09:50:00Z")]
        page = self.page(lines, "--group-by", "day,hour", tmp_path=tmp_path)
        assert "credits per hour" in page
        assert "26 hours (UTC); ticks mark the first hour of each day; 24 without a line" in page

    def test_the_other_groups_row_stays_off_the_time_axis(self, tmp_path: Path) -> None:
        lines = [timed(f"2026-06-01T{hour:02d}:00:00Z") for hour in range(10)]
        page = self.page(lines, "--group-by", "hour", "--max-groups", "4", tmp_path=tmp_path)
        assert OTHER_GROUPS not in page.split('<p class="note">')[0]
        assert "6 requests in the &#x27;(other groups)&#x27; row past the group cap (0.84 credits)" in page
        assert page.count('<div class="col"') == 4

    def test_ticks_over_a_month_of_hours_are_thinned_and_spaced(self) -> None:
        from imagepricing.cli._dashboard import _filled, _ticks

        start = dt.datetime(2026, 6, 1)
        hours = [f"{(start + dt.timedelta(hours=h)).isoformat(timespec='minutes')}Z" for h in range(0, 720, 5)]
        buckets = _filled(hours, "hour")
        assert len(buckets) == 716  # filled from the first hour seen to the last
        ticks = _ticks(buckets, "hour")
        wide = [(left, label) for left, label, css in ticks if css != "n"]
        narrow = [(left, label) for left, label, css in ticks if css != "w"]
        assert wide[0] == (Decimal(0), "2026-06-01")
        for kept, most, room in ((wide, 9, 12), (narrow, 4, 26)):
            assert 3 <= len(kept) <= most
            lefts = [left for left, _ in kept]
            assert all(b - a >= room for a, b in itertools.pairwise(lefts))  # percent apart: no overlap
            assert lefts[-1] < 100 - room + 2  # the last label ends inside the axis

    def test_a_span_too_long_to_fill_draws_the_hours_seen(self) -> None:
        from imagepricing.cli._dashboard import _caption, _filled

        seen = ["2020-01-01T00:00Z", "2026-06-01T10:00Z"]
        assert _filled(seen, "hour") == seen
        assert "only the hours with a line are drawn" in _caption(seen, seen, "hour")
