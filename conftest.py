"""Collection rules for the whole checkout.

tests/frozen/ holds oracles, never collected (see collect_ignore_glob). README.md and docs/*.md are
collected too: their code blocks run through Sybil (below). The optional integrations
(imagepricing/integrations/, imagepricing/arrow.py) import their extra's
packages; where an extra is not installed (the core's CI), their doctests are not collected. Their
own test files skip themselves with pytest.importorskip, and each extra's CI script (.ci/extras/)
installs it.
"""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
import importlib.metadata
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

try:  # the docs runner (the `test` extra); an environment without it collects no docs
    from sybil import Sybil
    from sybil.evaluators.doctest import OutputChecker as SybilOutputChecker
    from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser
    from sybil.parsers.markdown.lexers import FencedCodeBlockLexer
except ImportError:
    Sybil = None

import pytest

# litellm fetches a model cost map from the network when imported, unless told to use its local copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

_ROOT = Path(__file__).parent

collect_ignore: list[str] = []
# The frozen copies of earlier engines and rules (tests/frozen/) are oracles loaded by path by the
# differential tests, never collected: collecting them ran their doctests, and a frozen engine's
# doctest memoised its own outcomes in the live engine's memo.
collect_ignore_glob: list[str] = ["tests/frozen/*"]
for _path in [_ROOT / "imagepricing" / "arrow.py", *sorted((_ROOT / "imagepricing" / "integrations").glob("*.py"))]:
    _module = ".".join(_path.relative_to(_ROOT).with_suffix("").parts)
    try:
        importlib.import_module(_module)
    except ImportError as _missing:
        # A module may re-raise the missing package's error with an install hint: read its cause.
        _cause = _missing if _missing.name is not None else _missing.__cause__
        _name = getattr(_cause, "name", None)
        if isinstance(_name, str) and not _name.startswith("imagepricing"):
            collect_ignore.append(str(_path.relative_to(_ROOT)))

# Rules and prices are dated facts, so a report depends on the day. Every test and doctest runs in
# the seeds' week (2026-05-01: the sources the rules were first written from describe the platform
# of 2026-04-30 to 2026-05-07) unless it names its own day, or asks for the real clock with
# @pytest.mark.real_today. A test that depended on the real day would change its verdict as the
# platform's record grows (and after the day the tables were reviewed, every report warns).
SEEDS_WEEK = dt.date(2026, 5, 1)


def _pinned_clock() -> Any:
    """imagepricing's clock, pinned to the seeds' week; None while the package cannot be imported.

    A docs runner's fresh environment (.ci/extras/) starts without the package: the page's own
    `pip install '.[arrow]'` block installs it, and the examples after it are pinned from then on.
    """
    try:
        from imagepricing import _clock  # noqa: PLC0415  # see the docstring
    except ImportError as missing:
        if (missing.name or "").startswith("imagepricing"):
            raise
        return None
    _clock._PINNED = SEEDS_WEEK
    return _clock


# Pinned from collection on: test modules build strategies and schemas from the tables at import.
_CLOCK = _pinned_clock()


