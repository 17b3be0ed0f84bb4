"""The platform since the seeds (issue 20): facts carry dates, and `as_of` chooses them.

The day before, the day of and the day after each recorded change are the conformance vectors of
tests/vectors/timeline.json (run by tests/test_vectors.py). Here: the eras and the change listing
agree; a request's verdict changes only on a recorded date (hypothesis over days); the listing
command; an estimate over a log that spans the changes predicts the images its responses show.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagepricing import check, default_catalog, estimate, load_catalog
from imagepricing.catalog import shipped_data_dir
from imagepricing.cli import main
from imagepricing.errors import CatalogError
from imagepricing.strategies import junk_requests, valid_requests
from imagepricing.timeline import changes

CATALOG = default_catalog()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FIRST, LAST = dt.date(2026, 1, 1), dt.date(2027, 3, 1)


def _change_days() -> set[dt.date]:
    days = {change.day for change in changes(CATALOG)}
    if CATALOG.reviewed is not None:
        days.add(CATALOG.reviewed + dt.timedelta(days=1))  # the stale-tables warning starts
    return days


CHANGE_DAYS = _change_days()


class TestTheRecord:
    def test_every_change_is_dated_and_sourced_oldest_first(self) -> None:
        listed = changes()
        assert listed
        assert [c.day for c in listed] == sorted(c.day for c in listed)
        assert all(c.source.strip() and c.summary.strip() and c.models for c in listed)

    def test_every_era_of_the_rules_starts_on_a_listed_change(self) -> None:
        days = {c.day for c in changes() if c.kind in ("rule", "model")}
        assert [era.start for era in CATALOG.eras[1:]] == sorted(
            {era.start for era in CATALOG.eras[1:] if era.start is not None}
        )
        assert all(era.start in days for era in CATALOG.eras[1:])

    def test_since_and_model_select(self) -> None:
        since = dt.date(2026, 7, 1)
        selected = changes(since=since, model="nano-banana")
        assert selected
        assert all(c.day >= since and "nano-banana" in c.models for c in selected)
        assert {c.day for c in selected} >= {dt.date(2026, 7, 18)}
        with pytest.raises(ValueError, match="unknown model"):
            changes(model="dall-e-4")

    def test_an_old_fact_stays_when_a_new_one_is_added(self) -> None:
        seeds_week, today = CATALOG.on(dt.date(2026, 5, 1)), CATALOG.on(dt.date(2026, 10, 1))
        n_then = seeds_week.models["gpt-image-2"].endpoints["generations"].params["n"]
        n_now = today.models["gpt-image-2"].endpoints["generations"].params["n"]
        assert (n_then.honoured_max, n_now.honoured_max) == (1, None)
        assert "nano-banana-2-lite" in seeds_week.models  # a model exists in every era, with its notices
        assert (
            seeds_week.models["nano-banana-2-lite"].endpoints["generations"].notices[0][0] == "model_not_yet_available"
        )

    def test_the_catalog_of_a_day_is_one_object_per_era(self) -> None:
        a, b = CATALOG.on(dt.date(2026, 7, 20)), CATALOG.on(dt.date(2026, 7, 21))
        assert a is b
        assert CATALOG.on(dt.date(2026, 7, 17)) is not a
        assert CATALOG.on(LAST) is CATALOG  # the latest era is the catalog itself


def _comparable(report: Any) -> str:
    """The report without its day: its date field, and the day a message quotes (a price not "in
    force on 2026-01-01")."""
    shown = report.to_dict()
    day = shown.pop("as_of")
    for kind in ("errors", "ignored", "warnings"):
        for finding in shown[kind]:
            finding["message"] = finding["message"].replace(f"in force on {day}", "in force on <day>")
    return json.dumps(shown, sort_keys=True)


REQUESTS = st.one_of(
    valid_requests(endpoint="generations", catalog=CATALOG.on(FIRST)),
    valid_requests(endpoint="generations", catalog=CATALOG),
    junk_requests(CATALOG),
)


class TestVerdictsChangeOnlyOnRecordedDays:
    @settings(max_examples=300, deadline=None)
    @given(
        REQUESTS,
        st.dates(FIRST, LAST),
        st.sampled_from(["acedata", "xhuoapi", "openai"]),
        st.sampled_from(["charged", "published"]),
    )
    def test_the_next_day_is_the_same_unless_something_changed(
        self, request: object, day: dt.date, provider: str, basis: str
    ) -> None:
        after = day + dt.timedelta(days=1)
        if after in CHANGE_DAYS:
            return
        one = check(request, provider=provider, as_of=day, price_basis=basis)  # type: ignore[arg-type]
        other = check(request, provider=provider, as_of=after, price_basis=basis)  # type: ignore[arg-type]
        assert _comparable(one) == _comparable(other)

    def test_a_change_day_does_change_something(self) -> None:
        # The day n honoured started: the same request, the day before and the day of.
        request = {"model": "gpt-image-2", "prompt": "p", "n": 4, "async": True}
        before = check(request, as_of=dt.date(2026, 7, 17))
        after = check(request, as_of=dt.date(2026, 7, 18))
        assert (before.images, after.images) == (1, 4)


class TestTheCommand:
    def test_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["changes", "--json", "--since", "2026-07-18", "--model", "nano-banana"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["reviewed"] == "2026-12-03"
        days = [row["day"] for row in shown["changes"]]
        assert days == sorted(days)
        assert days[0] == "2026-07-18"
        assert all(
            set(row) == {"day", "kind", "subject", "models", "endpoints", "summary", "source"}
            for row in shown["changes"]
        )
        assert any(row["kind"] == "rule" and row["subject"] == "n" for row in shown["changes"])
        assert any(row["kind"] == "price" and "per image" in row["summary"] for row in shown["changes"])

    def test_text(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["changes", "--model", "dall-e-2"]) == 0
        out = capsys.readouterr().out
        assert "2026-06-27  model" in out
        assert "source: " in out
        assert "last reviewed on 2026-12-03" in out

    def test_an_unknown_model_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["changes", "--model", "dall-e-4"]) == 2
        assert "unknown model" in capsys.readouterr().err


class TestEstimatesAcrossTheChanges:
    """Each log line is judged by the rules in force on its day: the images predicted are the
    images the responses show, before and after n was honoured."""

    def test_predicted_images_are_the_billed_ones(self) -> None:
        with (EXAMPLES / "timeline.jsonl").open(encoding="utf-8") as log:
            result = estimate(log, group_by=("day", "model"))
        totals = result.totals
        assert totals.observed == totals.requests == 6
        assert totals.billed_differ == 0
        assert totals.images == totals.billed_images == 11
        by_day = {(g.labels["day"], g.labels["model"]): g for g in result.groups}
        assert by_day[("2026-06-01", "gpt-image-2")].images == 1  # n=4 served as one image then
        assert by_day[("2026-08-01", "gpt-image-2")].images == 4  # and four images after 2026-07-18
        assert str(by_day[("2026-07-10", "nano-banana")].cost["credits"]) == "0.14"  # per call
        assert str(by_day[("2026-07-20", "nano-banana")].cost["credits"]) == "0.42"  # 3 x 0.14 an image
        assert str(by_day[("2026-05-10", "gpt-image-2")].cost["credits"]) == "0.09"  # XHuoAPI follows Ace


class TestDatedFactsAtLoad:
    def test_a_gap_between_dated_facts_is_refused(self, tmp_path: Path) -> None:
        import shutil

        data = tmp_path / "data"
        shutil.copytree(shipped_data_dir(), data)
        models = data / "models.toml"
        text = models.read_text(encoding="utf-8")
        text = text.replace("effective_from = 2026-07-27, change = ", "effective_from = 2026-07-28, change = ", 1)
        models.write_text(text, encoding="utf-8")
        with pytest.raises(CatalogError, match="must be the next fact's effective_from"):
            load_catalog(data)

    def test_a_later_fact_says_what_changed(self, tmp_path: Path) -> None:
        import shutil

        data = tmp_path / "data"
        shutil.copytree(shipped_data_dir(), data)
        models = data / "models.toml"
        text = models.read_text(encoding="utf-8")
        start = text.index('change = "the edits size default becomes auto", ')
        text = text[:start] + text[start + len('change = "the edits size default becomes auto", ') :]
        models.write_text(text, encoding="utf-8")
        with pytest.raises(CatalogError, match="say what changed on effective_from"):
            load_catalog(data)
