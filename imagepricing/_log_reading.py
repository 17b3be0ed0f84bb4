"""Reading logs for `imagepricing.estimate_files`: open a file (gzip or not, "-" for standard input),
cut it into lines a block at a time, and the JSON parsers the estimator's loop calls per line.

- `open_log` recognises gzip by its magic bytes, skips a UTF-8 byte order mark and turns every
  failure into a `LogReadError` that names the file and never quotes it; `_GzipLog` ignores
  trailing garbage as `gzip -d` does, and says so.
- `_blocks` reads and decodes `_READ_SIZE` bytes at a time and yields lists of lines (str, or
  bytes for a line that is not UTF-8), an int for a long run of blank lines (counted in one step),
  and `_TOO_LONG` for a line over `_MAX_LINE`, which is skipped without being held in memory.
- `_SCAN` (the C scanner behind json.loads) and `_fast_loads` (msgspec, the `fastjson` extra)
  parse a line; the estimator falls back to json.loads wherever they could differ from it, so
  results and messages stay json.loads's.

Nothing here judges a request or counts a line: that is imagepricing.estimation.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from json.decoder import JSONDecoder
from typing import IO, Any

from imagepricing._describe import escape_unprintable

__all__ = ["LogReadError", "open_log"]

_READ_SIZE = 1 << 16  # bytes read and decoded at a time: small enough to stay in the CPU cache
_MAX_LINE = 64 << 20  # a longer line is counted as unreadable and skipped, never held in memory
_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"

# The C scanner json.loads ends in, called directly: json.loads adds three Python-level calls per
# line, a fifth of the time of a whole line. The estimator's loop falls back to json.loads wherever
# the two could differ (leading or trailing text), so the result and every error message are
# json.loads's.
_SCAN: Callable[[str, int], tuple[Any, int]] = JSONDecoder().scan_once  # type: ignore[attr-defined]

# msgspec, when installed (the `fastjson` extra), parses a line about twice as fast as the C scanner
# above, with the same types: integers of any size stay integers (orjson turns 2**70 into a float,
# which is why it is not used), and 1, 1.0 and true stay apart. Every line msgspec refuses (NaN,
# a lone surrogate, 1e400, deep nesting, any error) is left to json, and so is every line longer
# than _FAST_LINE characters (json refuses integers of over 4,300 digits, msgspec reads some), so
# results and messages stay json.loads's.
_FAST_LINE = 4096


def _fast_loads() -> tuple[Callable[[str], Any], type[Exception]] | None:
    """msgspec's JSON decoder and its error type, or None when it is not installed or turned off
    (IMAGEPRICING_JSON=stdlib)."""
    if os.environ.get("IMAGEPRICING_JSON") == "stdlib":
        return None
    try:
        import msgspec  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415 (optional extra)
    except ImportError:
        return None
    loads: Callable[[str], Any] = msgspec.json.Decoder().decode
    error: type[Exception] = msgspec.DecodeError
    return loads, error


class LogReadError(OSError):
    """A log file could not be read to the end (missing, unreadable, corrupt or truncated gzip)."""


def _total_size(paths: list[str | os.PathLike[str]]) -> int:
    """The files' total size on disk; 0 (unknown) when one is standard input or not a regular file."""
    total = 0
    for path in paths:
        if os.fspath(path) == "-":
            return 0
        try:
            info = os.stat(path)
        except OSError:
            return 0  # open_log reports it
        total += info.st_size
    return total


def _position(raw: Any) -> int:
    try:
        position: int = raw.tell()
    except (OSError, ValueError, AttributeError):
        return 0
    return position


