"""`imagepricing serve`, tested for real: the server runs as a subprocess on 127.0.0.1 on a free port.

Requests go over HTTP with the standard library (http.client, and raw sockets for what a client
library would refuse to send: stalled bodies, broken chunking, too many headers).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

for _name in ("starlette", "uvicorn", "prometheus_client"):
    pytest.importorskip(_name, reason="the 'server' extra is not installed")

import imagepricing  # noqa: E402 (after the skip: the module needs the extra)
from imagepricing.integrations._forms import parse_multipart, request_from_form  # noqa: E402

VALID = {"model": "nano-banana", "prompt": "an apple"}
VALID_GPT = {"model": "gpt-image-2", "prompt": "a fox", "size": "1024x1024"}
INVALID = {"model": "dall-e-3", "prompt": "a fox", "n": 2}
TOO_LONG = {"model": "dall-e-2", "prompt": "x" * 1001}
SECRET = "sk-live-" + "Q7w" * 12
PLATFORM_PATHS = ("/openai/images/generations", "/v1/images/generations", "/openai/images/edits", "/v1/images/edits")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    def __init__(self, *args: str, prelude: str = "") -> None:
        self.port = _free_port()
        argv = ["serve", "--host", "127.0.0.1", "--port", str(self.port), *args]
        code = f"{prelude}\nimport sys\nfrom imagepricing.cli import main\nsys.exit(main({argv!r}))"
        # The log goes to a file: a pipe nobody reads could fill and stall the server.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop(), it outlives this call)
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.output()
                self.log.close()
                raise RuntimeError(f"server exited: {output}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start in 30 s")

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, bytes]:
        status, body, _ = self.request("GET", path)
        return status, body

    def post_json(self, path: str, payload: object, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, body, _ = self.request("POST", path, json.dumps(payload).encode(), headers)
        return status, json.loads(body)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.log.close()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server("--max-json-bytes", "65536", "--max-form-bytes", "262144", "--idle-timeout", "1")
    yield running
    assert running.stop() == 0


def _raw(port: int, data: bytes, *, then: bytes = b"", pause: float = 0.0, timeout: float = 10.0) -> bytes:
    """Send bytes as they are, optionally pause and send more, and read until the server closes or replies."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if pause:
            time.sleep(pause)
        if then:
            with contextlib.suppress(OSError):  # the server may have answered and closed already
                sock.sendall(then)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return b"".join(chunks)


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _envelope_ok(body: Any, code: str | None = None) -> None:
    assert body["success"] is False
    assert set(body) == {"success", "error", "trace_id"}
    assert set(body["error"]) == {"code", "message"}
    assert str(uuid.UUID(body["trace_id"])) == body["trace_id"]
    if code is not None:
        assert body["error"]["code"] == code


def _form(fields: list[tuple[str, str | tuple[str, bytes]]], boundary: str = "b0und4ry") -> tuple[bytes, str]:
    out = bytearray()
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, tuple):
            filename, data = value
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += b"Content-Type: image/png\r\n\r\n" + data + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------------------------- /v1/check


