"""`imagepricing serve` under faults, for real: real processes, real signals, a real full filesystem.

Each test starts the command as a subprocess on 127.0.0.1 and hurts it as an operator or the kernel
would: SIGKILL a worker under load, SIGTERM with a request in flight, SIGKILL the parent, a port
or a metrics directory already taken, a filesystem with no room left. No duration is asserted,
only what must hold and in which order; the deadlines only keep a broken server from hanging the
suite. The figures of the long version are benchmarks/soak_server.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, MutableMapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

for _name in ("starlette", "uvicorn", "prometheus_client"):
    pytest.importorskip(_name, reason="the 'server' extra is not installed")

import imagepricing  # noqa: E402 (after the skip: the modules below need the extra)
from imagepricing.integrations._counts import CountsFile, read_directory  # noqa: E402
from imagepricing.integrations._workers import listen  # noqa: E402
from imagepricing.integrations.server import create_app  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; POSIX signals")

CHECK = {"model": "nano-banana", "prompt": "an apple"}  # 0.14 credits at acedata
PRICE = Decimal("0.14")
PATH = "/v1/images/generations"
DEADLINE = 60.0  # only against a hang; nothing here is meant to take more than a few seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Serve:
    """`imagepricing serve` in a subprocess of its own session, its log in a file."""

    def __init__(self, *args: str, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.port = port or _free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="serve-", suffix=".log", delete=False)  # noqa: SIM115
        argv = [sys.executable, "-m", "imagepricing", "serve", "--port", str(self.port), *args]
        self.process = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True
        )

    def wait_ready(self, workers: int) -> Serve:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}: {self.output()}")
            if len(self.workers()) == workers and "Listening on" in self.output():
                with contextlib.suppress(OSError):
                    if self.request("GET", "/healthz")[0] == 200:
                        return self
            time.sleep(0.05)
        raise AssertionError(f"serve did not start: {self.output()}")

    def workers(self) -> list[int]:
        """The worker processes (spawned children; not multiprocessing's resource tracker)."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children if b"spawn_main" in _cmdline(int(child))]

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)
        try:
            conn.request(method, path, body=body)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def json(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, body
        return json.loads(body)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=DEADLINE)
        finally:
            self.log.close()

    def output(self) -> str:
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return False


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def _spend(server: Serve) -> tuple[int, Decimal]:
    body = server.json("/v1/spend")
    return body["checks"], Decimal(body["totals"].get("credits", "0"))


def _checks_total(server: Serve) -> int:
    _, raw = server.request("GET", "/metrics")
    total = 0
    for line in raw.decode().splitlines():
        if line.startswith("imagepricing_checks_total{"):
            total += int(float(line.rpartition(" ")[2]))
    return total


@contextlib.contextmanager
def _held_request(port: int) -> Iterator[socket.socket]:
    """A request whose body is half sent: in flight until the rest is sent."""
    body = json.dumps(CHECK).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:5])
    try:
        yield sock
    finally:
        sock.close()


def _finish(sock: socket.socket) -> int:
    sock.sendall(json.dumps(CHECK).encode()[5:])
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


# ------------------------------------------------------------------------ in process


