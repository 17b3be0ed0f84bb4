"""From a multipart/form-data edits body to the JSON-like request that `check` reads.

The edits endpoint takes multipart forms (XHuoAPI's "OpenAI Images Edits API" page; the openai SDK
sends `images.edit` that way). A form carries only text and files, so before `check` can judge it:

- a **file part** is an uploaded image. The platform forwards uploads upstream as
  `data:<mime>;base64,...` (same page), so it stands in the request as `UPLOADED_IMAGE`, a small
  valid PNG data URI: the file's bytes are never read, copied or judged (upstream judges pixels).
- `image[]` (how the openai SDK and curl examples repeat a field) and a repeated `image` are one list;
  a single `image` is a string, as in a JSON body.
- text values are typed by the parameter's `kind` in `data/parameters.toml`, as the platform's form
  parser must: an `integer` parameter written as a JSON number becomes that number (`"2"` -> 2,
  `"2.0"` -> 2.0, judged like JSON), a `boolean` one `"true"`/`"false"` (any case) becomes a bool.
  Anything else stays text, so `check` reports it with the same finding a JSON body would get.
- any other repeated field: the last value wins (what common form parsers do for a scalar field).

Decision: boolean spellings beyond true/false (`1`, `yes`, `on`) are left as text and so reported as
`wrong_type`; no source says the platform accepts them, and the openai SDK writes `true`/`false`.
"""

from __future__ import annotations

import email.message
import json
import re
from collections.abc import Iterable
from typing import NamedTuple

from imagepricing.catalog import Catalog, default_catalog

__all__ = [
    "MAX_FIELD_BYTES",
    "MAX_PARTS",
    "UPLOADED_IMAGE",
    "FilePart",
    "FormError",
    "FormReader",
    "form_boundary",
    "parse_multipart",
    "request_from_form",
]

# The 8-byte PNG signature, base64: a well-formed image data URI that stands for any uploaded file.
UPLOADED_IMAGE = "data:image/png;base64,iVBORw0KGgo="

# A JSON number, as RFC 8259 writes it (no leading zeros, no "+", no spaces, no NaN).
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,99})(?:\.[0-9]{1,100})?(?:[eE][+-]?[0-9]{1,4})?")
_LIST_FIELDS = ("image",)


class FilePart(NamedTuple):
    """One uploaded file of a form: its field's file name and content type, never its bytes."""

    filename: str | None
    content_type: str | None