def open_log(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open a log for reading as bytes: gzip-compressed or not, "-" for standard input.

    Compression is recognised by the gzip magic bytes, not by the file name. A UTF-8 byte order
    mark at the start is skipped. Raises LogReadError when the file cannot be opened.
    Close what you open, except standard input.
    """
    label = os.fspath(path)
    raw: Any
    try:
        raw = sys.stdin.buffer if label == "-" else open(path, "rb")  # noqa: SIM115  # the caller closes it
        stream: Any = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
        if stream.peek(2)[:2] == _GZIP_MAGIC:
            stream = _GzipLog(stream, owned=label != "-")
        if stream.peek(3)[:3] == _UTF8_BOM:
            stream.read(3)
    except (OSError, EOFError, zlib.error) as exc:
        where = "standard input" if label == "-" else escape_unprintable(label)
        raise LogReadError(f"cannot read {where}: {_read_failure(exc)}") from None
    return stream  # type: ignore[no-any-return]


class _GzipLog(gzip.GzipFile):
    """A GzipFile that closes the file under it too (unless it is standard input), since the
    caller of open_log only sees and closes this one."""

    trailing_garbage = False
    """Whether data that is not gzip followed the last member (`gzip -d`: "trailing garbage ignored")."""

    def __init__(self, stream: IO[bytes], *, owned: bool) -> None:
        super().__init__(fileobj=stream, mode="rb")
        self._owned = stream if owned else None

    def read(self, size: int | None = -1) -> bytes:
        if self.trailing_garbage:
            return b""
        try:
            # read1 does at most one raw read, so a failure there never discards data already
            # decompressed by an earlier read in the same call.
            return self.read1(-1 if size is None else size)
        except gzip.BadGzipFile as exc:
            # The first header was checked by its magic bytes (open_log), so this message can only
            # come from data after a complete member: that is gzip's "trailing garbage".
            if not str(exc).startswith("Not a gzipped file"):
                raise
            self.trailing_garbage = True
            return b""

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._owned is not None:
                self._owned.close()


def _read_failure(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the gzip data is truncated"
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
        return "the gzip data is corrupt"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


class _TooLong:
    """Stands for a line longer than _MAX_LINE, which is skipped rather than held in memory."""


_TOO_LONG = _TooLong()


def _blocks(stream: IO[bytes]) -> Iterator[list[object] | int]:
    """The lines of `stream`, a block at a time, as str (or bytes for a line that is not UTF-8);
    an int stands for that many blank lines in a row (see _pieces).

    Reading and decoding 64 KiB at once, then splitting it, costs a fraction of reading
    line by line. Blocks are cut at a newline, which never falls inside a UTF-8 sequence.
    """
    pending: list[bytes] = []
    pending_size = 0
    skipping = False
    while True:
        data = stream.read(_READ_SIZE)
        if not data:
            if skipping:
                yield [_TOO_LONG]
            elif pending_size:
                yield from _pieces(b"".join(pending))
            return
        cut = data.rfind(b"\n")
        if cut < 0:
            if not skipping:
                pending.append(data)
                pending_size += len(data)
                if pending_size > _MAX_LINE:
                    pending, pending_size, skipping = [], 0, True
            continue
        if skipping:
            # The long line ends at the first newline; what follows is ordinary.
            first = data.find(b"\n")
            yield [_TOO_LONG]
            if first < cut:
                yield from _pieces(data[first + 1 : cut])
            skipping = False
        else:
            pending.append(data[:cut])
            yield from _pieces(b"".join(pending))
        rest = data[cut + 1 :]
        pending, pending_size = ([rest], len(rest)) if rest else ([], 0)


# A run of at least this many blank lines (nothing but spaces, tabs and carriage returns before each
# newline) is counted in one step instead of line by line: 20 million newlines gzip into 19 KB, and
# judging each as a line took minutes. `(?m)^` starts a run at the start of a line only; each
# repetition ends at its own newline, so the pattern never backtracks.
_BLANK_RUN = re.compile(rb"(?m)^(?:[ \t\r]*\n){64,}")
_BLANK_HINT = re.compile(rb"\n[\n\r \t]")


def _pieces(block: bytes) -> Iterator[list[object] | int]:
    """The lines of `block` (split at "\n"), with every long run of blank lines given as its count.

    A run matched at p..q covers the lines that start at p and end with the newlines in it; the
    lines before it end at p - 1 (a newline), and the line after it starts at q.
    """
    # A run of two or more blank lines needs a newline followed by whitespace or a newline; the
    # usual block has none, and one search says so (one regular expression scan of the block
    # measured 5-20x faster than four substring searches for two-byte needles starting with "\n").
    if _BLANK_HINT.search(block) is None:
        yield _decoded(block)
        return
    start = 0
    for run in _BLANK_RUN.finditer(block):
        begin, end = run.span()
        if begin > start:
            yield _decoded(block[start : begin - 1])
        yield block.count(b"\n", begin, end)
        start = end
    yield _decoded(block[start:])


def _decoded(block: bytes) -> list[object]:
    try:
        return block.decode().split("\n")  # type: ignore[return-value]
    except UnicodeDecodeError:
        # Keep the undecodable lines as bytes: the loop reports each one where it is.
        lines: list[object] = []
        for line in block.split(b"\n"):
            try:
                lines.append(line.decode())
            except UnicodeDecodeError:
                lines.append(line)
        return lines
