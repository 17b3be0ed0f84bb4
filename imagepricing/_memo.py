"""The engine's verdict memo: reports of repeated request shapes, bounded and thread-safe.

A *shape* is a request with each value replaced by what its rule reads (rules.ABSTRACTIONS: a
prompt by its emptiness within the model's limit, a URL by its verdict, a scalar by its exact
type and value), in request order, with the endpoint, provider, day, price basis and URL policy.
Two requests of one shape get equal reports, so the engine returns the report it built for the
first; the differential test (tests/test_engine_memo.py) holds this against a frozen copy of the
engine on more than 100,000 fuzzed requests.

One memo per catalog (a catalog is immutable; `with_price` makes a new one), least recently used
out first, so a long-lived process with many shapes keeps its busiest ones instead of starting
afresh. Reports are immutable, so handing the same one to several callers or threads is safe.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable

from imagepricing.catalog import Catalog
from imagepricing.report import Report

__all__ = ["MEMO_LIMIT", "MIN_SHARE", "PAUSE", "WINDOW", "VerdictMemo", "memo_for"]

# Reports kept per catalog. A report with a few findings takes about 2 KB, so the memo stays
# under ~10 MB whatever the traffic.
MEMO_LIMIT = 4096
# Lookups per window, the least share of hits that keeps the memo on (1 in MIN_SHARE), and the
# checks it then sits out (see VerdictMemo).
WINDOW = 4096
MIN_SHARE = 8
PAUSE = 1 << 16


class VerdictMemo:
    """A bounded map from request shapes to reports, least recently used out first; thread-safe.

    Two generations approximate LRU at the cost of a dict read: a hit in the young generation
    costs nothing more; a hit in the old one moves the entry to the young; when the young is full
    it becomes the old and the previous old is dropped. So an entry used at least once per
    `limit // 2` insertions is never evicted, and at most `limit` entries are held. Reads take no
    lock (a dict read is atomic); writes do.
    """

    __slots__ = ("_half", "_lock", "_old", "_young", "compiled", "hits", "limit", "lookups", "skip")

    def __init__(self, limit: int = MEMO_LIMIT) -> None:
        self.limit = limit
        self._half = max(1, limit // 2)
        self._young: dict[Hashable, Report] = {}
        self._old: dict[Hashable, Report] = {}
        self._lock = threading.Lock()
        # Per (model, endpoint): how each parameter is abstracted (built by the engine on first use).
        self.compiled: dict[tuple[str | None, str], object] = {}
        # The memo watches its hit rate: over a window of WINDOW lookups, fewer than one hit in
        # MIN_SHARE means shapes rarely repeat here, and building keys and storing reports is
        # wasted work; the engine then skips the memo for `skip` calls, and tries again. Counters
        # are approximate under threads, which only moves when that happens.
        self.lookups = 0
        self.hits = 0
        self.skip = 0

    def get(self, key: Hashable) -> Report | None:
        self.lookups += 1
        report = self._young.get(key)
        if report is None:
            report = self._old.get(key)
            if report is not None:
                self.put(key, report)
        if report is not None:
            self.hits += 1
        if self.lookups >= WINDOW:
            if self.hits * MIN_SHARE < self.lookups:
                self.skip = PAUSE
            self.lookups = self.hits = 0
        return report

    def put(self, key: Hashable, report: Report) -> None:
        with self._lock:
            if len(self._young) >= self._half:
                self._old, self._young = self._young, {}
            self._young[key] = report

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def clear(self) -> None:
        with self._lock:
            self._young, self._old = {}, {}
            self.lookups = self.hits = self.skip = 0


# Catalogs are frozen attrs classes whose hash would hash every table, so memos are found by
# identity; the weak reference drops a memo with its catalog.
_MEMOS: dict[int, tuple[weakref.ref[Catalog], VerdictMemo]] = {}
_MEMOS_LOCK = threading.Lock()


def memo_for(catalog: Catalog) -> VerdictMemo:
    """The memo of `catalog`, made on first use."""
    found = _MEMOS.get(id(catalog))
    if found is not None and found[0]() is catalog:
        return found[1]
    with _MEMOS_LOCK:
        found = _MEMOS.get(id(catalog))
        if found is not None and found[0]() is catalog:
            return found[1]
        key = id(catalog)
        memo = VerdictMemo()

        def forget(_: object, key: int = key) -> None:
            # Only this catalog's entry: a new catalog may already have taken over the id.
            entry = _MEMOS.get(key)
            if entry is not None and entry[0]() is None:
                _MEMOS.pop(key, None)

        _MEMOS[key] = (weakref.ref(catalog, forget), memo)
        return memo
