"""Soak `imagepricing serve` as a hostile operator would: throughput, latency, memory, descriptors and
exact spend over time, on 127.0.0.1.

Run on demand (not part of the test suite; nothing here is asserted by CI):

    python benchmarks/soak_server.py --seconds 60 --workers 1
    python benchmarks/soak_server.py --seconds 240 --workers 2 --kill-worker-every 30

The real server (`python -m imagepricing serve`) runs as a subprocess on a free port. One asyncio
client process drives, at once:

- `--connections` keep-alive connections (16) sending bench_server.py's realistic mix (platform
  paths and /v1/check, valid and rejected, JSON and multipart edits) with `--hostile` (5 %) of
  malformed JSON (400) or an oversized declared body (413, connection closed by the server);
- `--slow` slow senders (4), each sending a body in three parts 100 ms apart;
- garbage HTTP: a fresh connection every 50 ms sending bytes that are not HTTP (uvicorn's 400).

Every `--window` seconds it prints the requests per second and p50/p99 latency of the keep-alive
mix in that window, the errors, and each worker's RSS and open file descriptors (from /proc). At the
end it compares what the clients were answered (the exact sum of every `cost` in a 200 answer, by
currency, and the number of checks) with the server's `/v1/spend` and `imagepricing_checks_total`,
then sends SIGTERM and reports the exit status. With `--kill-worker-every S` a random worker is
SIGKILLed every S seconds: the server may then count a few more checks than were answered (those a
killed worker had recorded but not yet sent), never fewer.

An error is any answer with an unexpected status, any 5xx, and any connection failure other than a
close the server announced. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).parent))
from bench_server import HOSTILE, MIX, Request, _free_port, _json

_COST = re.compile(rb'"cost":"([0-9.E+-]+)"')
_CURRENCY = re.compile(rb'"currency":"([^"]+)"')
_GARBAGE = [
    b"GARBAGE\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
]
_SLOW = _json("/v1/images/generations", {"model": "nano-banana", "prompt": "a slow apple"})


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # this window's, keep-alive mix only
    requests: int = 0
    errors: int = 0
    failed: int = 0  # requests sent whose answer never came (a worker killed under them, ...)
    by_status: dict[int, int] = field(default_factory=dict)
    checks: int = 0  # answers that are a check's (200 from a check, 400 from a platform path's rejection)
    spend: dict[str, Decimal] = field(default_factory=dict)
    slow: int = 0
    garbage: int = 0

    def answer(self, status: int, body: bytes, expected: int, is_check: bool) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status != expected or status >= 500:
            self.errors += 1
            return
        if is_check:  # a check answered: 200 with the report, or 400 with a platform path's rejection
            self.checks += 1
            cost = _COST.search(body) if status == 200 else None
            if cost is not None:
                currency = _CURRENCY.search(body)
                name = currency.group(1).decode() if currency else "?"
                self.spend[name] = self.spend.get(name, Decimal(0)) + Decimal(cost.group(1).decode())


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes, pause: float
) -> tuple[int, bytes, bool]:
    if pause:
        cut = len(raw) - 8
        writer.write(raw[:cut])
        await writer.drain()
        await asyncio.sleep(pause)
        writer.write(raw[cut:])
    else:
        writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            close = True
    body = await reader.readexactly(length)
    return status, body, close


async def _keep_alive(
    port: int, pick: list[tuple[Request, bool]], weights: list[float], tally: Tally, until: float
) -> None:
    rng = random.Random()
    reader = writer = None
    while time.monotonic() < until:
        (raw, expected, pause), is_check = rng.choices(pick, weights)[0]
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = time.perf_counter()
            status, body, close = await _exchange(reader, writer, raw, pause)
            tally.latencies.append(time.perf_counter() - started)
            tally.answer(status, body, expected, is_check)
            if close:
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.errors += 1
            tally.failed += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def _slow_sender(port: int, tally: Tally, until: float) -> None:
    # Three parts, 100 ms apart, on a connection of its own each time.
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            third = len(_SLOW) // 3
            for part in (_SLOW[:third], _SLOW[third : 2 * third]):
                writer.write(part)
                await writer.drain()
                await asyncio.sleep(0.1)
            status, body, _ = await _exchange(reader, writer, _SLOW[2 * third :], 0.0)
            tally.slow += 1
            tally.answer(status, body, 200, True)
            writer.close()
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.errors += 1
            tally.failed += 1
            await asyncio.sleep(0.01)


async def _garbage(port: int, tally: Tally, until: float) -> None:
    rng = random.Random(7)
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(rng.choice(_GARBAGE))
            await writer.drain()
            head = await reader.read(64)
            writer.close()
            tally.garbage += 1
            tally.requests += 1
            status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
            tally.by_status[status] = tally.by_status.get(status, 0) + 1
            if status != 400:
                tally.errors += 1
        except (OSError, ValueError, IndexError):
            tally.errors += 1
        await asyncio.sleep(0.05)


def _workers(server: int, count: int) -> list[int]:
    if count <= 1:
        return [server]
    try:
        children = Path(f"/proc/{server}/task/{server}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children if b"spawn_main" in _read(f"/proc/{pid}/cmdline")]


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _rss_and_fds(pid: int) -> str:
    rss = 0.0
    for line in _read(f"/proc/{pid}/status").decode().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        fds = -1
    return f"{pid}: {rss:5.1f} MiB {fds:3d} fd"


async def _http_get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data.partition(b"\r\n\r\n")[2]


async def _soak(args: argparse.Namespace, server: subprocess.Popen[bytes], port: int) -> Tally:
    tally = Tally()
    started = time.monotonic()
    until = started + args.seconds
    # bench_server's mix (every request a check) and its malformed and oversized bodies (not checks:
    # 400 invalid_json, 413), these weighted to `--hostile` percent of the requests.
    hostile = [(w, r) for w, r in HOSTILE if r[2] == 0.0]
    share = args.hostile / 100
    mix_total, hostile_total = sum(w for w, _ in MIX), sum(w for w, _ in hostile)
    pick = [(r, True) for _, r in MIX] + [(r, False) for _, r in hostile]
    weights = [w * (1 - share) / mix_total for w, _ in MIX] + [w * share / hostile_total for w, _ in hostile]
    tasks = [asyncio.create_task(_keep_alive(port, pick, weights, tally, until)) for _ in range(args.connections)]
    tasks += [asyncio.create_task(_slow_sender(port, tally, until)) for _ in range(args.slow)]
    tasks.append(asyncio.create_task(_garbage(port, tally, until)))
    print(f"{'window':>6} {'t s':>5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  per worker: pid RSS fds")
    window = 0
    next_kill = started + args.kill_worker_every if args.kill_worker_every else None
    rng = random.Random(11)
    errors_before = 0
    while time.monotonic() < until:
        end = min(until, started + (window + 1) * args.window)
        while time.monotonic() < end:
            await asyncio.sleep(min(0.2, max(0.0, end - time.monotonic())))
            if next_kill is not None and time.monotonic() >= next_kill:
                victims = _workers(server.pid, args.workers)
                if victims:
                    victim = rng.choice(victims)
                    os.kill(victim, signal.SIGKILL)
                    print(f"{'':>6} {time.monotonic() - started:5.0f} SIGKILL worker {victim}")
                next_kill += args.kill_worker_every
        window += 1
        lat = sorted(tally.latencies)
        tally.latencies = []
        p50 = statistics.median(lat) * 1000 if lat else 0.0
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
        seconds = end - (started + (window - 1) * args.window)
        workers = "  ".join(_rss_and_fds(pid) for pid in _workers(server.pid, args.workers))
        print(
            f"{window:>6} {end - started:5.0f} {len(lat) / seconds:>8,.0f} {p50:7.2f} {p99:7.2f} "
            f"{tally.errors - errors_before:>6}  {workers}",
            flush=True,
        )
        errors_before = tally.errors
    await asyncio.gather(*tasks)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--slow", type=int, default=4, help="slow senders (default 4)")
    parser.add_argument("--hostile", type=float, default=5.0, help="percent malformed or oversized (default 5)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds per printed window (default 10)")
    parser.add_argument("--kill-worker-every", type=float, metavar="S", help="SIGKILL a random worker every S s")
    args = parser.parse_args()

    port = _free_port()
    argv = [sys.executable, "-m", "imagepricing", "serve", "--port", str(port), "--workers", str(args.workers)]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (the server writes to it until it exits)
    server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while len(_workers(server.pid, args.workers)) < args.workers or b"Listening on" not in _log(log):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start: {_log(log).decode(errors='replace')}")
        time.sleep(0.1)
    print(
        f"imagepricing serve soak: {args.workers} worker(s), {args.seconds:g} s, {args.connections} keep-alive "
        f"connections + {args.slow} slow senders + garbage HTTP, {args.hostile:g} % malformed or oversized; "
        f"{os.cpu_count()} CPUs"
    )
    try:
        tally = asyncio.run(_soak(args, server, port))
        spend = json.loads(asyncio.run(_http_get(port, "/v1/spend")))
        metrics = asyncio.run(_http_get(port, "/metrics")).decode()
    finally:
        stop = time.monotonic()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=120)
        stopped = time.monotonic() - stop
    checks_total = sum(
        int(float(line.rpartition(" ")[2]))
        for line in metrics.splitlines()
        if line.startswith("imagepricing_checks_total{")
    )
    statuses = " ".join(f"{s}:{n:,}" for s, n in sorted(tally.by_status.items()))
    print(f"total    {tally.requests:,} answers [{statuses}], {tally.slow:,} slow bodies, {tally.garbage:,} garbage")
    print(f"errors   {tally.errors} ({tally.failed} requests unanswered)")
    client = {c: str(a) for c, a in sorted(tally.spend.items())}
    server_spend = spend["totals"]
    more = {c: Decimal(server_spend.get(c, "0")) - tally.spend.get(c, Decimal(0)) for c in {*client, *server_spend}}
    if all(amount == 0 for amount in more.values()):
        verdict = "equal"
    else:
        verdict = "server counts " + ", ".join(f"{amount} {c}" for c, amount in sorted(more.items())) + " more"
    print(f"spend    clients were answered {client}; /v1/spend {server_spend}: {verdict}")
    print(
        f"checks   clients were answered {tally.checks:,}; checks_total {checks_total:,}; /v1/spend {spend['checks']:,}"
    )
    if checks_total != tally.checks:
        print(
            f"         {checks_total - tally.checks} check(s) recorded by a worker killed before its answer left "
            f"(at most the {tally.failed} unanswered)"
        )
    print(f"SIGTERM  exit status {code} after {stopped:.2f} s")
    killed = bool(args.kill_worker_every)
    counted_ok = tally.checks <= checks_total <= tally.checks + tally.failed if killed else checks_total == tally.checks
    spend_ok = verdict == "equal" or (killed and all(amount >= 0 for amount in more.values()))
    return 0 if code == 0 and counted_ok and spend_ok and (killed or tally.errors == 0) else 1


def _log(log: IO[bytes]) -> bytes:
    log.seek(0)
    return log.read()


if __name__ == "__main__":
    sys.exit(main())
