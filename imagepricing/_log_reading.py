"""Reading logs for `imagepricing.estimate_files`: open a file (gzip or not, "-" for standard input),
cut it into lines a block at a time, and the JSON parsers the estimator's loop calls per line.

- `open_log` opens a file with `imagepricing._lines.open_stream`, the reader the server's JSON Lines
  bodies go through too: gzip recognised by its magic bytes and inflated as `gzip -d` does (trailing
  garbage ignored and flagged, `_GzipLog.trailing_garbage`), a UTF-8 byte order mark skipped. Every
  failure is a `LogReadError` that names the file and never quotes it.
- `_blocks` is `_lines.blocks` with a file's limits: `_READ_SIZE` bytes read and decoded at a time,
  a line over `_MAX_LINE` given as `_TOO_LONG` and skipped without being held in memory.
- `_SCAN` (json's `JSONDecoder.raw_decode`) and `_fast_loads` (msgspec, the `fastjson` extra) parse
  a line; the estimator falls back to json.loads wherever they could differ from it, so results and
  messages stay json.loads's.

Nothing here judges a request or counts a line: that is imagepricing.estimation.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from json.decoder import JSONDecoder
from typing import IO, Any, cast

from imagepricing._describe import escape_unprintable
from imagepricing._lines import INCOMPLETE, TOO_LONG, GzipError, Inflated, Source, blocks, open_stream

__all__ = ["INCOMPLETE", "LogReadError", "open_log"]

_READ_SIZE = 1 << 16  # bytes read and decoded at a time: small enough to stay in the CPU cache
_MAX_LINE = 64 << 20  # a longer line is counted as unreadable and skipped, never held in memory
_TOO_LONG = TOO_LONG


def too_long() -> str:
    """The reason given for a line over `_MAX_LINE` (read when called: a test lowers the limit)."""
    return f"not readable: the line is longer than {_MAX_LINE >> 20} MiB"


_GzipLog = Inflated  # what open_log returns for gzip: `fileobj` is the compressed file (for progress)

_raw_decode = JSONDecoder().raw_decode
_JSON_SPACE = " \t\n\r"


def _SCAN(line: str, start: int) -> tuple[Any, int]:
    """The JSON value at the start of `line` (`start` is 0) and the index where it ends, by json's
    `JSONDecoder.raw_decode`: the value, and every error, are those json.loads gives for a line
    without leading whitespace. StopIteration for a blank line or one that starts with whitespace:
    the estimator counts the first as blank and leaves the second to json.loads."""
    if line[:1] in _JSON_SPACE:  # "" (a blank line) is in every string
        raise StopIteration(start)
    return _raw_decode(line)


# msgspec, when installed (the `fastjson` extra), parses a line about twice as fast as json, with
# the same types: integers of any size stay integers (orjson turns 2**70 into a float, which is why
# it is not used), and 1, 1.0 and true stay apart. Every line msgspec refuses (NaN, a lone
# surrogate, 1e400, deep nesting, any error) is left to json, and so is every line longer than
# _FAST_LINE characters (json refuses integers of over 4,300 digits, msgspec reads some), so
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
    raw: Any = None
    try:
        if label == "-":
            raw = sys.stdin.buffer
        else:
            raw = open(path, "rb", buffering=0)  # noqa: SIM115  # the caller closes it
            if stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
                raw = _UpToSize(raw)
        source: Source = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
        return cast("IO[bytes]", open_stream(source, close_source=label != "-"))
    except OSError as exc:
        if raw is not None and label != "-":
            raw.close()
        where = "standard input" if label == "-" else escape_unprintable(label)
        raise LogReadError(f"cannot read {where}: {_read_failure(exc)}") from None


def _read_failure(exc: BaseException) -> str:
    if isinstance(exc, GzipError):
        return str(exc)  # "the gzip data is truncated" or "... corrupt"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _blocks(stream: IO[bytes]) -> Iterator[list[object] | int]:
    """The lines of `stream`, a block at a time (`_lines.blocks` with this module's limits, read when
    called); the last line of a file that grew while it was read, if it has no newline, is
    `[INCOMPLETE]`."""
    raw = getattr(stream, "raw", None)
    growing = raw.grew if isinstance(raw, _UpToSize) else None
    return blocks(cast(Source, stream), _MAX_LINE, _READ_SIZE, growing=growing)


class _UpToSize(io.RawIOBase):
    """A regular file read up to the size it had when opened: a log still being written is read as
    it was then, and `grew()` says whether more has been written since (so an unterminated last
    line is the start of a line still being written, not a line)."""

    def __init__(self, raw: io.FileIO) -> None:
        super().__init__()
        self._raw = raw
        self._left = self._size = os.fstat(raw.fileno()).st_size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        count = self._raw.readinto(view) or 0
        self._left -= count
        return count

    def tell(self) -> int:
        return self._size - self._left

    def fileno(self) -> int:
        return self._raw.fileno()

    def grew(self) -> bool:
        return os.fstat(self._raw.fileno()).st_size > self._size

    def close(self) -> None:
        self._raw.close()
        super().close()
