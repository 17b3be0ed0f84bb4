"""This tree against another, in alternating fresh processes: the way to compare on a noisy machine.

    python benchmarks/bench_paired.py --baseline DIR [--lines N] [--rounds R] [--group-by model,day]

DIR is another checkout of imagepricing (e.g. `git worktree add /tmp/base 37f0182`). Each round
runs one fresh process per tree, the trees alternating, so a burst of load elsewhere hits both
alike. Each process, on the same generated files:

- times a bare json.loads loop over the log and `estimate_files` over it (CPU time; the loop's
  best of two, one before and one after), and prints the ratio: issue 11's targets are <= 0.5x on
  a repetitive log (12 distinct lines) and <= 1.5x on a varied one (bench_estimate.py's generator:
  distinct prompts, a new URL on every edit, thousands of shapes over 60 days, three providers;
  the shapes are counted and printed);
- times a repeated request shape through `check` (best of 9 x 20,000 calls; target <= 3 us).

The medians over the rounds are printed per tree, with every round's figure, so the spread shows.
With msgspec installed (the `fastjson` extra) estimate parses with it; IMAGEPRICING_JSON=stdlib
turns it off, in both trees. Run on demand, never as a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_estimate import count_shapes, generate
from bench_fast_path import _REPETITIVE

_ONE_PROCESS = r"""
import json, os, sys, time, timeit
from pathlib import Path
import imagepricing
from imagepricing import check
from imagepricing.estimation import estimate_files

group_by = tuple(sys.argv[1].split(","))
figures = {"file": imagepricing.__file__}


def parse(path):
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            try:
                json.loads(line)
            except ValueError:
                pass


for name in sys.argv[2:]:
    path = Path(name)
    estimate_files([path], group_by=group_by)  # warm: tables, memo, URL verdicts as in a long run
    began = time.process_time(); parse(path); loop = time.process_time() - began
    began = time.process_time(); estimate_files([path], group_by=group_by); spent = time.process_time() - began
    began = time.process_time(); parse(path); loop = min(loop, time.process_time() - began)
    figures[path.stem] = {"json": loop, "estimate": spent, "ratio": spent / loop}

repeated = {"model": "gpt-image-2", "prompt": "a fox", "size": "1280x720", "quality": "high"}
check(repeated)
figures["repeated shape us"] = min(timeit.repeat(lambda: check(repeated), number=20000, repeat=9)) / 20000 * 1e6
print(json.dumps(figures))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="another checkout of imagepricing")
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--group-by", default="model")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parent.parent)
    baseline = str(Path(args.baseline).resolve())
    trees = {f"baseline ({baseline})": baseline, f"this tree ({here})": here}
    with tempfile.TemporaryDirectory() as folder:
        repetitive = Path(folder) / "repetitive.jsonl"
        repetitive.write_text(
            "".join(_REPETITIVE[index % len(_REPETITIVE)] + "\n" for index in range(args.lines)), encoding="utf-8"
        )
        varied = Path(folder) / "varied.jsonl"
        generate(varied, args.lines, 3, compress=False, edits=0.12)
        shape_count, priced, _ = count_shapes(varied)
        results: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": tree}
                done = subprocess.run(
                    [sys.executable, "-c", _ONE_PROCESS, args.group_by, str(repetitive), str(varied)],
                    env=env,
                    cwd=folder,  # outside both trees: PYTHONPATH alone decides which is imported
                    capture_output=True,
                    text=True,
                    check=True,
                )
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                if not str(figures["file"]).startswith(tree):
                    raise SystemExit(f"{name}: imported {figures['file']}, not the tree asked for")
                results[name].append(figures)
    print(f"{args.rounds} rounds, trees alternating; {args.lines:,} lines; group by {args.group_by}; CPU time")
    print(f"varied log: {shape_count:,} request shapes, {priced:,} (shape, provider, day)")
    print(f"python {sys.version.split()[0]}; IMAGEPRICING_JSON={os.environ.get('IMAGEPRICING_JSON', '(unset)')}")
    for name, rounds in results.items():
        print(f"\n{name}")
        for log, target in (("repetitive", "<= 0.5x"), ("varied", "<= 1.5x")):
            rows = [round_[log] for round_ in rounds]
            assert all(isinstance(row, dict) for row in rows)
            ratios = [row["ratio"] for row in rows]  # type: ignore[index]
            estimate = statistics.median(row["estimate"] for row in rows)  # type: ignore[index]
            loop = statistics.median(row["json"] for row in rows)  # type: ignore[index]
            every = ", ".join(f"{ratio:.2f}" for ratio in ratios)
            print(
                f"  estimate {log:10s} {estimate:6.2f} s  json.loads loop {loop:5.2f} s"
                f"  ratio median {statistics.median(ratios):.2f} (target {target}; rounds: {every})"
            )
        shapes = [float(round_["repeated shape us"]) for round_ in rounds]  # type: ignore[arg-type]
        every = ", ".join(f"{value:.2f}" for value in shapes)
        print(
            f"  repeated shape   median {statistics.median(shapes):.2f} us, best {min(shapes):.2f} us"
            f" (target <= 3 us; rounds: {every})"
        )


if __name__ == "__main__":
    main()
