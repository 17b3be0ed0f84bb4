"""The engine's verdict memo (imagepricing/_memo.py) changes no result.

The differential test checks the engine of today against the plain loop over the rules without any
memo (tests/frozen/engine_35acddf.py, memoize=False) on 120,000 fuzzed requests over days across the
platform's dated changes. Why a frozen copy rather than
the base commit in a subprocess: the copy shares the very rules, tables and catalog objects, so
any difference is the engine's own, and the comparison is of whole `Report` objects (attrs
equality, every field), not of a serialisation; it also runs in seconds. The fuzzer is seeded
random rather than hypothesis so that 100,000+ cases fit in a CI run, and it draws from a pool
small enough that most shapes repeat (memo hits) while every request kind also appears.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
import threading
from pathlib import Path
from typing import Any

import pytest

from imagepricing import _clock, check, engine
from imagepricing._memo import MEMO_LIMIT, PAUSE, REPORT_LIMIT, WINDOW, VerdictMemo, memo_for
from imagepricing._shapes import shape
from imagepricing.capabilities import _view
from imagepricing.catalog import Catalog, default_catalog
from imagepricing.engine import Checker
from imagepricing.pricing import PRICE_BASES

FUZZED_REQUESTS = 120_000


def _frozen_engine() -> Any:
    # Loaded by path: tests/ is not a package, and pytest runs with --import-mode=importlib.
    path = Path(__file__).parent / "frozen" / "engine_35acddf.py"
    spec = importlib.util.spec_from_file_location("imagepricing_frozen_engine_35acddf_for_memo", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The engine before the memo: the plain loop over the rules (tests/frozen/engine_35acddf.py), without
# any memo. Until issue 20 this was engine_a44ec6b, a copy of the engine before the memo; the rules
# changed on purpose in issue 20 (dated facts), and the frozen loop of 35acddf was brought up to them.
_unmemoised = _frozen_engine().Checker(memoize=False)


def check_before_memo(
    request: object,
    endpoint: str = "generations",
    provider: str = "acedata",
    *,
    as_of: dt.date | None = None,
    price_basis: str = "charged",
    url_policy: str = "basic",
) -> Any:
    checker = _unmemoised if (price_basis, url_policy) == ("charged", "basic") else None
    if checker is None:
        checker = _frozen_engine_module.Checker(price_basis=price_basis, url_policy=url_policy, memoize=False)
    return checker.check(request, endpoint, provider, as_of)


_frozen_engine_module = _frozen_engine()

_URLS = [
    "https://example.com/a.png",
    "https://cdn.example.org/x/y.jpg?v=1",
    "http://localhost/a.png",
    "https://10.0.0.1/a.png",
    "ftp://example.com/a.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "https://exa mple.com/a.png",
    "",
    "https://user:secret@example.com/a.png",
]
_TEXT = ["a red apple", "", " ", "x" * 1000, "y" * 4001, "z" * 32_001, "\u200b", "ｐ"]
_SCALARS: list[object] = [
    None,
    True,
    False,
    0,
    1,
    2,
    3,
    4,
    10,
    11,
    -1,
    1.0,
    2.0,
    2.5,
    2**70,
    "1",
    "１",
    "2\n",
    float("nan"),
    [],
    {},
    [1],
    {"a": 1},
    "auto",
    "",
]


def _values_for(name: str) -> list[object]:
    catalog = default_catalog()
    values: list[object] = list(_SCALARS)
    for model in catalog.models.values():
        for capability in model.endpoints.values():
            spec = capability.params.get(name)
            if spec is None:
                continue
            values.extend(spec.values or ())
            values.extend(spec.disputed_values)
            if spec.size is not None:
                values.extend(spec.size.allowed_order or ())
                values.extend(
                    [
                        "1024x1024",
                        "1280x720",
                        "2048x1152",
                        "1000x1000",
                        "1024X1024",
                        "01024x1024",
                        "4096x4096",
                        "512x512",
                        "3840x1280",
                        "16x16",
                        "1024x1024 ",
                    ]
                )
    if name in ("image", "mask", "callback_url"):
        values.extend(_URLS)
        values.extend([[u] for u in _URLS] + [_URLS[:2], _URLS[:3], [_URLS[0]] * 17, [_URLS[0]] * 12])
    if name == "prompt":
        values.extend(_TEXT)
    return values


def _pools() -> tuple[list[object], dict[str, list[object]]]:
    catalog = default_catalog()
    models: list[object] = [*catalog.models, "dall-e-4", "Nano-Banana", "gpt-image", None, 3, True, ["dall-e-3"], ""]
    names = sorted({*catalog.parameters, *catalog.known_parameters, "async", "stream", "seed", "user", "foo"})
    return models, {name: _values_for(name) for name in names}


def _request(rng: random.Random, models: list[object], pools: dict[str, list[object]]) -> object:
    if rng.random() < 0.01:
        return rng.choice([[1, 2], "text", None, 5, {1: "a", "model": "dall-e-3"}, {True: 1}])
    request: dict[Any, object] = {}
    if rng.random() < 0.95:
        request["model"] = rng.choice(models)
    if rng.random() < 0.9:
        request["prompt"] = rng.choice(pools["prompt"][-8:] if rng.random() < 0.5 else ["a fox", "an apple"])
    for name in rng.sample(sorted(pools), rng.randint(0, 4)):
        request[name] = rng.choice(pools[name])
    if rng.random() < 0.02:
        request[7] = "not a string key"
    items = list(request.items())
    rng.shuffle(items)  # key order decides finding order
    return dict(items)


# Days across the price books' changes (prices in force, not yet in force, changed), so that one
# shape is priced on many days, and the report memo (shape x provider x day x basis) is exercised.
_DATES = [dt.date(2026, 1, 1) + dt.timedelta(days=23 * step) for step in range(20)]
_DAYS: list[dt.date | None] = [None, *_DATES]


def test_memo_changes_no_report_on_fuzzed_requests() -> None:
    rng = random.Random(11)
    models, pools = _pools()
    days = _DAYS
    memo = memo_for(default_catalog())
    memo.clear()
    differences = []
    for index in range(FUZZED_REQUESTS):
        request = _request(rng, models, pools)
        options: dict[str, Any] = {
            "endpoint": rng.choice(("generations", "edits")),
            "provider": rng.choice(("acedata", "xhuoapi", "openai")),
            "as_of": rng.choice(days),
            "price_basis": rng.choice(("charged", "published")),
            "url_policy": rng.choice(("basic", "strict")),
        }
        expected = check_before_memo(request, **options)
        memo.skip = 0  # keep the memo on throughout: this test is about what it answers
        got = check(request, **options)
        if got != expected or got.to_dict() != expected.to_dict():
            differences.append((index, request, options))
            if len(differences) >= 5:
                break
    assert not differences, differences
    # The fuzz must have exercised the memo: many repeated shapes answered from it, each priced
    # on several days, at several providers and on both bases.
    assert len(memo) > 100
    assert len(memo.reports) > 2 * len(memo)


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    # Identity assertions need the memo on: an earlier test's traffic may have paused it.
    for era in range(len(default_catalog().eras)):
        memo_for(_view(default_catalog(), era)).clear()


def test_memo_returns_the_first_report_for_a_repeated_shape() -> None:
    first = check({"model": "gpt-image-2", "prompt": "a fox", "size": "1280x720"})
    second = check({"model": "gpt-image-2", "prompt": "another fox, longer", "size": "1280x720"})
    assert second is first


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"model": "dall-e-2", "prompt": "a", "n": 1}, {"model": "dall-e-2", "prompt": "a", "n": True}),
        ({"model": "dall-e-2", "prompt": "a", "n": 2}, {"model": "dall-e-2", "prompt": "a", "n": 2.0}),
        ({"model": "dall-e-2", "prompt": "a", "stream": True}, {"model": "dall-e-2", "prompt": "a", "stream": 1}),
        ({"model": "dall-e-2", "prompt": ""}, {"model": "dall-e-2", "prompt": "a"}),
        ({"model": "dall-e-2", "prompt": "a", 1: "x"}, {"model": "dall-e-2", "prompt": "a", True: "x"}),
        ({"prompt": "a", "model": "dall-e-2"}, {"model": "dall-e-2", "prompt": "a"}),
    ],
)
def test_values_rules_tell_apart_are_different_shapes(one: dict[Any, object], other: dict[Any, object]) -> None:
    assert check(one) is not check(other)
    assert check(one) == check_before_memo(one)
    assert check(other) == check_before_memo(other)


def test_a_prompt_over_its_limit_or_a_bad_url_is_not_memoised() -> None:
    long = {"model": "dall-e-2", "prompt": "x" * 5000}
    assert check(long) is not check(long)
    bad = {"model": "gpt-image-2", "prompt": "a", "callback_url": "ftp://example.com/x"}
    assert [f.code for f in check(bad).warnings if f.param == "callback_url"] == ["callback_unusable"]
    assert check(bad) is not check(bad)
    assert not check(bad, url_policy="strict").ok
    assert check(bad, url_policy="strict") is not check(bad, url_policy="strict")


def test_memo_is_bounded_and_keeps_what_is_used() -> None:
    memo = VerdictMemo(limit=100)
    hot = check({"model": "dall-e-2", "prompt": "a"})
    memo.put("hot", hot)
    for index in range(1000):
        memo.put(index, hot)
        assert memo.get("hot") is hot  # used between insertions: never evicted
        assert len(memo) <= 100
    assert memo.get(0) is None  # an early, unused entry is gone


def test_memo_is_safe_across_threads() -> None:
    requests = [{"model": "gpt-image-2", "prompt": "p", "size": f"{16 * w}x{16 * w}"} for w in range(40, 140)]
    expected = [check_before_memo(r) for r in requests]
    failures: list[int] = []

    def worker() -> None:
        for _ in range(20):
            for index, request in enumerate(requests):
                if check(request) != expected[index]:
                    failures.append(index)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def _todays_catalog() -> Catalog:
    """The catalog `check` uses today (the tests' today: the seeds' week, see conftest.py)."""
    return default_catalog().on(_clock.today())


def test_memo_sits_out_when_shapes_rarely_repeat() -> None:
    memo = memo_for(_todays_catalog())
    for width in range(WINDOW + 1):  # every request a new shape: no hit at all
        check({"model": "gpt-image-2", "prompt": "p", "size": f"{16 * (40 + width % 200)}x{16 * (40 + width // 200)}"})
    assert memo.skip > PAUSE - 10
    request = {"model": "dall-e-2", "prompt": "a"}
    assert check(request) is not check(request)  # not memoised while it sits out
    assert check(request) == check_before_memo(request)
    memo.clear()
    assert check(request) is check(request)


def test_a_known_shape_on_a_new_day_is_priced_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    judged: list[object] = []
    real = engine._judged

    def counting(*args: Any) -> Any:
        judged.append(args[0])
        return real(*args)

    monkeypatch.setattr(engine, "_judged", counting)
    request = {"model": "gpt-image-2", "prompt": "a fox", "size": "1280x720", "quality": "high"}
    reports = {
        (provider, day, basis): check(request, provider=provider, as_of=day, price_basis=basis)
        for provider in ("acedata", "xhuoapi", "openai")
        for day in (dt.date(2025, 1, 1), dt.date(2026, 5, 1), dt.date(2026, 7, 1))
        for basis in PRICE_BASES
    }
    # The rules ran once per era of the rules the days fall in; every other report is a price lookup.
    eras = {id(default_catalog().on(day)) for day in (dt.date(2025, 1, 1), dt.date(2026, 5, 1), dt.date(2026, 7, 1))}
    assert len(judged) == len(eras) == 3
    for (provider, day, basis), report in reports.items():
        assert report == check_before_memo(request, provider=provider, as_of=day, price_basis=basis)
        assert check(request, provider=provider, as_of=day, price_basis=basis) is report
    assert len({id(report) for report in reports.values()}) == len(reports)


def test_checker_gives_what_check_gives() -> None:
    rng = random.Random(5)
    models, pools = _pools()
    checker = Checker(price_basis="published", url_policy="strict")
    bare = Checker(price_basis="published", url_policy="strict", memoize=False)
    catalog = default_catalog()
    memo = memo_for(catalog)
    memoised = 0
    for _ in range(3000):
        request = _request(rng, models, pools)
        endpoint = rng.choice(("generations", "edits"))
        provider = rng.choice(("acedata", "xhuoapi", "openai"))
        day = rng.choice(_DATES)
        expected = check_before_memo(
            request, endpoint, provider, as_of=day, price_basis="published", url_policy="strict"
        )
        memo.skip = 0  # keep the memo on: this test is about what it answers
        got = checker(request, endpoint, provider, day)
        assert got == expected
        again = check(request, endpoint, provider, as_of=day, price_basis="published", url_policy="strict")
        if shape(request, endpoint, catalog, memo, "strict") is not None:
            assert again is got
            memoised += 1
        fresh = bare(request, endpoint, provider, day)
        assert fresh == expected
        assert fresh is not got  # memoize=False: never from the memo
    assert memoised > 1000
    assert checker({"model": "dall-e-2", "prompt": "a"}).endpoint == "generations"
    assert Checker(endpoint="edits")({"model": "gpt-image-1", "prompt": "a", "image": "https://e.com/a.png"}).ok


def test_judge_then_price_is_check() -> None:
    """Checker's two halves compose to `check`, report for report, memo on and off; a repeated
    shape is judged to the very same Outcome, and a memoised outcome priced twice gives one report."""
    rng = random.Random(23)
    models, pools = _pools()
    catalog = default_catalog()
    memo = memo_for(catalog)
    checkers = [Checker(catalog, price_basis="published"), Checker(catalog, memoize=False)]
    same_outcome = 0
    for _ in range(3000):
        request = _request(rng, models, pools)
        endpoint = rng.choice(("generations", "edits"))
        provider = rng.choice(("acedata", "xhuoapi", "openai"))
        day = rng.choice(_DATES)
        for checker in checkers:
            memo.skip = 0
            expected = check_before_memo(request, endpoint, provider, as_of=day, price_basis=checker.price_basis)
            outcome = checker.judge(request, endpoint, day)
            report = checker.price(outcome, provider, day)
            assert report == expected
            assert report.to_dict() == expected.to_dict()
            on_day = catalog.on(day)
            memoised = (
                checker is checkers[0] and shape(request, endpoint, on_day, memo_for(on_day), "basic") is not None
            )
            assert outcome.memoised is memoised
            again = checker.judge(request, endpoint, day)
            if memoised:
                assert again is outcome
                assert checker.price(again, provider, day) is report
                same_outcome += 1
            else:
                assert again is not outcome  # judged afresh: one of a kind
    assert same_outcome > 1000


def test_an_outcome_the_memo_does_not_hold_leaves_no_report_in_it() -> None:
    catalog = default_catalog()
    memo = memo_for(catalog)
    bare = Checker(catalog, memoize=False)
    before = len(memo.reports)
    for day in _DAYS[1:]:
        bare.price(bare.judge({"model": "gpt-image-2", "prompt": "a fox"}, day=day), "xhuoapi", day)
        # and a memoising checker pricing it: the outcome is not the memo's, so neither are its reports
        Checker(catalog).price(bare.judge({"model": "gpt-image-2", "prompt": "a fox"}, day=day), "openai", day)
    assert len(memo.reports) == before


def test_price_refuses_what_is_not_this_catalogs_outcome() -> None:
    checker = Checker()
    outcome = checker.judge({"model": "dall-e-2", "prompt": "a"})
    other = Checker(default_catalog().with_price("acedata", "dall-e-2", "0.5"))
    with pytest.raises(ValueError, match="another catalog"):
        other.price(outcome)
    with pytest.raises(TypeError, match="must be an Outcome"):
        checker.price(check({"model": "dall-e-2", "prompt": "a"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown provider"):
        checker.price(outcome, "nobody")
    with pytest.raises(ValueError, match="unknown endpoint"):
        checker.judge({"model": "dall-e-2", "prompt": "a"}, "variations")
    assert other.price(other.judge({"model": "dall-e-2", "prompt": "a"})).ok


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint": "variations"}, "unknown endpoint"),
        ({"price_basis": "list"}, "unknown price_basis"),
        ({"url_policy": "lax"}, "unknown url_policy"),
    ],
)
def test_checker_refuses_bad_options_once(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Checker(**options)


def test_checker_refuses_a_bad_endpoint_provider_or_day_at_the_call() -> None:
    checker = Checker()
    request = {"model": "dall-e-2", "prompt": "a"}
    with pytest.raises(ValueError, match="unknown endpoint"):
        checker(request, "variations")
    with pytest.raises(ValueError, match="unknown provider"):
        checker(request, provider="nobody")
    with pytest.raises(TypeError, match="as_of must be a date"):
        checker(request, day="2026-05-01")  # type: ignore[arg-type]
    moment = dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    assert checker(request, day=moment).as_of == dt.date(2026, 6, 2)


def test_concurrent_checks_equal_sequential_ones() -> None:
    """Threads sharing the memo (both levels) get what one thread gets, report for report."""
    rng = random.Random(17)
    models, pools = _pools()
    calls = [
        (
            _request(rng, models, pools),
            rng.choice(("generations", "edits")),
            rng.choice(("acedata", "xhuoapi", "openai")),
            rng.choice(_DATES[:4]),  # one era of the rules (before 2026-04-18)
            rng.choice(("charged", "published")),
        )
        for _ in range(1500)
    ]
    expected = [check_before_memo(r, e, p, as_of=d, price_basis=b) for r, e, p, d, b in calls]
    checkers = {basis: Checker(price_basis=basis) for basis in ("charged", "published")}
    assert len({id(default_catalog().on(call[3])) for call in calls}) == 1  # one era: one memo shared
    memo = memo_for(default_catalog().on(calls[0][3]))
    memo.shapes = type(memo.shapes)(64)  # small: evictions happen while threads read
    memo.reports = type(memo.reports)(128)
    failures: list[int] = []

    def worker(offset: int) -> None:
        for round_ in range(4):
            for index in range(len(calls)):
                position = (index + offset * 97 + round_ * 31) % len(calls)
                request, endpoint, provider, day, basis = calls[position]
                memo.skip = 0
                if checkers[basis](request, endpoint, provider, day) != expected[position]:
                    failures.append(position)

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        memo.shapes = type(memo.shapes)(MEMO_LIMIT)
        memo.reports = type(memo.reports)(REPORT_LIMIT)
    assert not failures, failures[:5]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # A string value stands for itself in a shape; it must not be taken for the tuple a
        # non-string value of the same parameter abstracts to, nor for a text marker.
        (
            {"model": "gpt-image-2", "prompt": "a", "quality": "high"},
            {"model": "gpt-image-2", "prompt": "a", "quality": True},
        ),
        (
            {"model": "gpt-image-2", "prompt": "a", "size": "auto"},
            {"model": "gpt-image-2", "prompt": "a", "size": ["auto"]},
        ),
        ({"model": "gpt-image-2", "prompt": "a", "n": "1"}, {"model": "gpt-image-2", "prompt": "a", "n": 1}),
        ({"model": "gpt-image-2", "prompt": "True"}, {"model": "gpt-image-2", "prompt": True}),
        ({"model": "gpt-image-2", "prompt": ""}, {"model": "gpt-image-2", "prompt": "a"}),
        ({"model": "gpt-image-2", "prompt": "a"}, {"model": "gpt-image-2", "prompt": 0}),
    ],
)
def test_strings_and_texts_in_a_shape_stay_apart_from_other_values(
    one: dict[str, object], other: dict[str, object]
) -> None:
    catalog = default_catalog()
    memo = memo_for(catalog)
    assert shape(one, "generations", catalog, memo, "basic") != shape(other, "generations", catalog, memo, "basic")
    assert check(one) == check_before_memo(one)
    assert check(other) == check_before_memo(other)


def test_a_prompt_at_its_limit_is_one_shape_and_past_it_none() -> None:
    catalog = default_catalog()
    memo = memo_for(catalog)
    limit = catalog.models["dall-e-2"].endpoints["generations"].params["prompt"].max_chars
    assert limit is not None
    at_limit = shape({"model": "dall-e-2", "prompt": "x" * limit}, "generations", catalog, memo, "basic")
    short = shape({"model": "dall-e-2", "prompt": "y"}, "generations", catalog, memo, "basic")
    assert at_limit is not None
    assert at_limit == short
    assert shape({"model": "dall-e-2", "prompt": "x" * (limit + 1)}, "generations", catalog, memo, "basic") is None


def test_a_shape_alternating_providers_days_and_bases_gets_each_its_own_report() -> None:
    # The engine keeps the report it last priced from an outcome as a shortcut; alternating what
    # the price depends on must never hand one provider's, day's or basis's report to another.
    request = {"model": "gpt-image-2", "prompt": "a fox", "size": "1024x1024", "quality": "high"}
    days = [dt.date(2026, 5, 1), dt.date(2026, 5, 1)]
    seen: dict[tuple[str, dt.date, str], object] = {}
    for _ in range(3):
        for provider in ("acedata", "xhuoapi", "openai"):
            for day in days:
                for basis in PRICE_BASES:
                    report = check(request, "generations", provider, as_of=day, price_basis=basis)
                    assert (report.provider, report.as_of, report.price_basis) == (provider, day, basis)
                    assert report == check_before_memo(request, "generations", provider, as_of=day, price_basis=basis)
                    assert seen.setdefault((provider, day, basis), report) is report
