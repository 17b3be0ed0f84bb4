"""Collection rules for the whole checkout.

tests/frozen/ holds oracles, never collected (see collect_ignore_glob). The optional integrations
(imagepricing/integrations/, imagepricing/arrow.py) import their extra's
packages; where an extra is not installed (the core's CI), their doctests are not collected. Their
own test files skip themselves with pytest.importorskip, and each extra's CI script (.ci/extras/)
installs it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from pathlib import Path

import pytest

from imagepricing import _clock

# litellm fetches a model cost map from the network when imported, unless told to use its local copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

_ROOT = Path(__file__).parent

collect_ignore: list[str] = []
# The frozen copies of earlier engines and rules (tests/frozen/) are oracles loaded by path by the
# differential tests, never collected: collecting them ran their doctests, and a frozen engine's
# doctest memoised its own outcomes in the live engine's memo.
collect_ignore_glob: list[str] = ["tests/frozen/*"]
for _path in [_ROOT / "imagepricing" / "arrow.py", *sorted((_ROOT / "imagepricing" / "integrations").glob("*.py"))]:
    _module = ".".join(_path.relative_to(_ROOT).with_suffix("").parts)
    try:
        importlib.import_module(_module)
    except ImportError as _missing:
        # A module may re-raise the missing package's error with an install hint: read its cause.
        _cause = _missing if _missing.name is not None else _missing.__cause__
        _name = getattr(_cause, "name", None)
        if isinstance(_name, str) and not _name.startswith("imagepricing"):
            collect_ignore.append(str(_path.relative_to(_ROOT)))

# Rules and prices are dated facts, so a report depends on the day. Every test and doctest runs in
# the seeds' week (2026-05-01: the sources the rules were first written from describe the platform
# of 2026-04-30 to 2026-05-07) unless it names its own day, or asks for the real clock with
# @pytest.mark.real_today. A test that depended on the real day would change its verdict as the
# platform's record grows (and after the day the tables were reviewed, every report warns).
SEEDS_WEEK = dt.date(2026, 5, 1)
# Pinned from collection on: test modules build strategies and schemas from the tables at import.
_clock._PINNED = SEEDS_WEEK


@pytest.fixture(autouse=True)
def _seeds_week_is_today(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_today") is not None:
        monkeypatch.setattr(_clock, "_PINNED", None)
