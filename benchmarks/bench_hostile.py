"""How long does `check` take on hostile input? Seconds per case, and how time grows with size.

Run on demand (not part of the test suite; no timing is ever asserted):

    python benchmarks/bench_hostile.py              # every case, 5 repeats each
    python benchmarks/bench_hostile.py --repeats 3 --only size
    python benchmarks/bench_hostile.py --estimate   # peak memory and time of `estimate` (issue 10)
    python benchmarks/bench_hostile.py --estimate --lines 200000 --package-root /path/to/old/checkout

`--estimate` runs each hostile log in a fresh subprocess and reports its peak resident memory
(`ru_maxrss`) and wall time: a million lines of distinct dates grouped by day, of distinct sizes
(distinct request shapes), of both under every grouping, of unreadable junk, and a gzip of 20
million newlines. The floor is the same subprocess loading the catalog and pricing nothing; the
anchor is a million identical valid lines. Issue 10 asks for at most 150 MB for any of them.

Issue 5 asks that cost stay linear in the input. Each case is built at two sizes, 1x and 10x
(for example a 1 MB and a 10 MB prompt); the report shows the median seconds of `check` at each
size (building the input is not timed) and the ratio 10x / 1x. A ratio near 10 is linear, near 1
means the work does not depend on that input's size at all (it is bounded: only a prefix is
looked at, or the value is rejected by its length or type). A ratio near 100 would be quadratic.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from typing import Any

import imagepricing
from imagepricing._describe import looks_secret

URL = "https://example.com/a.png"


def gen(model: str = "gpt-image-2", **params: Any) -> dict[str, Any]:
    return {"model": model, "prompt": "a fox", **params}


def edit(model: str = "gpt-image-2", **params: Any) -> dict[str, Any]:
    return {"model": model, "prompt": "a fox", "image": URL, **params}


def nested(depth: int) -> list[Any]:
    root: list[Any] = []
    cursor = root
    for _ in range(depth):
        inner: list[Any] = []
        cursor.append(inner)
        cursor = inner
    return root


def many_keys(count: int) -> dict[str, Any]:
    request: dict[str, Any] = {f"key{i}": i for i in range(count)}
    request.update(gen())
    return request


# name -> (builder of a request from a size n, n at 1x, endpoint, url_policy)
Builder = Callable[[int], Any]
CASES: dict[str, tuple[Builder, int, str, str]] = {
    "prompt, valid (nano-banana), n chars": (
        lambda n: gen("nano-banana", prompt="a" * n),
        1_000_000,
        "generations",
        "basic",
    ),
    "prompt, too long (gpt-image-2), n chars": (lambda n: gen(prompt="a" * n), 1_000_000, "generations", "basic"),
    "size, n digits (gpt-image-2)": (lambda n: gen(size="1" * n), 100_000, "generations", "basic"),
    "size, n x's (gpt-image-2)": (lambda n: gen(size="x" * n), 100_000, "generations", "basic"),
    "size, digits x digits (gpt-image-2)": (lambda n: gen(size="1" * n + "x" + "1"), 100_000, "generations", "basic"),
    "size, 1x1x1x... (gpt-image-2)": (lambda n: gen(size="1x" * (n // 2)), 100_000, "generations", "basic"),
    "size, n digits (dall-e-2, fixed set)": (lambda n: gen("dall-e-2", size="1" * n), 100_000, "generations", "basic"),
    "size, n digits (nano-banana, aspect map)": (
        lambda n: gen("nano-banana", size="1" * n),
        100_000,
        "generations",
        "basic",
    ),
    "image array, n valid URLs": (lambda n: edit(image=[URL] * n), 10_000, "edits", "basic"),
    "image array, n valid URLs, strict": (lambda n: edit(image=[URL] * n), 10_000, "edits", "strict"),
    "image array, n junk items": (lambda n: edit(image=[{"x": 1}] * n), 10_000, "edits", "basic"),
    "image array, n distinct URLs": (
        lambda n: edit(image=[f"https://h{i}.example.com/{i}.png" for i in range(n)]),
        10_000,
        "edits",
        "strict",
    ),
    "request with n unknown keys": (many_keys, 10_000, "generations", "basic"),
    "callback_url, n-char path": (
        lambda n: gen(callback_url="https://example.com/" + "a" * n),
        100_000,
        "generations",
        "strict",
    ),
    "callback_url, n-char host": (lambda n: gen(callback_url="https://" + "a" * n), 100_000, "generations", "strict"),
    "callback_url, n/2 labels": (
        lambda n: gen(callback_url="https://" + "a." * (n // 2)),
        100_000,
        "generations",
        "strict",
    ),
    "callback_url, n non-ASCII chars": (
        lambda n: gen(callback_url="https://example.com/" + "é" * n),
        100_000,
        "generations",
        "strict",
    ),
    "n = 10**digits": (lambda n: gen("dall-e-2", n=10**n), 10_000, "generations", "basic"),
    "every field nested n levels deep": (
        lambda n: dict.fromkeys(["model", "prompt", "size", "image", "n", "quality", "callback_url"], nested(n)),
        10_000,
        "edits",
        "basic",
    ),
    "model name, n chars": (
        lambda n: {"model": "gpt-image-2" * (n // 11), "prompt": "p"},
        100_000,
        "generations",
        "basic",
    ),
    "quality that looks secret, n chars": (
        lambda n: gen(quality="sk-" + "A1b2" * (n // 4)),
        100_000,
        "generations",
        "basic",
    ),
}


def median_seconds(request: Any, endpoint: str, url_policy: str, repeats: int) -> float:
    catalog = imagepricing.default_catalog()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        imagepricing.check(request, endpoint=endpoint, catalog=catalog, url_policy=url_policy)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def median_call(function: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


# The child process of --estimate: builds the log lazily (a generator, so the log itself takes no
# memory) and prints its peak RSS in KB, the seconds of the estimate and the number of groups.
_ESTIMATE_CHILD = r"""
import datetime as dt, json, resource, sys, time
from imagepricing import default_catalog
from imagepricing.estimation import estimate, estimate_files

