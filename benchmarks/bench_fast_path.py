"""Issue 11, side by side in one run: `check` against the engine before the memo, a floor and two
other pricing libraries; `estimate` on a repetitive and a varied log against a bare json.loads loop.

    python benchmarks/bench_fast_path.py [--lines N] [--rounds R]

- check mix: the 10 requests of bench_check.py (valid and invalid), cycled. "today" is this
  engine (memo hits after the first round), "no memo" the same engine with the memo emptied
  before every call (what a never-repeated shape costs), "before" the frozen copy of the engine
  before issue 11 (tests/frozen/engine_a44ec6b.py), "floor" a loop of bare dict lookups, plus
  LiteLLM's `completion_cost` and genai-prices' `calc_price` on comparable requests when they are
  installed (`pip install litellm genai-prices`; never a dependency of imagepricing).
- estimate: a repetitive log (12 distinct lines) and a varied one (bench_estimate.py's generator:
  distinct prompts, new edit URLs on every edit, thousands of shapes over 60 days, three
  providers; the shapes are counted and printed), each against reading
  the same file and calling json.loads on every line. With orjson installed (the `fastjson`
  extra) estimate uses it; IMAGEPRICING_JSON=stdlib turns it off.

Targets (issue 11): check mix >= 4x faster than before, >= 30x LiteLLM, >= 20x genai-prices; a
repeated shape <= 3 us; estimate <= 0.5x json.loads on the repetitive log, <= 1.5x on the varied.
CPU time (time.process_time), median of rounds; figures move with machine load, ratios less.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import CASES
from bench_estimate import count_shapes, generate

from imagepricing import check
from imagepricing._memo import memo_for
from imagepricing.catalog import default_catalog
from imagepricing.estimation import estimate_files


def _frozen_check() -> Any:
    """The engine before issue 11 (tests/frozen/engine_a44ec6b.py), loaded by path."""
    path = Path(__file__).resolve().parent.parent / "tests" / "frozen" / "engine_a44ec6b.py"
    spec = importlib.util.spec_from_file_location("imagepricing_frozen_engine_a44ec6b", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check


check_before = _frozen_check()

_REPETITIVE = [
    json.dumps(line)
    for line in (
        {"model": "nano-banana", "prompt": "a red apple", "size": "1024x1024"},
        {"model": "gpt-image-2", "prompt": "a fox", "size": "1024x1536", "quality": "high"},
        {"time": "2026-05-02T10:00:00Z", "provider": "xhuoapi", "request": {"model": "gpt-image-2", "prompt": "p"}},
        {
            "time": "2026-05-03T10:00:00Z",
            "endpoint": "edits",
            "request": {"model": "gpt-image-1", "prompt": "p", "image": "https://cdn.example.com/a.png"},
        },
        {"model": "dall-e-3", "prompt": "an otter", "quality": "hd"},
        {"model": "dall-e-2", "prompt": "x", "n": 4, "size": "512x512"},
        {"model": "dall-e-4", "prompt": "x"},
        {"model": "gpt-image-2", "prompt": "x", "size": "1024X1024"},
        {"model": "nano-banana-pro", "prompt": "y", "n": 2},
        {"time": "2026-05-04T00:00:00Z", "provider": "openai", "request": {"model": "dall-e-2", "prompt": "z"}},
        {"model": "gpt-image-1", "prompt": "z", "quality": "low"},
        {"model": "gpt-image-2", "prompt": "q", "size": "2048x1152", "async": True},
    )
]


def _cpu_per_call(run: Callable[[], None], calls: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        began = time.process_time()
        run()
        samples.append((time.process_time() - began) / calls)
    return statistics.median(samples) * 1e6


def _check_figures(rounds: int) -> dict[str, float | str]:
    cases = list(CASES.values())
    repeat = 200
    calls = repeat * len(cases)
    catalog = default_catalog()
    memo = memo_for(catalog)
    figures: dict[str, float | str] = {}

    def today() -> None:
        for _ in range(repeat):
            for request, endpoint, provider in cases:
                check(request, endpoint, provider)

    def no_memo() -> None:
        clear = memo.clear
        for _ in range(repeat):
            for request, endpoint, provider in cases:
                clear()
                check(request, endpoint, provider)

    def before() -> None:
        for _ in range(repeat):
            for request, endpoint, provider in cases:
                check_before(request, endpoint, provider)

    table = {"model": {"nano-banana": 1}, "size": {"1024x1024": 1}}

    def floor() -> None:
        for _ in range(repeat):
            for request, _endpoint, _provider in cases:
                if type(request) is dict:
                    table["model"].get(request.get("model"))  # type: ignore[arg-type]
                    table["size"].get(request.get("size"))  # type: ignore[arg-type]

    today()  # fill the memo
    figures["check mix, today (memo)"] = _cpu_per_call(today, calls, rounds)
    figures["check mix, today, memo emptied each call"] = _cpu_per_call(no_memo, calls, rounds)
    figures["check mix, before issue 11"] = _cpu_per_call(before, calls, rounds)
    figures["floor: bare dict lookups"] = _cpu_per_call(floor, calls, rounds)
    repeated = {"model": "gpt-image-2", "prompt": "a fox", "size": "1280x720", "quality": "high"}

    def repeated_shape() -> None:
        for _ in range(2000):
            check(repeated)

    figures["repeated shape"] = _cpu_per_call(repeated_shape, 2000, rounds)
    figures.update(_competitors(rounds))
    return figures


def _competitors(rounds: int) -> dict[str, float | str]:
    found: dict[str, float | str] = {}
    try:
        # LiteLLM fetches its price map from GitHub at import unless told to use its bundled copy.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm  # noqa: PLC0415

        litellm.suppress_debug_info = True

        def lite() -> None:
            for _ in range(50):
                litellm.completion_cost(
                    model="gpt-image-1",
                    custom_llm_provider="openai",
                    call_type="image_generation",
                    size="1024-x-1024",
                    quality="high",
                    n=1,
                )

        lite()
        found["LiteLLM completion_cost (gpt-image-1 image)"] = _cpu_per_call(lite, 50, rounds)
    except Exception as exc:  # optional comparison: say why it is missing
        found["LiteLLM completion_cost (gpt-image-1 image)"] = f"not measured: {type(exc).__name__}: {exc}"[:120]
    try:
        from genai_prices import Usage, calc_price  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

        def genai() -> None:
            for _ in range(50):
                calc_price(Usage(input_tokens=50, output_tokens=4160), model_ref="gpt-image-1", provider_id="openai")

        genai()
        found["genai-prices calc_price (gpt-image-1)"] = _cpu_per_call(genai, 50, rounds)
    except Exception as exc:
        found["genai-prices calc_price (gpt-image-1)"] = f"not measured: {type(exc).__name__}: {exc}"[:120]
    return found


def _estimate_figures(lines: int, rounds: int) -> list[tuple[str, float, float]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-fast-path-") as tmp:
        repetitive = Path(tmp) / "repetitive.jsonl"
        with repetitive.open("w", encoding="utf-8") as out:
            for index in range(lines):
                out.write(_REPETITIVE[index % len(_REPETITIVE)] + "\n")
        varied = Path(tmp) / "varied.jsonl"
        generate(varied, lines, 3, compress=False, edits=0.12)
        shapes, priced, _ = count_shapes(varied)
        print(f"varied log: {lines:,} lines, {shapes:,} request shapes, {priced:,} (shape, provider, day)")
        for label, path in (("repetitive", repetitive), ("varied", varied)):

            def parse(path: Path = path) -> None:
                loads = json.loads
                with path.open(encoding="utf-8") as log:
                    for line in log:
                        try:  # noqa: SIM105
                            loads(line)
                        except ValueError:
                            pass

            def run(path: Path = path) -> None:
                estimate_files([path], group_by=("model", "day"))

            parse_s = statistics.median(_timed(parse) for _ in range(rounds))
            run_s = statistics.median(_timed(run) for _ in range(rounds))
            rows.append((label, parse_s, run_s))
    return rows


def _timed(run: Callable[[], None]) -> float:
    began = time.process_time()
    run()
    return time.process_time() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    figures = _check_figures(args.rounds)
    before = figures["check mix, before issue 11"]
    today = figures["check mix, today (memo)"]
    print(f"python {sys.version.split()[0]}; CPU us per call, median of {args.rounds} rounds")
    for label, value in figures.items():
        if isinstance(value, str):
            print(f"  {label:45} {value}")
        else:
            assert isinstance(today, float)
            print(f"  {label:45} {value:8.2f} us   {value / today:7.1f}x today")
    assert isinstance(before, float)
    assert isinstance(today, float)
    print(f"  check mix speed-up over before: {before / today:.1f}x (target >= 4)")
    print(f"estimate, {args.lines:,} lines, CPU seconds (median of {max(1, args.rounds // 2)} runs)")
    for label, parse_s, run_s in _estimate_figures(args.lines, max(1, args.rounds // 2)):
        target = 0.5 if label == "repetitive" else 1.5
        print(
            f"  {label:11} json.loads loop {parse_s:6.2f} s   estimate {run_s:6.2f} s"
            f"   ratio {run_s / parse_s:5.2f} (target <= {target})"
        )


if __name__ == "__main__":
    main()