def test_a_check_is_in_the_shared_file_before_its_answer_is_sent(tmp_path: Path) -> None:
    # The ordering the guarantee rests on, without processes: when the app starts its answer, the
    # check's count and spend are already in this process's file, where other workers read them.
    app = create_app(metrics_dir=str(tmp_path))
    body = json.dumps(CHECK).encode()
    seen: list[dict[Any, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.append(dict(read_directory(tmp_path)))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }

    async def run() -> None:
        await app(scope, receive, send)

    asyncio.run(run())
    key = ("checks", "generations", "ok", "acedata", "nano-banana", "credits")
    assert seen == [{key: (1, PRICE)}]


def test_connections_accepted_on_the_servers_socket_are_tcp_nodelay() -> None:
    # asyncio sets TCP_NODELAY only where the listener names IPPROTO_TCP; without it, Nagle's
    # algorithm held each answer's body for the client's delayed ACK (~40 ms a request).
    sock = listen("127.0.0.1", 0)

    async def accepted_nodelay() -> int:
        loop = asyncio.get_running_loop()
        made: asyncio.Future[asyncio.BaseTransport] = loop.create_future()

        class Accept(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                made.set_result(transport)

        async with await loop.create_server(Accept, sock=sock):
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            transport = await made
            value = int(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
            transport.close()
            return value

    assert asyncio.run(accepted_nodelay()) != 0


# ------------------------------------------------------------------------ workers


def test_a_worker_killed_under_load_takes_no_answered_spend_with_it() -> None:
    server = Serve("--workers", "2").wait_ready(2)
    answered = failed = 0
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        nonlocal answered, failed
        conn: http.client.HTTPConnection | None = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=DEADLINE)
                conn.request("POST", PATH, body=json.dumps(CHECK).encode())
                response = conn.getresponse()
                cost = json.loads(response.read())["cost"]
                assert response.status == 200
                with lock:
                    answered += 1
                assert Decimal(cost) == PRICE
            except (OSError, http.client.HTTPException):
                with lock:
                    failed += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    try:
        clients = [threading.Thread(target=client) for _ in range(6)]
        for thread in clients:
            thread.start()
        _until(lambda: answered >= 300, "300 answers")
        victim = server.workers()[0]
        os.kill(victim, signal.SIGKILL)
        _until(lambda: not _alive(victim), "the worker died")
        mark = answered
        _until(lambda: answered >= mark + 300, "300 more answers after the kill")
        stop.set()
        for thread in clients:
            thread.join()
        _until(lambda: len(server.workers()) == 2, "a replacement worker")
        checks, spend = _spend(server)
        # Recorded before answered: every answer is counted; a check the killed worker had recorded
        # but not yet answered is counted too (at most one per failed request).
        assert answered <= checks <= answered + failed
        assert spend == PRICE * checks  # count and spend never disagree
        assert _checks_total(server) == checks
        assert "died (killed by SIGKILL); starting another" in server.output()
    finally:
        stop.set()
        assert server.stop() == 0


def test_sigterm_with_two_workers_refuses_new_connections_at_once() -> None:
    server = Serve("--workers", "2").wait_ready(2)
    outcomes: list[str] = []
    with _held_request(server.port) as held:
        time.sleep(0.2)  # the held request has reached a worker
        server.process.send_signal(signal.SIGTERM)
        # While the held request is in flight (the server drains it), new connections must be
        # refused: not accepted into a backlog nobody reads and reset when the parent exits.
        deadline = time.monotonic() + DEADLINE
        while "refused" not in outcomes and time.monotonic() < deadline:
            try:
                probe = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
            except ConnectionRefusedError:
                outcomes.append("refused")
                continue
            with probe:
                # Accepted just before the workers saw the signal: answered, or closed at once.
                try:
                    probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    outcomes.append("answered" if probe.recv(64).startswith(b"HTTP/1.1 200") else "closed")
                except ConnectionResetError:
                    outcomes.append("reset")
        assert outcomes[-1] == "refused"
        assert server.process.poll() is None, "the server exited with a request in flight"
        assert set(outcomes) <= {"answered", "closed", "reset", "refused"}
        assert _finish(held) == 200
    assert server.stop() == 0
    assert "Stopping: no new connections" in server.output()


def test_a_killed_parent_takes_its_workers_down_and_the_next_start_cleans_up(tmp_path: Path) -> None:
    env = {"TMPDIR": str(tmp_path)}
    server = Serve("--workers", "2", env=env).wait_ready(2)
    workers = server.workers()
    [stale] = tmp_path.glob("imagepricing-metrics-*")
    server.request("POST", PATH, json.dumps(CHECK).encode())
    with _held_request(server.port) as held:
        time.sleep(0.2)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        # The orphaned workers stop accepting and finish what is in flight, then exit.
        assert _finish(held) == 200
    _until(lambda: not any(_alive(pid) for pid in workers), "the workers exited after their parent")
    server.log.close()
    assert stale.exists()  # nobody was left to remove it

    again = Serve("--workers", "2", port=server.port, env=env).wait_ready(2)
    try:
        assert not stale.exists()
        assert _spend(again) == (0, Decimal(0))
    finally:
        assert again.stop() == 0
    assert list(tmp_path.glob("imagepricing-metrics-*")) == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_exit_status_2_without_a_traceback(workers: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        server = Serve("--workers", workers, port=port)
        assert server.process.wait(timeout=DEADLINE) == 2
        server.log.close()
    output = server.output()
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in output
    assert "Traceback" not in output


def test_a_metrics_directory_in_use_is_refused_and_a_stale_one_emptied(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    first = Serve("--workers", "2", "--metrics-dir", str(directory)).wait_ready(2)
    try:
        first.request("POST", PATH, json.dumps(CHECK).encode())
        second = Serve("--workers", "2", "--metrics-dir", str(directory))
        assert second.process.wait(timeout=DEADLINE) == 2
        second.log.close()
        assert "is in use by another imagepricing serve" in second.output()
    finally:
        assert first.stop() == 0
    # What a run leaves (as one killed would) is not added to the next run's counts.
    leftover = CountsFile(directory / "999999.counts")
    leftover.add(("checks", "generations", "ok", "acedata", "nano-banana", "credits"), PRICE)
    leftover.close()
    assert _spend_in(directory) > (0, Decimal(0))
    third = Serve("--workers", "2", "--metrics-dir", str(directory)).wait_ready(2)
    try:
        assert _spend(third) == (0, Decimal(0))
    finally:
        assert third.stop() == 0


def _spend_in(directory: Path) -> tuple[int, Decimal]:
    values = read_directory(directory)
    return sum(c for c, _ in values.values()), sum((a for _, a in values.values() if a), Decimal(0))


# ------------------------------------------------------------------ a full filesystem


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB tmpfs (needs the right to mount: root, or CAP_SYS_ADMIN); else the test is skipped."""
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip() or done.returncode})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(mount: Path) -> Path:
    """Fill the filesystem to the last byte; the filler file, to free the room again."""
    filler = mount / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)  # short at the end, then ENOSPC
    assert os.statvfs(mount).f_bavail == 0
    return filler


def test_no_room_for_the_counters_stops_the_start_with_status_2(small_filesystem: Path) -> None:
    directory = small_filesystem / "metrics"
    directory.mkdir()
    _fill(small_filesystem)
    server = Serve("--workers", "2", "--metrics-dir", str(directory))
    assert server.process.wait(timeout=DEADLINE) == 2
    server.log.close()
    output = server.output()
    assert "a worker could not start: cannot keep counters in" in output
    assert "No space left on device" in output
    assert "Traceback" not in output


def test_a_filesystem_that_fills_up_under_a_running_server_loses_no_count(small_filesystem: Path) -> None:
    # The counters' files are allocated when a worker starts (posix_fallocate): once the disk is
    # full, every check is still answered and counted (no SIGBUS on a write to a sparse page), and a
    # worker that dies is replaced as soon as there is room again.
    directory = small_filesystem / "metrics"
    server = Serve("--workers", "2", "--metrics-dir", str(directory)).wait_ready(2)
    try:
        filler = _fill(small_filesystem)
        expected = Decimal(0)
        checks = 0
        catalog = imagepricing.default_catalog()
        for provider in catalog.price_books:
            for model in catalog.models:
                for endpoint in ("generations", "edits"):
                    payload = {"model": model, "prompt": "p", "image": "https://example.com/a.png"}
                    if endpoint == "generations":
                        del payload["image"]
                    status, raw = server.request(
                        "POST", f"/v1/check?endpoint={endpoint}&provider={provider}", json.dumps(payload).encode()
                    )
                    assert status == 200, raw
                    cost = json.loads(raw)["cost"]
                    expected += Decimal(cost) if cost is not None and json.loads(raw)["currency"] == "credits" else 0
                    checks += 1
        for bad in (b"{", b"[1"):
            assert server.request("POST", "/v1/check", bad)[0] == 400
        assert server.request("GET", "/nowhere")[0] == 404
        assert _spend(server) == (checks, expected)

        victim = server.workers()[0]
        os.kill(victim, signal.SIGKILL)
        _until(lambda: "A new worker could not start" in server.output(), "a failed replacement")
        assert server.request("POST", PATH, json.dumps(CHECK).encode())[0] == 200  # the other worker serves
        assert _spend(server) == (checks + 1, expected + PRICE)  # the dead worker's counts stay
        filler.unlink()
        _until(lambda: "is serving" in server.output(), "a replacement once there is room")
        assert "Traceback" not in server.output()
    finally:
        assert server.stop() == 0
