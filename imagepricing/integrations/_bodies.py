"""Reading request bodies for the server, with every limit enforced while the bytes arrive.

A body is never read whole before its size is judged: a declared Content-Length over the limit is
refused before a byte is read, and an undeclared (chunked) body is cut off at the first chunk that
crosses it. Time is bounded twice: a gap between two chunks longer than `idle_timeout` (a stalled
or trickling client) and a whole body slower than `body_timeout` both end in 408.

- JSON bodies are buffered up to `max_json_bytes`, then parsed with json.loads (as the CLI does).
- multipart/form-data bodies (edits uploads) are parsed as they stream by the guards' parser,
  `imagepricing.integrations._forms.FormReader`: text fields are kept (each up to `max_field_bytes`),
  file parts are dropped chunk by chunk, so an upload is never held in memory. The fields go through
  `_forms.request_from_form`, the same reading the guards use.
- JSON Lines bodies for estimates are split into lines as they stream by `imagepricing._lines`, the
  reader of `imagepricing estimate`'s files (gzip inflated on the way, bounded in output too), for
  `imagepricing.estimate` to price in a worker thread.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator

import attrs
from starlette.requests import ClientDisconnect, Request

from imagepricing._lines import TOO_LONG, ChunkStream, GzipError, Inflated, InflateLimit, blocks, open_stream
from imagepricing.integrations._forms import MAX_FIELD_BYTES, MAX_PARTS, FilePart, FormError, FormReader, form_boundary

__all__ = ["BodyError", "Limits", "body_chunks", "jsonl_lines", "parse_json", "read_body", "read_form"]

MiB = 1 << 20


@attrs.frozen
class Limits:
    """Size and time limits on what a client sends. Sizes in bytes, times in seconds."""

    # JSON requests may carry images inline as base64 data URIs (the platform forwards uploads
    # that way), so the JSON limit leaves room for several.
    max_json_bytes: int = 32 * MiB
    # Uploads are streamed and dropped, never held: the limit only bounds how long one request
    # may keep a connection busy. 16 images of up to ~25 MB fit.
    max_form_bytes: int = 512 * MiB
    max_field_bytes: int = MAX_FIELD_BYTES  # one text field of a form (a prompt is at most tens of KB)
    max_form_parts: int = MAX_PARTS
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


async def read_form(request: Request, limits: Limits) -> list[tuple[str, str | FilePart]]:
    """The fields of a multipart/form-data body, parsed as it streams (files as `FilePart`s) by
    `_forms.FormReader`, the parser the guards use."""
    try:
        reader = FormReader(
            form_boundary(request.headers.get("content-type", "")),
            max_parts=limits.max_form_parts,
            max_field_bytes=limits.max_field_bytes,
        )
        async for chunk in body_chunks(request, limits.max_form_bytes, limits):
            reader.feed(chunk)
        return reader.close()
    except FormError as exc:
        raise BodyError(exc.status, exc.code, str(exc)) from None


# ------------------------------------------------------------------------------- JSON Lines


def jsonl_lines(next_chunk: Callable[[], bytes | None], gzipped: bool, limits: Limits) -> Iterator[object]:
    """Lines of a JSON Lines body pulled chunk by chunk with `next_chunk` (None at the end), as str
    (bytes for a line that is not UTF-8), for `imagepricing.estimate`.

    Runs in a worker thread. Read by `imagepricing._lines`, as `imagepricing estimate` reads files:
    a gzip body (one or more members; `gzipped`, or recognised by its magic bytes) is inflated as
    it arrives, never to more than `max_estimate_inflated` bytes in all; a UTF-8 byte order mark at
    the start is skipped. A line over `max_line_bytes`, damaged gzip, and data after the last gzip
    member (which a file may have, with a warning) end the read.
    """
    source = ChunkStream(iter(next_chunk, None))
    try:
        stream = open_stream(source, gzipped=gzipped, max_inflated=limits.max_estimate_inflated)
        for block in blocks(stream, limits.max_line_bytes):
            if type(block) is int:
                yield from itertools.repeat("", block)
                continue
            assert isinstance(block, list)
            if block[0] is TOO_LONG:
                raise BodyError(413, "line_too_long", f"a line of the log is over {limits.max_line_bytes:,} bytes")
            yield from block
    except GzipError as exc:
        state = "truncated" if exc.truncated else "corrupt"
        raise BodyError(400, "invalid_gzip", f"the gzip body is {state}") from None
    except InflateLimit:
        raise BodyError(
            413, "body_too_large", f"the body inflates to over {limits.max_estimate_inflated:,} bytes"
        ) from None
    if isinstance(stream, Inflated) and stream.trailing_garbage:
        raise BodyError(400, "invalid_gzip", "the gzip body is corrupt")  # data after its last member