class TestCheck:
    # The service prices as of the real day; so does the expectation (conftest.py pins tests' days).
    @pytest.mark.real_today
    def test_valid_request_is_reported_and_priced(self, server: Server) -> None:
        status, body = server.post_json("/v1/check", VALID)
        expected = imagepricing.check(VALID).to_dict()
        assert status == 200
        assert body == expected
        assert body["cost"] == "0.14"

    def test_invalid_request_is_still_200_with_the_findings(self, server: Server) -> None:
        status, body = server.post_json("/v1/check", INVALID)
        assert status == 200
        assert body["ok"] is False
        assert [e["code"] for e in body["errors"]] == ["above_model_limit"]

    @pytest.mark.parametrize("payload", [[1, 2], "text", None, 3])
    def test_json_that_is_no_object_gets_a_finding_not_an_http_error(self, server: Server, payload: object) -> None:
        status, body = server.post_json("/v1/check", payload)
        assert status == 200
        assert [e["code"] for e in body["errors"]] == ["not_an_object"]

    def test_endpoint_and_provider_from_the_query(self, server: Server) -> None:
        status, body = server.post_json("/v1/check?endpoint=generations&provider=xhuoapi", VALID_GPT)
        assert status == 200
        assert (body["endpoint"], body["provider"]) == ("generations", "xhuoapi")

    @pytest.mark.parametrize(
        "body",
        [b"not json", b'{"model": ', b"\xff\xfe\xfa", b"", b"[" * 50_000, b'{"n": 1' + b"0" * 5000 + b"}"],
        ids=["text", "truncated", "not-utf8", "empty", "deep", "huge-int"],
    )
    def test_a_body_that_is_not_json_is_a_400_json_error(self, server: Server, body: bytes) -> None:
        status, raw, headers = server.request("POST", "/v1/check", body, {"content-type": "application/json"})
        assert status == 400
        assert headers["content-type"].startswith("application/json")
        _envelope_ok(json.loads(raw), "invalid_json")
        assert headers["x-trace-id"] == json.loads(raw)["trace_id"]

    def test_unknown_provider_or_endpoint_is_a_400_that_does_not_echo_it(self, server: Server) -> None:
        status, raw, _ = server.request("POST", f"/v1/check?provider={SECRET}", b"{}")
        assert status == 400
        assert SECRET.encode() not in raw
        _envelope_ok(json.loads(raw), "unknown_provider")
        status, raw, _ = server.request("POST", "/v1/check?endpoint=variations", b"{}")
        _envelope_ok(json.loads(raw), "unknown_endpoint")

    # The service prices as of the real day; so does the expectation (conftest.py pins tests' days).
    @pytest.mark.real_today
    def test_large_bodies_are_judged_like_small_ones(self) -> None:
        # Over 256 KiB the check runs in a worker thread; the answer must not change.
        fresh = Server()  # default limits: 32 MiB of JSON
        try:
            for size in (1_000, 400_000, 3_000_000):
                payload = {"model": "gpt-image-2", "prompt": "p", "image": "data:image/png;base64," + "A" * size}
                status, body = fresh.post_json("/v1/images/edits", payload)
                assert (status, body) == (200, imagepricing.check(payload, "edits").to_dict())
                payload = {"model": "dall-e-2", "prompt": "x" * size}
                status, body = fresh.post_json("/v1/check", payload)
                assert (status, body) == (200, imagepricing.check(payload).to_dict())
        finally:
            assert fresh.stop() == 0

    def test_compressed_requests_to_check_are_415(self, server: Server) -> None:
        status, raw, _ = server.request("POST", "/v1/check", gzip.compress(b"{}"), {"content-encoding": "gzip"})
        assert status == 415
        _envelope_ok(json.loads(raw), "unsupported_encoding")

    def test_infinite_and_nan_numbers_never_fail_the_answer(self, server: Server) -> None:
        for text in (b'{"model": "dall-e-2", "prompt": "p", "n": 1e999}', b'{"model": "dall-e-2", "n": NaN}'):
            status, raw, _ = server.request("POST", "/v1/check", text)
            assert status == 200
            assert json.loads(raw)["ok"] is False


# ---------------------------------------------------------------------------- platform paths


