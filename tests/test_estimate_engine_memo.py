"""estimate on the engine's memo changes no result: memoised and memoize=False estimates agree.

estimate no longer keeps a cache of its own: a line's verdict comes from the Report the engine
returns (the same object for a repeated request, provider, day and basis). These tests estimate
varied generated logs both ways (many days, three providers, edits with new URLs, envelopes with
status and response, unknown models, rejected requests, bad lines) and require equal estimates
and equal per-request results; and they check that the engine's URL verdict cache (rules.py)
gives what url_problems gives.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagepricing import rules
from imagepricing._memo import Generations, memo_for
from imagepricing._url_codes import URL_POLICIES
from imagepricing.catalog import default_catalog
from imagepricing.estimation import estimate
from imagepricing.per_request import RequestPricer
from imagepricing.urls import url_problems

_SIZES = ("1024x1024", "1536x1024", "1024x1536", "2048x1152", "auto", "1000x1000", "512x512", 1024, None)
_QUALITIES = ("high", "medium", "low", "auto", "hd", "standard", "best", True, None)
_URLS = (
    "https://uploads.example.com/u/{}.png",
    "http://localhost/{}.png",
    "https://10.0.0.1/{}.png",
    "ftp://example.com/{}",
    "https://exa mple.com/{}",
    "data:image/png;base64,iVBORw0KGgo=",
)


def _request(rng: random.Random, index: int) -> tuple[str, dict[str, Any]]:
    catalog = default_catalog()
    model = rng.choice([*catalog.models, "gpt-image-9", "openai/gpt-image-1", 7, None])
    request: dict[str, Any] = {"prompt": " ".join(rng.choices(("a", "fox", "in", "snow"), k=rng.randint(0, 30)))}
    if model is not None:
        request["model"] = model
    if rng.random() < 0.6:
        request["size"] = rng.choice(_SIZES)
    if rng.random() < 0.4:
        request["quality"] = rng.choice(_QUALITIES)
    if rng.random() < 0.15:
        request["n"] = rng.choice((1, 2, 4, 11, 2.0, True, "2"))
    if rng.random() < 0.05:
        request["callback_url"] = rng.choice(_URLS).format(index)
    if rng.random() < 0.05:
        request["seed"] = index  # unknown to the platform: dropped
    if rng.random() < 0.25:
        image: object = rng.choice(_URLS).format(index)
        if rng.random() < 0.3:
            image = [image, rng.choice(_URLS).format(index + 1)]
        request["image"] = image
        return "edits", request
    return "generations", request


def _line(rng: random.Random, index: int) -> str:
    roll = rng.random()
    if roll < 0.01:
        return '{"model": "nano-banana", "prompt": "cut'
    if roll < 0.015:
        return "[1, 2]"
    if roll < 0.02:
        return ""
    endpoint, request = _request(rng, index)
    if rng.random() < 0.2:
        return json.dumps(request)  # a bare request: default endpoint and provider, no time
    envelope: dict[str, Any] = {"request": request, "endpoint": endpoint}
    if rng.random() < 0.9:
        day = dt.date(2025, 11, 1) + dt.timedelta(days=rng.randrange(90))
        envelope["time"] = f"{day.isoformat()}T{rng.randrange(24):02d}:00:00Z"
    if rng.random() < 0.8:
        envelope["provider"] = rng.choice(("acedata", "xhuoapi", "openai"))
    if rng.random() < 0.3:
        envelope["status"] = rng.choice((200, 200, 400, 500))
        if rng.random() < 0.5:
            envelope["response"] = {"data": [{"url": "https://cdn.example.com/x.png"}] * rng.randint(0, 3)}
    return json.dumps(envelope)


def _log(seed: int, lines: int) -> list[str]:
    rng = random.Random(seed)
    return [_line(rng, index) for index in range(lines)]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "group_by", [("model", "day"), ("provider", "endpoint", "tier"), ("month",), ("hour", "model")]
)
def test_memoised_estimate_equals_unmemoised_on_varied_logs(seed: int, group_by: tuple[str, ...]) -> None:
    log = _log(seed, 6000)
    memo_for(default_catalog()).clear()
    options: dict[str, Any] = {"group_by": group_by, "as_of": dt.date(2026, 1, 15)}
    memoised = estimate(log, **options)
    again = estimate(log, **options)  # the engine's memo warm: every report from it
    unmemoised = estimate(log, memoize=False, **options)
    assert memoised == unmemoised
    assert again == unmemoised
    assert memoised.to_dict() == unmemoised.to_dict()
    # The log must exercise what it is meant to: unknown models, rejections, billed lines.
    totals = memoised.totals
    assert totals.unknown_model
    assert totals.rejected
    assert totals.accepted
    assert totals.observed
    assert memoised.unreadable
    assert memoised.blank


def test_only_outcomes_the_engine_memoises_are_kept_by_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's (outcome, provider, day) -> verdict map holds only outcomes the engine's memo holds:
    any other outcome is one of a kind, and keeping it would only hold memory."""
    from imagepricing.log_lines import LineJudge

    sizes: dict[bool, int] = {}
    real = LineJudge.release

    def watching(self: LineJudge) -> None:
        sizes[self.memoize] = len(self.seen)
        assert all(outcome.memoised for outcome, _provider, _day in self.seen)
        real(self)

    monkeypatch.setattr(LineJudge, "release", watching)
    log = _log(4, 2000)
    memo_for(default_catalog()).clear()
    assert estimate(log, group_by="day") == estimate(log, group_by="day", memoize=False)
    assert sizes[True] > 0
    assert sizes[False] == 0


