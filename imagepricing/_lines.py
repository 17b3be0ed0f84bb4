"""Bytes to lines: the one reader of JSON Lines, for log files (`imagepricing estimate`, through
`_log_reading.open_log`) and for logs streamed to the server (`integrations._bodies.jsonl_lines`).

- `open_stream` recognises gzip by its magic bytes (or is told the data is gzip) and inflates it
  as `gzip -d` does: members one after another, zero padding skipped, and anything else after a
  member taken for trailing garbage (`Inflated.trailing_garbage`), which is not read. Output comes
  `read`'s size at a time (at most `_STEP`), and never past `max_inflated` bytes in all when that is
  given (a gzip bomb). A UTF-8 byte order mark at the start of the text is skipped.
- `blocks` reads a stream `read_size` bytes at a time and yields lists of lines (str, or bytes for
  a line that is not UTF-8), an int for a long run of blank lines (counted in one step), and
  `[TOO_LONG]` for a line over `max_line` bytes, which is skipped without being held in memory,
  and `[INCOMPLETE]` for the unterminated last line of a log still being written.
  Lines are the same however the bytes were cut into reads or chunks.
- `ChunkStream` makes chunks pulled from an iterator (a request body) a stream for the two above.

Errors are `GzipError` (truncated or corrupt data, an OSError) and `InflateLimit`; each caller
words them for its users. Nothing here parses JSON or judges a line.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

__all__ = ["INCOMPLETE", "TOO_LONG", "ChunkStream", "GzipError", "InflateLimit", "Inflated", "blocks", "open_stream"]

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
READ_SIZE = 1 << 16  # bytes read and decoded at a time: small enough to stay in the CPU cache
_STEP = 1 << 20  # the most one inflating call returns: output stays bounded whatever the ratio


class Source(Protocol):
    """What the reader reads from: `read` (b"" at the end) and `peek`, which returns at least
    `size` bytes unless the data ends first (io.BufferedReader at the start of a file does)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def peek(self, size: int = 0, /) -> bytes: ...

    def close(self) -> None: ...


class GzipError(OSError):
    """gzip data that cannot be inflated: `truncated` (it ends inside a member) or corrupt."""

    def __init__(self, *, truncated: bool) -> None:
        super().__init__("the gzip data is truncated" if truncated else "the gzip data is corrupt")
        self.truncated = truncated


class InflateLimit(Exception):
    """gzip data that inflates to more than `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the gzip data inflates to over {limit:,} bytes")
        self.limit = limit


def open_stream(
    source: Source, *, gzipped: bool = False, max_inflated: int | None = None, close_source: bool = True
) -> Source:
    """`source`'s text as a stream: inflated when it starts with the gzip magic bytes (or when
    `gzipped`), without a leading UTF-8 byte order mark. Raises GzipError or InflateLimit when the
    start of the data cannot be read (the rest raises them from `read`)."""
    stream = source
    if gzipped or source.peek(2)[:2] == GZIP_MAGIC:
        stream = Inflated(source, max_inflated=max_inflated, close_source=close_source)
    if stream.peek(3)[:3] == UTF8_BOM:
        stream.read(3)
    return stream


class Inflated(io.BufferedIOBase):
    """The inflated bytes of the gzip stream `fileobj`, read as `gzip -d` reads it (see the module).

    `close()` closes `fileobj` too, unless `close_source` is False (standard input).
    """

    def __init__(self, fileobj: Source, *, max_inflated: int | None = None, close_source: bool = True) -> None:
        super().__init__()
        self.fileobj = fileobj
        self.trailing_garbage = False
        """Whether data that is not gzip followed a complete member (`gzip -d`: "trailing garbage ignored")."""
        self._max_inflated = max_inflated
        self._close_source = close_source
        self._inflated = 0
        self._zlib = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer (CRC-32, size) checked
        self._input = b""  # compressed bytes not yet inflated
        self._started = False  # the current member has had input: ending here is a truncation
        self._between = False  # a member has ended: what follows is a member, zero padding or garbage
        self._pending = False  # the last call stopped at its output limit: zlib may hold more output
        self._ended = False
        self._ready = b""  # inflated bytes peeked at and not yet read

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            pieces = [self._ready]
            self._ready = b""
            while piece := self._inflate(_STEP):
                pieces.append(piece)
            return b"".join(pieces)
        if self._ready:
            data, self._ready = self._ready[:size], self._ready[size:]
            return data
        return self._inflate(min(size, _STEP)) if size else b""

    def peek(self, size: int = 0, /) -> bytes:
        wanted = min(max(size, 1), _STEP)
        while len(self._ready) < wanted and (piece := self._inflate(wanted - len(self._ready))):
            self._ready += piece
        return self._ready

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._close_source:
                self.fileobj.close()
        finally:
            super().close()

    def _inflate(self, size: int) -> bytes:
        """At most `size` more inflated bytes; b"" at the end of the data (or at trailing garbage)."""
        while not self._ended:
            if not self._input and not self._pending:
                self._input = self.fileobj.read(READ_SIZE)
                if not self._input:
                    self._ended = True
                    if self._started:
                        raise GzipError(truncated=True)
                    return b""
            if self._between and not self._next_member():
                continue
            try:
                out = self._zlib.decompress(self._input, size)
            except zlib.error:
                raise GzipError(truncated=False) from None
            self._started = True
            self._pending = len(out) == size
            if self._zlib.eof:
                self._input = self._zlib.unused_data
                self._started = self._pending = False
                self._between = True
            else:
                self._input = self._zlib.unconsumed_tail
            if out:
                self._inflated += len(out)
                if self._max_inflated is not None and self._inflated > self._max_inflated:
                    raise InflateLimit(self._max_inflated)
                return out
        return b""

    def _next_member(self) -> bool:
        """After a member: skip zero padding; True when a next member starts in `_input`, False
        when more input is needed (it is read next) or the data is garbage (then it ends here)."""
        self._input = self._input.lstrip(b"\0")
        if not self._input:
            return False
        if len(self._input) < len(GZIP_MAGIC):
            more = self.fileobj.read(READ_SIZE)
            if more:
                self._input += more
                return False
        if not self._input.startswith(GZIP_MAGIC):
            self.trailing_garbage = True
            self._ended = True
            self._input = b""
            return False
        self._between = False
        self._zlib = zlib.decompressobj(wbits=31)
        return True


class ChunkStream:
    """Chunks of bytes from an iterator (a body as it arrives) as a `Source`."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._ended = False

    def read(self, size: int = -1, /) -> bytes:
        if not self._buffer:
            self._fill(1)
        if size < 0:
            self._fill(-1)
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def peek(self, size: int = 0, /) -> bytes:
        self._fill(max(size, 1))
        return self._buffer

    def close(self) -> None:
        self._ended = True

    def _fill(self, size: int) -> None:
        while (size < 0 or len(self._buffer) < size) and not self._ended:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._ended = True
            else:
                self._buffer += chunk


