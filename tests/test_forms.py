"""A multipart edits body as a request (imagepricing.integrations._forms): the one multipart parser, shared by
the guards and the server, and the reading of its fields."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import imagepricing
from imagepricing.integrations._forms import (
    MAX_PARTS,
    UPLOADED_IMAGE,
    FilePart,
    FormError,
    FormReader,
    form_boundary,
    parse_multipart,
    request_from_form,
)

BOUNDARY = "b0undary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def encode(fields: list[tuple[str, str | tuple[str, bytes, str]]]) -> bytes:
    """A multipart/form-data body, written the way httpx and curl write one."""
    out = b""
    for name, value in fields:
        out += f"--{BOUNDARY}\r\n".encode()
        if isinstance(value, tuple):
            filename, data, content_type = value
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


class TestParseMultipart:
    def test_text_and_files(self) -> None:
        body = encode(
            [("model", "gpt-image-2"), ("prompt", "a\r\nb ü"), ("image[]", ("a.png", b"\x89PNG\r\n", "image/png"))]
        )
        assert parse_multipart(body, CONTENT_TYPE) == [
            ("model", "gpt-image-2"),
            ("prompt", "a\r\nb ü"),
            ("image[]", FilePart("a.png", "image/png")),
        ]

    def test_a_file_body_holding_the_boundary_text_is_still_one_part(self) -> None:
        body = encode([("image", ("a.png", b"--b0undar\r\n--b0undaryx", "image/png")), ("model", "dall-e-2")])
        assert [name for name, _ in parse_multipart(body, CONTENT_TYPE)] == ["image", "model"]

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"", CONTENT_TYPE),
            (b"garbage", CONTENT_TYPE),
            (b'{"model": "dall-e-2"}', "application/json"),
            (b"--b0undary\r\n\r\nx\r\n--b0undary--\r\n", CONTENT_TYPE),
            (b"--b0undary\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b0undary--\r\n", CONTENT_TYPE),
        ],
    )
    def test_not_a_form_is_a_form_error(self, body: bytes, content_type: str) -> None:
        with pytest.raises(FormError):
            parse_multipart(body, content_type)

    @given(st.binary(max_size=300))
    def test_any_bytes_parse_or_raise_form_error(self, body: bytes) -> None:
        with contextlib.suppress(FormError):
            parse_multipart(body, CONTENT_TYPE)


class TestFormReader:
    """The one multipart parser: the guards feed it a whole body, the server a body as it streams."""

    FIELDS: list[tuple[str, str | tuple[str, bytes, str]]] = [  # noqa: RUF012
        ("model", "gpt-image-2"),
        ("prompt", "a\r\nb ü " * 50),
        ("image[]", ("a.png", b"\x89PNG\r\n--b0undar\r\n--b0undaryx" * 40, "image/png")),
        ("mask", ("m.png", b"", "application/octet-stream")),
        ("n", "2"),
    ]

    def read(self, body: bytes, cuts: list[int], **limits: int) -> list[tuple[str, str | FilePart]]:
        reader = FormReader(BOUNDARY.encode(), **limits)
        start = index = 0
        while start < len(body):
            size = cuts[index % len(cuts)] if cuts else len(body)
            reader.feed(body[start : start + size])
            start, index = start + size, index + 1
        return reader.close()

    @given(st.lists(st.integers(1, 200), max_size=6))
    def test_any_chunking_reads_the_same_fields(self, cuts: list[int]) -> None:
        body = encode(self.FIELDS)
        assert self.read(body, cuts) == parse_multipart(body, CONTENT_TYPE)

    def test_preamble_and_epilogue_are_ignored(self) -> None:
        body = encode(self.FIELDS)
        wrapped = b"preamble text\r\n" + body + b"epilogue\r\n--b0undary\r\n"
        assert parse_multipart(wrapped, CONTENT_TYPE) == parse_multipart(body, CONTENT_TYPE)

    def test_text_field_and_part_limits_say_413(self) -> None:
        with pytest.raises(FormError) as caught:
            self.read(encode([("prompt", "x" * 101)]), [7], max_field_bytes=100)
        assert (caught.value.status, caught.value.code, str(caught.value)) == (
            413,
            "field_too_large",
            "a text field is over 100 bytes",
        )
        assert self.read(encode([("prompt", "x" * 100)]), [7], max_field_bytes=100) == [("prompt", "x" * 100)]

    def test_a_huge_part_count_stops_at_the_limit(self) -> None:
        assert len(parse_multipart(encode([("n", "1")] * MAX_PARTS), CONTENT_TYPE)) == MAX_PARTS
        with pytest.raises(FormError) as caught:
            parse_multipart(encode([("n", "1")]).removesuffix(b"--b0undary--\r\n") * 200_000, CONTENT_TYPE)
        assert (caught.value.status, caught.value.code) == (413, "form_too_large")
        assert str(caught.value) == "the form has more than 1,000 parts"

    def test_file_bytes_are_never_kept(self) -> None:
        body = encode([("image", ("a.png", b"\0" * 5_000_000, "image/png"))])
        # A text field of 1 byte at most: a kept file would cross it at once.
        assert self.read(body, [65536], max_field_bytes=1) == [("image", FilePart("a.png", "image/png"))]

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"--b0undary\r\n" + b"X-A: b\r\n" * 40 + b"\r\nx\r\n--b0undary--", "too many headers"),
            (b"--b0undary\r\nX-A: " + b"b" * 20_000, "bytes of headers"),
            (b"--b0undary\r\nbad header\r\n\r\nx\r\n--b0undary--", "malformed"),
            (b"--b0undary\nContent-Disposition: form-data; name=a\n\nx\n--b0undary--\n", "closing boundary"),
        ],
        ids=["many-headers", "long-headers", "header-without-colon", "lf-line-ends"],
    )
    def test_broken_parts_are_form_errors(self, body: bytes, message: str) -> None:
        with pytest.raises(FormError, match=message) as caught:
            parse_multipart(body, CONTENT_TYPE)
        assert (caught.value.status, caught.value.code) == (400, "invalid_form")

    @pytest.mark.parametrize(
        "content_type",
        [
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "text/plain; boundary=b",
            "",
            '\x00\n;;="',
            "multipart/form-data; boundary=" + "b" * 201,
        ],
    )
    def test_a_content_type_without_a_usable_boundary(self, content_type: str) -> None:
        with pytest.raises(FormError, match="needs a boundary"):
            form_boundary(content_type)

    @given(st.text(max_size=120))
    def test_any_content_type_gives_a_boundary_or_a_form_error(self, content_type: str) -> None:
        with contextlib.suppress(FormError):
            assert form_boundary(content_type)

    @given(st.binary(max_size=400), st.lists(st.integers(1, 50), max_size=4))
    def test_any_bytes_after_a_first_boundary_parse_or_raise_form_error(self, tail: bytes, cuts: list[int]) -> None:
        with contextlib.suppress(FormError):
            self.read(b"--b0undary\r\n" + tail, cuts)


class TestRequestFromForm:
    def test_image_list_and_single(self) -> None:
        upload = FilePart("a.png", "image/png")
        assert request_from_form([("image", upload)]) == {"image": UPLOADED_IMAGE}
        assert request_from_form([("image[]", upload)]) == {"image": [UPLOADED_IMAGE]}
        assert request_from_form([("image", upload), ("image", "https://example.com/b.png")]) == {
            "image": [UPLOADED_IMAGE, "https://example.com/b.png"]
        }

    @pytest.mark.parametrize(
        ("field", "text", "value"),
        [
            ("n", "2", 2),
            ("n", "2.0", 2.0),
            ("n", "02", "02"),
            ("n", "２", "２"),
            ("n", "2\n", "2\n"),
            ("n", "true", "true"),
            ("output_compression", "-1", -1),
            ("async", "true", True),
            ("async", "False", False),
            ("async", "yes", "yes"),
            ("prompt", "12", "12"),
            ("size", "1024x1024", "1024x1024"),
            ("unknown_thing", "3", "3"),
        ],
    )
    def test_text_is_typed_by_the_parameter_kind(self, field: str, text: str, value: object) -> None:
        assert request_from_form([(field, text)]) == {field: value}

    def test_uploaded_image_is_accepted_by_check(self) -> None:
        request = request_from_form(
            [("model", "gpt-image-2"), ("prompt", "p"), ("image[]", FilePart(None, "application/octet-stream"))]
        )
        assert imagepricing.check(request, endpoint="edits", url_policy="strict").ok

    def test_text_the_engine_rejects_keeps_its_finding(self) -> None:
        request = request_from_form([("model", "dall-e-2"), ("prompt", "p"), ("image", "x"), ("n", "two")])
        report = imagepricing.check(request, endpoint="edits")
        assert ("n", "wrong_type") in [(f.param, f.code) for f in report.errors]