case, lines, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
default_catalog()
first = dt.date(2000, 1, 1)

def day(i):
    return (first + dt.timedelta(days=i)).isoformat() + "T12:00:00Z"

def size(i):
    return f"{1024 + 16 * (i % 1000)}x{1024 + 16 * (i // 1000 % 1000)}"

def log():
    if case == "floor":
        return
    for i in range(lines):
        if case == "anchor":
            yield '{"model": "nano-banana", "prompt": "a fox"}'
        elif case == "dates":
            yield json.dumps({"time": day(i), "request": {"model": "nano-banana", "prompt": "p"}})
        elif case == "sizes":
            yield json.dumps({"model": "gpt-image-2", "prompt": "p", "size": size(i)})
        elif case == "both":
            yield json.dumps({"time": day(i), "request": {"model": "gpt-image-2", "prompt": "p", "size": size(i)}})
        elif case == "junk":
            yield '{"model": "' + str(i) + '", "x": [' + "1," * (i % 50) + '1]} trailing'
        else:
            raise SystemExit(f"unknown case {case}")

group_by = {"dates": ("day",), "both": ("model", "endpoint", "provider", "tier", "day")}.get(case, ("model",))
start = time.perf_counter()
if case == "blank-gzip":
    result = estimate_files([path], group_by=group_by)
else:
    result = estimate(log(), group_by=group_by)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kb": peak, "lines": result.lines_read, "groups": len(result.groups)}))
"""

_ESTIMATE_CASES = {
    "floor": "floor: catalog loaded, nothing estimated",
    "anchor": "anchor: identical valid lines, by model",
    "dates": "distinct dates, by day",
    "sizes": "distinct sizes (request shapes), by model",
    "both": "distinct dates and sizes, by all 5 dims",
    "junk": "unreadable junk lines, by model",
    "blank-gzip": "gzip of 20M newlines (19 KB), by model",
}


def run_estimate_cases(lines: int, package_root: str | None, only: str) -> None:
    env = dict(os.environ)
    if package_root:
        env["PYTHONPATH"] = package_root
    with tempfile.TemporaryDirectory() as tmp:
        blank = os.path.join(tmp, "blank.jsonl.gz")
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
        with open(blank, "wb") as handle:
            chunk = b"\n" * 1_000_000
            for _ in range(20):
                handle.write(compressor.compress(chunk))
            handle.write(compressor.flush())
        print(f"estimate, {lines:,} lines a case (20,000,000 newlines for the gzip), one subprocess each")
        print(f"{'case':<44}{'lines':>12}{'groups':>8}{'seconds':>10}{'peak RSS (MB)':>15}")
        for case, label in _ESTIMATE_CASES.items():
            if only and only not in label:
                continue
            done = subprocess.run(  # noqa: PLW1510  # the exit status is checked below
                [sys.executable, "-c", _ESTIMATE_CHILD, case, str(lines), blank],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp,  # not the checkout: `-c` puts the working directory first on sys.path
            )
            if done.returncode:
                print(f"{label:<44}  failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            figures = json.loads(done.stdout)
            print(
                f"{label:<44}{figures['lines']:>12,}{figures['groups']:>8,}{figures['seconds']:>10.1f}"
                f"{figures['peak_kb'] / 1024:>15.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    parser.add_argument("--estimate", action="store_true", help="peak memory and time of estimate on hostile logs")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines per --estimate case (default 1,000,000)")
    parser.add_argument("--package-root", help="--estimate: import imagepricing from here (to compare a checkout)")
    args = parser.parse_args()
    if args.estimate:
        run_estimate_cases(args.lines, args.package_root, args.only)
        return
    imagepricing.default_catalog()  # load once, outside the timings
    print(f"python {sys.version.split()[0]}, imagepricing {imagepricing.__version__}, median of {args.repeats}")
    print(f"{'case':<44}{'n at 1x':>10}{'1x (s)':>11}{'10x (s)':>11}{'ratio':>8}")
    for name, (build, size, endpoint, policy) in CASES.items():
        if args.only not in name:
            continue
        small = median_seconds(build(size), endpoint, policy, args.repeats)
        large = median_seconds(build(size * 10), endpoint, policy, args.repeats)
        print(f"{name:<44}{size:>10,}{small:>11.6f}{large:>11.6f}{large / max(small, 1e-9):>8.1f}")

    if "looks_secret" in "looks_secret " + args.only or not args.only:
        for label, text in (
            ("looks_secret, 10 MB of 'a'", "a" * 10_000_000),
            ("looks_secret, 'token' + 10 MB of spaces", "token" + " " * 10_000_000),
            ("looks_secret, 10 MB of 'sk-'", "sk-" * 3_333_333),
            ("looks_secret, 10 MB of 'eyJ-'", "eyJ-" * 2_500_000),
        ):
            seconds = median_call(lambda text=text: looks_secret(text), args.repeats)  # type: ignore[misc]
            print(f"{label:<44}{len(text):>10,}{seconds:>11.6f}")


if __name__ == "__main__":
    main()