# ------------------------------------------------------------------------------------- lines


class _TooLong:
    """Stands for a line longer than the reader's `max_line`, which is skipped rather than held in memory."""

    def __repr__(self) -> str:
        return "TOO_LONG"


TOO_LONG = _TooLong()


class _Incomplete:
    """Stands for a last line without its newline in a log still being written (see `blocks`)."""

    def __repr__(self) -> str:
        return "INCOMPLETE"


INCOMPLETE = _Incomplete()


def blocks(
    stream: Source, max_line: int, read_size: int = READ_SIZE, *, growing: Callable[[], bool] | None = None
) -> Iterator[list[object] | int]:
    """The lines of `stream`, a block at a time, as str (or bytes for a line that is not UTF-8); an
    int stands for that many blank lines in a row (see _pieces), `[TOO_LONG]` for a line over
    `max_line` bytes (its line end not counted), given as soon as the line is found too long.
    A last line without its newline is `[INCOMPLETE]` when `growing()` says the data is still being
    written (the rest of the line is yet to come), else a line like any other.

    Reading and decoding 64 KiB at once, then splitting it, costs a fraction of reading
    line by line. Blocks are cut at a newline, which never falls inside a UTF-8 sequence.
    """
    pending: list[bytes] = []
    pending_size = 0
    skipping = False  # inside a line already given as TOO_LONG: dropped up to its newline
    while True:
        data = stream.read(read_size)
        if not data:
            if pending_size and growing is not None and growing():
                yield [INCOMPLETE]
            elif pending_size:
                yield from _lines(b"".join(pending), max_line)
            return
        cut = data.rfind(b"\n")
        if cut < 0:
            if not skipping:
                pending.append(data)
                pending_size += len(data)
                if pending_size > max_line:
                    pending, pending_size, skipping = [], 0, True
                    yield [TOO_LONG]
            continue
        if skipping:
            # The long line ends at the first newline; what follows is ordinary.
            first = data.find(b"\n")
            if first < cut:
                yield from _lines(data[first + 1 : cut], max_line)
            skipping = False
        else:
            pending.append(data[:cut])
            yield from _lines(b"".join(pending), max_line)
        rest = data[cut + 1 :]
        pending, pending_size = ([rest], len(rest)) if rest else ([], 0)
        if pending_size > max_line:
            pending, pending_size, skipping = [], 0, True
            yield [TOO_LONG]


def _lines(block: bytes, max_line: int) -> Iterator[list[object] | int]:
    """The lines of `block`, each over `max_line` bytes given as `[TOO_LONG]`; a block no longer
    than `max_line` (every block, when reads are shorter than `max_line`) is passed on whole."""
    if len(block) <= max_line:
        yield from _pieces(block)
        return
    start = position = 0
    for line in block.split(b"\n"):
        end = position + len(line)
        if len(line) > max_line:
            if position > start:
                yield from _pieces(block[start : position - 1])
            yield [TOO_LONG]
            start = end + 1
        position = end + 1
    if start <= len(block):
        yield from _pieces(block[start:])


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
        # Keep the undecodable lines as bytes: the reader's caller reports each one where it is.
        lines: list[object] = []
        for line in block.split(b"\n"):
            try:
                lines.append(line.decode())
            except UnicodeDecodeError:
                lines.append(line)
        return lines
