"""The raw-line verdict memo of `estimate`: identical lines share a verdict, results unchanged, and
it turns itself off on a log where identical lines are rare."""

from __future__ import annotations

import datetime as dt
import json

from imagepricing import estimate
from imagepricing.catalog import default_catalog
from imagepricing.log_lines import _RAW_PAUSE, _RAW_WINDOW, LineJudge
from imagepricing.options import Options

_DAY = dt.date(2026, 5, 1)
_LINES = [
    '{"model": "nano-banana", "prompt": "an apple"}',
    '{"time": "2026-05-02T10:00:00Z", "provider": "xhuoapi", "request": {"model": "gpt-image-2", "prompt": "p"}}',
    '{"model": "dall-e-3", "prompt": "a", "n": 2}',
    "not json",
    "",
    '{"model": "dall-e-2", "prompt": "a", "n": 1180591620717411303424}',
]


def _estimator() -> LineJudge:
    return LineJudge(Options(default_catalog(), as_of=_DAY), times="day")


def test_repeated_lines_are_answered_from_the_memo_with_the_same_results() -> None:
    lines = _LINES * 2000
    engine = _estimator()
    engine.start("<test>")
    engine.consume(lines, 1, "<test>")
    assert engine.raw_hits >= len(lines) * 4 // 6 - 4  # every request line after its first; not bad lines
    memoised = estimate(lines, as_of=_DAY, group_by=("model", "day"))
    plain = estimate(lines, as_of=_DAY, group_by=("model", "day"), memoize=False)
    assert memoised == plain
    assert memoised.unreadable == 2000
    assert memoised.blank == 2000
    assert memoised.bad_lines == plain.bad_lines  # bad lines are never memoised: each keeps its line number


def test_the_memo_turns_itself_off_when_identical_lines_are_rare() -> None:
    lines = [json.dumps({"model": "nano-banana", "prompt": f"prompt {i}"}) for i in range(3 * _RAW_WINDOW)]
    engine = _estimator()
    engine.start("<test>")
    engine.consume(lines, 1, "<test>")
    assert engine.raw_hits == 0
    assert engine.raw_paused_until >= _RAW_PAUSE
    assert len(engine.raw) == 0  # nothing kept while off
    assert estimate(lines, as_of=_DAY) == estimate(lines, as_of=_DAY, memoize=False)
