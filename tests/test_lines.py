"""The one byte-to-line reader (imagepricing._lines), shared by `imagepricing estimate`'s files and the
server's streamed JSON Lines: the same bytes give the same lines however they are cut, gzip is
inflated as `gzip -d` inflates it, and hostile input ends in a clear error, never a traceback."""

from __future__ import annotations

import gzip
import io
import itertools
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from imagepricing._lines import (
    GZIP_MAGIC,
    TOO_LONG,
    UTF8_BOM,
    ChunkStream,
    GzipError,
    Inflated,
    InflateLimit,
    Source,
    blocks,
    open_stream,
)

BLANK = object()


def _chunked(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    """`data` in pieces, cut at the given sizes (cycled; a size of 0 sends an empty chunk)."""
    start = 0
    index = 0
    while start < len(data):
        size = cuts[index % len(cuts)] if cuts else len(data)
        index += 1
        yield data[start : start + size]
        start += size


def _read(
    source: Source, max_line: int, read_size: int = 1 << 16, gzipped: bool = False, max_inflated: int | None = None
) -> list[object]:
    """Every line the reader gives, a run of blank lines counted in bulk given line by line (BLANK)."""
    stream = open_stream(source, gzipped=gzipped, max_inflated=max_inflated)
    lines: list[object] = []
    for block in blocks(stream, max_line, read_size):
        if isinstance(block, int):
            lines.extend([BLANK] * block)
        else:
            lines.extend(_blank(line) for line in block)
    return lines


def _blank(line: object) -> object:
    return BLANK if isinstance(line, str) and not line.strip(" \t\r") else line


def _model(text: bytes, max_line: int) -> list[object]:
    """What the reader must give for `text` (inflated), written as simply as possible: drop a leading
    byte order mark, split at "\\n" (a last line end ends the last line), a long line is TOO_LONG."""
    text = text.removeprefix(UTF8_BOM)
    if not text:
        return []
    pieces = text.split(b"\n")
    if text.endswith(b"\n"):
        pieces.pop()
    lines: list[object] = []
    for piece in pieces:
        if len(piece) > max_line:
            lines.append(TOO_LONG)
            continue
        try:
            lines.append(_blank(piece.decode()))
        except UnicodeDecodeError:
            lines.append(piece)
    return lines


_LINE = st.one_of(
    st.just(b""),
    st.sampled_from(
        [b"   ", b"\r", b" \t\r", b'{"model": "nano-banana"}', b'{"a": 1}\r', b"\xff\xfe", UTF8_BOM + b"{}"]
    ),
    st.binary(max_size=80).map(lambda raw: raw.replace(b"\n", b"")),
    st.integers(0, 300).map(lambda size: b"x" * size),
)
_TEXT = st.builds(
    lambda bom, lines, blank_run, end: (UTF8_BOM if bom else b"") + b"\n".join(lines) + b"\n" * blank_run + end,
    st.booleans(),
    st.lists(_LINE, max_size=30),
    st.sampled_from([0, 1, 70, 200]),
    st.sampled_from([b"", b"\n", b"last"]),
)
_CUTS = st.lists(st.integers(0, 97), max_size=8).map(lambda cuts: [cut or 1 for cut in cuts])


class TestSameLinesHoweverCut:
    @given(text=_TEXT, cuts=_CUTS, read_size=st.integers(1, 300), max_line=st.integers(1, 250))
    def test_plain(self, text: bytes, cuts: list[int], read_size: int, max_line: int) -> None:
        assume(not text.startswith(GZIP_MAGIC))  # that is gzip, whatever follows
        whole = _read(ChunkStream(iter([text])), max_line, read_size)
        assert whole == _model(text, max_line)
        assert _read(ChunkStream(_chunked(text, cuts)), max_line, read_size) == whole
        assert _read(io.BufferedReader(io.BytesIO(text)), max_line, read_size) == whole  # as a file

    @given(text=_TEXT, members=st.lists(st.integers(0, 400), max_size=3), cuts=_CUTS, read_size=st.integers(1, 300))
    def test_gzip_in_one_or_several_members(
        self, text: bytes, members: list[int], cuts: list[int], read_size: int
    ) -> None:
        bounds = sorted({0, len(text), *(min(cut, len(text)) for cut in members)})
        data = b"".join(gzip.compress(text[a:b]) for a, b in itertools.pairwise(bounds)) or gzip.compress(b"")
        expected = _model(text, 100)
        assert _read(ChunkStream(_chunked(data, cuts)), 100, read_size) == expected
        assert _read(ChunkStream(_chunked(data, cuts)), 100, read_size, gzipped=True) == expected


class TestGzip:
    TEXT = b'{"a": 1}\n{"b": 2}\n' * 1000

    def stream(self, data: bytes, **options: object) -> Source:
        return open_stream(io.BufferedReader(io.BytesIO(data)), **options)  # type: ignore[arg-type]

    def test_recognised_by_magic_bytes_even_split_across_chunks(self) -> None:
        data = gzip.compress(self.TEXT)
        stream = open_stream(ChunkStream(_chunked(data, [1])))
        assert isinstance(stream, Inflated)
        assert stream.read() == self.TEXT

    def test_zero_padding_is_skipped(self) -> None:
        stream = self.stream(gzip.compress(self.TEXT) + b"\0" * 512 + gzip.compress(b"more\n") + b"\0" * 3)
        assert stream.read() == self.TEXT + b"more\n"
        assert isinstance(stream, Inflated)
        assert not stream.trailing_garbage

    @pytest.mark.parametrize("garbage", [b"junk", b"\0\0junk", b"\x1f", b"\n" * 10, b"PK\x03\x04"])
    def test_trailing_garbage_ends_the_data_and_is_flagged(self, garbage: bytes) -> None:
        stream = self.stream(gzip.compress(self.TEXT) + garbage)
        assert stream.read() == self.TEXT
        assert isinstance(stream, Inflated)
        assert stream.trailing_garbage

    def test_truncated(self) -> None:
        data = gzip.compress(self.TEXT * 10)
        for cut in (3, 10, len(data) // 2, len(data) - 4):
            with pytest.raises(GzipError) as caught:
                self.stream(data[:cut]).read()  # open_stream raises when the start is already damaged
            assert caught.value.truncated
            assert str(caught.value) == "the gzip data is truncated"

    @pytest.mark.parametrize(
        "data",
        [
            b"\x1f\x8b" + b"\0" * 40,  # a broken header
            gzip.compress(b"x" * 1000)[:-8] + b"\0" * 8,  # a wrong CRC-32
            gzip.compress(b"x")[:12] + b"\xff" * 30,  # broken deflate data
        ],
    )
    def test_corrupt(self, data: bytes) -> None:
        with pytest.raises(GzipError) as caught:
            self.stream(data).read()
        assert not caught.value.truncated
        assert str(caught.value) == "the gzip data is corrupt"
        assert isinstance(caught.value, OSError)

    def test_told_gzip_but_it_is_not(self) -> None:
        with pytest.raises(GzipError, match="corrupt"):
            open_stream(ChunkStream(iter([b"plain text\n"])), gzipped=True)
        assert open_stream(ChunkStream(iter([])), gzipped=True).read() == b""  # nothing at all: no lines

    def test_a_bomb_stops_at_the_limit_with_bounded_output(self) -> None:
        bomb = gzip.compress(b"\n" * 50_000_000)
        with pytest.raises(InflateLimit, match="10,000,000"):
            _read(ChunkStream(iter([bomb])), 100, max_inflated=10_000_000)
        stream = self.stream(bomb)
        sizes = [len(stream.read(1 << 30)) for _ in range(3)]
        assert max(sizes) <= 1 << 20  # one read never inflates more than a MiB

    def test_close_closes_the_file_unless_told_not_to(self) -> None:
        for close_source in (True, False):
            raw = io.BufferedReader(io.BytesIO(gzip.compress(b"x")))
            stream = open_stream(raw, close_source=close_source)
            stream.close()
            assert raw.closed is close_source


class TestLines:
    def test_byte_order_mark_only_at_the_start(self) -> None:
        text = UTF8_BOM + b"{}\n" + UTF8_BOM + b"{}\n"
        assert _read(ChunkStream(iter([text])), 100) == ["{}", "\ufeff{}"]
        assert _read(ChunkStream(iter([gzip.compress(text)])), 100) == ["{}", "\ufeff{}"]
        assert _read(ChunkStream(iter([UTF8_BOM + UTF8_BOM + b"{}"])), 100) == ["\ufeff{}"]

    def test_crlf_keeps_its_carriage_return_and_bare_cr_splits_nothing(self) -> None:
        assert _read(ChunkStream(iter([b"{}\r\n[]\r\n", b"a\rb"])), 100) == ["{}\r", "[]\r", "a\rb"]

    def test_invalid_utf8_lines_stay_bytes(self) -> None:
        assert _read(ChunkStream(iter([b"ok\n\xff\n\xc3\xa9"])), 100) == ["ok", b"\xff", "\xe9"]

    @pytest.mark.parametrize("max_line", [1 << 20, 4 << 20])
    def test_a_100_mb_line_is_skipped_without_being_held(self, max_line: int) -> None:
        piece = b"x" * (1 << 20)

        def chunks() -> Iterator[bytes]:
            yield b'{"a": 1}\n'
            for _ in range(100):
                yield piece
            yield b'\n{"b": 2}\n'

        tracemalloc.start()
        try:
            lines = _read(ChunkStream(chunks()), max_line)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert lines == ['{"a": 1}', TOO_LONG, '{"b": 2}']
        assert peak < max_line + (8 << 20)

    def test_too_long_is_given_as_soon_as_the_line_is_too_long(self) -> None:
        # The server refuses the body there: the rest of the line is never waited for.
        def chunks() -> Iterator[bytes]:
            yield b"x" * 1000
            raise AssertionError("read past the limit")

        first = next(blocks(open_stream(ChunkStream(chunks())), 100, 64))
        assert first == [TOO_LONG]

    def test_runs_of_blank_lines_are_counted_in_bulk(self) -> None:
        text = b"{}\n" + b" \r\n" * 5000 + b"{}\n"
        found = list(blocks(open_stream(ChunkStream(iter([text]))), 100))
        assert sum(block for block in found if isinstance(block, int)) >= 4900
        assert _read(ChunkStream(iter([text])), 100) == ["{}", *[BLANK] * 5000, "{}"]

    def test_zlib_errors_never_escape(self) -> None:
        for damage in range(0, 60, 7):
            data = bytearray(gzip.compress(b'{"a": 1}\n' * 300))
            data[damage % len(data)] ^= 0xFF
            try:
                _read(ChunkStream(iter([bytes(data)])), 100)
            except GzipError:
                pass
            except zlib.error:  # pragma: no cover - the failure this test is for
                pytest.fail("a zlib.error escaped")
