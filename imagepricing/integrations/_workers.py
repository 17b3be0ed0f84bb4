"""The processes of `imagepricing serve`: the listening socket, the workers of `--workers N`, and the
directory where the workers share their counters.

Why not uvicorn's own `workers=` (its parent process, `uvicorn.supervisors.Multiprocess`), as
tried by an operator on uvicorn 0.55:

- on SIGTERM its parent keeps its copy of the listening socket until every worker has drained, so
  new clients complete the handshake, wait in the backlog and are reset when the parent exits
  (seen: 16 clients, 6.3 s, then ECONNRESET);
- its workers outlive a parent killed with SIGKILL and keep serving on the port;
- a port in use is an exit status of uvicorn's own (3), not the command's 2.

So this module is a small supervisor made of uvicorn's public API (`uvicorn.Config`,
`uvicorn.Server.run(sockets=...)`, the one uvicorn's own workers and gunicorn's use), the standard
library's multiprocessing, and nothing private:

- The parent binds the socket, so "address in use" is reported by the command (exit 2), and passes
  it to each worker, a fresh interpreter (the spawn start method, as uvicorn's).
- On SIGTERM or SIGINT the parent closes its copy of the socket at once and passes SIGTERM on;
  each worker closes its copy as soon as uvicorn sees the signal (it looks every 0.1 s), so new
  connections are refused from then on while the requests in flight finish.
- A worker watches its parent (`multiprocessing.parent_process().sentinel`, ready when the parent
  is gone) and stops gracefully if it dies, whatever killed it.
- A worker that dies is replaced. If one cannot start at all, the server does not start (exit 2);
  a replacement that cannot start is tried again, less and less often (up to every 30 s).
- The shared directory holds a lock file that every process of one server holds shared (flock).
  A directory whose lock nobody holds belongs to a server that is gone: the next start removes it.

POSIX only (signals, flock): the command refuses `--workers` above 1 elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

import uvicorn

from imagepricing.integrations._counts import SUFFIX

if sys.platform != "win32":
    import fcntl

__all__ = [
    "ServeError",
    "announce_start",
    "join_directory",
    "listen",
    "metrics_directory",
    "remove_stale_directories",
    "run_uvicorn",
    "supervise",
]

PREFIX = "imagepricing-metrics-"
_LOCK = "lock"
_READY = "ready"
_BACKLOG = 2048  # uvicorn's default
_MAX_BACKOFF = 30.0

log = logging.getLogger("imagepricing.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ServeError(Exception):
    """The service cannot start (the port is in use, a worker cannot start, ...): exit status 2."""


# ------------------------------------------------------------------------------ the socket


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on host:port (SO_REUSEADDR, as uvicorn's); ServeError if it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol is named (not 0): asyncio sets TCP_NODELAY only on accepted sockets whose proto
    # is IPPROTO_TCP, and they take the listener's. Without it, Nagle's algorithm holds the second
    # write of each answer (uvicorn writes head and body apart) for the client's delayed ACK: ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(_BACKLOG)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {_where(host, port)}: {exc.strerror or exc}") from None
    return sock


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{_where(host, port)}"


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def run_uvicorn(app: ASGIApp, sock: socket.socket, options: Mapping[str, Any], *, announce: bool = False) -> bool:
    """Serve `app` on `sock` until SIGINT or SIGTERM; whether it started serving.

    uvicorn announces its address only for sockets it binds itself: `announce` logs it for this one.
    """
    server = uvicorn.Server(uvicorn.Config(app, **options))  # the Config sets up uvicorn's logging
    if announce:
        logging.getLogger("uvicorn.error").info("Listening on %s (Press CTRL+C to quit)", url(sock))
    server.run(sockets=[sock])
    return bool(server.started)


# -------------------------------------------------------------------------------- workers


def announce_start(app: ASGIApp, parent: Connection) -> ASGIApp:
    """`app`, telling the parent when its lifespan startup is complete (the worker is ready).

    Only the ASGI lifespan protocol is read; HTTP requests go straight to `app`.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def tell(message: Message) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                parent.send(_READY)

        await app(scope, receive, tell)

    return wrapped


