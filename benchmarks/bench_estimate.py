"""Benchmark `imagepricing estimate` against merely parsing the same log with the json module.

    python benchmarks/bench_estimate.py [--lines N] [--repeat R] [--gzip] [--edits F] [--seed S]
                                        [--group-by DIMS]

Generates a realistic JSON Lines log (default 1,000,000 lines) into a temporary directory, then
times, in the same process, interleaved, best of R runs each (wall clock and CPU time):

- bare parsing: reading the file as text and `json.loads` on every line (the floor any
  Python-level reader pays), and
- `imagepricing estimate FILE --format json` through the CLI entry point (tables loaded,
  every line priced, output rendered to a file).

`--group-by` is passed to estimate (default model): `hour,model` against `day,model` shows
what grouping by hour costs (24 times the groups and verdicts; the registries fold and the group
cap holds). It prints lines per second for both, the ratio and the process's peak memory.
Targets (issue 3): estimate >= 200,000 lines/s on one core and <= 2.5x the bare parsing time.

The mix (issue 11's varied log): 80% envelopes over 60 days and three providers, 20% bare
requests; 12% edits (`--edits`) whose image URLs are new on every line, as uploads are, and each
cost a full URL check; ~4% requests that upstream rejects; 1% malformed lines; prompts of 20-600
characters, different on every line; callback URLs and extra envelope keys on some lines; one in
ten gpt-image-2 generations with a free-form size (multiples of 64 from 768 to 2048 a side), so
the log holds thousands of request shapes (`count_shapes` counts them).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from imagepricing._memo import VerdictMemo
from imagepricing._shapes import shape
from imagepricing.catalog import default_catalog
from imagepricing.cli import main as cli_main

_PHRASES = (
    "a vintage travel poster of the amalfi coast, red fox in snow, neon city at night, watercolor portrait"
    " of an old sailor, isometric cutaway of a bakery, product photo of a ceramic mug on oak table, cinematic"
    " lighting, soft focus, studio background, minimalist logo for a coffee brand, children's book illustration"
    " of a dragon reading, hyper realistic macro shot of a dew drop on a leaf, art deco style, 35mm film grain"
)
_WORDS = tuple(_PHRASES.replace(",", "").split(" "))

_GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536", "2048x2048", "2048x1152", "3840x2160", "auto", "1254x1254")
_NANO_SIZES = ("1024x1024", "1792x1024", "1024x1792", "512x512")
_CALLBACKS = tuple(f"https://hooks.example-app{i}.com/images/done" for i in range(5))
_FREE_SIDES = tuple(range(768, 2049, 64))
DAYS = 60


def _prompt(rng: random.Random) -> str:
    return " ".join(rng.choices(_WORDS, k=rng.randint(4, 90)))[:600]


def _request(rng: random.Random, index: int, edits: float) -> tuple[str, dict[str, object]]:
    """(endpoint, request) for one line; a few are deliberately invalid."""
    prompt = _prompt(rng)
    if rng.random() < edits:  # edits, with image URLs that are new on every line
        model = rng.choice(("gpt-image-2", "gpt-image-2", "nano-banana", "gpt-image-1"))
        image: object = f"https://uploads.example.com/u/{index:08x}/{rng.getrandbits(64):016x}.png"
        if model == "gpt-image-2" and rng.random() < 0.3:
            image = [image, f"https://uploads.example.com/u/{index:08x}/ref.jpg"]
        request: dict[str, object] = {"model": model, "prompt": prompt, "image": image}
        if model != "nano-banana":
            request["size"] = rng.choice(("1024x1024", "1536x1024", "auto"))
        return "edits", request
    roll = rng.random()
    if roll < 0.45:
        size = rng.choice(_GPT_SIZES)
        if rng.random() < 0.1:  # free-form: thousands of distinct sizes, so thousands of shapes
            size = f"{rng.choice(_FREE_SIDES)}x{rng.choice(_FREE_SIDES)}"
        request = {"model": "gpt-image-2", "prompt": prompt, "size": size}
        if rng.random() < 0.5:
            request["quality"] = rng.choice(("high", "medium", "low", "auto"))
        if rng.random() < 0.3:
            request["callback_url"] = rng.choice(_CALLBACKS)
        if rng.random() < 0.1:
            request["n"] = rng.choice((1, 2, 4))
    elif roll < 0.77:
        request = {"model": rng.choice(("nano-banana", "nano-banana-2", "nano-banana-pro")), "prompt": prompt}
        if rng.random() < 0.7:
            request["size"] = rng.choice(_NANO_SIZES)
    elif roll < 0.88:
        request = {
            "model": rng.choice(("gpt-image-1", "gpt-image-1.5")),
            "prompt": prompt,
            "size": rng.choice(("1024x1024", "1536x1024", "1024x1536")),
            "quality": rng.choice(("low", "medium", "high")),
        }
    elif roll < 0.955:
        request = {
            "model": rng.choice(("dall-e-3", "dall-e-2")),
            "prompt": prompt,
            "size": "1024x1024",
            "response_format": rng.choice(("url", "b64_json")),
        }
    else:  # rejected upstream: bad size, n out of range, unknown model, missing prompt
        broken: tuple[dict[str, object], ...] = (
            {"model": "gpt-image-2", "prompt": prompt, "size": "1000x1000"},
            {"model": "dall-e-3", "prompt": prompt, "n": 3},
            {"model": "gpt-image-3", "prompt": prompt},
            {"model": "nano-banana"},
        )
        request = rng.choice(broken)
    return "generations", request


def generate(path: Path, lines: int, seed: int, *, compress: bool, edits: float) -> None:
    rng = random.Random(seed)
    start = 1_777_600_000  # 2026-05-01, for DAYS days
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8") as out:
        for index in range(lines):
            roll = rng.random()
            if roll < 0.004:
                out.write('{"model": "gpt-image-2", "prompt": "unterminated\n')
                continue
            if roll < 0.007:
                out.write('["not", "an", "object"]\n')
                continue
            if roll < 0.01:
                out.write('{"endpoint": "variations", "request": {"model": "dall-e-2"}}\n')
                continue
            endpoint, request = _request(rng, index, edits)
            if rng.random() < 0.2:
                line: dict[str, object] = request  # bare: the command-line defaults apply
            else:
                moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + rng.randrange(DAYS * 86400)))
                provider = rng.choices(("acedata", "xhuoapi", "openai"), weights=(6, 3, 1))[0]
                line = {"time": moment, "endpoint": endpoint, "provider": provider, "request": request}
                if rng.random() < 0.3:
                    line["id"] = f"req_{index:010d}"
            out.write(json.dumps(line) + "\n")


def count_shapes(path: Path) -> tuple[int, int, int]:
    """(distinct request shapes, distinct (shape, provider, day), lines) of a generated log, as the
    engine keys them (imagepricing._shapes.shape); lines the engine does not memoise are not counted."""
    catalog, memo = default_catalog(), VerdictMemo()
    shapes: set[object] = set()
    priced: set[object] = set()
    lines = 0
    with open(path, encoding="utf-8") as log:
        for line in log:
            lines += 1
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if type(item) is not dict:
                continue
            request = item.get("request", item)
            endpoint = item.get("endpoint", "generations") if "request" in item else "generations"
            if endpoint not in ("generations", "edits"):
                continue
            key = shape(request, endpoint, catalog, memo, "basic")
            if key is not None:
                shapes.add(key)
                priced.add((key, item.get("provider"), str(item.get("time", ""))[:10]))
    return len(shapes), len(priced), lines


class Timing:
    """Best wall-clock and best CPU time over the runs (CPU time is steadier on a busy machine)."""

    def __init__(self) -> None:
        self.wall = self.cpu = float("inf")

    def time(self, run: Callable[[], None]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        self.wall = min(self.wall, time.perf_counter() - wall)
        self.cpu = min(self.cpu, time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1_000_000, help="log size (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs of each (default 3)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--gzip", action="store_true", help="compress the log (both timings then include gunzip)")
    parser.add_argument(
        "--edits", type=float, default=0.12, help="share of edits requests, each with new image URLs (default 0.12)"
    )
    parser.add_argument("--group-by", default="model", help="estimate's --group-by (default model)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-estimate-") as tmp:
        path = Path(tmp) / ("log.jsonl.gz" if args.gzip else "log.jsonl")
        began = time.perf_counter()
        generate(path, args.lines, args.seed, compress=args.gzip, edits=args.edits)
        megabytes = path.stat().st_size / 1e6
        print(f"generated {args.lines:,} lines ({megabytes:,.1f} MB) in {time.perf_counter() - began:.1f} s")

        loads = json.loads

        def parse_only() -> None:
            opener = gzip.open if args.gzip else open
            with opener(path, "rt", encoding="utf-8") as log:
                for line in log:
                    try:  # noqa: SIM105  # contextlib.suppress would slow down the baseline being measured
                        loads(line)
                    except ValueError:
                        pass

        report = Path(tmp) / "estimate.json"

        def run_estimate() -> None:
            options = ["--format", "json", "--output", str(report), "--no-progress", "--group-by", args.group_by]
            status = cli_main(["estimate", str(path), *options])
            assert status == 0, status

        # Interleaved, so that both see the same machine load.
        parsing, estimating = Timing(), Timing()
        for _ in range(args.repeat):
            parsing.time(parse_only)
            estimating.time(run_estimate)
        written = json.loads(report.read_text(encoding="utf-8"))
        summary, groups = written["lines"], len(written["groups"])

    print(f"lines: {summary}")
    print(f"--group-by {args.group_by}: {groups:,} groups")
    print(f"python {sys.version.split()[0]}, best of {args.repeat}; lines/s (seconds)")
    print(f"{'':18}{'wall clock':>24}{'CPU time':>24}")
    for label, timing in (("bare json.loads", parsing), ("imagepricing est.", estimating)):
        print(
            f"{label:18}{args.lines / timing.wall:>14,.0f} ({timing.wall:5.2f} s)"
            f"{args.lines / timing.cpu:>14,.0f} ({timing.cpu:5.2f} s)"
        )
    print(
        f"{'ratio':18}{estimating.wall / parsing.wall:>14.2f}{'':10}{estimating.cpu / parsing.cpu:>14.2f}"
        f"{'':10}  (target <= 2.5)"
    )
    print(f"peak memory (max RSS of this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
