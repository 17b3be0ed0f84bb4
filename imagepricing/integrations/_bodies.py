"""Reading request bodies for the server, with every limit enforced while the bytes arrive.

A body is never read whole before its size is judged: a declared Content-Length over the limit is
refused before a byte is read, and an undeclared (chunked) body is cut off at the first chunk that
crosses it. Time is bounded twice: a gap between two chunks longer than `idle_timeout` (a stalled
or trickling client) and a whole body slower than `body_timeout` both end in 408.

- JSON bodies are buffered up to `max_json_bytes`, then parsed with json.loads (as the CLI does).
- multipart/form-data bodies (edits uploads) are parsed as they stream with python-multipart's
  push parser: text fields are kept (each up to `max_field_bytes`), file parts are counted and
  dropped chunk by chunk, so an upload is never held in memory. The fields go through
  `imagepricing.integrations._forms.request_from_form`, the same reading the guards use.
- JSON Lines bodies for estimates are split into lines as they stream (gzip inflated on the way,
  bounded in output too), for `imagepricing.estimate` to price in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import attrs
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from imagepricing.integrations._forms import FilePart

__all__ = ["BodyError", "Limits", "body_chunks", "jsonl_lines", "parse_json", "read_body", "read_form"]

MiB = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"


@attrs.frozen
class Limits:
    """Size and time limits on what a client sends. Sizes in bytes, times in seconds."""

    # JSON requests may carry images inline as base64 data URIs (the platform forwards uploads
    # that way), so the JSON limit leaves room for several.
    max_json_bytes: int = 32 * MiB
    # Uploads are streamed and dropped, never held: the limit only bounds how long one request
    # may keep a connection busy. 16 images of up to ~25 MB fit.
    max_form_bytes: int = 512 * MiB
    max_field_bytes: int = 1 * MiB  # one text field of a form (a prompt is at most tens of KB)
    max_form_parts: int = 1000  # as `_forms.parse_multipart`
    max_estimate_bytes: int = 1024 * MiB  # a log on the wire (gzip counted compressed)
    max_estimate_inflated: int = 8192 * MiB  # ... and once inflated: bounds a gzip bomb
    max_line_bytes: int = 4 * MiB  # one line of a log
    max_headers: int = 100
    max_header_bytes: int = 16 * 1024  # enforced by uvicorn's h11 parser before the app runs
    idle_timeout: float = 15.0
    body_timeout: float = 300.0


class BodyError(Exception):
    """A body the server will not read: an HTTP status, an error code and a message quoting no input."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def declared_length(request: Request, limit: int) -> None:
    """Refuse at once a body whose Content-Length is malformed or over `limit`."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not (declared.isascii() and declared.isdigit()) or len(declared) > 20:
        raise BodyError(400, "invalid_content_length", "the Content-Length header is not a number of bytes")
    if int(declared) > limit:
        raise BodyError(413, "body_too_large", f"the body is over the limit of {limit:,} bytes")


async def body_chunks(request: Request, limit: int, limits: Limits) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive, enforcing the size limit and both time limits."""
    declared_length(request, limit)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.body_timeout
    stream = request.stream().__aiter__()
    total = 0
    while True:
        wait = min(limits.idle_timeout, deadline - loop.time())
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), timeout=max(wait, 0.0))
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise BodyError(408, "body_timeout", _slow_message(loop.time() >= deadline, limits)) from None
        except ClientDisconnect:
            raise BodyError(400, "client_disconnected", "the client closed the connection mid-body") from None
        total += len(chunk)
        if total > limit:
            raise BodyError(413, "body_too_large", f"the body is over the limit of {limit:,} bytes")
        if chunk:
            yield chunk


def _slow_message(whole: bool, limits: Limits) -> str:
    if whole:
        return f"the body took longer than {limits.body_timeout:g} s to arrive"
    return f"no body bytes arrived for {limits.idle_timeout:g} s"


async def read_body(request: Request, limit: int, limits: Limits) -> bytes:
    """The whole body, at most `limit` bytes."""
    parts = [chunk async for chunk in body_chunks(request, limit, limits)]
    return b"".join(parts)