class TestPlatformPaths:
    @pytest.mark.parametrize("path", PLATFORM_PATHS)
    def test_ok_request_gets_200_and_the_report(self, server: Server, path: str) -> None:
        payload = VALID_GPT if "generations" in path else {**VALID_GPT, "image": "https://example.com/a.png"}
        status, body = server.post_json(path, payload)
        assert status == 200, body
        assert body["ok"] is True
        assert body["endpoint"] == path.rsplit("/", 1)[1]

    @pytest.mark.parametrize("path", PLATFORM_PATHS[:2])
    @pytest.mark.parametrize(("payload", "code"), [(INVALID, "above_model_limit"), (TOO_LONG, "too_long")])
    def test_rejected_request_gets_the_platform_envelope(
        self, server: Server, path: str, payload: dict[str, object], code: str
    ) -> None:
        status, raw, headers = server.request("POST", path, json.dumps(payload).encode())
        body = json.loads(raw)
        assert status == 400
        _envelope_ok(body, code)
        assert body["error"]["message"].startswith(f"{code} (")
        assert headers["x-trace-id"] == body["trace_id"]

    def test_envelope_lists_every_error(self, server: Server) -> None:
        status, body = server.post_json(
            "/v1/images/generations", {"model": "dall-e-3", "prompt": "p", "n": 2, "size": "5x5"}
        )
        assert status == 400
        report = imagepricing.check({"model": "dall-e-3", "prompt": "p", "n": 2, "size": "5x5"})
        assert len(report.errors) >= 2
        for finding in report.errors:
            assert f"{finding.code} ({finding.param})" in body["error"]["message"]

    def test_prefixed_platform_paths(self, server: Server) -> None:
        for path in ("/v1/openai/images/generations", "/v1/v1/images/edits", "/v1/images/generations/"):
            payload = VALID if "generations" in path else {**VALID, "image": "https://example.com/a.png"}
            assert server.post_json(path, payload)[0] == 200

    @pytest.mark.parametrize(
        ("headers", "query", "provider"),
        [
            ({"x-imagepricing-provider": "openai"}, "", "openai"),
            ({"x-forwarded-host": "api.xhuoapi.ai"}, "", "xhuoapi"),
            ({"host": "api.xhuoapi.ai"}, "", "xhuoapi"),
            ({"x-imagepricing-provider": "openai"}, "?provider=xhuoapi", "xhuoapi"),
            ({}, "", "acedata"),
        ],
    )
    def test_provider_from_query_header_host_or_default(
        self, server: Server, headers: dict[str, str], query: str, provider: str
    ) -> None:
        status, body = server.post_json(f"/openai/images/generations{query}", VALID_GPT, headers)
        assert status == 200
        assert body["provider"] == provider

    # The service prices as of the real day; so does the expectation (conftest.py pins tests' days).
    @pytest.mark.real_today
    def test_multipart_edits_read_as_the_guards_read_them(self, server: Server) -> None:
        fields: list[tuple[str, str | tuple[str, bytes]]] = [
            ("model", "gpt-image-2"),
            ("prompt", "make it blue"),
            ("n", "2"),
            ("image[]", ("a.png", b"\x89PNG\r\n\x1a\n" + os.urandom(50_000))),
            ("image[]", ("b.png", b"\x89PNG\r\n\x1a\n")),
            ("async", "true"),
        ]
        body, content_type = _form(fields)
        status, raw, _ = server.request("POST", "/v1/images/edits", body, {"content-type": content_type})
        assert status == 200, raw
        expected = imagepricing.check(request_from_form(parse_multipart(body, content_type)), "edits").to_dict()
        assert json.loads(raw) == expected

    def test_multipart_rejection_gets_the_envelope(self, server: Server) -> None:
        # dall-e-2 edits take n up to 10 (the platform's schema and OpenAI agree): 11 is certain to fail.
        body, content_type = _form([("model", "dall-e-2"), ("prompt", "p"), ("n", "11"), ("image", ("a.png", b"x"))])
        status, raw, _ = server.request("POST", "/openai/images/edits", body, {"content-type": content_type})
        assert status == 400
        _envelope_ok(json.loads(raw), "out_of_range")

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"--b\r\nno headers end", "multipart/form-data; boundary=b"),
            (b"garbage", "multipart/form-data"),
            (
                b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\ndall-e-2\r\n',
                "multipart/form-data; boundary=b",
            ),
            (b"--b\r\nContent-Disposition: attachment\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b"),
        ],
        ids=["no-header-end", "no-boundary", "no-closing-boundary", "not-form-data"],
    )
    def test_broken_forms_are_400(self, server: Server, body: bytes, content_type: str) -> None:
        status, raw, _ = server.request("POST", "/v1/images/edits", body, {"content-type": content_type})
        assert status == 400
        _envelope_ok(json.loads(raw), "invalid_form")


