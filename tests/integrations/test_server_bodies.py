"""The server's body readers, in process: the streaming form reader (`_forms.FormReader`) agrees with
`_forms.parse_multipart` and with python-multipart, which the server parsed forms with before, and
JSON Lines bodies are split, inflated and bounded as documented."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator

import pytest

pytest.importorskip("starlette", reason="the 'server' extra is not installed")

from hypothesis import given
from hypothesis import strategies as st

from imagepricing.integrations._bodies import BodyError, Limits, jsonl_lines
from imagepricing.integrations._forms import (
    MAX_FIELD_BYTES,
    MAX_PARTS,
    FilePart,
    FormError,
    FormReader,
    parse_multipart,
)

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


def _stream(body: bytes, chunk: int, **limits: int) -> list[tuple[str, str | FilePart]]:
    reader = FormReader(b"XyZ", **limits)
    for start in range(0, len(body), chunk):
        reader.feed(body[start : start + chunk])
    return reader.close()


def _python_multipart(body: bytes, chunk: int) -> list[tuple[str, str | FilePart]]:
    """The form as python-multipart's push parser reads it, the way the server read forms before
    `_forms.FormReader` (text kept, files named, both decoded as UTF-8): the oracle below."""
    multipart = pytest.importorskip("python_multipart.multipart", reason="python-multipart, the oracle, is missing")
    fields: list[tuple[str, str | FilePart]] = []
    headers: dict[str, str] = {}
    field, value, data = bytearray(), bytearray(), bytearray()
    ended = []

    def header_end() -> None:
        headers[field.decode("latin-1").lower()] = value.decode("latin-1")
        field.clear()
        value.clear()

    def part_end() -> None:
        _, options = multipart.parse_options_header(headers.get("content-disposition"))
        name = options[b"name"].decode("utf-8", "replace")
        filename = options.get(b"filename")
        content_type = headers.get("content-type")
        maintype = (content_type or "text/plain").split("/", 1)[0].strip().lower()
        if filename is not None or maintype not in ("text", "multipart"):
            kind = content_type.split(";", 1)[0].strip().lower() if content_type else None
            fields.append((name, FilePart(filename.decode("utf-8", "replace") if filename else None, kind)))
        else:
            fields.append((name, data.decode("utf-8", "replace")))
        headers.clear()
        data.clear()

    callbacks: dict[str, Callable[..., None]] = {
        "on_header_field": lambda d, s, e: field.extend(d[s:e]),
        "on_header_value": lambda d, s, e: value.extend(d[s:e]),
        "on_header_end": header_end,
        "on_part_data": lambda d, s, e: data.extend(d[s:e]),
        "on_part_end": part_end,
        "on_end": lambda: ended.append(True),
    }
    parser = multipart.MultipartParser(b"XyZ", callbacks)  # type: ignore[arg-type, unused-ignore]
    for start in range(0, len(body), chunk):
        parser.write(body[start : start + chunk])
    parser.finalize()
    assert ended
    return fields


@pytest.mark.parametrize("name", list(FORMS))
@pytest.mark.parametrize("chunk", [1, 7, 65536])
def test_streaming_reader_agrees_with_parse_multipart_and_python_multipart(name: str, chunk: int) -> None:
    body = FORMS[name]
    assert _stream(body, chunk) == parse_multipart(body, CT)
    assert _stream(body, chunk) == _python_multipart(body, chunk)


_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r"), max_size=40)
_NAME = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)
_FIELD = st.one_of(
    st.tuples(_NAME, _TEXT),
    st.tuples(_NAME, st.tuples(_NAME, st.binary(max_size=200), st.sampled_from(["image/png", "application/x"]))),
)


@given(fields=st.lists(_FIELD, max_size=6), chunk=st.integers(1, 300))
def test_any_form_reads_as_python_multipart_reads_it(
    fields: list[tuple[str, str | tuple[str, bytes, str]]], chunk: int
) -> None:
    body = b""
    for name, value in fields:
        if isinstance(value, tuple):
            filename, data, kind = value
            headers = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {kind}'
            body += _part(headers, data)
        else:
            body += _part(f'Content-Disposition: form-data; name="{name}"', value.encode())
    body += b"--XyZ--\r\n"
    assert _stream(body, chunk) == _python_multipart(body, chunk)


def test_text_field_over_the_limit_stops_the_read() -> None:
    body = _part('Content-Disposition: form-data; name="prompt"', b"a" * 2000) + b"--XyZ--\r\n"
    with pytest.raises(FormError) as caught:
        _stream(body, 100, max_field_bytes=1000)
    assert (caught.value.status, caught.value.code) == (413, "field_too_large")


def test_file_bytes_are_not_kept() -> None:
    upload = b"\x89PNG" + b"\1" * 1_000_000
    body = _part('Content-Disposition: form-data; name="image"; filename="a.png"', upload) + b"--XyZ--\r\n"
    # A kept file would cross this limit at once.
    assert _stream(body, 65536, max_field_bytes=10) == [("image", FilePart("a.png", None))]


def test_too_many_parts() -> None:
    body = _part('Content-Disposition: form-data; name="n"', b"1") * 6 + b"--XyZ--\r\n"
    with pytest.raises(FormError) as caught:
        _stream(body, 1000, max_parts=5)
    assert (caught.value.status, caught.value.code) == (413, "form_too_large")


def test_the_server_limits_default_to_the_forms_limits() -> None:
    assert (Limits().max_form_parts, Limits().max_field_bytes) == (MAX_PARTS, MAX_FIELD_BYTES)


def _puller(data: bytes, chunk: int) -> Iterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


def _lines(data: bytes, chunk: int = 5, gzipped: bool = False, limits: Limits | None = None) -> list[object]:
    chunks = _puller(data, chunk)
    return list(jsonl_lines(lambda: next(chunks, None), gzipped, limits or Limits()))


class TestJsonLines:
    TEXT = b'{"a": 1}\n\n{"b": 2}\r\nlast'

    def test_split_whatever_the_chunking(self) -> None:
        for chunk in (1, 3, 100):
            assert _lines(self.TEXT, chunk) == ['{"a": 1}', "", '{"b": 2}\r', "last"]

    def test_gzip_by_header_or_magic_and_several_members(self) -> None:
        two = gzip.compress(self.TEXT[:10]) + gzip.compress(self.TEXT[10:])
        assert _lines(two, 4) == _lines(self.TEXT)
        assert _lines(gzip.compress(self.TEXT), 4, gzipped=True) == _lines(self.TEXT)

    def test_byte_order_mark_is_skipped(self) -> None:
        assert _lines(b"\xef\xbb\xbf{}\n{}", 1) == ["{}", "{}"]

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
