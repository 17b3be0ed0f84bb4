"""A multipart edits body as a request (imagepricing.integrations._forms), shared by the guards and the server."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import imagepricing
from imagepricing.integrations._forms import UPLOADED_IMAGE, FilePart, FormError, parse_multipart, request_from_form

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