class FormError(ValueError):
    """A body that is not a readable multipart/form-data form, or one over the limits; the text says
    why, never quoting it. `status` and `code` are what the server answers (400 or 413)."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid_form") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def request_from_form(parts: Iterable[tuple[str, str | FilePart]], catalog: Catalog | None = None) -> dict[str, object]:
    """The request a form stands for; see the module docstring for how each part is read.

    >>> request_from_form([("model", "gpt-image-2"), ("n", "2"), ("image[]", FilePart("a.png", "image/png")),
    ...                    ("image[]", FilePart("b.png", "image/png")), ("async", "true")])
    {'model': 'gpt-image-2', 'n': 2, 'image': ['data:image/png;base64,iVBORw0KGgo=', \
'data:image/png;base64,iVBORw0KGgo='], 'async': True}
    """
    parameters = (catalog or default_catalog()).parameters
    request: dict[str, object] = {}
    listed: dict[str, list[object]] = {}
    for raw_name, raw_value in parts:
        name = raw_name[:-2] if raw_name.endswith("[]") else raw_name
        value: object = UPLOADED_IMAGE if isinstance(raw_value, FilePart) else raw_value
        if isinstance(value, str) and not isinstance(raw_value, FilePart):
            param = parameters.get(name)
            kind = param.kind if param is not None else None
            value = _typed(value, kind)
        if name in _LIST_FIELDS and (raw_name.endswith("[]") or name in listed or name in request):
            items = listed.setdefault(name, [])
            if name in request and not items:
                items.append(request[name])  # a single `image` followed by more becomes a list
            items.append(value)
            request[name] = items
        else:
            request[name] = value
    return request


def _typed(text: str, kind: str | None) -> object:
    if kind == "integer" and _JSON_NUMBER.fullmatch(text):
        number: object = json.loads(text)
        return number
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


# ------------------------------------------------------------------------------ the parser

# The form limits, set here once: the server's `Limits` takes its defaults from them, the guards use them.
MAX_PARTS = 1_000
MAX_FIELD_BYTES = 1 << 20  # one text field (a prompt is at most tens of KB)
MAX_BOUNDARY = 200  # characters; RFC 2046 allows 70, clients stay well under 200
_MAX_PART_HEADERS = 32
_MAX_PART_HEADER_BYTES = 16 * 1024  # a part's header block, as the server bounds a request's head
_TOKEN = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # RFC 9110 tchar
_PREAMBLE, _HEADERS, _DATA, _END = range(4)


def form_boundary(content_type: str) -> bytes:
    """The boundary a multipart/form-data Content-Type names; FormError when it names none.

    >>> form_boundary('multipart/form-data; boundary="b0undary"')
    b'b0undary'
    """
    media_type, params = _parameters(content_type)
    boundary = params.get("boundary")
    if media_type != "multipart/form-data" or not boundary or len(boundary) > MAX_BOUNDARY:
        raise FormError(f"a multipart/form-data body needs a boundary (at most {MAX_BOUNDARY} characters)")
    return boundary.encode("latin-1", "replace")


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, str | FilePart]]:
    """The fields of a multipart/form-data `body` (whole, in memory), files as `FilePart`s.

    Raises FormError for a body that is not such a form, or over the limits. `FormReader` reads it;
    the server feeds the same reader a body as it streams.

    >>> body = (b'--b\\r\\nContent-Disposition: form-data; name="model"\\r\\n\\r\\ndall-e-2\\r\\n'
    ...         b'--b\\r\\nContent-Disposition: form-data; name="image"; filename="x.png"\\r\\n'
    ...         b'Content-Type: image/png\\r\\n\\r\\n\\x89PNG\\r\\n--b--\\r\\n')
    >>> parse_multipart(body, "multipart/form-data; boundary=b")
    [('model', 'dall-e-2'), ('image', FilePart(filename='x.png', content_type='image/png'))]
    """
    reader = FormReader(form_boundary(content_type))
    reader.feed(body)
    return reader.close()


class FormReader:
    """A push parser for multipart/form-data: `feed` the body in chunks of any size, then `close`
    for its fields. Text fields are kept (each up to `max_field_bytes`, decoded as UTF-8, the HTML
    standard's encoding for forms, undecodable bytes replaced); a file part's bytes are dropped as
    they pass, so an upload is never held in memory.

    The form is read as RFC 2046 and RFC 7578 write it: a preamble before the first boundary and an
    epilogue after the last are ignored; a boundary line is `--boundary` followed by CRLF (`--` on
    the last one), anything else after it leaves it part of the data; a part's headers end at an
    empty line; a part is a file when its Content-Disposition names a `filename` or its
    Content-Type is not text. Every refusal is a FormError, with the HTTP status and code the server
    answers it with.
    """

    def __init__(self, boundary: bytes, *, max_parts: int = MAX_PARTS, max_field_bytes: int = MAX_FIELD_BYTES) -> None:
        self.fields: list[tuple[str, str | FilePart]] = []
        self._max_parts = max_parts
        self._max_field_bytes = max_field_bytes
        self._delimiter = b"\r\n--" + boundary
        self._buffer = b"\r\n"  # the first boundary may open the body, with no line break before it
        self._state = _PREAMBLE
        self._name = ""
        self._file: FilePart | None = None
        self._text = bytearray()

    def feed(self, data: bytes) -> None:
        """Read the next bytes of the body. Raises FormError as soon as the form is refused."""
        buffer = self._buffer + data if self._buffer else data
        position = 0
        delimiter = self._delimiter
        size = len(delimiter)
        while self._state != _END:
            if self._state == _HEADERS:
                end = buffer.find(b"\r\n\r\n", position)
                if end < 0:
                    if len(buffer) - position > _MAX_PART_HEADER_BYTES:
                        raise FormError(f"a part of the form has over {_MAX_PART_HEADER_BYTES:,} bytes of headers")
                    break
                self._begin(buffer[position + 2 : end])
                position = end + 4
                self._state = _DATA
                continue
            # The preamble or a part's data, up to the next boundary line.
            found = buffer.find(delimiter, position)
            while found >= 0 and buffer[found + size : found + size + 2] not in (b"\r\n", b"--"):
                if len(buffer) < found + size + 2:
                    break  # too short to tell yet
                found = buffer.find(delimiter, found + 1)
            if found < 0 or len(buffer) < found + size + 2:
                # No boundary line yet: keep what could still begin one.
                keep = found if found >= 0 else max(position, len(buffer) - size - 1)
                self._data(buffer, position, keep)
                position = keep
                break
            self._data(buffer, position, found)
            if self._state == _DATA:
                self._end_part()
            position = found + size
            if buffer[position : position + 2] == b"--":
                self._state = _END
            else:
                self._state = _HEADERS  # the line break at `position` opens the header block
        self._buffer = buffer[position:] if self._state != _END else b""

    def close(self) -> list[tuple[str, str | FilePart]]:
        """The fields, once the whole body was fed; FormError if it ends before its closing boundary."""
        if self._state != _END:
            raise FormError("the multipart body ends before its closing boundary")
        return self.fields

    def _begin(self, block: bytes) -> None:
        if len(self.fields) >= self._max_parts:
            raise FormError(f"the form has more than {self._max_parts:,} parts", status=413, code="form_too_large")
        lines = block.split(b"\r\n") if block else []
        if len(lines) > _MAX_PART_HEADERS:
            raise FormError("a part of the form has too many headers")
        headers: dict[str, str] = {}
        for line in lines:
            name, colon, value = line.partition(b":")
            if not colon or not name or name.translate(None, _TOKEN):
                raise FormError("the multipart body is malformed (a broken boundary or part)")
            headers[name.decode("ascii").lower()] = value.strip(b" \t").decode("latin-1")
        disposition, params = _parameters(headers.get("content-disposition", ""))
        if disposition != "form-data":
            raise FormError("a part of the form has no form-data Content-Disposition")
        field = params.get("name")
        if field is None:
            raise FormError("a part of the form has no field name")
        self._name = _utf8(field)
        filename = params.get("filename")
        content_type = headers.get("content-type")
        maintype = (content_type or "text/plain").split("/", 1)[0].strip().lower()
        self._file = None
        if filename is not None or maintype not in ("text", "multipart"):
            kind = content_type.split(";", 1)[0].strip().lower() if content_type else None
            self._file = FilePart(_utf8(filename) if filename is not None else None, kind)
        self._text.clear()

    def _data(self, buffer: bytes, start: int, end: int) -> None:
        if self._state != _DATA or self._file is not None or end <= start:
            return  # the preamble, or an upload: upstream judges pixels, so its bytes are dropped
        if len(self._text) + (end - start) > self._max_field_bytes:
            raise FormError(f"a text field is over {self._max_field_bytes:,} bytes", status=413, code="field_too_large")
        self._text += buffer[start:end]

    def _end_part(self) -> None:
        value = self._file if self._file is not None else self._text.decode("utf-8", "replace")
        self.fields.append((self._name, value))


def _parameters(value: str) -> tuple[str, dict[str, str]]:
    """A header's value, lower-cased, and its parameters (names lower-cased, values unquoted), as
    the stdlib's email package reads them; RFC 2231's `name*=` forms, which RFC 7578 forbids in
    forms, are left out."""
    header = email.message.Message()
    header["value"] = value
    params = header.get_params(header="value") or [("", "")]
    main, _ = params[0]
    return main.strip().lower(), {key: text for key, text in params[1:] if isinstance(text, str)}


def _utf8(text: str) -> str:
    """Header text (read as Latin-1, byte for byte) as the UTF-8 that clients write names in."""
    return text.encode("latin-1", "replace").decode("utf-8", "replace")
