"""The server's body readers, in process: the streaming form reader agrees with `_forms.parse_multipart`,
and JSON Lines bodies are split, inflated and bounded as documented."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest

pytest.importorskip("python_multipart", reason="the 'server' extra is not installed")
pytest.importorskip("starlette", reason="the 'server' extra is not installed")

from python_multipart.multipart import MultipartParser

from imagepricing.integrations._bodies import BodyError, Limits, _FormReader, jsonl_lines
from imagepricing.integrations._forms import FilePart, parse_multipart

CT = "multipart/form-data; boundary=XyZ"


def _part(headers: str, data: bytes) -> bytes:
    return b"--XyZ\r\n" + headers.encode() + b"\r\n\r\n" + data + b"\r\n"


FORMS = {
    "text and files": _part('Content-Disposition: form-data; name="model"', b"gpt-image-2")
    + _part('Content-Disposition: form-data; name="image[]"; filename="a.png"\r\nContent-Type: image/png', b"\x89PNG")
    + _part('Content-Disposition: form-data; name="image[]"; filename="b.png"\r\nContent-Type: image/png', b"\0" * 9)
    + b"--XyZ--\r\n",
    "text with a charset": _part(
        'Content-Disposition: form-data; name="prompt"\r\nContent-Type: text/plain; charset=utf-8', "café ☕".encode()
    )
    + b"--XyZ--\r\n",
    "file without a filename": _part('Content-Disposition: form-data; name="image"\r\nContent-Type: image/png', b"x")
    + b"--XyZ--\r\n",
    "file without a content type": _part('Content-Disposition: form-data; name="mask"; filename="m.png"', b"x")
    + b"--XyZ--\r\n",
    "undecodable text": _part('Content-Disposition: form-data; name="prompt"', b"\xff\xfeok") + b"--XyZ--\r\n",
    "empty field": _part('Content-Disposition: form-data; name="size"', b"") + b"--XyZ--\r\n",
}


def _stream(body: bytes, chunk: int, limits: Limits | None = None) -> list[tuple[str, str | FilePart]]:
    reader = _FormReader(limits or Limits())
    parser = MultipartParser(b"XyZ", reader.callbacks())  # type: ignore[arg-type, unused-ignore]
    for start in range(0, len(body), chunk):
        parser.write(body[start : start + chunk])
    parser.finalize()
    assert reader.ended
    return reader.fields


@pytest.mark.parametrize("name", list(FORMS))
@pytest.mark.parametrize("chunk", [1, 7, 65536])
def test_streaming_reader_agrees_with_parse_multipart(name: str, chunk: int) -> None:
    body = FORMS[name]
    assert _stream(body, chunk) == parse_multipart(body, CT)


def test_text_field_over_the_limit_stops_the_read() -> None:
    body = _part('Content-Disposition: form-data; name="prompt"', b"a" * 2000) + b"--XyZ--\r\n"
    with pytest.raises(BodyError) as caught:
        _stream(body, 100, Limits(max_field_bytes=1000))
    assert caught.value.status == 413


def test_file_bytes_are_not_kept() -> None:
    upload = b"\x89PNG" + b"\1" * 1_000_000
    body = _part('Content-Disposition: form-data; name="image"; filename="a.png"', upload) + b"--XyZ--\r\n"
    reader = _FormReader(Limits(max_field_bytes=10))  # a kept file would cross this limit at once
    parser = MultipartParser(b"XyZ", reader.callbacks())  # type: ignore[arg-type, unused-ignore]
    parser.write(body)
    parser.finalize()
    assert reader.fields == [("image", FilePart("a.png", None))]


def test_too_many_parts() -> None:
    body = _part('Content-Disposition: form-data; name="n"', b"1") * 6 + b"--XyZ--\r\n"
    with pytest.raises(BodyError):
        _stream(body, 1000, Limits(max_form_parts=5))


def _puller(data: bytes, chunk: int) -> Iterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


def _lines(data: bytes, chunk: int = 5, gzipped: bool = False, limits: Limits | None = None) -> list[bytes]:
    chunks = _puller(data, chunk)
    return list(jsonl_lines(lambda: next(chunks, None), gzipped, limits or Limits()))


class TestJsonLines:
    TEXT = b'{"a": 1}\n\n{"b": 2}\r\nlast'

    def test_split_whatever_the_chunking(self) -> None:
        for chunk in (1, 3, 100):
            assert _lines(self.TEXT, chunk) == [b'{"a": 1}', b"", b'{"b": 2}\r', b"last"]

    def test_gzip_by_header_or_magic_and_several_members(self) -> None:
        two = gzip.compress(self.TEXT[:10]) + gzip.compress(self.TEXT[10:])
        assert _lines(two, 4) == _lines(self.TEXT)
        assert _lines(gzip.compress(self.TEXT), 4, gzipped=True) == _lines(self.TEXT)

    def test_byte_order_mark_is_skipped(self) -> None:
        assert _lines(b"\xef\xbb\xbf{}\n{}", 1) == [b"{}", b"{}"]

    def test_truncated_or_corrupt_gzip(self) -> None:
        with pytest.raises(BodyError, match="truncated"):
            _lines(gzip.compress(self.TEXT * 100)[:-12])
        with pytest.raises(BodyError, match="corrupt"):
            _lines(b"\x1f\x8b" + b"\0" * 40)

    def test_a_gzip_bomb_stops_at_the_inflated_limit(self) -> None:
        bomb = gzip.compress(b"\n" * 5_000_000)
        with pytest.raises(BodyError) as caught:
            _lines(bomb, 1000, limits=Limits(max_estimate_inflated=1_000_000))
        assert caught.value.status == 413

    def test_a_line_over_the_limit(self) -> None:
        with pytest.raises(BodyError) as caught:
            _lines(b"x" * 5000, 100, limits=Limits(max_line_bytes=1000))
        assert caught.value.code == "line_too_long"