# --------------------------------------------------------------------------------- limits


class TestLimits:
    def test_declared_length_over_the_limit_is_refused_before_reading(self, server: Server) -> None:
        head = (
            b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        )
        response = _raw(server.port, head)  # no body sent at all: the answer cannot wait for it
        assert _status(response) == 413
        _envelope_ok(json.loads(response.partition(b"\r\n\r\n")[2]), "body_too_large")

    def test_chunked_body_is_cut_off_at_the_limit(self, server: Server) -> None:
        head = b"POST /v1/check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
        # Two chunks cross the 64 KiB limit; the server answers without waiting for the end.
        response = _raw(server.port, head + chunk + chunk)
        assert _status(response) == 413

    def test_form_over_the_limit_is_413(self, server: Server) -> None:
        body, content_type = _form([("model", "gpt-image-2"), ("image", ("a.png", b"\0" * 300_000))])
        status, raw, _ = server.request("POST", "/v1/images/edits", body, {"content-type": content_type})
        assert status == 413
        _envelope_ok(json.loads(raw), "body_too_large")

    def test_stalled_body_times_out_with_408(self, server: Server) -> None:
        head = b'POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"model":'
        started = time.monotonic()
        response = _raw(server.port, head)
        assert _status(response) == 408
        assert time.monotonic() - started < 8
        _envelope_ok(json.loads(response.partition(b"\r\n\r\n")[2]), "body_timeout")

    def test_slow_but_steady_body_is_served(self, server: Server) -> None:
        text = json.dumps(VALID).encode()
        head = f"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: {len(text)}\r\n\r\n".encode()
        response = _raw(server.port, head + text[:10], then=text[10:], pause=0.5)
        assert _status(response) == 200

    def test_too_many_headers_is_431(self, server: Server) -> None:
        headers = "".join(f"X-H{i}: v\r\n" for i in range(150))
        response = _raw(server.port, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        assert _status(response) == 431
        _envelope_ok(json.loads(response.partition(b"\r\n\r\n")[2]), "headers_too_large")

    def test_headers_over_16_kib_arriving_whole_are_431(self, server: Server) -> None:
        # h11 checks its limit only while a head is incomplete; the app checks the whole.
        response = _raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
        assert _status(response) == 431
        _envelope_ok(json.loads(response.partition(b"\r\n\r\n")[2]), "headers_too_large")

    @pytest.mark.parametrize(
        "data",
        [
            # A head that has not ended within 16 KiB: h11 gives up on it.
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000,
            b"GARBAGE\r\n\r\n",
            b"POST /v1/check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}",
        ],
        ids=["huge-header", "no-request-line", "bad-chunk", "two-lengths"],
    )
    def test_unparseable_http_is_uvicorns_own_400_and_is_counted(self, server: Server, data: bytes) -> None:
        # uvicorn answers HTTP it cannot parse before the app runs (docs/server.md, "The error
        # envelope"); the server counts it from uvicorn's warning on the uvicorn.error logger.
        before = _bad_requests(server, "invalid_http")
        response = _raw(server.port, data)
        assert _status(response) == 400
        head = response.partition(b"\r\n\r\n")[0].lower()
        assert b"content-type: text/plain" in head
        assert b"connection: close" in head
        assert _bad_requests(server, "invalid_http") == before + 1

    def test_hostile_bodies_never_get_a_500_or_an_echo(self, server: Server) -> None:
        bodies = [
            json.dumps({"model": "gpt-image-2", "prompt": "p", "api_key": SECRET, "image": f"https://u:{SECRET}@h/"}),
            json.dumps({"model": SECRET, "prompt": SECRET}),
            '{"model": "dall-e-2", "prompt": "\u202e\u200b\ufeff"}',
            '{"model": "dall-e-2", "n": true, "size": "１０２４x１０２４\\n"}',
            '{"a": ' * 900 + "1" + "}" * 900,
            f"{SECRET} is not json",
        ]
        for path in ("/v1/check", "/v1/images/generations", "/v1/images/edits"):
            for text in bodies:
                status, raw, _ = server.request("POST", path, text.encode())
                assert status in (200, 400), raw
                assert b"Traceback" not in raw
                body = json.loads(raw)
                if status == 400:
                    assert SECRET not in body["error"]["message"]


# --------------------------------------------------------------------------------- others


class TestOtherEndpoints:
    def test_estimate_streams_gzip_json_lines(self, server: Server) -> None:
        lines = [
            json.dumps(VALID),
            json.dumps(INVALID),
            "not json",
            "",
            json.dumps({"provider": "xhuoapi", "request": VALID}),
        ]
        text = ("\n".join(lines) * 50).encode()
        for body, headers in (
            (text, {}),
            (gzip.compress(text), {"content-encoding": "gzip"}),
            (gzip.compress(text), {}),
        ):
            # The day named: the server runs on the real clock, the tests on a pinned one, and the
            # USD equivalents of lines without a time depend on the day's rate.
            path = "/v1/estimate?group_by=provider&as_of=2026-05-01"
            status, raw, _ = server.request("POST", path, body, headers)
            assert status == 200, raw
            result = json.loads(raw)
            expected = imagepricing.estimate(
                text.split(b"\n"), group_by="provider", name="<body>", as_of=dt.date(2026, 5, 1)
            ).to_dict()
            assert result["totals"] == expected["totals"]
            assert result["groups"] == expected["groups"]
            assert result["lines"] == expected["lines"]

    def test_estimate_bad_input(self, server: Server) -> None:
        status, raw, _ = server.request(
            "POST", "/v1/estimate", gzip.compress(b"x" * 1000)[:-10], {"content-encoding": "gzip"}
        )
        assert status == 400
        _envelope_ok(json.loads(raw), "invalid_gzip")
        status, raw, _ = server.request("POST", "/v1/estimate?group_by=colour", b"")
        _envelope_ok(json.loads(raw), "bad_group_by")
        status, raw, _ = server.request("POST", "/v1/estimate", b"{}", {"content-encoding": "br"})
        assert status == 415

    @pytest.mark.parametrize("path", ["/v1/models", "/v1/prices", "/healthz", "/openapi.json", "/v1/spend"])
    def test_listings_are_json(self, server: Server, path: str) -> None:
        status, raw = server.get(path)
        assert status == 200
        assert isinstance(json.loads(raw), dict)

    def test_openapi_lists_the_paths(self, server: Server) -> None:
        spec = json.loads(server.get("/openapi.json")[1])
        assert {"/v1/check", "/v1/estimate", "/openai/images/edits", "/v1/images/generations"} <= set(spec["paths"])

    def test_unknown_path_and_method_get_json(self, server: Server) -> None:
        status, raw, _ = server.request("GET", "/nope")
        assert status == 404
        _envelope_ok(json.loads(raw), "api_not_found")
        status, raw, _ = server.request("GET", "/v1/check")
        assert status == 405
        _envelope_ok(json.loads(raw), "method_not_allowed")


def _bad_requests(server: Server, code: str) -> Decimal:
    return _samples(server.get("/metrics")[1].decode()).get(
        f'imagepricing_bad_requests_total{{code="{code}"}}', Decimal(0)
    )


def _samples(text: str) -> dict[str, Decimal]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = Decimal(value)
    return values


class TestMetrics:
    def test_counters_move_with_the_checks(self) -> None:
        fresh = Server()
        try:
            for _ in range(3):
                fresh.post_json("/v1/check", VALID)
            fresh.post_json("/v1/images/generations", INVALID)
            fresh.post_json("/v1/check", {"model": "nano-banana", "prompt": "p", "quality": "hd"})
            fresh.request("POST", "/v1/check", b"nope")
            status, raw = fresh.get("/metrics")
            assert status == 200
            samples = _samples(raw.decode())
            assert samples['imagepricing_checks_total{endpoint="generations",outcome="ok"}'] == 4
            assert samples['imagepricing_checks_total{endpoint="generations",outcome="rejected"}'] == 1
            assert samples['imagepricing_rejections_total{code="above_model_limit"}'] == 1
            assert samples['imagepricing_ignored_parameters_total{param="quality"}'] == 1
            assert samples['imagepricing_bad_requests_total{code="invalid_json"}'] == 1
            spend = 'imagepricing_predicted_spend_total{currency="credits",model="nano-banana",provider="acedata"}'
            assert samples[spend] == Decimal("0.56")
            exact = json.loads(fresh.get("/v1/spend")[1])
            assert exact["totals"] == {"credits": "0.56"}
            # The spend is the accepted checks' only: the rejected one costs nothing.
            assert (exact["checks"], exact["accepted"], exact["rejected"]) == (5, 4, 1)
            assert all(name.startswith("imagepricing_") for name in samples)
        finally:
            assert fresh.stop() == 0

    def test_every_error_the_server_answers_is_counted(self) -> None:
        fresh = Server("--max-json-bytes", "1000")
        try:
            answers = {
                "invalid_json": fresh.request("POST", "/v1/check", b"{")[0],
                "body_too_large": fresh.request("POST", "/v1/check", b" " * 2000)[0],
                "unknown_provider": fresh.request("POST", "/v1/check?provider=nobody", b"{}")[0],
                "api_not_found": fresh.request("GET", "/nowhere")[0],
                "method_not_allowed": fresh.request("GET", "/v1/check")[0],
                "headers_too_large": _status(
                    _raw(fresh.port, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 150 + b"\r\n")
                ),
                "invalid_http": _status(_raw(fresh.port, b"NOT HTTP\r\n\r\n")),
            }
            assert answers == {
                "invalid_json": 400,
                "body_too_large": 413,
                "unknown_provider": 400,
                "api_not_found": 404,
                "method_not_allowed": 405,
                "headers_too_large": 431,
                "invalid_http": 400,
            }
            samples = _samples(fresh.get("/metrics")[1].decode())
            counted = {
                name.split('"')[1]: int(value)
                for name, value in samples.items()
                if name.startswith("imagepricing_bad_requests_total")
            }
            assert counted == dict.fromkeys(answers, 1)
            # A rejected request on a platform path is a check (400 with the platform's envelope), not a bad request.
            assert fresh.post_json("/v1/images/generations", INVALID)[0] == 400
            after = _samples(fresh.get("/metrics")[1].decode())
            assert after['imagepricing_checks_total{endpoint="generations",outcome="rejected"}'] == 1
            assert sum(v for k, v in after.items() if k.startswith("imagepricing_bad_requests_total")) == 7
        finally:
            assert fresh.stop() == 0

    def test_workers_share_counters_and_exact_spend(self) -> None:
        fresh = Server("--workers", "2")
        try:
            for _ in range(20):
                assert fresh.post_json("/v1/check", VALID)[0] == 200
            # Recorded before answering, in each worker's file: exact at once, whichever worker answers.
            samples = _samples(fresh.get("/metrics")[1].decode())
            assert samples['imagepricing_checks_total{endpoint="generations",outcome="ok"}'] == 20
            exact = json.loads(fresh.get("/v1/spend")[1])
            assert exact["scope"] == "all workers"
            assert exact["totals"] == {"credits": "2.80"}
            assert exact["checks"] == 20
        finally:
            assert fresh.stop() == 0


# ------------------------------------------------------------------------------ process life


def test_sigterm_lets_the_request_in_flight_finish() -> None:
    fresh = Server()
    text = json.dumps(VALID).encode()
    head = f"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: {len(text)}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", fresh.port), timeout=20) as sock:
        sock.sendall(head + text[:5])
        time.sleep(0.3)
        fresh.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert fresh.process.poll() is None, "the server quit with a request in flight"
        sock.sendall(text[5:])
        response = b""
        while not _complete(response):
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
    assert _status(response) == 200
    assert json.loads(response.partition(b"\r\n\r\n")[2])["cost"] == "0.14"
    assert fresh.process.wait(timeout=20) == 0
    assert fresh.stop() == 0  # closes the log


