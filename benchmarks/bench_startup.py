"""Start-up: `import imagepricing` plus `load_catalog()` in a fresh process (issue 11, target <= 30 ms).

Every figure is the median wall time of N fresh interpreter processes, measured in the same run
against a floor (`python -c pass`) and an anchor (`import json`), so that a loaded machine shows
as slower anchors rather than as a regression. Run on demand, never as a test:

    .venv/bin/python benchmarks/bench_startup.py [--runs N]

Rows:
- floor: the interpreter alone.
- anchor: `import json` (a small stdlib package).
- anchor: `import attrs`, which the catalog's classes were built with until issue 11 (the classes
  on the start-up path are plain slotted classes now; attrs loads only to validate tables).
- import: `import imagepricing`.
- import + load (compiled): the shipped tables through the compiled form (the cache is warmed first).
  The issue's target (<= 30 ms) is this row's in-process time.
- first check(): one `check` of a plain request, timed alone, in a process that has just imported
  imagepricing and loaded the default catalog (that set-up is not timed): what the first request
  of a warmed-up worker pays.
- import + first check(): `import imagepricing; check(...)` in a fresh process, the first check
  loading the default catalog: what the first request of a cold worker pays. (`check` uses
  `default_catalog()`, loaded once per process; `load_catalog()` loads afresh on every call.)
- import + load (validated): the same with the compiled form bypassed, so the tables are parsed with
  tomllib and validated with cattrs, as on the first load after any change to a table.
- with --baseline DIR: import + load, and the first check(), from another source tree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

IMPORT_LOAD = "import imagepricing; imagepricing.load_catalog()"
IMPORT_DEFAULT = "import imagepricing; imagepricing.default_catalog()"
FIRST_CHECK = "imagepricing.check({'model': 'gpt-image-2', 'prompt': 'a fox', 'size': '1024x1024'})"
# name: (set-up, not timed; the statements timed inside the process)
CASES = {
    "floor: python -c pass": ("", "pass"),
    "anchor: import json": ("", "import json"),
    "anchor: import attrs": ("", "import attrs"),
    "import imagepricing": ("", "import imagepricing"),
    "import + load_catalog() (compiled)": ("", IMPORT_LOAD),
    "first check() (after import + default_catalog())": (IMPORT_DEFAULT, FIRST_CHECK),
    "import + first check() (loads the default catalog)": ("", f"import imagepricing; {FIRST_CHECK}"),
    "import + load_catalog() (validated)": ("", IMPORT_LOAD),
}


def _time_once(setup: str, code: str, env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall time of the whole process, time of `code` inside it) in seconds."""
    timed = f"{setup}\nimport time as _t\n_s = _t.perf_counter()\n{code}\nprint(_t.perf_counter() - _s)"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", timed], env=env, cwd=cwd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=41, help="fresh processes per row (default 41)")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also time import + load from another source tree (e.g. `git archive main | tar -x -C DIR`)",
    )
    args = parser.parse_args()
    cases = dict(CASES)
    baseline_rows = []
    if args.baseline:
        from_baseline = f"; assert imagepricing.__file__.startswith({args.baseline!r}), imagepricing.__file__"
        baseline_rows = [
            f"baseline: import + load ({args.baseline})",
            "baseline: first check() (after import + default_catalog())",
            "baseline: import + first check()",
        ]
        cases[baseline_rows[0]] = ("", IMPORT_LOAD + from_baseline)
        cases[baseline_rows[1]] = (IMPORT_DEFAULT + from_baseline, FIRST_CHECK)
        cases[baseline_rows[2]] = ("", f"import imagepricing; {FIRST_CHECK}{from_baseline}")
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as bytecode:
        # Bytecode as an installed wheel has it (pip compiles it): written once, to a private
        # prefix so that nothing lands in the checkout, whatever PYTHONDONTWRITEBYTECODE says.
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base["PYTHONPYCACHEPREFIX"] = bytecode
        warm = {**base, "IMAGEPRICING_CACHE_DIR": cache}
        cold = {**base, "IMAGEPRICING_CACHE_DIR": ""}  # empty: no compiled form, validate every time
        envs = {name: (cold if "validated" in name else warm) for name in cases}
        for name in baseline_rows:
            # The other tree comes first on the path (every row runs outside any checkout, so the
            # current directory puts no tree first); its own tables, its own cache if it has one.
            envs[name] = {**warm, "PYTHONPATH": args.baseline}
        for name, (setup, code) in cases.items():  # the bytecode, and the compiled form of the tables
            subprocess.run([sys.executable, "-c", f"{setup}\n{code}"], env=envs[name], cwd=cache, check=True)
        subprocess.run([sys.executable, "-c", "import cattrs, tomllib"], env=warm, check=True)
        walls: dict[str, list[float]] = {name: [] for name in cases}
        inside: dict[str, list[float]] = {name: [] for name in cases}
        # Interleave the rows, so a burst of load elsewhere on the machine hits them all alike.
        for _ in range(args.runs):
            for name, (setup, code) in cases.items():
                wall, inner = _time_once(setup, code, envs[name], cache)
                walls[name].append(wall)
                inside[name].append(inner)
    floor = statistics.median(walls["floor: python -c pass"])
    json_anchor = statistics.median(inside["anchor: import json"])
    print(f"{args.runs} fresh processes per row, medians; Python {sys.version.split()[0]}")
    print("in-process: the statements alone, timed inside the fresh process (what the 30 ms target counts)")
    print("process: the whole `python -c ...` (set-up included); - floor: less the bare interpreter's")
    print(f"{'case':58} {'process ms':>10} {'- floor':>8} {'in-process ms':>13} {'x json':>7}")
    for name in cases:
        wall = statistics.median(walls[name])
        inner = statistics.median(inside[name])
        ratio = inner / json_anchor if json_anchor else float("nan")
        print(f"{name:58} {wall * 1e3:10.1f} {(wall - floor) * 1e3:8.1f} {inner * 1e3:13.2f} {ratio:7.1f}")


if __name__ == "__main__":
    main()
