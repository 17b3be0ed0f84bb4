"""uvicorn's h11 protocol, answering malformed HTTP with the platform's JSON envelope.

uvicorn answers a request it cannot parse (a broken request line or chunk, duplicate
Content-Length, a head over `h11_max_incomplete_event_size`) with a plain-text 400 before any app
runs. The service promises a JSON error for all bad input, so this subclass writes the envelope
instead; everything else is uvicorn's. Named to uvicorn by import string (`--workers` pickles it).
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from imagepricing.integrations._envelope import envelope

__all__ = ["JsonErrorsH11Protocol"]

_MESSAGE = "the request is not valid HTTP/1.1, or its request line and headers are over the size limit"


class JsonErrorsH11Protocol(H11Protocol):  # type: ignore[misc, unused-ignore]
    def send_400_response(self, msg: str) -> None:
        import json  # noqa: PLC0415 (kept local: this path runs only for broken requests)

        body = json.dumps(envelope("invalid_http", _MESSAGE), separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
            self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()
