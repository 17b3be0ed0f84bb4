"""Nothing lost when things fail (issue 23, estimate): every file the command line writes appears
whole or not at all, `--per-request` is written in estimate's own single pass (so its rows agree
with the report, and standard input works), Parquet rows stream in large row groups, and a log
still being written is read as it was when opened."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from imagepricing.cli import main
from imagepricing.estimation import estimate_files
from imagepricing.per_request_file import ROW_GROUP, RowsFile

DAY = "2026-06-01"
NANO = json.dumps({"model": "nano-banana", "prompt": "an apple"})
REJECTED = json.dumps({"model": "dall-e-3", "prompt": "a", "n": 2})


def dt_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _log(path: Path, lines: int) -> Path:
    kinds = [NANO, REJECTED, "not json", "", json.dumps({"time": "2026-06-02T10:00:00Z", "request": json.loads(NANO)})]
    path.write_text("".join(kinds[i % len(kinds)] + "\n" for i in range(lines)), encoding="utf-8")
    return path


def _estimate_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["estimate", *argv, "--as-of", DAY, "--format", "json", "--no-progress"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


class TestOnePass:
    def test_rows_and_report_agree_line_for_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = _log(tmp_path / "log.jsonl", 1_000)
        rows_path = tmp_path / "rows.jsonl"
        report = _estimate_json(capsys, str(log), "--per-request", str(rows_path))
        rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
        statuses = [row["status"] for row in rows]
        lines = report["lines"]
        assert isinstance(lines, dict)
        assert statuses.count("priced") == lines["priced"]
        assert statuses.count("rejected") == lines["rejected"]
        assert statuses.count("unreadable") == lines["unreadable"]
        assert len(rows) == lines["read"] - lines["blank"]
        total = sum(Decimal(row["cost"]) for row in rows if row["status"] == "priced")
        assert {"credits": str(total)} == report["totals"]["cost"]  # type: ignore[index]

    def test_standard_input_works(self, tmp_path: Path) -> None:
        log = _log(tmp_path / "log.jsonl", 50)
        rows_path = tmp_path / "rows.csv"
        with log.open("rb") as stdin:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "imagepricing",
                    "estimate",
                    "-",
                    "--per-request",
                    str(rows_path),
                    "--as-of",
                    DAY,
                ],
                stdin=stdin,
                capture_output=True,
                text=True,
                check=False,
            )
        assert done.returncode == 0, done.stderr
        assert rows_path.read_text().count("\n") == 1 + 40  # a header, and every line but the 10 blank ones

    def test_lines_outside_the_window_have_no_row(self, tmp_path: Path) -> None:
        log = _log(tmp_path / "log.jsonl", 10)
        with RowsFile(tmp_path / "rows.jsonl") as rows:
            result = estimate_files([log], rows=rows.add, since=dt_date("2026-06-02"), until=dt_date("2026-06-02"))
        # Of 10 lines: 2 carry a time in the window, 4 requests carry none (outside), 2 are blank and 2
        # unreadable (no time to place them by: they are counted, and the unreadable ones get rows).
        assert (result.outside_window, result.unreadable, result.blank, result.totals.requests) == (4, 2, 2, 2)
        assert rows.written == 4


class TestWholeOrNothing:
    """The previous file stays when a run does not complete: a log that fails mid-way, Ctrl-C,
    SIGKILL, and a file too large to write (RLIMIT_FSIZE, as a full disk would refuse it)."""

    @pytest.mark.parametrize("name", ["rows.jsonl", "rows.csv"])
    def test_a_log_failing_midway_keeps_the_previous_rows(
        self, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        import gzip

        good = _log(tmp_path / "good.jsonl", 20)
        broken = tmp_path / "broken.jsonl.gz"
        broken.write_bytes(gzip.compress(good.read_bytes())[:-12])  # truncated gzip: fails at its end
        rows_path = tmp_path / name
        rows_path.write_text("previous\n")
        assert main(["estimate", str(good), str(broken), "--per-request", str(rows_path), "--as-of", DAY]) == 2
        assert "truncated" in capsys.readouterr().err
        assert rows_path.read_text() == "previous\n"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".imagepricing-")] == []

    def test_a_file_too_large_to_write_keeps_the_previous_one(self, tmp_path: Path) -> None:
        log = _log(tmp_path / "log.jsonl", 20_000)
        rows_path = tmp_path / "rows.jsonl"
        rows_path.write_text("previous\n")
        limit = 256 * 1024  # the rows of 20,000 lines are several MB: the write fails midway

        def small_files() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        done = subprocess.run(
            [sys.executable, "-m", "imagepricing", "estimate", str(log), "--per-request", str(rows_path)],
            preexec_fn=small_files,  # only sets a limit before exec
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert f"cannot write {rows_path}" in done.stderr
        assert "Traceback" not in done.stderr
        assert rows_path.read_text() == "previous\n"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".imagepricing-")] == []

    @pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
    def test_interrupted_or_killed_keeps_the_previous_rows(self, tmp_path: Path, how: signal.Signals) -> None:
        log = _log(tmp_path / "log.jsonl", 400_000)
        rows_path = tmp_path / "rows.jsonl"
        rows_path.write_text("previous\n")
        process = subprocess.Popen(
            [sys.executable, "-m", "imagepricing", "estimate", str(log), "--per-request", str(rows_path)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".imagepricing-") and p.stat().st_size for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline, "the rows were never being written"
            assert process.poll() is None, "estimate ended before it was interrupted"
            time.sleep(0.05)
        process.send_signal(how)
        _, err = process.communicate(timeout=60)
        assert rows_path.read_text() == "previous\n"
        if how == signal.SIGINT:
            assert process.returncode == 130
            assert "interrupted" in err
            assert "Traceback" not in err
            assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".imagepricing-")] == []


class TestParquet:
    def test_large_row_groups_and_the_same_rows(self, tmp_path: Path) -> None:
        pq = pytest.importorskip("pyarrow.parquet")
        log = _log(tmp_path / "log.jsonl", ROW_GROUP + ROW_GROUP // 2)
        with RowsFile(tmp_path / "rows.parquet") as parquet, RowsFile(tmp_path / "rows.jsonl") as jsonl:

            def both(*block: object) -> None:
                parquet.add(*block)  # type: ignore[arg-type]
                jsonl.add(*block)  # type: ignore[arg-type]

            estimate_files([log], rows=both, as_of=dt_date(DAY))
        metadata = pq.ParquetFile(tmp_path / "rows.parquet").metadata
        assert metadata.num_rows == parquet.written == jsonl.written
        assert metadata.num_row_groups == 2  # one full group and the rest
        table = pq.read_table(tmp_path / "rows.parquet")
        expected = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
        assert table.column("status").to_pylist() == [row["status"] for row in expected]
        costs = [None if v is None else format(v.normalize(), "f") for v in table.column("cost").to_pylist()]
        assert costs == [
            None if row["cost"] is None else format(Decimal(row["cost"]).normalize(), "f") for row in expected
        ]


class TestGrowingLog:
    def test_an_unterminated_last_line_of_a_growing_log_is_a_warning(self, tmp_path: Path) -> None:
        """A writer appends while estimate reads: what was there when the file was opened is read, and
        the half-written last line is neither a line nor unreadable, in the report and the rows alike."""
        log = tmp_path / "log.jsonl"
        log.write_text(NANO + "\n" + NANO + "\n" + NANO[:20])
        rows_path = tmp_path / "rows.jsonl"
        grown: list[int] = []

        def append_while_reading(*block: object) -> None:
            if not grown:
                with log.open("a") as out:  # the writer finishes the line, and writes more
                    out.write(NANO[20:] + "\n" + NANO + "\n")
                grown.append(1)
            rows.add(*block)  # type: ignore[arg-type]

        with RowsFile(rows_path) as rows:
            result = estimate_files([log], rows=append_while_reading, as_of=dt_date(DAY))
        assert (result.lines_read, result.totals.requests, result.unreadable) == (2, 2, 0)
        assert rows.written == 2
        assert result.warnings == (f"{log}: incomplete last line, not read (the log is still being written)",)

    def test_an_unterminated_last_line_of_a_finished_log_is_read(self, tmp_path: Path) -> None:
        log = tmp_path / "log.jsonl"
        log.write_text(NANO + "\n" + NANO)  # no final newline, and nobody writing: a line like any other
        result = estimate_files([log], as_of=dt_date(DAY))
        assert (result.lines_read, result.totals.requests, result.warnings) == (2, 2, ())

    def test_a_log_is_read_as_it_was_when_opened(self, tmp_path: Path) -> None:
        log = tmp_path / "log.jsonl"
        log.write_text(NANO + "\n")
        seen: list[int] = []

        def append(*block: object) -> None:
            with log.open("a") as out:
                out.write(NANO + "\n" * 3)
            seen.append(len(block[2]))  # type: ignore[arg-type]

        result = estimate_files([log], rows=append, as_of=dt_date(DAY))
        assert (result.lines_read, seen) == (1, [1])
        assert os.path.getsize(log) > len(NANO) + 1


def test_rows_file_names_its_format() -> None:
    with pytest.raises(ValueError, match="cannot tell the format"):
        RowsFile("rows.txt")


def test_lines_after_the_review_are_said_once(tmp_path: Path) -> None:
    """A log reaching past the day the tables' sources were last reviewed gets one warning for the
    whole estimate (each line's report carries tables_may_be_stale)."""
    from imagepricing import default_catalog

    reviewed = default_catalog().reviewed
    assert reviewed is not None
    later = (reviewed + dt.timedelta(days=3)).isoformat()
    log = tmp_path / "log.jsonl"
    log.write_text(
        "".join(json.dumps({"time": f"{later}T10:00:00Z", "request": json.loads(NANO)}) + "\n" for _ in range(5))
    )
    result = estimate_files([log])
    assert [w for w in result.warnings if "last reviewed" in w] == [
        f"lines dated after {reviewed.isoformat()} are priced as if nothing changed since: the tables' sources were"
        " last reviewed that day (imagepricing changes lists what is recorded)"
    ]
    assert estimate_files([log], until=reviewed).warnings == ()
