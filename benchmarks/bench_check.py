"""How fast is `check`? Median microseconds per request kind, and the cost of import + load.

Run on demand (not part of the test suite):

    python benchmarks/bench_check.py            # default: 20 rounds of 2,000 calls per request
    python benchmarks/bench_check.py --rounds 50

Targets (issue 2): a valid request checked in <= 10 us median; import + load <= 100 ms.
Each figure is the median over rounds of the mean per call within a round, so one slow round
(a GC pause, another process) does not move it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from typing import Any

import imagepricing

CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "valid nano-banana generation": (
        {"model": "nano-banana", "prompt": "a red apple", "size": "1024x1024"},
        "generations",
        "acedata",
    ),
    "valid gpt-image-2 2K, async": (
        {"model": "gpt-image-2", "prompt": "a fox", "size": "2048x1152", "async": True},
        "generations",
        "acedata",
    ),
    "valid gpt-image-2 custom size, xhuoapi": (
        {"model": "gpt-image-2", "prompt": "a fox", "size": "1280x720", "quality": "high"},
        "generations",
        "xhuoapi",
    ),
    "valid dall-e-3 hd": (
        {"model": "dall-e-3", "prompt": "an otter", "quality": "hd", "style": "natural"},
        "generations",
        "acedata",
    ),
    "valid dall-e-2 n=4, openai": (
        {"model": "dall-e-2", "prompt": "an otter", "n": 4, "size": "512x512"},
        "generations",
        "openai",
    ),
    "valid gpt-image-2 edit, 3 urls": (
        {
            "model": "gpt-image-2",
            "prompt": "combine",
            "image": ["https://example.com/1.png", "https://example.com/2.png", "https://example.com/3.png"],
            "callback_url": "https://hooks.example.com/done",
        },
        "edits",
        "acedata",
    ),
    "nano-banana with 5 dropped params": (
        {
            "model": "nano-banana-pro",
            "prompt": "x",
            "n": 4,
            "quality": "hd",
            "style": "vivid",
            "background": "auto",
            "output_format": "png",
        },
        "generations",
        "acedata",
    ),
    "invalid: size format + n type": (
        {"model": "gpt-image-2", "prompt": "x", "size": "1024X1024", "n": True},
        "generations",
        "acedata",
    ),
    "invalid: unknown model": ({"model": "dall-e-4", "prompt": "x"}, "generations", "acedata"),
    "invalid: not an object": ([1, 2, 3], "generations", "acedata"),  # type: ignore[dict-item]
}


def time_case(request: Any, endpoint: str, provider: str, calls: int, rounds: int) -> float:
    """Median over rounds of the mean microseconds per call."""
    check = imagepricing.check
    catalog = imagepricing.default_catalog()
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            check(request, endpoint, provider, catalog)
        per_round.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(per_round)


def time_import_and_load(repeats: int) -> float:
    """Median milliseconds for a fresh interpreter to import imagepricing and load the tables,
    minus the interpreter's own start-up."""
    code = (
        "import time; t=time.perf_counter(); import imagepricing; imagepricing.load_catalog();"
        " print(time.perf_counter()-t)"
    )
    samples = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        samples.append(float(out) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    imagepricing.default_catalog()  # load once, outside the timings
    print(f"python {sys.version.split()[0]}, imagepricing {imagepricing.__version__}")
    print(f"{'request':<42}{'median us':>10}")
    for name, (request, endpoint, provider) in CASES.items():
        print(f"{name:<42}{time_case(request, endpoint, provider, args.calls, args.rounds):>10.2f}")
    print(f"{'import + load_catalog (fresh process)':<42}{time_import_and_load(7):>8.1f} ms")


if __name__ == "__main__":
    main()
