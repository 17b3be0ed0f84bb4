"""How long does `check` take on hostile input? Seconds per case, and how time grows with size.

Run on demand (not part of the test suite; no timing is ever asserted):

    python benchmarks/bench_hostile.py              # every case, 5 repeats each
    python benchmarks/bench_hostile.py --repeats 3 --only size

Issue 5 asks that cost stay linear in the input. Each case is built at two sizes, 1x and 10x
(for example a 1 MB and a 10 MB prompt); the report shows the median seconds of `check` at each
size (building the input is not timed) and the ratio 10x / 1x. A ratio near 10 is linear, near 1
means the work does not depend on that input's size at all (it is bounded: only a prefix is
looked at, or the value is rejected by its length or type). A ratio near 100 would be quadratic.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    args = parser.parse_args()
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
