"""Hostile logs for `estimate` (issue 10, items 5 and 6): blank lines in bulk, damaged gzip,
bare carriage returns, and groups an attacker controls.

Time and memory are measured in benchmarks/bench_hostile.py (never asserted here); these tests
pin what is counted and reported.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from imagepricing.cli import main
from imagepricing.estimation import MAX_GROUPS, OTHER_GROUPS, estimate, estimate_files

NANO = json.dumps({"model": "nano-banana", "prompt": "p"})


def write(path: Path, data: bytes, *, compress: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


class TestBlankLinesInBulk:
    @pytest.mark.parametrize("compress", [False, True])
    @pytest.mark.parametrize("blank", [b"\n", b"\r\n", b" \n", b"\t \r\n"])
    def test_millions_of_blank_lines_are_counted(self, tmp_path: Path, compress: bool, blank: bytes) -> None:
        n = 1_000_000
        path = write(tmp_path / "blank.jsonl", blank * n, compress=compress)
        result = estimate_files([path])
        assert (result.lines_read, result.blank, result.unreadable, result.requests) == (n, n, 0, 0)

    def test_line_numbers_stay_right_around_blank_runs(self, tmp_path: Path) -> None:
        parts = [NANO.encode(), b"\n" * 100_000, b"oops\n", b"\r\n" * 70_000, NANO.encode(), b"\n", b"  \n" * 300, b"x"]
        path = write(tmp_path / "mixed.jsonl", b"\n".join(parts))
        result = estimate_files([path])
        data = path.read_bytes()
        lines = data.split(b"\n")
        expected_bad = [i + 1 for i, line in enumerate(lines) if line.strip() and line not in (NANO.encode(),)]
        assert [bad.line for bad in result.bad_lines] == expected_bad
        assert result.lines_read == len(lines)
        assert result.blank == sum(1 for line in lines if not line.strip())
        assert result.requests == 2

    @pytest.mark.parametrize("run", [1, 2, 63, 64, 65, 255, 256, 257, 65_535, 65_536, 65_537, 200_000])
    def test_every_run_length_around_the_block_and_threshold_sizes(self, tmp_path: Path, run: int) -> None:
        data = (NANO + "\n" + "\n" * run + "bad\n" + NANO).encode()
        result = estimate_files([write(tmp_path / "r.jsonl", data)])
        assert result.blank == run
        assert result.requests == 2
        assert [bad.line for bad in result.bad_lines] == [run + 2]
        assert result.lines_read == run + 3

    def test_blank_items_of_an_iterable(self) -> None:
        result = estimate(["", "  ", "\r\n", NANO, "\t"] * 1000)
        assert (result.blank, result.requests, result.unreadable) == (4000, 1000, 0)

    def test_whitespace_that_is_not_json_whitespace_is_blank_too(self, tmp_path: Path) -> None:
        data = "\u00a0\n\u2003\n\x0b\n\x0c\n".encode()
        result = estimate_files([write(tmp_path / "w.jsonl", data)])
        assert (result.blank, result.unreadable) == (4, 0)


class TestDamagedGzip:
    def body(self, n: int = 1000) -> bytes:
        return ((NANO + "\n") * n).encode()

    @pytest.mark.parametrize(
        "garbage",
        [b"garbage", b"\x00\x00junk", b"PK\x03\x04", b"\n" * 10, b"\x1f", b"<html>" * 1000],
        ids=["text", "zeros-then-junk", "zip", "newlines", "half-magic", "long"],
    )
    def test_trailing_garbage_keeps_what_was_read(self, tmp_path: Path, garbage: bytes) -> None:
        path = write(tmp_path / "log.jsonl.gz", gzip.compress(self.body()) + garbage)
        result = estimate_files([path])
        assert result.requests == 1000
        assert result.totals.cost["credits"] == Decimal("140.00")
        assert result.warnings == (f"{path}: decompression OK, trailing garbage ignored",)

    def test_garbage_after_several_members(self, tmp_path: Path) -> None:
        data = gzip.compress(self.body(3)) + gzip.compress(self.body(4)) + b"junk"
        result = estimate_files([write(tmp_path / "two.gz", data)])
        assert result.requests == 7
        assert len(result.warnings) == 1

    def test_a_last_line_without_newline_before_the_garbage_is_kept(self, tmp_path: Path) -> None:
        data = gzip.compress(self.body(2) + NANO.encode()) + b"junk"
        result = estimate_files([write(tmp_path / "log.gz", data)])
        assert result.requests == 3

    def test_zero_padding_is_not_damage(self, tmp_path: Path) -> None:
        result = estimate_files([write(tmp_path / "log.gz", gzip.compress(self.body(5)) + b"\x00" * 512)])
        assert (result.requests, result.warnings) == (5, ())

    def test_the_next_file_is_still_read(self, tmp_path: Path) -> None:
        first = write(tmp_path / "a.gz", gzip.compress(self.body(2)) + b"junk")
        second = write(tmp_path / "b.jsonl", self.body(3))
        result = estimate_files([first, second])
        assert result.requests == 5
        assert result.sources == (str(first), str(second))

    @pytest.mark.parametrize("fmt", ["table", "json", "csv", "html"])
    def test_cli_warns_like_gzip_and_exits_0(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
    ) -> None:
        path = write(tmp_path / "log.jsonl.gz", gzip.compress(self.body(3)) + b"junk")
        assert main(["estimate", "--no-progress", "--format", fmt, str(path)]) == 0
        out, err = capsys.readouterr()
        assert f"imagepricing: warning: {path}: decompression OK, trailing garbage ignored\n" in err
        if fmt == "json":
            assert json.loads(out)["warnings"] == [f"{path}: decompression OK, trailing garbage ignored"]
        elif fmt != "csv":
            assert "trailing garbage ignored" in out
        assert "Traceback" not in err

    def test_cli_strict_exits_1(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path / "log.jsonl.gz", gzip.compress(self.body(3)) + b"junk")
        assert main(["estimate", "--no-progress", "--strict", str(path)]) == 1
        capsys.readouterr()


class TestBareCarriageReturns:
    """Decision: JSON Lines separates lines with \\n only (jsonlines.org); a bare \\r is not a line
    separator. Such a file is one line, unreadable, and the reason says why."""

    def test_bare_cr_separated_file_is_one_unreadable_line_that_says_why(self, tmp_path: Path) -> None:
        path = write(tmp_path / "mac.jsonl", ("\r".join([NANO] * 5) + "\r").encode())
        result = estimate_files([path])
        assert (result.lines_read, result.unreadable, result.requests) == (1, 1, 0)
        assert "bare carriage return" in result.bad_lines[0].reason
        assert "\\n" in result.bad_lines[0].reason

    def test_crlf_still_works(self, tmp_path: Path) -> None:
        result = estimate_files([write(tmp_path / "dos.jsonl", ("\r\n".join([NANO] * 5) + "\r\n").encode())])
        assert (result.requests, result.unreadable) == (5, 0)

    def test_a_cr_inside_a_string_is_json_s_business(self) -> None:
        result = estimate(['{"model": "nano-banana", "prompt": "a\rb"}'])
        assert result.unreadable == 1
        assert "bare carriage return" not in result.bad_lines[0].reason


def dated(day: int, size: str = "1024x1024", model: str = "gpt-image-2") -> str:
    return json.dumps(
        {
            "time": f"2026-{6 + day // 28:02d}-{1 + day % 28:02d}T10:00:00Z",
            "request": {"model": model, "prompt": "p", "size": size},
        }
    )


class TestGroupsAreCapped:
    LOG = [dated(day % 40) for day in range(200)] + [NANO] * 7 + ["junk"]

    def test_past_the_cap_the_rest_is_one_row_and_a_warning(self) -> None:
        full = estimate(self.LOG, group_by="day")
        capped = estimate(self.LOG, group_by="day", max_groups=5)
        assert len(full.groups) == 41  # 40 days and "(no time)"
        assert [g.labels["day"] for g in capped.groups] == [g.labels["day"] for g in full.groups[:5]] + [OTHER_GROUPS]
        other = capped.groups[-1]
        assert other.requests == sum(g.requests for g in full.groups[5:])
        assert other.cost == {"credits": sum((g.cost["credits"] for g in full.groups[5:]), Decimal(0))}
        assert capped.totals == full.totals
        assert any("more than 5 groups" in w for w in capped.warnings)
        assert full.warnings == ()

    def test_the_groups_kept_do_not_depend_on_line_order(self) -> None:
        forward = estimate(self.LOG, group_by=("day", "model"), max_groups=7)
        backward = estimate(self.LOG[::-1], group_by=("day", "model"), max_groups=7)
        assert forward.groups == backward.groups
        assert forward.totals == backward.totals

    def test_every_dimension_is_labelled_other(self) -> None:
        capped = estimate(self.LOG, group_by=("model", "day", "tier"), max_groups=1)
        assert dict(capped.groups[-1].labels) == dict.fromkeys(("model", "day", "tier"), OTHER_GROUPS)

    def test_default_cap(self) -> None:
        assert MAX_GROUPS == 10_000

    @pytest.mark.parametrize("bad", [0, -1, True, 1.5, "3"])
    def test_max_groups_must_be_a_positive_int(self, bad: object) -> None:
        with pytest.raises(ValueError, match="max_groups"):
            estimate([NANO], max_groups=bad)  # type: ignore[arg-type]

    def test_cli_option(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path / "log.jsonl", ("\n".join(self.LOG) + "\n").encode())
        assert (
            main(["estimate", "--no-progress", "--group-by", "day", "--max-groups", "3", "--format", "json", str(path)])
            == 0
        )
        out, err = capsys.readouterr()
        report = json.loads(out)
        assert len(report["groups"]) == 4
        assert report["groups"][-1]["labels"] == {"day": OTHER_GROUPS}
        assert "more than 3 groups" in err


class TestRegistriesAreBounded:
    """Shapes and verdicts are folded into group sums when either registry fills; the result is
    the same as with room for everything."""

    def log(self) -> list[str]:
        sizes = [f"{w}x{h}" for w in range(1024, 1024 + 16 * 40, 16) for h in (1024, 1536)]
        lines = [dated(i % 60, size) for i, size in enumerate(sizes)]
        lines += [dated(i % 9, size, model="gpt-image-1") for i, size in enumerate(sizes[:30])]
        return lines + lines[::3] + [NANO, "oops", ""]

    @pytest.mark.parametrize("limit", [1, 2, 3, 7, 64])
    @pytest.mark.parametrize("group_by", [("model",), ("day",), ("model", "day", "tier", "provider", "endpoint"), ()])
    def test_small_registries_give_the_same_result(
        self, monkeypatch: pytest.MonkeyPatch, limit: int, group_by: tuple[str, ...]
    ) -> None:
        from imagepricing import log_lines

        lines = self.log()
        expected = estimate(lines, group_by=group_by)
        monkeypatch.setattr(log_lines, "_REGISTRY_LIMIT", limit)
        assert estimate(lines, group_by=group_by) == expected
        assert estimate(lines, group_by=group_by, memoize=False) == expected

    def test_registries_stay_under_the_limit(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from imagepricing import log_lines

        monkeypatch.setattr(log_lines, "_REGISTRY_LIMIT", 5)
        monkeypatch.setattr(log_lines, "_SEEN_LIMIT", 5)
        seen: list[int] = []
        known: list[int] = []
        real = log_lines.LineJudge._make_room

        def watching(self: log_lines.LineJudge) -> None:
            real(self)
            seen.append(len(self.verdicts))
            known.append(len(self.seen))

        monkeypatch.setattr(log_lines.LineJudge, "_make_room", watching)
        estimate(self.log(), group_by="day")
        assert seen
        assert max(seen) < 5
        assert max(known) <= 5  # the (outcome, provider, day) keys whose verdicts are known


@pytest.mark.parametrize("blank", [b"\t\n", b"\r\r\n", b"  \t\r\n", b"\r\n"])
def test_blank_runs_of_every_whitespace_shape(tmp_path: Path, blank: bytes) -> None:
    data = NANO.encode() + b"\n" + blank * 70_000 + NANO.encode() + b"\n"
    result = estimate_files([write(tmp_path / "b.jsonl", data)])
    assert (result.requests, result.blank, result.lines_read) == (2, 70_000, 70_002)


class TestMergeKeepsTheGroupCap:
    """Estimate.merge (issue 15) over partials capped by issue 10's group limit."""

    def test_merged_groups_stay_capped_and_totals_exact(self) -> None:
        from imagepricing.estimation import OTHER_GROUPS, estimate

        def part(days: range) -> list[str]:
            return [
                f'{{"time": "2026-05-{d:02d}T00:00:00Z", "request": {{"model": "nano-banana", "prompt": "p"}}}}'
                for d in days
            ]

        a = estimate(part(range(1, 11)), group_by="day", max_groups=4)
        b = estimate(part(range(5, 21)), group_by="day", max_groups=4)
        whole = estimate(part(range(1, 11)) + part(range(5, 21)), group_by="day", max_groups=4)
        merged = a.merge(b, max_groups=4)
        assert merged.totals == whole.totals
        assert [g.labels["day"] for g in merged.groups] == [g.labels["day"] for g in whole.groups]
        assert merged.groups[-1].labels["day"] == OTHER_GROUPS
        assert merged.groups[-1].requests == whole.groups[-1].requests
        assert sum(1 for w in merged.warnings if OTHER_GROUPS in w) == 1
        assert merged.warnings == whole.warnings
