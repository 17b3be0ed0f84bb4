"""Benchmark the Arrow kernel (`imagepricing.arrow.price_batch`, 64k-row batches) against
`imagepricing estimate` on the same log, with bare `json.loads` as the floor.

    python benchmarks/bench_arrow.py [--lines N] [--repeat R] [--batch ROWS] [--vcpu-hour-usd P]

Generates the log of benchmarks/bench_estimate.py (default 1,000,000 lines), then times, in the
same process, interleaved, best of R runs each (CPU time, and wall clock):

- floor: `json.loads` on every line (the lines already in memory);
- kernel: `price_batch` over the log's lines held as Arrow batches of `--batch` rows (what an
  engine hands a UDF), from a cold pricer each run; then `totals` per batch and `Estimate.merge`;
- estimate: `imagepricing estimate FILE --format json` through the CLI entry point.

Both totals must be equal, exactly (counts, and every cost as a Decimal); the run fails otherwise.
It prints lines per CPU-second and what pricing 1 billion lines would take in CPU-hours, and cost
at `--vcpu-hour-usd` (an assumption you pass; default 0.05 USD per vCPU-hour).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from imagepricing import arrow
from imagepricing.cli import main as cli_main
from imagepricing.estimation import Estimate

_BILLION = 1_000_000_000
_AS_OF = dt.date(2026, 6, 15)


def _generator() -> Callable[..., None]:
    """bench_estimate.generate, the same log generator (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_estimate", Path(__file__).with_name("bench_estimate.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generate: Callable[..., None] = module.generate
    return generate


class Timing:
    def __init__(self) -> None:
        self.wall = self.cpu = float("inf")

    def time(self, run: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        self.wall = min(self.wall, time.perf_counter() - wall)
        self.cpu = min(self.cpu, time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=65_536, help="rows per Arrow batch (default 65,536)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--edits", type=float, default=0.12)
    parser.add_argument("--vcpu-hour-usd", type=Decimal, default=Decimal("0.05"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-arrow-") as tmp:
        path = Path(tmp) / "log.jsonl"
        _generator()(path, args.lines, args.seed, compress=False, edits=args.edits)
        raw = path.read_bytes()
        lines = raw.decode().split("\n")
        if lines and not lines[-1]:
            lines.pop()
        batches = [
            pa.record_batch({"line": pa.array(lines[i : i + args.batch], pa.string())})
            for i in range(0, len(lines), args.batch)
        ]
        print(f"{len(lines):,} lines ({len(raw) / 1e6:,.1f} MB) in {len(batches)} batches of <= {args.batch:,} rows")

        loads = json.loads

        def floor() -> None:
            for line in lines:
                try:  # noqa: SIM105  # contextlib.suppress would slow down the floor being measured
                    loads(line)
                except ValueError:
                    pass

        outputs: list[Any] = []

        def kernel() -> None:
            arrow._local.pricers = {}  # a cold memo every run, as estimate starts with
            outputs[:] = [arrow.price_batch(batch, as_of=_AS_OF) for batch in batches]

        merged: list[Estimate] = []

        def add_up() -> None:
            parts, first = [], 1
            for out in outputs:
                parts.append(arrow.totals(out, as_of=_AS_OF, group_by=(), first_line=first, name=str(path)))
                first += out.num_rows
            merged[:] = [parts[0].merge(*parts[1:])]

        report = Path(tmp) / "estimate.json"

        def run_estimate() -> None:
            options = ["--format", "json", "--output", str(report), "--no-progress", "--group-by", "none"]
            status = cli_main(["estimate", str(path), "--as-of", _AS_OF.isoformat(), *options])
            assert status == 0, status

        timings = {"json.loads floor": Timing(), "price_batch": Timing(), "totals + merge": Timing()}
        timings["imagepricing estimate"] = Timing()
        for _ in range(args.repeat):
            timings["json.loads floor"].time(floor)
            timings["price_batch"].time(kernel)
            timings["totals + merge"].time(add_up)
            timings["imagepricing estimate"].time(run_estimate)
        expected = Estimate.from_dict(json.loads(report.read_text(encoding="utf-8")))

    got = merged[0]
    same = (
        got.totals == expected.totals
        and (got.lines_read, got.unreadable, got.blank) == (expected.lines_read, expected.unreadable, expected.blank)
        and got.bad_lines == expected.bad_lines
    )
    print(f"totals: {json.dumps(expected.to_dict()['lines'])}")
    print(f"cost: estimate {dict(expected.totals.cost)}; kernel {dict(got.totals.cost)}; equal: {same}")
    if not same:
        sys.exit("the kernel's totals differ from estimate's")
    print(f"python {sys.version.split()[0]}, pyarrow {pa.__version__}, best of {args.repeat}")
    print(f"{'':24}{'CPU lines/s':>14}{'CPU s':>8}{'wall lines/s':>14}{'wall s':>8}{'x floor':>9}")
    base = timings["json.loads floor"].cpu
    for label, timing in timings.items():
        print(
            f"{label:24}{len(lines) / timing.cpu:>14,.0f}{timing.cpu:>8.2f}"
            f"{len(lines) / timing.wall:>14,.0f}{timing.wall:>8.2f}{timing.cpu / base:>9.2f}"
        )
    kernel_cpu = Decimal(repr(timings["price_batch"].cpu + timings["totals + merge"].cpu))
    hours = kernel_cpu * _BILLION / len(lines) / 3600
    print(
        f"1 billion lines through the kernel (+ totals): {hours:,.1f} CPU-hours; at {args.vcpu_hour_usd} USD per "
        f"vCPU-hour: {hours * args.vcpu_hour_usd:,.2f} USD; on 100 vCPUs: {hours * 60 / 100:,.0f} minutes"
    )


if __name__ == "__main__":
    main()