def worker_setup(directory: str | None) -> None:
    """What a worker does first: stop with its parent, leave Ctrl-C to the parent, hold the directory."""
    # The terminal's SIGINT reaches every process of the group; the parent passes a stop on as
    # SIGTERM, and a second one as it came (a second SIGINT makes uvicorn stop at once).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        sentinel = parent.sentinel

        def watch() -> None:
            multiprocessing.connection.wait([sentinel])
            # The parent is gone (SIGKILL, a crash): stop as on SIGTERM, finishing the requests in flight.
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="imagepricing-parent-watch", daemon=True).start()
    if directory is not None:
        join_directory(Path(directory))


class _Worker:
    def __init__(self, process: SpawnProcess, reports: Connection) -> None:
        self.process = process
        self.reports = reports
        self.ready = False
        self.listening = True  # until it said "ready", why it cannot start, or closed its end
        self.failure: str | None = None


def supervise(
    target: Callable[..., None],
    args: tuple[Any, ...],
    sock: socket.socket,
    *,
    workers: int,
    graceful_timeout: float,
) -> None:
    """Run `workers` processes of `target(sock, reports, *args)` until SIGINT or SIGTERM; then drain them.

    `target` runs in a spawned process; it sends "ready" on `reports` once it serves (see
    `announce_start`), or a message saying why it cannot. Raises ServeError if a worker cannot
    start at first; returns after a requested stop, once every worker has exited.
    """
    _log_to_stderr()
    context = multiprocessing.get_context("spawn")
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        with contextlib.suppress(OSError):
            os.write(wake_write, b"\0")

    def start() -> _Worker:
        reports, child_end = context.Pipe(duplex=False)
        process = context.Process(target=target, args=(sock, child_end, *args), name="imagepricing-worker")
        process.daemon = True  # an unexpected exit of the parent's interpreter takes the workers down
        process.start()
        child_end.close()
        return _Worker(process, reports)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    pool: list[_Worker] = []
    try:
        pool = [start() for _ in range(workers)]
        _supervise(pool, start, sock, received, wake_read, graceful_timeout)
    finally:
        for worker in pool:
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join()
            worker.reports.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(wake_read)
        os.close(wake_write)


def _supervise(
    pool: list[_Worker],
    start: Callable[[], _Worker],
    sock: socket.socket,
    received: list[int],
    wake: int,
    graceful_timeout: float,
) -> None:
    serving = False  # every first worker is ready
    stop_by: float | None = None  # after a stop was asked: when stragglers are killed
    pending: list[float] = []  # when to start a replacement that failed to start
    backoff = 1.0
    while True:
        now = time.monotonic()
        if stop_by is None and pending and pending[0] <= now:
            pending.pop(0)
            pool.append(start())
        waits = [w.process.sentinel for w in pool] + [w.reports for w in pool if w.listening]
        deadlines = [*pending[:1], *([stop_by] if stop_by is not None else [])]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        multiprocessing.connection.wait([wake, *waits], timeout)
        with contextlib.suppress(BlockingIOError):
            os.read(wake, 512)

        signals, received[:] = received[:], []
        for signum in signals:
            if stop_by is None:
                # Stop accepting at once: the parent's copy of the socket now, each worker's as soon as
                # uvicorn sees the signal. Requests in flight finish (up to graceful_timeout).
                stop_by = time.monotonic() + graceful_timeout + 10.0
                sock.close()
                pending.clear()
                log.info("Stopping: no new connections; waiting for requests in flight")
                _signal_all(pool, signal.SIGTERM)
            else:
                _signal_all(pool, signum)

        for worker in list(pool):
            if worker.listening and worker.reports.poll():
                try:
                    message = worker.reports.recv()
                except EOFError:
                    message = None
                worker.listening = False
                if message == _READY:
                    worker.ready = True
                    if serving:
                        log.info("Worker [%d] is serving", worker.process.pid)
                elif isinstance(message, str):
                    worker.failure = message
            if worker.process.is_alive():
                continue
            worker.process.join()
            worker.reports.close()
            pool.remove(worker)
            if stop_by is not None:
                continue
            how = _how(worker)
            if not serving:
                _stop_all(pool)
                raise ServeError(f"a worker could not start: {how}")
            if worker.ready:
                log.warning("Worker [%d] died (%s); starting another", worker.process.pid, how)
                pool.append(start())
                backoff = 1.0
            else:
                log.error("A new worker could not start (%s); trying again in %g s", how, backoff)
                pending.append(time.monotonic() + backoff)
                backoff = min(2 * backoff, _MAX_BACKOFF)

        if not serving and pool and all(w.ready for w in pool) and stop_by is None:
            serving = True
            pids = ", ".join(str(w.process.pid) for w in pool)
            log.info("Listening on %s with %d workers [%s] (parent [%d])", url(sock), len(pool), pids, os.getpid())
        if stop_by is not None:
            if not pool:
                return
            if time.monotonic() >= stop_by:
                log.error("Workers still running after the graceful timeout: killed")
                _stop_all(pool, kill=True)
                return