def parse_json(body: bytes) -> object:
    """The JSON value of `body`; BodyError 400 (naming the position, never the text) otherwise."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise BodyError(
            400, "invalid_json", f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except UnicodeDecodeError:
        raise BodyError(400, "invalid_json", "the body is not JSON: it is not UTF-8 (or UTF-16/32) text") from None
    except RecursionError:
        raise BodyError(400, "invalid_json", "the body is nested too deeply to read") from None
    except ValueError:
        # CPython refuses integers of over 4,300 digits with a plain ValueError.
        raise BodyError(400, "invalid_json", "the body holds a number too large to read (over 4,300 digits)") from None


# ------------------------------------------------------------------------------------- forms


class _FormReader:
    """python-multipart callbacks that keep text fields and drop file bytes as they stream."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.fields: list[tuple[str, str | FilePart]] = []
        self.ended = False
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._name: str | None = None
        self._file: FilePart | None = None
        self._data = bytearray()

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        if len(self.fields) >= self.limits.max_form_parts:
            raise BodyError(413, "form_too_large", f"the form has more than {self.limits.max_form_parts:,} parts")
        self._headers.clear()
        self._data.clear()
        self._name = None
        self._file = None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        if len(self._headers) >= 32:
            raise BodyError(400, "invalid_form", "a part of the form has too many headers")
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("latin-1")
        self._field.clear()
        self._value.clear()

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        if disposition.lower() != b"form-data":
            raise BodyError(400, "invalid_form", "a part of the form has no form-data Content-Disposition")
        name = options.get(b"name")
        if name is None:
            raise BodyError(400, "invalid_form", "a part of the form has no field name")
        self._name = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        content_type = self._headers.get("content-type")
        maintype = (content_type or "text/plain").split("/", 1)[0].strip().lower()
        if filename is not None or maintype not in ("text", "multipart"):
            shown = filename.decode("utf-8", "replace") if filename is not None else None
            self._file = FilePart(shown, content_type.split(";", 1)[0].strip().lower() if content_type else None)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            return  # an upload: upstream judges pixels, so its bytes are dropped as they pass
        if len(self._data) + (end - start) > self.limits.max_field_bytes:
            raise BodyError(413, "field_too_large", f"a text field is over {self.limits.max_field_bytes:,} bytes")
        self._data += data[start:end]

    def part_end(self) -> None:
        if self._name is None:
            raise BodyError(400, "invalid_form", "a part of the form has no headers")
        value: str | FilePart = self._file if self._file is not None else self._data.decode("utf-8", "replace")
        self.fields.append((self._name, value))

    def end(self) -> None:
        self.ended = True


async def read_form(request: Request, limits: Limits) -> list[tuple[str, str | FilePart]]:
    """The fields of a multipart/form-data body, parsed as it streams (files as `FilePart`s)."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type.lower() != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise BodyError(400, "invalid_form", "a multipart/form-data body needs a boundary (at most 200 characters)")
    reader = _FormReader(limits)
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type, unused-ignore]
    try:
        async for chunk in body_chunks(request, limits.max_form_bytes, limits):
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise BodyError(400, "invalid_form", "the multipart body is malformed (a broken boundary or part)") from None
    if not reader.ended:
        raise BodyError(400, "invalid_form", "the multipart body ends before its closing boundary")
    return reader.fields


# ------------------------------------------------------------------------------- JSON Lines


def jsonl_lines(next_chunk: Callable[[], bytes | None], gzipped: bool, limits: Limits) -> Iterator[bytes]:
    """Lines of a JSON Lines body pulled chunk by chunk with `next_chunk` (None at the end).

    Runs in a worker thread. A gzip body (one or more members; `gzipped`, or recognised by its
    magic bytes as `imagepricing estimate` recognises files) is inflated as it arrives, at most
    1 MiB at a time and never to more than `max_estimate_inflated` bytes in all; a line over
    `max_line_bytes` ends the read. A UTF-8 byte order mark at the start is skipped.
    """
    splitter = _LineSplitter(limits.max_line_bytes)
    inflater: Any = None
    inflated = 0
    first = True
    while True:
        raw = next_chunk()
        if raw is None:
            break
        if first:
            first = False
            if gzipped or raw.startswith(_GZIP_MAGIC):
                inflater = zlib.decompressobj(wbits=31)
        if inflater is None:
            yield from splitter.feed(raw)
            continue
        data = raw
        while data:
            try:
                out = inflater.decompress(data, 1 << 20)
            except zlib.error:
                raise BodyError(400, "invalid_gzip", "the gzip body is corrupt") from None
            inflated += len(out)
            if inflated > limits.max_estimate_inflated:
                raise BodyError(
                    413, "body_too_large", f"the body inflates to over {limits.max_estimate_inflated:,} bytes"
                )
            yield from splitter.feed(out)
            if inflater.unconsumed_tail:
                data = inflater.unconsumed_tail
            elif inflater.eof and inflater.unused_data:
                data = inflater.unused_data  # the next gzip member
                inflater = zlib.decompressobj(wbits=31)
            else:
                data = b""
    if inflater is not None and not inflater.eof:
        raise BodyError(400, "invalid_gzip", "the gzip body is truncated")
    yield from splitter.finish()


class _LineSplitter:
    """Bytes in, complete lines out; the unfinished tail is kept, up to `max_line` bytes."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self.pending = b""
        self.started = False

    def feed(self, piece: bytes) -> list[bytes]:
        lines = (self.pending + piece).split(b"\n")
        self.pending = lines.pop()
        if len(self.pending) > self.max_line:
            raise BodyError(413, "line_too_long", f"a line of the log is over {self.max_line:,} bytes")
        return self._unmarked(lines)

    def finish(self) -> list[bytes]:
        return self._unmarked([self.pending]) if self.pending else []

    def _unmarked(self, lines: list[bytes]) -> list[bytes]:
        if lines and not self.started:
            self.started = True
            lines[0] = lines[0].removeprefix(_UTF8_BOM)
        return lines
