"""A stub of the platform on 127.0.0.1: records every request it receives and answers like the platform.

Images calls get `{"created": ..., "data": [{"url": ...}]}` (the shape of the platform's and OpenAI's
images responses); chat completions a minimal completion; a GET of /models an empty list.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

import pytest

# Importing litellm fetches its model cost map from the internet unless told to use its local copy;
# tests send traffic to 127.0.0.1 only. Set before any test module imports litellm.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

IMAGES_RESPONSE = {"created": 1_764_460_800, "data": [{"url": "https://cdn.example.invalid/fox.png"}]}
CHAT_RESPONSE = {
    "id": "chatcmpl-stub",
    "object": "chat.completion",
    "created": 1_764_460_800,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
}
# Bounded: a test never sends more than a handful of bodies, none this large.
MAX_BODY = 64 * 1024 * 1024


class Recorded(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Stub:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                with stub.lock:
                    stub.requests.append(
                        Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                if "/images/" in self.path:
                    answer: object = IMAGES_RESPONSE
                elif self.path.endswith("/chat/completions"):
                    answer = CHAT_RESPONSE
                else:
                    answer = {"object": "list", "data": []}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                # No keep-alive: a client never holds a socket past its call (async clients run
                # each call in its own event loop, and an open socket there is a ResourceWarning).
                self.send_header("connection", "close")
                self.close_connection = True
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def bodies(self) -> list[bytes]:
        with self.lock:
            return [r.body for r in self.requests]


@pytest.fixture
def stub() -> Iterator[Stub]:
    yield from _serving()


@pytest.fixture(scope="module")
def module_stub() -> Iterator[Stub]:
    """One stub for a whole module (for a server that is slow to start, such as the LiteLLM proxy)."""
    yield from _serving()


def _serving() -> Iterator[Stub]:
    server = Stub()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join(timeout=5)
