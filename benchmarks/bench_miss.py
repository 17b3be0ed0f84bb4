"""The memo miss path (a request shape never seen), per case, this tree against another, in
alternating fresh processes (the way to compare on a noisy machine; see bench_paired.py).

    python benchmarks/bench_miss.py --baseline DIR [--rounds R]

DIR is another checkout of imagepricing (e.g. `git archive 35acddf | tar -x -C /tmp/base`). Each
round runs one fresh process per tree, the trees alternating. Each process times, on the 10
requests of bench_check.py (CPU time, median of 7 runs of 300 calls per case):

- "no memo": `Checker(memoize=False)`, what every never-seen shape costs in the rules and pricing;
  where the tree has compiled checkers (imagepricing/_checkers.py) their content-keyed caches
  (quotes, sizes, unknown keys and model names) are warm, as in a long run;
- "no memo, caches emptied": the same with those caches emptied before every call (the plans,
  compiled once per catalog, are kept): what the compiling alone gives;
- "memo emptied": `check` with the memo emptied before every call (the shape and the stores on top);
- "a44ec6b": the engine before issue 11 (the tree's tests/frozen/engine_a44ec6b.py, on the tree's
  own rules), the anchor: every figure is also printed as a ratio to it, from the same process.

Prints, per tree, the median over rounds of each figure per case and for the mix (the 10 cases
cycled), with the ratio to the anchor. Run on demand, never as a test.
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

_ONE_PROCESS = r"""
import datetime as dt, importlib.util, json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from bench_check import CASES
import imagepricing
from imagepricing import check
from imagepricing._memo import memo_for
from imagepricing.catalog import default_catalog
from imagepricing.engine import Checker

tree = Path(sys.argv[1])
spec = importlib.util.spec_from_file_location("frozen_a44ec6b", tree / "tests" / "frozen" / "engine_a44ec6b.py")
frozen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(frozen)
catalog = default_catalog()
memo = memo_for(catalog)
day = dt.date(2026, 6, 1)
bare = Checker(catalog, memoize=False)
try:
    from imagepricing import _checkers
    compiled = _checkers.compiled_for(catalog)
    caches = []

    def empty_caches():
        if not caches:  # collected once the plans are compiled (after the warm-up call)
            caches.extend([_checkers._UNKNOWN, compiled.quotes, compiled.suggestions, compiled.unknown_models])
            for plan in compiled.plans.values():
                caches.extend(arg.seen for _, arg in plan.actions.values() if isinstance(arg, _checkers.SizeCache))
        for cache in caches:
            cache.young.clear()
            cache.old.clear()
except ImportError:
    def empty_caches():
        pass


def no_memo(request, endpoint, provider):
    bare(request, endpoint, provider, day)


def caches_emptied(request, endpoint, provider):
    empty_caches()
    bare(request, endpoint, provider, day)


def memo_emptied(request, endpoint, provider):
    memo.clear()
    check(request, endpoint, provider, as_of=day)


def before(request, endpoint, provider):
    frozen.check(request, endpoint, provider, as_of=day)


def per_call(run, cases, calls=300, runs=7):
    for request, endpoint, provider in cases:
        run(request, endpoint, provider)
    samples = []
    for _ in range(runs):
        began = time.process_time()
        for _ in range(calls // len(cases) or 1):
            for request, endpoint, provider in cases:
                run(request, endpoint, provider)
        samples.append((time.process_time() - began) / ((calls // len(cases) or 1) * len(cases)))
    return statistics.median(samples) * 1e6


modes = {"no memo": no_memo, "no memo, caches emptied": caches_emptied, "memo emptied": memo_emptied, "a44ec6b": before}
figures = {"file": imagepricing.__file__}
for mode, run in modes.items():
    row = {name: per_call(run, [case]) for name, case in CASES.items()}
    row["mix"] = per_call(run, list(CASES.values()), calls=3000)
    figures[mode] = row
# What emptying the caches costs by itself, taken off the "caches emptied" figures.
emptying = per_call(lambda *_: empty_caches(), [(None, None, None)], calls=3000)
figures["no memo, caches emptied"] = {k: v - emptying for k, v in figures["no memo, caches emptied"].items()}
print(json.dumps(figures))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="another checkout of imagepricing")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    benchmarks = str(Path(__file__).resolve().parent)
    here = str(Path(__file__).resolve().parent.parent)
    baseline = str(Path(args.baseline).resolve())
    trees = {"baseline": baseline, "this tree": here}
    results: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for name, tree in trees.items():
                done = subprocess.run(
                    [sys.executable, "-c", _ONE_PROCESS, tree, benchmarks],
                    env={**os.environ, "PYTHONPATH": tree},
                    cwd=folder,  # outside both trees: PYTHONPATH alone decides which is imported
                    capture_output=True,
                    text=True,
                    check=True,
                )
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                if not str(figures.pop("file")).startswith(tree):
                    raise SystemExit(f"{name}: imported another tree than {tree}")
                results[name].append(figures)
    print(f"{args.rounds} rounds, trees alternating; python {sys.version.split()[0]}; CPU us a call, median of rounds")
    print(f"baseline: {baseline}\nthis tree: {here}")
    for mode in results["this tree"][0]:
        print(f"\n{mode}")
        print(f"  {'case':40}{'base us':>9}{'now us':>9}{'now/base':>10}{'a44/base':>10}{'a44/now':>9}")
        for case in results["this tree"][0][mode]:
            base, now = ([round_[mode][case] for round_ in results[name]] for name in trees)
            base_anchor, now_anchor = ([round_["a44ec6b"][case] for round_ in results[name]] for name in trees)
            print(
                f"  {case:40}{statistics.median(base):9.1f}{statistics.median(now):9.1f}"
                f"{statistics.median(now) / statistics.median(base):10.2f}"
                f"{statistics.median(a / v for a, v in zip(base_anchor, base, strict=True)):9.1f}x"
                f"{statistics.median(a / v for a, v in zip(now_anchor, now, strict=True)):8.1f}x"
            )
    for mode in ("no memo", "memo emptied"):
        every = {name: ", ".join(f"{round_[mode]['mix']:.1f}" for round_ in rounds) for name, rounds in results.items()}
        print(f"\nmix, {mode}, every round: baseline {every['baseline']}; this tree {every['this tree']}")


if __name__ == "__main__":
    main()
