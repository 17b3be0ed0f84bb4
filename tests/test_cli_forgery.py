"""Forged output and interrupted runs (issue 10, item 8).

A file name is text the attacker chooses (an upload's name, a log rotated by someone else): a
name holding a newline and an ANSI escape (`\\x1b[2J` clears the screen) must not forge lines or
drive the terminal in any output. Ctrl-C during `estimate` ends with one line on standard error,
exit status 130, and never leaves a half-written output file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imagepricing import cli
from imagepricing.estimation import estimate_files

HOSTILE_NAMES = [
    "log\nFORGED: 0 unreadable\x1b[2J.jsonl",
    "a\rFORGED.jsonl",
    "\u202egnp.jsonl",
    "x\x00y".replace("\x00", "\x7f") + ".jsonl",
    "tab\there\x1b]0;title\x07.jsonl",
    "line\u2028sep\u2029para\x85.jsonl",
]
FORMATS = ["table", "json", "csv", "html"]


def hostile_log(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text('{"model": "nano-banana", "prompt": "p"}\nnot json\n', encoding="utf-8")
    return path


def assert_clean(text: str, name: str) -> None:
    for ch in set(name):
        if not ch.isprintable():
            assert ch not in text.replace("\n", "").replace("\r", "") or ch in "\n\r", repr(ch)
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\u2028" not in text
    for line in text.splitlines():
        assert not line.startswith("FORGED"), text
    assert "\rFORGED" not in text


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
@pytest.mark.parametrize("fmt", FORMATS)
def test_file_names_are_escaped_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, fmt: str
) -> None:
    path = hostile_log(tmp_path, name)
    code = cli.main(["estimate", "--no-progress", "--format", fmt, str(path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert_clean(out, name)
    assert_clean(err, name)
    if fmt in ("table", "json", "html"):
        assert "FORGED" in out or "gnp" in out or "title" in out or "sep" in out or "y.jsonl" in out or "here" in out


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_the_library_reports_escaped_names(tmp_path: Path, name: str) -> None:
    result = estimate_files([hostile_log(tmp_path, name)])
    for label in [*result.sources, *(bad.file for bad in result.bad_lines)]:
        assert label.isprintable(), label
    assert result.bad_lines[0].line == 2


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_missing_file_error_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    code = cli.main(["estimate", "--no-progress", str(tmp_path / name)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1, err
    assert_clean(err, name)


def test_check_with_a_hostile_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = HOSTILE_NAMES[0]
    (tmp_path / name).write_text("{", encoding="utf-8")
    code = cli.main(["check", str(tmp_path / name)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1, err
    assert_clean(err, name)


def test_output_path_in_a_write_error_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = hostile_log(tmp_path, "ok.jsonl")
    target = tmp_path / "no\nsuch\x1b[2J" / "out.txt"
    code = cli.main(["estimate", "--no-progress", "-o", str(target), str(log)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1, err
    assert "\x1b" not in err


class TestInterrupt:
    def test_keyboard_interrupt_in_process(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def interrupted(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        import imagepricing.cli._estimate as cli_estimate

        monkeypatch.setattr(cli_estimate, "estimate_files", interrupted)
        out_file = tmp_path / "out.json"
        code = cli.main(["estimate", "--no-progress", "-o", str(out_file), str(hostile_log(tmp_path, "a.jsonl"))])
        _, err = capsys.readouterr()
        assert code == 130
        assert err == "imagepricing: interrupted\n"
        assert not out_file.exists()

    def test_interrupt_while_writing_leaves_the_old_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        out_file = tmp_path / "out.json"
        out_file.write_text("previous report\n", encoding="utf-8")
        seen: list[str] = []

        def interrupted_replace(source: str, target: str) -> None:
            # Ctrl-C after the new report is fully written to its temporary file, before the rename.
            seen.append(Path(source).read_text(encoding="utf-8"))
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "replace", interrupted_replace)
        log = hostile_log(tmp_path, "a.jsonl")
        code = cli.main(["estimate", "--no-progress", "--format", "json", "-o", str(out_file), str(log)])
        _, err = capsys.readouterr()
        assert code == 130
        assert err == "imagepricing: interrupted\n"
        assert json.loads(seen[0])["lines"]["read"] == 2  # the whole report was in the temporary file
        assert out_file.read_text(encoding="utf-8") == "previous report\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "out.json"]

    def test_output_replaces_the_file_whole(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out_file = tmp_path / "out.json"
        out_file.write_text("previous report " * 1000, encoding="utf-8")
        log = hostile_log(tmp_path, "a.jsonl")
        assert cli.main(["estimate", "--no-progress", "--format", "json", "-o", str(out_file), str(log)]) == 0
        capsys.readouterr()
        assert json.loads(out_file.read_text(encoding="utf-8"))["lines"]["read"] == 2
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "out.json"]

    @pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
    def test_ctrl_c_on_the_real_command(self, tmp_path: Path) -> None:
        out_file = tmp_path / "out.json"
        out_file.write_text("previous report\n", encoding="utf-8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "imagepricing", "estimate", "--no-progress", "-o", str(out_file), "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            # A shell starts background jobs with SIGINT ignored, and Python keeps an inherited
            # SIG_IGN; the child must get Ctrl-C as a terminal would deliver it.
            preexec_fn=_default_sigint,  # noqa: PLW1509  # only sets a signal disposition
        )
        assert proc.stdin is not None
        line = json.dumps({"model": "nano-banana", "prompt": "p"}).encode() + b"\n"
        # The pipe holds 64 KiB: once this 9 MB write returns, the command is inside the estimate,
        # reading; it then waits for more, as on a slow log.
        proc.stdin.write(line * 200_000)
        proc.stdin.flush()
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, err
        assert err.decode() == "imagepricing: interrupted\n"
        assert out == b""
        assert out_file.read_text(encoding="utf-8") == "previous report\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_new_output_file_has_the_usual_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "out.csv"
    log = hostile_log(tmp_path, "a.jsonl")
    assert cli.main(["estimate", "--no-progress", "--format", "csv", "-o", str(out_file), str(log)]) == 0
    capsys.readouterr()
    umask = os.umask(0)
    os.umask(umask)
    assert out_file.stat().st_mode & 0o777 == 0o666 & ~umask


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
