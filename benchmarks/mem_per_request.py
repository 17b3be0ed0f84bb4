"""Peak memory of `imagepricing estimate --per-request FILE` as the log grows (issue 23: flat in the
log's size, at most 150 MB here). Run on demand, never as a test:

    .venv/bin/python benchmarks/mem_per_request.py [--lines 250000,1000000,2000000] [--format parquet]

Each size is a fresh process (`python -m imagepricing estimate LOG --per-request rows.FORMAT`),
its peak resident set read from the kernel (getrusage of the child); the log mixes accepted,
rejected, unreadable and blank lines over 30 days, as a real log does. Prints lines, seconds,
peak MB, the rows written and the Parquet row groups.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _write_log(path: Path, lines: int) -> None:
    models = ["nano-banana", "gpt-image-2", "dall-e-3", "gpt-image-1"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            if i % 50 == 7:
                out.write("not json\n")
                continue
            if i % 50 == 8:
                out.write("\n")
                continue
            request: dict[str, object] = {"model": models[i % 4], "prompt": f"prompt {i % 997}", "size": "1024x1024"}
            if i % 13 == 0:
                request["n"] = 2
            day = 1 + i % 30
            envelope = {"id": f"req_{i}", "time": f"2026-06-{day:02d}T10:00:00Z", "request": request}
            out.write(json.dumps(envelope) + "\n")


def _peak(command: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of the children is the largest child so far: sizes are run smallest first.
    return seconds, max(peak_kb, before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", default="250000,1000000,2000000")
    parser.add_argument("--format", default="parquet", choices=["parquet", "csv", "jsonl"])
    args = parser.parse_args()
    sizes = sorted(int(text) for text in args.lines.split(","))
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'lines':>10} {'seconds':>8} {'peak MB':>8} {'rows':>10} {'row groups':>10}")
        for lines in sizes:
            log = Path(folder) / f"log-{lines}.jsonl"
            rows = Path(folder) / f"rows-{lines}.{args.format}"
            _write_log(log, lines)
            command = [sys.executable, "-m", "imagepricing", "estimate", str(log), "--per-request", str(rows)]
            seconds, peak = _peak([*command, "--group-by", "day,model", "--no-progress"])
            groups = written = "-"
            if args.format == "parquet":
                import pyarrow.parquet as pq  # noqa: PLC0415  # only for this format

                metadata = pq.ParquetFile(rows).metadata
                groups, written = str(metadata.num_row_groups), str(metadata.num_rows)
            else:
                written = str(sum(1 for _ in rows.open(encoding="utf-8")))
            print(f"{lines:>10,} {seconds:>8.1f} {peak:>8.1f} {written:>10} {groups:>10}")
            log.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
