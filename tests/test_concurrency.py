"""Concurrency (issue 5, part 5): one catalog shared by many threads gives the same reports as a
single thread, the default catalog is loaded once however many threads ask for it first, and
catalogs, price books and reports cannot be changed after they are built.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import attrs
import pytest

import imagepricing.catalog as catalog_module
from imagepricing import Catalog, FrozenInstanceError, PriceBook, Report, check, default_catalog, load_catalog

CATALOG = load_catalog()
MODELS = sorted(CATALOG.models)
PROVIDERS = sorted(CATALOG.price_books)
THREADS = 8
DAYS = (dt.date(2026, 4, 1), dt.date(2026, 5, 10), dt.date(2026, 5, 1))

# Values that make each parameter valid, invalid, ignored or downgraded somewhere.
VALUES: dict[str, list[object]] = {
    "prompt": ["a fox", "", "x" * 5000, 3, None],
    "n": [1, 2, 10, 11, 0, True, 2.0, "2"],
    "size": ["auto", "", "1024x1024", "2048x2048", "1254x1254", "1000x1000", "4096x4096", "256x256", "1024X1024", 5],
    "quality": ["auto", "low", "high", "hd", "standard", "best", None],
    "style": ["vivid", "natural", "bold"],
    "response_format": ["url", "b64_json", "png"],
    "background": ["transparent", "opaque", "auto", "none"],
    "moderation": ["low", "auto", "high"],
    "output_format": ["png", "jpeg", "webp", "gif"],
    "output_compression": [0, 50, 100, 101, -1],
    "partial_images": [0, 3, 4],
    "input_fidelity": ["high", "low", "medium"],
    "callback_url": ["https://example.com/hook", "http://127.0.0.1/hook", "ftp://x", ""],
    "async": [True, False, "yes"],
    "image": ["https://example.com/a.png", ["https://example.com/a.png"] * 3, [1, 2], "", []],
    "mask": ["https://example.com/m.png", "data:image/png;base64,iVBORw0KGgo=", 7],
    "extra": ["x"],
}


def generate(count: int, seed: int) -> list[tuple[dict[str, object], dict[str, Any]]]:
    """`count` requests (valid and invalid, every model, both endpoints) with their options."""
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        endpoint = ("generations", "edits")[i % 2]
        request: dict[str, object] = {"model": MODELS[i % len(MODELS)] if i % 17 else "no-such-model"}
        request["prompt"] = "a red fox in the snow"
        # Half the requests stay plain (mostly valid, priced); the rest get one to four
        # parameters drawn from values that are valid, invalid, ignored or downgraded.
        for name in rng.sample(sorted(VALUES), rng.randint(1, 4) if i % 2 == 0 or rng.random() < 0.5 else 0):
            request[name] = rng.choice(VALUES[name])
        if endpoint == "edits" and "image" not in request and i % 5:
            request["image"] = "https://example.com/a.png"
        options = {
            "endpoint": endpoint,
            "provider": PROVIDERS[i % len(PROVIDERS)],
            "as_of": DAYS[i % len(DAYS)],
            "price_basis": ("charged", "published")[(i // 3) % 2],
            "url_policy": ("basic", "strict")[(i // 7) % 2],
        }
        cases.append((request, options))
    return cases


CASES = generate(3000, seed=5)


def run(case: tuple[dict[str, object], dict[str, Any]], catalog: Catalog = CATALOG) -> Report:
    request, options = case
    return check(request, catalog=catalog, **options)


class TestSharedCatalog:
    def test_the_requests_cover_the_ground(self) -> None:
        reports = [run(case) for case in CASES]
        assert {r.model for r in reports} >= set(MODELS)
        assert {r.endpoint for r in reports} == {"generations", "edits"}
        assert {r.provider for r in reports} == set(PROVIDERS)
        assert sum(r.ok for r in reports) > 300
        assert sum(not r.ok for r in reports) > 300
        assert sum(r.cost is not None for r in reports) > 100

    def test_a_thread_pool_gives_the_single_thread_reports(self) -> None:
        sequential = [run(case) for case in CASES]
        with ThreadPoolExecutor(THREADS) as pool:
            threaded = list(pool.map(run, CASES))
        assert threaded == sequential
        assert [r.to_dict() for r in threaded] == [r.to_dict() for r in sequential]

    def test_interleaved_threads_with_a_barrier(self) -> None:
        # Every thread starts at the same moment and walks the cases in its own order, so the
        # same request is checked concurrently by several threads.
        expected = [run(case).to_dict() for case in CASES[:600]]
        barrier = threading.Barrier(THREADS)
        results: list[dict[int, dict[str, Any]]] = [{} for _ in range(THREADS)]

        def worker(index: int) -> None:
            order = list(range(600))
            random.Random(index).shuffle(order)
            barrier.wait()
            for i in order:
                results[index][i] = run(CASES[i]).to_dict()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for per_thread in results:
            assert [per_thread[i] for i in range(600)] == expected

    def test_the_shared_catalog_is_unchanged_by_use(self) -> None:
        catalog = load_catalog()
        before = attrs.evolve(catalog)
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda case: run(case, catalog), CASES[:1000]))
        assert catalog == before

    def test_threads_deriving_catalogs_do_not_disturb_each_other(self) -> None:
        # with_price from many threads at once: each gets its own catalog, the base is untouched.
        base = load_catalog()
        request = {"model": "gpt-image-2", "prompt": "p", "size": "2048x2048"}

        def price(i: int) -> tuple[int, Decimal | None, Decimal | None]:
            mine = base.with_price("xhuoapi", "gpt-image-2", Decimal(i) / 100)
            return i, check(request, provider="xhuoapi", catalog=mine).cost, check(request, catalog=base).cost

        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(price, range(1, 201)))
        base_cost = check(request, catalog=base).cost
        for i, cost, shared in outcomes:
            assert cost == Decimal(i) / 100 * Decimal("1.5")
            assert shared == base_cost
        assert "gpt-image-2" not in base.price_books["xhuoapi"].overrides


class TestDefaultCatalogLoadsOnce:
    def test_many_threads_at_first_use_get_one_object(self, monkeypatch: pytest.MonkeyPatch) -> None:
        loads: list[int] = []
        real_load = catalog_module.load_catalog

        def counting_load(*args: Any, **kwargs: Any) -> Catalog:
            loads.append(1)
            return real_load(*args, **kwargs)

        monkeypatch.setattr(catalog_module, "load_catalog", counting_load)
        for _ in range(3):
            _forget_default()
            barrier = threading.Barrier(16)
            seen: list[Catalog] = []

            def first_use(barrier: threading.Barrier, seen: list[Catalog]) -> None:
                barrier.wait()
                seen.append(default_catalog())

            threads = [threading.Thread(target=first_use, args=(barrier, seen)) for _ in range(16)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(seen) == 16
            assert len({id(c) for c in seen}) == 1
        assert len(loads) == 3
        _forget_default()

    def test_later_calls_return_the_same_object(self) -> None:
        first = default_catalog()
        with ThreadPoolExecutor(THREADS) as pool:
            seen = list(pool.map(lambda _: default_catalog(), range(100)))
        assert all(c is first for c in seen)


def _forget_default() -> None:
    """Drop the cached default catalog so the next call loads it again (test-only)."""
    for name in ("default_catalog", "_load_default_once"):
        cached = getattr(catalog_module, name, None)
        cache_clear: Callable[[], None] | None = getattr(cached, "cache_clear", None)
        if cache_clear is not None:
            cache_clear()


class TestImmutable:
    """Nothing a caller holds can be changed in place: not a catalog, a book, a model, a report."""

    def test_catalog_attributes(self) -> None:
        catalog = load_catalog()
        for name in (field.name for field in attrs.fields(Catalog) if field.init):
            with pytest.raises(FrozenInstanceError):
                setattr(catalog, name, None)

    def test_catalog_mappings_are_read_only(self) -> None:
        catalog = load_catalog()
        mappings: list[Any] = [
            catalog.parameters,
            catalog.models,
            catalog.size_sets,
            catalog.constraints,
            catalog.tierings,
            catalog.aspect_maps,
            catalog.price_books,
            catalog.platform_specs,
            catalog.required,
        ]
        for model in catalog.models.values():
            mappings.append(model.endpoints)
            for capability in model.endpoints.values():
                mappings.append(capability.params)
        for tiering in catalog.tierings.values():
            mappings.extend([tiering.tier_of_size, tiering.returned_as])
        for amap in catalog.aspect_maps.values():
            mappings.append(amap.ratio_of_size)
        for book in catalog.price_books.values():
            mappings.append(book.overrides)
            mappings.extend(entry.tier_multipliers for entry in book.entries)
        for mapping in mappings:
            with pytest.raises(TypeError):
                mapping["x"] = None
            with pytest.raises((TypeError, AttributeError)):
                mapping.clear()

    def test_sequences_are_tuples(self) -> None:
        catalog = load_catalog()
        assert all(type(sizes) is tuple for sizes in catalog.size_sets.values())
        assert all(type(names) is tuple for names in catalog.required.values())
        for book in catalog.price_books.values():
            assert type(book.entries) is tuple
        for model in catalog.models.values():
            for capability in model.endpoints.values():
                for spec in capability.params.values():
                    assert spec.values is None or type(spec.values) is tuple
                    if spec.size is not None and spec.size.allowed is not None:
                        assert type(spec.size.allowed) is frozenset

    def test_nested_values_are_frozen(self) -> None:
        catalog = load_catalog()
        model = catalog.models["gpt-image-2"]
        capability = model.endpoints["generations"]
        book = catalog.price_books["acedata"]
        for value, field in (
            (model, "id"),
            (capability, "model"),
            (capability.params["size"], "kind"),
            (book, "currency"),
            (book.entries[0], "amount"),
            (catalog.parameters["n"], "max"),
            (catalog.constraints["gpt-image-2"], "max_side"),
        ):
            with pytest.raises(FrozenInstanceError):
                setattr(value, field, None)

    def test_with_price_returns_a_new_catalog(self) -> None:
        catalog = load_catalog()
        before = attrs.evolve(catalog)
        derived = catalog.with_price("xhuoapi", "gpt-image-2", "0.20")
        assert derived is not catalog
        assert catalog == before
        assert "gpt-image-2" not in catalog.price_books["xhuoapi"].overrides
        assert derived.price_books["xhuoapi"].overrides["gpt-image-2"] == Decimal("0.20")
        # Untouched parts are shared, not copied: they are immutable.
        assert derived.models is catalog.models
        assert derived.price_books["acedata"] is catalog.price_books["acedata"]

    def test_with_price_book_returns_a_new_catalog(self) -> None:
        catalog = load_catalog()
        before = attrs.evolve(catalog)
        book = PriceBook(provider="mine", name="Mine", currency="EUR", source="test", entries=())
        derived = catalog.with_price_book(book)
        assert "mine" in derived.price_books
        assert "mine" not in catalog.price_books
        assert catalog == before

    def test_report_is_frozen(self) -> None:
        report = check({"model": "gpt-image-2", "prompt": "p", "n": 0})
        assert report.errors
        with pytest.raises(FrozenInstanceError):
            report.cost = Decimal(0)  # type: ignore[misc]
        with pytest.raises(TypeError):
            report.effective["n"] = 9  # type: ignore[index]
        with pytest.raises(FrozenInstanceError):
            report.errors[0].message = "x"  # type: ignore[misc]
        with pytest.raises(TypeError):
            report.errors[0] = report.errors[0]  # type: ignore[index]

    def test_a_report_does_not_share_state_with_the_next(self) -> None:
        first = check({"model": "gpt-image-2", "prompt": "p", "quality": "high"})
        data = first.to_dict()
        data["effective"]["quality"] = "low"
        check({"model": "gpt-image-2", "prompt": "p", "quality": "low"})
        assert first.effective["quality"] == "high"
        assert first.to_dict()["effective"]["quality"] == "high"