_NO_OUTBOUND = """
import socket
_log = open({log!r}, "a")
_connect = socket.socket.connect
_getaddrinfo = socket.getaddrinfo
def _deny_connect(self, address):
    _log.write(f"connect {{address!r}}\\n"); _log.flush()
    raise OSError("outbound connection attempted")
def _deny_lookup(host, *args, **kwargs):
    if host not in ("127.0.0.1", None):
        _log.write(f"getaddrinfo {{host!r}}\\n"); _log.flush()
        raise OSError("name lookup attempted")
    return _getaddrinfo(host, *args, **kwargs)
socket.socket.connect = _deny_connect
socket.socket.connect_ex = _deny_connect
socket.getaddrinfo = _deny_lookup
"""


def test_no_outbound_connection_even_for_strict_url_checks(tmp_path: Path) -> None:
    log = tmp_path / "outbound.log"
    fresh = Server("--url-policy", "strict", prelude=_NO_OUTBOUND.format(log=str(log)))
    try:
        for url in (
            "https://example.com/a.png",
            "http://169.254.169.254/latest",
            "https://localhost./x",
            "http://[::1]/",
        ):
            payload = {"model": "gpt-image-2", "prompt": "p", "image": url}
            status, _ = fresh.post_json("/v1/images/edits", payload)
            assert status in (200, 400)
            assert fresh.post_json("/v1/check?endpoint=edits", payload)[0] == 200
    finally:
        assert fresh.stop() == 0
    assert not log.exists() or log.read_text() == ""


