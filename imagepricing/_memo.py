"""The engine's memo: outcomes of repeated request shapes and their reports, bounded and thread-safe.

A *shape* is a request with each value replaced by what its rule reads (rules.ABSTRACTIONS: a
prompt by its emptiness within the model's limit, a URL by its verdict, a scalar by its exact
type and value), in request order, with the endpoint and URL policy. Two requests of one shape get
the same day-independent outcome (engine.Outcome: findings, effective values, model, tier, images),
and an outcome priced for one provider, day and basis is one report; so the memo has two levels:

    shape -> Outcome                          (`get`/`put`; the rules run once per shape)
    (Outcome, provider, day, basis) -> Report (`reports`; a new day costs a price lookup)

and `check` returns the very same Report object for a repeated (shape, provider, day, basis). The
differential test (tests/test_engine_memo.py) holds this against a frozen copy of the engine on
more than 100,000 fuzzed requests over several days, providers and bases.

One memo per catalog (a catalog is immutable; `with_price` makes a new one), least recently used
out first, so a long-lived process with many shapes keeps its busiest ones instead of starting
afresh. Outcomes and reports are immutable, so handing one to several callers or threads is safe.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from imagepricing.capabilities import Catalog

T = TypeVar("T")
# id(catalog) -> (a weak reference to the catalog, its value): see made_for.
Registry = dict[int, tuple[weakref.ref[Catalog], T]]

__all__ = [
    "MEMO_LIMIT",
    "MIN_SHARE",
    "PAUSE",
    "REPORT_LIMIT",
    "WINDOW",
    "Generations",
    "VerdictMemo",
    "made_for",
    "memo_for",
]

# Outcomes kept per catalog. An outcome with its shape key takes about 1.1 KB on issue 11's
# varied log (measured with tracemalloc) and one with several findings up to about 2 KB, so this
# level stays under ~35 MB whatever the traffic. Why 16,384 and not 4,096 (until the third session
# of issue 11): a log with thousands of shapes (4,104 in 200,000 lines of the varied benchmark)
# overflowed the young generation, so its shapes were judged again and again (3,574 misses a pass)
# and every re-judged outcome made its reports and estimate's verdicts new too: 19.8 us a line
# against 13.0 with every shape held.
MEMO_LIMIT = 1 << 14
# Reports kept per catalog: a report shares its outcome's findings and effective values, so one
# costs a few hundred bytes; 16,384 of them cover, say, 500 busy shapes x 3 providers x 10 days.
REPORT_LIMIT = 1 << 16
# Lookups per window, the least share of hits that keeps the memo on (1 in MIN_SHARE), and the
# checks it then sits out (see VerdictMemo).
WINDOW = 4096
MIN_SHARE = 8
PAUSE = 1 << 16


class Generations:
    """A bounded map, least recently used out first; thread-safe.

    Two generations approximate LRU at the cost of a dict read: a hit in the young generation
    costs nothing more; a hit in the old one moves the entry to the young; when the young is full
    it becomes the old and the previous old is dropped. So an entry used at least once per
    `limit // 2` insertions is never evicted, and at most `limit` entries are held. Reads take no
    lock (a dict read is atomic); writes do. A caller on a hot path may read `young` itself first
    (a hit there is all `get` would do) and call `from_old` only when that misses.
    """

    __slots__ = ("_half", "_lock", "limit", "old", "young")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._half = max(1, limit // 2)
        self.young: dict[Hashable, Any] = {}
        self.old: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        value = self.young.get(key)
        return value if value is not None else self.from_old(key)

    def from_old(self, key: Hashable) -> Any:
        """What `get` does once the young generation has missed: the old one, the entry moved to
        the young when found."""
        value = self.old.get(key)
        if value is not None:
            self.put(key, value)
        return value

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            if len(self.young) >= self._half:
                self.old, self.young = self.young, {}
            self.young[key] = value

    def __len__(self) -> int:
        return len(self.young) + len(self.old)

    def clear(self) -> None:
        with self._lock:
            self.young, self.old = {}, {}


class VerdictMemo:
    """The two levels of one catalog's memo: shapes -> outcomes (`get`, `put`, `len`) and
    (outcome, provider, day, basis) -> reports (`reports`); both bounded, LRU, thread-safe.

    The shape level watches its hit rate: over a window of WINDOW lookups, fewer than one hit in
    MIN_SHARE means shapes rarely repeat here, and building keys and storing outcomes is wasted
    work; the engine then skips the memo for `skip` calls, and tries again. Counters are
    approximate under threads, which only moves when that happens.
    """

    __slots__ = ("compiled", "hits", "lookups", "reports", "shapes", "skip")

    def __init__(self, limit: int = MEMO_LIMIT, report_limit: int = REPORT_LIMIT) -> None:
        self.shapes = Generations(limit)
        self.reports = Generations(report_limit)
        # Per (model, endpoint), and per (served model name, endpoint): how each parameter is
        # abstracted (built by _shapes.py on first use).
        self.compiled: dict[tuple[object, str], object] = {}
        self.lookups = 0
        self.hits = 0
        self.skip = 0

    @property
    def limit(self) -> int:
        return self.shapes.limit

    def get(self, key: Hashable) -> Any:
        """The outcome of shape `key`, or None; counted towards the hit rate (the engine's hot
        path reads `shapes` and counts inline, the same way)."""
        found = self.shapes.get(key)
        self.lookups += 1
        if found is not None:
            self.hits += 1
        if self.lookups >= WINDOW:
            self.end_window()
        return found

    def end_window(self) -> None:
        """Close a window of WINDOW lookups: too few hits and the memo sits out PAUSE checks."""
        if self.hits * MIN_SHARE < self.lookups:
            self.skip = PAUSE
        self.lookups = self.hits = 0

    def put(self, key: Hashable, outcome: object) -> None:
        self.shapes.put(key, outcome)

    def __len__(self) -> int:
        return len(self.shapes)

    def clear(self) -> None:
        self.shapes.clear()
        self.reports.clear()
        self.lookups = self.hits = self.skip = 0


# Values kept per catalog (the memo here, the compiled checkers in _checkers.py): catalogs are
# frozen values whose hash would hash every table, so they are found by identity, and the weak
# reference drops a catalog's value with it. A registry maps id(catalog) -> (weak reference,
# value); its reader checks the entry itself (the fast path: one dict read and one call) and calls
# `made_for` when it finds none.
_REGISTRY_LOCK = threading.Lock()


def made_for(registry: Registry[T], catalog: Catalog, make: Callable[[], T]) -> T:
    """`registry`'s value for `catalog`, made by `make` on first use (under a lock, so one is made)."""
    with _REGISTRY_LOCK:
        found = registry.get(id(catalog))
        if found is not None and found[0]() is catalog:
            return found[1]
        key = id(catalog)
        value = make()

        def forget(_: object, key: int = key) -> None:
            # Only this catalog's entry: a new catalog may already have taken over the id.
            entry = registry.get(key)
            if entry is not None and entry[0]() is None:
                registry.pop(key, None)

        registry[key] = (weakref.ref(catalog, forget), value)
        return value


_MEMOS: Registry[VerdictMemo] = {}


def memo_for(catalog: Catalog) -> VerdictMemo:
    """The memo of `catalog`, made on first use."""
    found = _MEMOS.get(id(catalog))
    if found is not None and found[0]() is catalog:
        return found[1]
    return made_for(_MEMOS, catalog, VerdictMemo)