def _signal_all(pool: list[_Worker], signum: int) -> None:
    for worker in pool:
        if worker.process.pid is not None and worker.process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.process.pid, signum)


def _stop_all(pool: list[_Worker], *, kill: bool = False) -> None:
    for worker in pool:
        if kill:
            worker.process.kill()
        else:
            _signal_all([worker], signal.SIGTERM)
    for worker in pool:
        worker.process.join()
        worker.reports.close()
    pool.clear()


def _how(worker: _Worker) -> str:
    if worker.failure is not None:
        return worker.failure
    code = worker.process.exitcode
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


class _Formatter(logging.Formatter):
    """uvicorn's look ("INFO:     message"), so the parent's lines read like its workers'."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname + ':':<9} {super().format(record)}"


def _log_to_stderr() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Formatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


# -------------------------------------------------------------------------- the directory


def remove_stale_directories(base: Path | None = None) -> list[Path]:
    """Remove the counters directories of servers that are gone (no process holds their lock); those removed.

    Only this user's directories named `imagepricing-metrics-*` with a lock file are considered.
    """
    if sys.platform == "win32":  # no flock; --workers is POSIX only
        return []
    base = Path(tempfile.gettempdir()) if base is None else base
    removed = []
    for path in base.glob(f"{PREFIX}*"):
        try:
            info = path.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue
        try:
            fd = os.open(path / _LOCK, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue  # not one of ours (or not any more)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live server's
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


@contextlib.contextmanager
def metrics_directory(given: str | None) -> Iterator[Path]:
    """The directory the workers share, locked for this server's life.

    None: a fresh directory in the temporary directory, removed at exit. A directory of yours: made
    if missing, refused if another server holds it, and emptied of a previous run's counters.
    """
    if sys.platform == "win32":
        raise ServeError("a metrics directory (--workers above 1, --metrics-dir) needs a POSIX system")
    if given is None:
        # Made and locked under a name the stale-directory sweep does not look at, then renamed:
        # a server starting at the same moment never sees it unlocked.
        fresh = Path(tempfile.mkdtemp(prefix=f".{PREFIX}new-"))
        fd = _lock(fresh, fcntl.LOCK_SH)
        path = fresh.with_name(fresh.name.replace(f".{PREFIX}new-", PREFIX, 1))
        fresh.rename(path)
    else:
        path = Path(given)
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = _lock(path, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServeError(f"the metrics directory {path} is in use by another imagepricing serve") from None
        except OSError as exc:
            raise ServeError(f"cannot use the metrics directory {path}: {exc.strerror or exc}") from None
        for stale in path.glob(f"*{SUFFIX}"):
            stale.unlink()
        fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        yield path
    finally:
        os.close(fd)
        if given is None:
            shutil.rmtree(path, ignore_errors=True)


def join_directory(path: Path) -> int:
    """Hold `path`'s lock shared for this process's life (a worker's): the directory is in use while it runs."""
    fd = os.open(path / _LOCK, os.O_RDWR | os.O_NOFOLLOW)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def _lock(path: Path, how: int) -> int:
    fd = os.open(path / _LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, how)
    except BaseException:
        os.close(fd)
        raise
    return fd
