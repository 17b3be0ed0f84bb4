"""Today's date (UTC), the default day of every check, estimate and price lookup.

One function so that every part of the package agrees on "today", and so that tests can pin it
(`tests/conftest.py` pins the seeds' week, 2026-05-01, for every test that does not ask for the
real day): a report depends on the day, since rules and prices are dated facts.
"""

from __future__ import annotations

import datetime as dt
import time

__all__ = ["today"]

_UTC = dt.UTC

# Today's UTC date and the clock time it ends, replaced whole (one tuple, so a thread reads one
# consistent pair). Recomputed only when a day has passed: reading the clock and building a date
# on every check costs more than the rest of a simple check's pricing.
_TODAY: tuple[dt.date, float] = (dt.date(1970, 1, 1), 0.0)
# Set by tests only (tests/conftest.py): the day `today` returns instead of the clock's.
_PINNED: dt.date | None = None


def today() -> dt.date:
    """Today's UTC date (a function, not a callable instance: a check calls it every time)."""
    global _TODAY  # noqa: PLW0603  # the one cached pair, replaced whole
    if _PINNED is not None:
        return _PINNED
    current = _TODAY
    now = time.time()
    if now >= current[1]:
        current = _TODAY = (dt.datetime.fromtimestamp(now, _UTC).date(), (now // 86400 + 1) * 86400)
    return current[0]