def test_memoised_per_request_results_equal_unmemoised_ones() -> None:
    log = _log(7, 4000)
    pricer = RequestPricer(as_of=dt.date(2026, 1, 15))
    got = pricer.price_lines(log)
    expected = []
    for line in log:  # one line at a time, each with a fresh pricer: nothing shared but the engine
        expected.extend(RequestPricer(as_of=dt.date(2026, 1, 15)).price_lines([line]))
    assert got == expected
    statuses = {result.status for result in got}
    assert statuses >= {"priced", "rejected", "unknown_model", "unreadable", "blank"}


def test_parsed_objects_and_lines_agree_on_the_engine_memo() -> None:
    log = _log(9, 3000)
    objects: list[object] = []
    for line in log:
        try:
            objects.append(json.loads(line))
        except ValueError:
            objects.append(line)
    assert estimate(objects, group_by=("model", "day")).totals == estimate(log, group_by=("model", "day")).totals


_URL_TEXT = st.one_of(
    st.sampled_from([u.format("x") for u in _URLS]),
    st.builds(
        lambda scheme, host, tail: f"{scheme}{host}{tail}",
        st.sampled_from(["https://", "http://", "HTTPS://", "data:", "", "//"]),
        st.sampled_from(["example.com", "127.0.0.1", "[::1]", "0x7f.1", "exa mple.com", "münchen.de", ""]),
        st.text(max_size=30),
    ),
    st.text(max_size=60),
)


@settings(max_examples=400)
@given(url=_URL_TEXT, policy=st.sampled_from(URL_POLICIES), allow_data_uri=st.booleans())
def test_the_shared_url_verdict_is_url_problems(url: str, policy: str, allow_data_uri: bool) -> None:
    expected = url_problems(url, policy=policy, allow_data_uri=allow_data_uri)
    assert rules._url_verdict(url, policy, allow_data_uri) == expected
    assert rules._url_verdict(url, policy, allow_data_uri) == expected  # the second from the cache


def test_the_url_verdict_cache_is_bounded_and_keeps_what_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    verdicts = Generations(10)
    monkeypatch.setattr(rules, "_URL_VERDICTS", verdicts)
    recurring = ("https://cdn.example.com/logo.png", "basic", True)
    for index in range(100):
        rules._url_verdict(f"https://example.com/{index}.png", "basic", True)
        rules._url_verdict(*recurring)  # a URL every other request carries
        assert len(verdicts) <= 10
    assert recurring in verdicts.young or recurring in verdicts.old  # used, so never evicted
    assert ("https://example.com/0.png", "basic", True) not in {**verdicts.young, **verdicts.old}
    rules._url_verdict("https://example.com/" + "a" * 5000, "basic", True)
    kept: list[Any] = [*verdicts.young, *verdicts.old]
    assert not any(len(key[0]) > 2048 for key in kept)


def test_a_url_is_checked_once_on_a_memo_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real = url_problems

    def counting(value: str, **options: Any) -> Any:
        checked.append(value)
        return real(value, **options)

    rules._url_checker.cache_clear()
    monkeypatch.setattr("imagepricing.urls.url_problems", counting)
    try:
        memo_for(default_catalog()).clear()
        rules._URL_VERDICTS.clear()
        request = {"model": "gpt-image-1", "prompt": "a", "image": "https://uploads.example.com/once-only.png"}
        from imagepricing import check

        assert check(request, "edits").ok
        assert checked == ["https://uploads.example.com/once-only.png"]  # by the key, reused by the rule
    finally:
        rules._url_checker.cache_clear()
