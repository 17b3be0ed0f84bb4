"""Start-up: `import imagepricing; load_catalog()` in a fresh process, through the compiled form a
wheel carries and validated as in a checkout, against `import attrs` in the same run (issue 22).

The target (issue 22) is import + load_catalog() through the packaged form taking at most twice
`import attrs` alone; it is printed as PASS or FAIL, never asserted. Run on demand, never as a test:

    .venv/bin/python benchmarks/bench_startup.py [--runs N] [--python PATH]

The wheel: without --python, the benchmark builds a wheel of this checkout (`pip wheel --no-deps`;
hatch_build.py validates the tables and writes their compiled form into it) and installs it in a
temporary venv (pip fetches attrs and cattrs from the package index). With `--python PATH`, it uses
that interpreter instead, which must have a wheel of imagepricing installed (checked: the row fails
unless the catalog comes from site-packages without tomllib). Every row runs with that one
interpreter, from a temporary directory (never from the checkout), so the anchors and the rows
share the interpreter and the installed attrs; the validated row puts this checkout first on
PYTHONPATH (checked: imagepricing is imported from it, and tomllib is imported).

Every figure is the median of N fresh processes per row, the rows interleaved so that a burst of
load elsewhere on the machine hits them all alike, with bytecode written once (a warm-up run of
each row, into a private PYTHONPYCACHEPREFIX: nothing lands in the checkout, whatever
PYTHONDONTWRITEBYTECODE says). Two figures per row: the whole `python -c ...` process, and the
statements alone, timed inside the process (what the target and the ratios count).

Rows:
- floor: `python -c pass`, the interpreter alone.
- anchors: `import json` (a small stdlib package), `import attrs` (what the catalog's value classes
  are built with; imagepricing imports it anyway).
- import imagepricing (wheel).
- import + load_catalog() (wheel: packaged form): the shipped tables through the compiled form the
  wheel carries. The target's row.
- first check() (wheel): one `check` of a plain request, timed alone, in a process that has just
  imported imagepricing and loaded the default catalog (that set-up is not timed).
- import + load_catalog() (checkout: validated): the tables parsed with tomllib, structured with
  cattrs and cross-checked, as an editable install or a plain checkout does in each process.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPORT_LOAD = "import imagepricing; imagepricing.load_catalog()"
IMPORT_DEFAULT = "import imagepricing; imagepricing.default_catalog()"
FIRST_CHECK = "imagepricing.check({'model': 'gpt-image-2', 'prompt': 'a fox', 'size': '1024x1024'})"
FROM_WHEEL = (
    "import sys, imagepricing as _i; assert 'site-packages' in _i.__file__, _i.__file__;"
    " assert 'tomllib' not in sys.modules, 'the packaged form was not used'"
)
FROM_CHECKOUT = (
    f"import sys, imagepricing as _i; assert _i.__file__.startswith({REPO!r}), _i.__file__;"
    " assert 'tomllib' in sys.modules, 'not validated'"
)
PACKAGED = "import + load_catalog() (wheel: packaged form)"
ATTRS = "anchor: import attrs"
# name: (set-up, not timed; the statements timed; a check after timing, not timed; from the checkout?)
CASES = {
    "floor: python -c pass": ("", "pass", "", False),
    "anchor: import json": ("", "import json", "", False),
    ATTRS: ("", "import attrs", "", False),
    "import imagepricing (wheel)": ("", "import imagepricing", "", False),
    PACKAGED: ("", IMPORT_LOAD, FROM_WHEEL, False),
    "first check() (wheel, after import + default_catalog())": (IMPORT_DEFAULT, FIRST_CHECK, FROM_WHEEL, False),
    "import + load_catalog() (checkout: validated)": ("", IMPORT_LOAD, FROM_CHECKOUT, True),
}


def _time_once(python: str, name: str, env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall time of the whole process, time of the statements inside it) in seconds."""
    setup, code, check, _ = CASES[name]
    timed = f"{setup}\nimport time as _t\n_s = _t.perf_counter()\n{code}\n_e = _t.perf_counter() - _s"
    timed += f"\n{check}\nprint(_e)"
    start = time.perf_counter()
    done = subprocess.run([python, "-c", timed], env=env, cwd=cwd, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{name}: failed with {python}\n{done.stderr.strip()}")
    return wall, float(done.stdout)


def _wheel_venv(where: str) -> str:
    """A venv in `where` with a wheel of this checkout installed; its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", os.path.join(where, "venv")], check=True)
    pip = os.path.join(where, "venv", "bin", "pip")
    dist = os.path.join(where, "dist")
    subprocess.run([pip, "wheel", "-q", "--no-deps", "-w", dist, REPO], check=True)
    subprocess.run([pip, "install", "-q", *glob.glob(os.path.join(dist, "imagepricing-*.whl"))], check=True)
    return os.path.join(where, "venv", "bin", "python")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21, help="fresh processes per row (default 21)")
    parser.add_argument(
        "--python", metavar="PATH", help="an interpreter with a wheel of imagepricing installed (default: build one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        python = args.python or _wheel_venv(scratch)
        cwd = os.path.join(scratch, "cwd")
        os.mkdir(cwd)
        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
        base["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "bytecode")
        envs = {name: ({**base, "PYTHONPATH": REPO} if case[3] else base) for name, case in CASES.items()}
        for name in CASES:  # the bytecode, written once
            _time_once(python, name, envs[name], cwd)
        walls: dict[str, list[float]] = {name: [] for name in CASES}
        inside: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.runs):
            for name in CASES:
                wall, inner = _time_once(python, name, envs[name], cwd)
                walls[name].append(wall)
                inside[name].append(inner)
        version = subprocess.run(
            [python, "-c", "import sys, attrs; print(sys.version.split()[0], attrs.__version__)"],
            env=base,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    floor = statistics.median(walls["floor: python -c pass"])
    attrs_anchor = statistics.median(inside[ATTRS])
    print(f"{args.runs} fresh processes per row, medians; Python {version[0]}, attrs {version[1]}; {python}")
    print("process: the whole `python -c ...`; - floor: less `python -c pass`; in-process: the statements alone")
    print(f"{'case':56} {'process ms':>10} {'- floor':>8} {'in-process ms':>13} {'x attrs':>8}")
    for name in CASES:
        wall = statistics.median(walls[name])
        inner = statistics.median(inside[name])
        ratio = inner / attrs_anchor if attrs_anchor else float("nan")
        print(f"{name:56} {wall * 1e3:10.1f} {(wall - floor) * 1e3:8.1f} {inner * 1e3:13.2f} {ratio:8.2f}")
    packaged = statistics.median(inside[PACKAGED])
    verdict = "PASS" if packaged <= 2 * attrs_anchor else "FAIL"
    print(
        f"target (issue 22): import + load_catalog() through the packaged form <= 2x `import attrs`:"
        f" {packaged * 1e3:.2f} ms vs 2 x {attrs_anchor * 1e3:.2f} ms: {verdict}"
    )


if __name__ == "__main__":
    main()
