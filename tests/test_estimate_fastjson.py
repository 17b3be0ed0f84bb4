"""The optional fast JSON parser (the `fastjson` extra, msgspec) changes no result of `estimate`.

Each log is estimated twice, with msgspec and with json only (IMAGEPRICING_JSON=stdlib), and the
estimates and per-request results must be equal, including the reasons of unreadable lines and
the exact types the rules see: 2**70 stays an integer, 1, 1.0 and true stay apart.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from imagepricing import estimate
from imagepricing._log_reading import _fast_loads
from imagepricing.per_request import RequestPricer

pytest.importorskip("msgspec")

_DAY = dt.date(2026, 5, 1)

# Lines on which msgspec (or orjson) and json differ, or could: each must be read as json reads it.
HOSTILE_LINES = [
    '{"model": "dall-e-2", "prompt": "a", "n": 1180591620717411303424}',
    '{"model": "dall-e-2", "prompt": "a", "n": -9223372036854775809}',
    '{"model": "dall-e-2", "prompt": "a", "n": 18446744073709551615}',
    '{"model": "dall-e-2", "prompt": "a", "n": 2}',
    '{"model": "dall-e-2", "prompt": "a", "n": 2.0}',
    '{"model": "dall-e-2", "prompt": "a", "n": true}',
    '{"model": "dall-e-2", "prompt": "a", "n": 1e400}',
    '{"model": "dall-e-2", "prompt": "a", "n": NaN}',
    '{"model": "dall-e-2", "prompt": "\\ud800"}',
    '{"model": "dall-e-2", "prompt": "a", "n": 1, "n": 3}',
    "[" * 3000 + "]" * 3000,
    '{"model": "dall-e-2", "prompt": "a"} trailing',
    ' {"model": "dall-e-2", "prompt": "a"}\r',
    "\ufeff{}",
    "",
    "   ",
    '{"model": "gpt-image-2", "prompt": "a", "size": "1024x1024", "quality": "high"}',
    '{"time": "2026-05-02T10:00:00+02:00", "provider": "xhuoapi", "request": {"model": "nano-banana", "prompt": "p"}}',
    '{"model": "dall-e-2", "prompt": "a", "n": 0.1}',
    '{"model": "dall-e-2", "prompt": "a", "n": -0}',
    '{"model": "dall-e-2", "prompt": "a", "n": ' + "9" * 4301 + "}",
    '{"model": "dall-e-2", "prompt": "a", "n": ' + "9" * 4000 + "}",
    '{"model": "dall-e-2", "prompt": "' + "x" * 5000 + '", "n": 2}',
]


def _both(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = estimate(lines, as_of=_DAY, group_by=("model", "day")).to_dict()
    fast_rows = RequestPricer(as_of=_DAY).price_lines(lines)
    monkeypatch.setenv("IMAGEPRICING_JSON", "stdlib")
    assert _fast_loads() is None
    slow = estimate(lines, as_of=_DAY, group_by=("model", "day")).to_dict()
    slow_rows = RequestPricer(as_of=_DAY).price_lines(lines)
    monkeypatch.delenv("IMAGEPRICING_JSON")
    return (fast, fast_rows), (slow, slow_rows)


def test_msgspec_is_used_when_installed() -> None:
    assert _fast_loads() is not None


def test_hostile_lines_read_as_json_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(HOSTILE_LINES, monkeypatch)
    assert fast == slow
    rows = fast[1]  # type: ignore[index]
    assert rows[0].errors == ("out_of_range",)  # 2**70 is an integer out of range, not a float
    assert rows[5].errors == ("wrong_type",)  # true is not a number
    assert rows[4].ok is True
    assert rows[4].images == 2


def test_random_logs_estimate_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    values: list[object] = [1, 2, 1.0, 2.5, True, None, "1", 2**64, 2**70, -(2**63) - 1, 1e300, "auto", "1024x1024"]
    lines = []
    for _ in range(3000):
        request: dict[str, object] = {
            "model": rng.choice(["dall-e-2", "gpt-image-2", "nano-banana", "x"]),
            "prompt": "p" * rng.randint(0, 40),
        }
        for key in rng.sample(["n", "size", "quality", "stream", "seed"], 2):
            request[key] = rng.choice(values)
        line = json.dumps(request)
        if rng.random() < 0.3:
            line = json.dumps({"time": f"2026-05-{rng.randint(1, 28):02d}T00:00:00Z", "request": request})
        if rng.random() < 0.05:
            line = line[: rng.randint(0, len(line))]
        lines.append(line)
    fast, slow = _both(lines, monkeypatch)
    assert fast == slow
