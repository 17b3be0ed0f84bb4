"""Compiled checkers (imagepricing/_checkers.py) change no result.

The differential test checks the engine of today, with the memo off and on, against a frozen copy
of the engine before the checkers were compiled (tests/frozen/engine_35acddf.py: the plain loop over
today's rules, edited in issue 20 only where the rules changed on purpose) on 120,000 fuzzed
requests, comparing
whole `Report`s and their `to_dict()`. The fuzzer is tests/test_engine_memo.py's. Hypothesis
properties compare the two on imagepricing.strategies' valid, invalid and junk requests. The other
tests hold the content-keyed caches to their bounds and show that each is actually used.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.util
import random
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagepricing import _checkers, _clock, check, engine
from imagepricing import rules as engine_rules
from imagepricing._checkers import SizeCache, compiled_for
from imagepricing._memo import Generations, VerdictMemo, memo_for
from imagepricing.catalog import Catalog, default_catalog
from imagepricing.engine import Checker
from imagepricing.pricing import PriceBasis
from imagepricing.rules import CROSS_RULES, cross_rules_for
from imagepricing.strategies import invalid_requests, junk_requests, valid_requests

FUZZED_REQUESTS = 120_000


def _load(name: str) -> ModuleType:
    # Loaded by path: tests/ is not a package, and pytest runs with --import-mode=importlib.
    path = Path(__file__).parent / "frozen" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"imagepricing_frozen_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_test_module(name: str) -> ModuleType:
    return _load_from(Path(__file__).parent / f"{name}.py", f"imagepricing_tests_{name}")


def _load_from(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


frozen_engine = _load("engine_35acddf")
# The frozen engine memoises in memos of its own: sharing the live engine's, it would leave there outcomes of
# its own class, which the live engine would then hand out.
_FROZEN_MEMOS: dict[int, tuple[Catalog, VerdictMemo]] = {}


def _frozen_memo_for(catalog: Catalog) -> VerdictMemo:
    return _FROZEN_MEMOS.setdefault(id(catalog), (catalog, VerdictMemo()))[1]


setattr(frozen_engine, "memo_for", _frozen_memo_for)  # noqa: B010  # a module loaded by path
check_before = frozen_engine.Checker
_fuzz = _load_test_module("test_engine_memo")
_pools, _request, _DAYS = _fuzz._pools, _fuzz._request, _fuzz._DAYS


def test_the_frozen_engine_runs_todays_rules_through_its_own_loop() -> None:
    assert frozen_engine.RULES is engine_rules.RULES
    assert frozen_engine._judged is not engine._judged


def test_compiled_checkers_change_no_report_on_fuzzed_requests() -> None:
    rng = random.Random(35)
    models, pools = _pools()
    catalog = default_catalog()
    memo = memo_for(catalog)
    memo.clear()
    bases: tuple[PriceBasis, ...] = ("charged", "published")
    before = {
        (basis, policy): check_before(catalog, price_basis=basis, url_policy=policy, memoize=False)
        for basis in bases
        for policy in ("basic", "strict")
    }
    bare = {key: Checker(catalog, price_basis=key[0], url_policy=key[1], memoize=False) for key in before}
    memoised = {key: Checker(catalog, price_basis=key[0], url_policy=key[1]) for key in before}
    today = dt.datetime.now(dt.UTC).date()
    differences = []
    for index in range(FUZZED_REQUESTS):
        request = _request(rng, models, pools)
        endpoint = rng.choice(("generations", "edits"))
        provider = rng.choice(("acedata", "xhuoapi", "openai"))
        day = rng.choice(_DAYS) or today
        key = (rng.choice(bases), rng.choice(("basic", "strict")))
        expected = before[key](request, endpoint, provider, day)
        fresh = bare[key](request, endpoint, provider, day)
        memo.skip = 0  # keep the memo on: both paths are compared
        remembered = memoised[key](request, endpoint, provider, day)
        for got in (fresh, remembered):
            if got != expected or got.to_dict() != expected.to_dict():
                differences.append((index, request, endpoint, provider, day, key))
        if len(differences) >= 5:
            break
    assert not differences, differences
    assert len(memo) > 100  # the memo answered many of them
    # The frozen engine memoised in its own memos: the live one holds only the live engine's outcomes.
    assert {type(outcome) for outcome in [*memo.shapes.young.values(), *memo.shapes.old.values()]} == {engine.Outcome}


def test_a_plan_is_compiled_once_per_model_and_endpoint() -> None:
    catalog = default_catalog()
    compiled = compiled_for(catalog)
    check({"model": "gpt-image-2", "prompt": "a", "size": "1280x720"}, catalog=catalog)
    gpt = catalog.capability("gpt-image-2", "generations")
    plan = compiled.plans[(id(gpt), "generations")]
    check({"model": "gpt-image-2", "prompt": "b", "quality": "high"}, catalog=catalog)
    assert compiled.plans[(id(gpt), "generations")] is plan
    assert compiled_for(catalog) is compiled
    # A catalog with a price changed has its own plans (and shares nothing mutable with this one).
    other = catalog.with_price("xhuoapi", "gpt-image-2", "0.5")
    assert compiled_for(other) is not compiled
    assert len(compiled.plans) <= (len(catalog.models) + 1) * 2


def test_constant_findings_are_built_once_and_shared() -> None:
    request = {"model": "nano-banana", "prompt": "a", "quality": "hd", "seed": 3, "foo": 1}
    one = Checker(memoize=False)(request)
    two = Checker(memoize=False)(request)
    assert one == two
    assert [f.code for f in one.ignored] == ["dropped", "undocumented_parameter", "unknown_parameter"]
    for mine, theirs in zip(one.ignored, two.ignored, strict=True):
        assert mine is theirs


def test_unknown_parameter_findings_are_kept_per_catalog_and_bounded() -> None:
    catalog = default_catalog()
    compiled = compiled_for(catalog)
    cache = compiled.unknown_keys
    for index in range(5 * cache.limit):
        finding = compiled.unknown_parameter(catalog, f"key{index}", "generations")
        assert finding.param == f"key{index}"
        assert len(cache) <= cache.limit
    long_key = "k" * 65
    assert compiled.unknown_parameter(catalog, long_key, "edits") is not compiled.unknown_parameter(
        catalog, long_key, "edits"
    )  # not kept
    assert compiled.unknown_parameter(catalog, "foo", "edits") is compiled.unknown_parameter(catalog, "foo", "edits")
    assert compiled.unknown_parameter(catalog, "foo", "edits") != compiled.unknown_parameter(
        catalog, "foo", "generations"
    )
    other = catalog.with_price("acedata", "gpt-image-2", "0.5")
    assert compiled_for(other).unknown_parameter(other, "foo", "edits") is not compiled.unknown_parameter(
        catalog, "foo", "edits"
    )


def test_did_you_mean_is_kept_per_catalog_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = default_catalog()
    compiled = compiled_for(catalog)
    suggestions, findings = compiled.suggestions, compiled.unknown_models
    suggestions.clear()
    findings.clear()
    first = Checker(memoize=False)({"model": "dall-e-4", "prompt": "x"})
    assert "did you mean 'dall-e-3'?" in first.errors[0].message
    assert Checker(memoize=False)({"model": "dall-e-4", "prompt": "y"}).errors[0] is first.errors[0]
    import difflib

    def refuse(*args: object, **kwargs: object) -> list[str]:
        raise AssertionError("difflib ran for a name already suggested")

    monkeypatch.setattr(difflib, "get_close_matches", refuse)
    assert Checker(memoize=False)({"model": "DALL-E-4 ", "prompt": "x"}) != first  # another message...
    assert "did you mean 'dall-e-3'?" in Checker(memoize=False)({"model": "DALL-E-4 ", "prompt": "x"}).errors[0].message
    monkeypatch.undo()
    for index in range(3 * suggestions.limit):
        Checker(memoize=False)({"model": f"model {index}", "prompt": "x"})
        assert len(suggestions) <= suggestions.limit
        assert len(findings) <= findings.limit
    long_name = "dall-e-4" + " " * 60 + "x"
    assert (
        Checker(memoize=False)({"model": long_name}).errors[0]
        is not Checker(memoize=False)({"model": long_name}).errors[0]
    )


def test_the_size_cache_replays_what_the_rule_did_and_is_bounded() -> None:
    catalog = default_catalog()
    bare = Checker(catalog, memoize=False)
    before = check_before(catalog, memoize=False)
    sizes = ["1280x720", "1000x1000", "01024x1024", "4096x4096", "16x16", "auto", "", "1024X1024", "0x0", "9" * 70]
    for size in sizes * 2:
        request = {"model": "gpt-image-2", "prompt": "a", "size": size}
        assert bare(request) == before(request)
        assert bare(request).to_dict() == before(request).to_dict()
    plan = compiled_for(catalog).plan(catalog, catalog.capability("gpt-image-2", "generations"), "generations")
    _rule, cache = plan.actions["size"]
    assert isinstance(cache, SizeCache)
    assert "1280x720" in cache.seen.young or "1280x720" in cache.seen.old
    assert "9" * 70 not in cache.seen.young  # too long to keep
    for width in range(3 * cache.seen.limit):
        bare({"model": "gpt-image-2", "prompt": "a", "size": f"{16 * (width % 300 + 1)}x{16 * (width // 300 + 1)}"})
        assert len(cache.seen) <= cache.seen.limit


def test_every_model_on_every_endpoint_matches_the_frozen_engine() -> None:
    catalog = default_catalog()
    bare = Checker(catalog, memoize=False)
    before = check_before(catalog, memoize=False)
    names = sorted({*catalog.parameters, *catalog.known_parameters, "foo"})
    for model in [*catalog.models, None, "nope"]:
        for endpoint in ("generations", "edits"):
            request: dict[str, Any] = dict.fromkeys(names)
            request["model"] = model
            assert bare(request, endpoint) == before(request, endpoint)
            request = dict.fromkeys(names, True)
            request["model"] = model
            assert bare(request, endpoint) == before(request, endpoint)


def _same_as_before(request: object, endpoint: str) -> None:
    catalog = default_catalog()
    for provider in ("acedata", "xhuoapi", "openai"):
        expected = check_before(catalog, memoize=False)(request, endpoint, provider)
        got = Checker(catalog, memoize=False)(request, endpoint, provider)
        assert got == expected
        assert got.to_dict() == expected.to_dict()


@given(request=junk_requests(), endpoint=st.sampled_from(("generations", "edits")))
def test_junk_requests_are_judged_as_before(request: dict[object, object], endpoint: str) -> None:
    _same_as_before(request, endpoint)


# Built once: building the strategies over every model takes longer than drawing from them.
_JUDGED = st.one_of(
    [st.tuples(valid_requests(endpoint=endpoint), st.just(endpoint)) for endpoint in ("generations", "edits")]
    + [
        st.tuples(invalid_requests(endpoint=endpoint).map(lambda labelled: labelled[0]), st.just(endpoint))
        for endpoint in ("generations", "edits")
    ]
)


@given(case=_JUDGED)
def test_valid_and_invalid_requests_are_judged_as_before(case: tuple[object, str]) -> None:
    _same_as_before(*case)


def test_cross_rules_are_kept_where_they_can_fire() -> None:
    catalog = default_catalog()
    for model in catalog.models.values():
        for capability in model.endpoints.values():
            kept = cross_rules_for(capability)
            names = [rule.__name__.lstrip("_") for rule in kept]
            # In CROSS_RULES order, each at most once.
            order = [rule.__name__.lstrip("_") for rule in CROSS_RULES]
            assert names == [name for name in order if name in names]
            assert ("suggest_async" in names) == (capability.slow is not None)
            assert ("partial_images_unused" in names) == ("partial_images" in capability.params)
    gpt = catalog.capability("gpt-image-2", "generations")
    assert len(cross_rules_for(gpt)) == len(CROSS_RULES)
    assert cross_rules_for(catalog.capability("nano-banana", "generations")) == ()


def test_mappings_other_than_dicts_are_judged_as_before() -> None:
    class Request(Mapping[str, object]):
        def __init__(self, items: dict[str, object]) -> None:
            self._items = items

        def __getitem__(self, key: str) -> object:
            return self._items[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self._items)

        def __len__(self) -> int:
            return len(self._items)

    cases: list[dict[str, object]] = [
        {"model": "gpt-image-2", "prompt": "a", "size": "1280x720", "seed": 1, "foo": None},
        {"model": "nano-banana", "prompt": "a", "quality": "hd"},
        {"prompt": "a", "image": "https://example.com/a.png"},
    ]
    for items in cases:
        for request in (MappingProxyType(items), Request(items)):
            for endpoint in ("generations", "edits"):
                _same_as_before(request, endpoint)


def test_caches_shared_by_threads_change_no_report() -> None:
    """Threads judging through small caches (evicting while others read) get what the frozen
    engine gives."""
    rng = random.Random(23)
    models, pools = _pools()
    catalog = default_catalog()
    calls = [
        (_request(rng, models, pools), rng.choice(("generations", "edits")), rng.choice(("acedata", "openai")))
        for _ in range(800)
    ]
    before = check_before(catalog, memoize=False)
    expected = [before(request, endpoint, provider, dt.date(2026, 5, 1)) for request, endpoint, provider in calls]
    compiled = compiled_for(catalog)
    saved = (compiled.quotes, compiled.suggestions, compiled.unknown_models, compiled.unknown_keys)
    compiled.quotes, compiled.suggestions, compiled.unknown_models = Generations(8), Generations(8), Generations(8)
    compiled.unknown_keys = Generations(8)
    bare = Checker(catalog, memoize=False)
    failures: list[int] = []

    def worker(offset: int) -> None:
        for round_ in range(3):
            for index in range(len(calls)):
                position = (index + offset * 97 + round_ * 31) % len(calls)
                request, endpoint, provider = calls[position]
                if bare(request, endpoint, provider, dt.date(2026, 5, 1)) != expected[position]:
                    failures.append(position)

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        compiled.quotes, compiled.suggestions, compiled.unknown_models, compiled.unknown_keys = saved
    assert not failures, failures[:5]


def test_a_catalogs_compiled_form_goes_with_it() -> None:
    other = default_catalog().with_price("xhuoapi", "gpt-image-2", "0.5")
    assert check({"model": "gpt-image-2", "prompt": "a"}, provider="xhuoapi", catalog=other).cost is not None
    key = id(other.on(_clock.today()))  # the catalog of the day checked (the view of an era)
    assert key in _checkers._COMPILED
    del other
    gc.collect()
    assert key not in _checkers._COMPILED or _checkers._COMPILED[key][0]() is not None


def test_the_frozen_engine_never_shares_the_live_memo() -> None:
    """The frozen engine memoises in memos of its own (see _frozen_memo_for): outcomes of its class
    left in the live memo would be handed out by the live engine, which reads fields they lack."""
    catalog = default_catalog().on(_clock.today())
    memo = memo_for(catalog)
    memo.clear()
    request = {"model": "gpt-image-2", "prompt": "a fox", "size": "1280x720"}
    frozen = check_before(catalog)(request)
    assert len(memo) == 0
    live = check(request, catalog=catalog)
    assert live == frozen
    assert live is check(request, catalog=catalog)
    assert {type(outcome) for outcome in memo.shapes.young.values()} == {engine.Outcome}