def test_workers_load_the_tables_and_prices_the_command_was_given() -> None:
    # Each worker rebuilds the catalog from the config through the core (no CLI in the worker).
    fresh = Server("--workers", "2", "--price", "acedata:nano-banana=0.5", "--provider", "xhuoapi")
    try:
        for _ in range(4):  # both workers, most likely
            status, body = fresh.post_json("/v1/check?provider=acedata", VALID)
            assert (status, body["cost"]) == (200, "0.5")
        assert json.loads(fresh.get("/healthz")[1])["default_provider"] == "xhuoapi"
    finally:
        assert fresh.stop() == 0


def test_serve_without_the_extra_says_what_to_install() -> None:
    code = "import sys\nsys.modules['starlette'] = None\nfrom imagepricing.cli import main\nsys.exit(main(['serve']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "pip install 'imagepricing[server]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_bad_provider_before_binding() -> None:
    code = "import sys\nfrom imagepricing.cli import main\nsys.exit(main(['serve', '--provider', 'nobody']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "unknown provider" in done.stderr


# ------------------------------------------------------------------------------------ fuzz

_PATHS = ["/v1/check", "/v1/check?endpoint=edits", "/v1/images/generations", "/openai/images/edits", "/v1/estimate"]
_TYPES = ["application/json", "multipart/form-data; boundary=b", "multipart/form-data", "text/plain", ""]
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40))
# Two levels of nesting are enough to reach every shape check looks at.
_JSONISH = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=12), st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3)), max_size=5),
)
_BODIES = st.one_of(
    st.binary(max_size=300),
    _JSONISH.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {"model": st.sampled_from(["dall-e-2", "dall-e-3", "gpt-image-2", "nano-banana", "x"])},
        optional={"prompt": st.text(max_size=30), "n": _SCALARS, "size": _SCALARS, "image": _JSONISH},
    ).map(lambda value: json.dumps(value).encode()),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(_PATHS), content_type=st.sampled_from(_TYPES), body=_BODIES)
def test_fuzzed_requests_always_get_a_json_answer_and_never_a_500(
    server: Server, path: str, content_type: str, body: bytes
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    status, raw, answer_headers = server.request("POST", path, body, headers)
    assert status in (200, 400), raw
    assert answer_headers["content-type"].startswith("application/json")
    answer = json.loads(raw)
    if status == 400:
        _envelope_ok(answer)