@pytest.fixture(autouse=True)
def _seeds_week_is_today(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _CLOCK or _pinned_clock()
    if clock is not None and request.node.get_closest_marker("real_today") is not None:
        monkeypatch.setattr(clock, "_PINNED", None)


# --- The documentation's code blocks (README.md, docs/*.md), run by Sybil -------------------------
#
# Every ```python, ```console and ```sh block of the docs is a test, run in document order, each
# document in a fresh copy of the checkout (what a new user has after a clone) as its working
# directory, with this environment's `imagepricing`, `python` and `pip` first on PATH:
#
# - ```python: run in one namespace per document; a block of `>>>` lines is a doctest (output compared).
# - ```console: `$ command` lines (a trailing backslash continues one), each followed by the output
#   it must print; `...` matches anything (doctest's ELLIPSIS). Run as typed at a prompt (no `set -e`).
# - ```sh: run with bash -euo pipefail; it must exit 0 (it shows no output to compare).
# - <!-- file: NAME --> before any fenced block: the block is written to NAME instead (a config.yaml,
#   a script that a later block runs).
# - <!-- serve: URL --> before a ```sh block: it runs in the background (a server) until the document
#   ends, and the next block runs once URL answers.
# - <!-- skip: next requires_extra("name") -->: the block needs that extra (pyproject.toml), and is
#   skipped without it; the extra's own CI script (.ci/extras/) installs it and runs the block, and
#   IMAGEPRICING_DOCS_EXTRAS=name there turns a missing package into a failure, never a skip.
# - <!-- skip: next installs() -->: a `pip install` block, run only where IMAGEPRICING_DOCS_PIP=1
#   (a CI script's fresh environment); anywhere else it would replace this editable install.
# - <!-- skip: next "reason" -->: the rare block that cannot run here; the text beside it says so.
_DOCS = ["README.md", "docs/*.md"]
_DOCS_NOT_COLLECTED: list[str] = []
_FILE_DIRECTIVE = re.compile(r"<!-- file: (?P<name>[\w.-]+) -->\s*\Z")
_INSTALLS_DIRECTIVE = re.compile(r"<!-- skip: next installs\(\) -->\s*\Z")
_SERVE_DIRECTIVE = re.compile(r"<!-- serve: (?P<url>http://127\.0\.0\.1:\d+/\S*) -->\s*\Z")
_NOT_COPIED = (".git", ".venv", "__pycache__", "site", "*.egg-info", ".*_cache", "test-artifacts", "dist", "build")
_SERVE_SECONDS = 240  # the LiteLLM proxy takes tens of seconds to start on a loaded two-core machine
_COMMAND_SECONDS = 600


def _directive(example_or_region_start: int, text: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    return pattern.search(text, 0, example_or_region_start)


def _requires_extra(extra: str) -> str | None:
    """A skip reason when the extra `extra` of pyproject.toml is not installed here, else None."""
    # packaging (a dependency of pytest) reads the markers as pip does: `extra == 'litellm'`.
    from packaging.requirements import Requirement  # noqa: PLC0415  # only where docs are collected

    requirements = [Requirement(line) for line in importlib.metadata.requires("imagepricing") or []]
    names = [r.name for r in requirements if r.marker is not None and r.marker.evaluate({"extra": extra})]
    if not names:
        raise ValueError(f"pyproject.toml has no extra {extra!r}")
    missing = []
    for name in names:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if not missing:
        return None
    if extra in os.environ.get("IMAGEPRICING_DOCS_EXTRAS", "").split(","):
        raise RuntimeError(f"the {extra} extra must be installed here, but {', '.join(missing)} is not")
    return f"needs the {extra} extra (not installed: {', '.join(missing)}); .ci/extras/ runs it"


def _installs() -> str | None:
    if os.environ.get("IMAGEPRICING_DOCS_PIP") == "1":
        return None
    return "installs packages: run in a fresh environment by a CI script (IMAGEPRICING_DOCS_PIP=1)"


# The examples name the real platform; one that got past a guard would meet a closed local port
# instead of leaving this machine (servers a document starts are on 127.0.0.1, which stays direct).
_NO_NETWORK = {
    **dict.fromkeys(("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"), "http://127.0.0.1:9"),
    **dict.fromkeys(("ALL_PROXY", "all_proxy"), "http://127.0.0.1:9"),
    **dict.fromkeys(("NO_PROXY", "no_proxy"), "127.0.0.1,localhost"),
}


def _docs_setup(namespace: dict[str, Any]) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="imagepricing-docs-"))
    try:  # the files of a clone: what git tracks
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=_ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an sdist): the tree, less the builds
        shutil.copytree(_ROOT, workdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_NOT_COPIED))
        listed = ""
    for name in filter(None, listed.split("\0")):
        source = _ROOT / name
        if source.is_file():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, workdir / name)
    namespace.update(
        __name__="__main__",  # a block is run as a reader runs it: a script's main guard holds
        requires_extra=_requires_extra,
        installs=_installs,
        _docs_workdir=workdir,
        _docs_previous_cwd=os.getcwd(),
        _docs_servers=[],
        _docs_environ={name: os.environ.get(name) for name in _NO_NETWORK},
    )
    os.environ.update(_NO_NETWORK)
    os.chdir(workdir)


