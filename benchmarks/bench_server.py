"""Load on `imagepricing serve`: requests per second and p50/p99 latency over loopback.

Run on demand (not part of the test suite; no timing is ever asserted):

    python benchmarks/bench_server.py                      # defaults: 1 worker, 16 connections
    python benchmarks/bench_server.py --workers 2 --requests 8000 --seconds 30

Starts the real server (`imagepricing serve`) as a subprocess on 127.0.0.1 on a free port and
drives it with an asyncio client over keep-alive HTTP/1.1 connections (raw sockets: a client
library would cost more CPU than the server on a 2-core machine). Each phase is bounded by a
request count and a time limit, whichever comes first.

Phases:
- floor: `GET /healthz`, a request that does no work: what uvicorn + Starlette cost alone.
- mix: a realistic mix on the platform paths and /v1/check: valid generations (nano-banana,
  gpt-image-2 1024x1024, dall-e-3), clearly invalid requests (dall-e-3 n=2, a prompt over the
  limit; 400 with the envelope), JSON edits and multipart edits with a 64 KB upload.
- hostile: the same mix with 10 % hostile bodies: malformed JSON (400), an oversized declared
  body (413, connection closed by the server), and slow bodies sent in two parts 20 ms apart (200).

Every answer's status is compared with what the request should get; "errors" counts any
difference, any 5xx and any connection failure. The anchor is the in-process `check` rate in the
same run, so the ratios say what HTTP adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import imagepricing

Request = tuple[bytes, int, float]  # raw request bytes (head + body), expected status, pause mid-body


def _post(path: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _json(path: str, payload: object) -> bytes:
    return _post(path, json.dumps(payload).encode())


def _form() -> bytes:
    boundary = "benchboundary"
    parts = [("model", "gpt-image-2"), ("prompt", "make it blue"), ("size", "1024x1024")]
    out = bytearray()
    for name, value in parts:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'.encode()
    out += b"Content-Type: image/png\r\n\r\n" + b"\x89PNG\r\n\x1a\n" + os.urandom(64_000) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return _post("/v1/images/edits", bytes(out), f"multipart/form-data; boundary={boundary}")


URL = "https://example.com/a.png"
MIX: list[tuple[int, Request]] = [  # (weight, request)
    (30, (_json("/openai/images/generations", {"model": "nano-banana", "prompt": "an apple"}), 200, 0.0)),
    (20, (_json("/v1/images/generations", {"model": "gpt-image-2", "prompt": "a fox", "size": "1024x1024"}), 200, 0.0)),
    (10, (_json("/v1/check", {"model": "dall-e-3", "prompt": "a lighthouse", "quality": "hd"}), 200, 0.0)),
    (10, (_json("/v1/images/generations", {"model": "dall-e-3", "prompt": "p", "n": 2}), 400, 0.0)),
    (5, (_json("/v1/images/generations", {"model": "dall-e-2", "prompt": "x" * 1001}), 400, 0.0)),
    (15, (_json("/v1/images/edits", {"model": "gpt-image-2", "prompt": "blue", "image": [URL, URL]}), 200, 0.0)),
    (10, (_form(), 200, 0.0)),
]
HOSTILE: list[tuple[int, Request]] = [
    (4, (_post("/v1/images/generations", b'{"model": "nano-banana", "prompt": '), 400, 0.0)),
    (3, (b"POST /v1/check HTTP/1.1\r\nHost: bench\r\nContent-Length: 99999999999\r\n\r\n", 413, 0.0)),
    (3, (_json("/v1/check", {"model": "nano-banana", "prompt": "slow"}), 200, 0.02)),
]


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    await reader.readexactly(length)
    return status, close


async def _worker(port: int, pick: Callable[[], Request], phase: Phase, budget: list[int], deadline: float) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while budget[0] > 0 and time.perf_counter() < deadline:
        budget[0] -= 1
        raw, expected, pause = pick()
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = time.perf_counter()
            if pause:
                writer.write(raw[: len(raw) - 8])
                await writer.drain()
                await asyncio.sleep(pause)
                writer.write(raw[len(raw) - 8 :])
            else:
                writer.write(raw)
            await writer.drain()
            status, close = await _read_response(reader)
            phase.latencies.append(time.perf_counter() - started)
            phase.by_status[status] = phase.by_status.get(status, 0) + 1
            if status != expected:
                phase.errors += 1
            if close:
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            phase.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _run_phase(
    name: str, port: int, pick: Callable[[], Request], count: int, seconds: float, conns: int
) -> Phase:
    phase = Phase(name)
    budget = [count]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_worker(port, pick, phase, budget, deadline) for _ in range(conns)))
    phase.seconds = time.perf_counter() - started
    return phase


def _picker(table: list[tuple[int, Request]], rng: random.Random) -> Callable[[], Request]:
    requests = [r for _, r in table]
    weights = [w for w, _ in table]
    return lambda: rng.choices(requests, weights)[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    argv = [sys.executable, "-m", "imagepricing", "serve", "--port", str(port), "--workers", str(workers)]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (the child keeps it open; closed with the process)
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def _anchor(seconds: float = 2.0) -> float:
    """In-process checks per second on the same mix of JSON requests (no HTTP)."""
    requests = [json.loads(r[0].partition(b"\r\n\r\n")[2]) for _, r in MIX if b"multipart" not in r[0]]
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for request in requests:
            imagepricing.check(request, "edits" if "image" in request else "generations")
        done += len(requests)
    return done / seconds


def _line(phase: Phase) -> str:
    lat = sorted(phase.latencies)
    p50 = statistics.median(lat) * 1000 if lat else 0.0
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
    rate = len(lat) / phase.seconds if phase.seconds else 0.0
    statuses = " ".join(f"{s}:{n}" for s, n in sorted(phase.by_status.items()))
    return (
        f"{phase.name:<8} {len(lat):>7,} req in {phase.seconds:5.1f} s  {rate:>8,.0f} req/s  "
        f"p50 {p50:6.2f} ms  p99 {p99:7.2f} ms  errors {phase.errors}  [{statuses}]"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=6000, help="per phase (default 6000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per phase (default 20)")
    args = parser.parse_args()

    anchor = _anchor()
    process, port = _start(args.workers)
    rng = random.Random(13)
    try:
        healthz = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
        phases = [
            ("floor", lambda: (healthz, 200, 0.0)),
            ("mix", _picker(MIX, rng)),
            ("hostile", _picker([(w * 9, r) for w, r in MIX] + [(w * 10, r) for w, r in HOSTILE], rng)),
        ]
        results = []
        for name, pick in phases:
            results.append(asyncio.run(_run_phase(name, port, pick, args.requests, args.seconds, args.connections)))
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    print(f"imagepricing serve, {args.workers} worker(s), {args.connections} connections, {os.cpu_count()} CPUs")
    print(f"anchor   in-process check(): {anchor:,.0f} checks/s on the JSON part of the mix")
    for phase in results:
        print(_line(phase))
    floor, mix = results[0], results[1]
    if floor.latencies and mix.latencies:
        ratio = (len(mix.latencies) / mix.seconds) / (len(floor.latencies) / floor.seconds)
        print(f"mix / floor rate: {ratio:.2f}; mix / anchor rate: {(len(mix.latencies) / mix.seconds) / anchor:.3f}")
    print(f"server exit status after SIGTERM: {code}")
    return 1 if any(p.errors for p in results) or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
