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

import email.parser
import email.policy
import json
import re
from collections.abc import Iterable
from typing import NamedTuple

from imagepricing.catalog import Catalog, default_catalog

__all__ = ["UPLOADED_IMAGE", "FilePart", "FormError", "parse_multipart", "request_from_form"]

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
    """A body that is not a readable multipart/form-data form; the text says why, never quoting it."""


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


_MAX_PARTS = 1_000


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, str | FilePart]]:
    """The fields of a multipart/form-data `body` (whole, in memory), files as `FilePart`s.

    Raises FormError for a body that is not such a form. Text fields are decoded as UTF-8 (the
    HTML standard's encoding for forms), with undecodable bytes replaced.

    >>> body = (b'--b\\r\\nContent-Disposition: form-data; name="model"\\r\\n\\r\\ndall-e-2\\r\\n'
    ...         b'--b\\r\\nContent-Disposition: form-data; name="image"; filename="x.png"\\r\\n'
    ...         b'Content-Type: image/png\\r\\n\\r\\n\\x89PNG\\r\\n--b--\\r\\n')
    >>> parse_multipart(body, "multipart/form-data; boundary=b")
    [('model', 'dall-e-2'), ('image', FilePart(filename='x.png', content_type='image/png'))]
    """
    if not content_type.lower().startswith("multipart/form-data"):
        raise FormError("the body is not multipart/form-data")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not message.is_multipart() or message.defects:
        raise FormError("the multipart body is malformed (no boundary, or a broken part)")
    fields: list[tuple[str, str | FilePart]] = []
    for part in message.iter_parts():
        if len(fields) >= _MAX_PARTS:
            raise FormError(f"the form has more than {_MAX_PARTS:,} parts")
        if part.get_content_disposition() != "form-data":
            raise FormError("a part of the form has no form-data Content-Disposition")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise FormError("a part of the form has no field name")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        if filename is not None or part.get_content_maintype() not in ("text", "multipart"):
            content_type_value = part.get_content_type() if "content-type" in part else None
            fields.append((name, FilePart(filename, content_type_value)))
        else:
            data = payload if isinstance(payload, bytes) else b""
            fields.append((name, data.decode("utf-8", "replace")))
    return fields