def _docs_teardown(namespace: dict[str, Any]) -> None:
    for server in namespace["_docs_servers"]:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    os.chdir(namespace["_docs_previous_cwd"])
    for name, value in namespace["_docs_environ"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(namespace["_docs_workdir"], ignore_errors=True)


def _shell_env(example: Any) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if _directive(example.region.start, example.document.text, _INSTALLS_DIRECTIVE) is not None:
        # A `pip install` block, and only it, reaches the package index: the network as CI has it.
        env.update(example.namespace["_docs_environ"])
        env = {name: value for name, value in env.items() if value is not None}
    return env


def _run_shell(
    example: Any, script: str, options: tuple[str, ...] = ("-euo", "pipefail")
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", *options, "-c", script],
        cwd=example.namespace["_docs_workdir"],
        env=_shell_env(example),
        capture_output=True,
        text=True,
        timeout=_COMMAND_SECONDS,
        check=False,
    )


def _evaluate_sh(example: Any) -> str | None:
    serve = _directive(example.region.start, example.document.text, _SERVE_DIRECTIVE)
    if serve is not None and example.document.text[serve.end() : example.region.start].strip() == "":
        return _start_server(example, serve["url"])
    done = _run_shell(example, example.parsed)
    if done.returncode != 0:
        return f"exit status {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return None


def _start_server(example: Any, url: str) -> str | None:
    log = example.namespace["_docs_workdir"] / f"server-{example.line}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", example.parsed],
            cwd=example.namespace["_docs_workdir"],
            env=_shell_env(example),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown stops the server and its workers
        )
    example.namespace["_docs_servers"].append(server)
    deadline = time.monotonic() + _SERVE_SECONDS
    while server.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):  # 127.0.0.1 only (the directive's pattern)
                return None
        except urllib.error.HTTPError:
            return None  # it answers
        except OSError:
            time.sleep(1)
    return f"the server did not answer {url}:\n{log.read_text(errors='replace')[-4000:]}"


def _console_steps(source: str) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    command: list[str] | None = None
    for line in source.splitlines():
        if command is not None and command[-1].endswith("\\"):
            command.append(line)
        elif line.startswith("$ "):
            command = [line[2:]]
            steps.append(("", ""))
        elif not steps:
            raise ValueError(f"a console block starts with a command ($ ...), not {line!r}")
        else:
            steps[-1] = (steps[-1][0], steps[-1][1] + line + "\n")
            continue
        steps[-1] = ("\n".join(command), steps[-1][1])
    return steps


def _evaluate_console(example: Any) -> str | None:
    checker = SybilOutputChecker()
    for command, want in _console_steps(example.parsed):
        done = _run_shell(example, command, options=())  # as typed at a prompt: a failing command goes on
        got = done.stdout + done.stderr
        if not checker.check_output(want, got, doctest.ELLIPSIS):
            return f"$ {command}\n{checker.output_difference(doctest.Example(command, want), got, doctest.ELLIPSIS)}"
    return None


def _write_file(example: Any) -> None:
    name, text = example.parsed
    (example.namespace["_docs_workdir"] / name).write_text(text, encoding="utf-8")


class _FileBlocks:
    """Fenced blocks after <!-- file: NAME -->: written to NAME in the document's working directory."""

    def __init__(self) -> None:
        self.lexer = FencedCodeBlockLexer(r"\S+")

    def __call__(self, document: Any) -> Any:
        for region in self.lexer(document):
            directive = _directive(region.start, document.text, _FILE_DIRECTIVE)
            if directive is not None and document.text[directive.end() : region.start].strip() == "":
                region.parsed = (directive["name"], str(region.lexemes["source"]))
                region.evaluator = _write_file
                yield region


def _not_files(parser: Any) -> Any:
    """`parser`, leaving out the blocks a <!-- file: NAME --> directive writes to a file."""

    def parse(document: Any) -> Any:
        for region in parser(document):
            directive = _directive(region.start, document.text, _FILE_DIRECTIVE)
            if directive is None or document.text[directive.end() : region.start].strip() != "":
                yield region

    return parse


if Sybil is not None:
    pytest_collect_file = Sybil(
        parsers=[
            _FileBlocks(),
            _not_files(PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS)),
            _not_files(CodeBlockParser("console", _evaluate_console)),
            _not_files(CodeBlockParser("sh", _evaluate_sh)),
            SkipParser(),
        ],
        patterns=_DOCS,
        excludes=_DOCS_NOT_COLLECTED,
        setup=_docs_setup,
        teardown=_docs_teardown,
    ).pytest()
