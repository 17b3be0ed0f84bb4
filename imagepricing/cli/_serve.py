"""`imagepricing serve`: run the HTTP pre-flight service (extra `server`; docs/server.md).

    imagepricing serve [--host 127.0.0.1] [--port 8080] [--workers N] [--data DIR] [--prices FILE]
                       [--url-policy strict] [--provider P] [--max-json-bytes N] [--max-form-bytes N] ...

The server's modules are imported only when the command runs, so the rest of the command line
needs nothing beyond the core.

Exit status: 0 after SIGTERM or SIGINT (the requests in flight answered); 2 when it cannot start
(bad arguments or tables, the extra missing, the port in use, the metrics directory in use or
full, a worker that cannot start).
"""

from __future__ import annotations

import argparse
import sys

from imagepricing.cli._options import (
    Subcommands,
    UsageError,
    add_catalog_options,
    add_url_policy_option,
    catalog_from_args,
    price_overrides,
)

__all__ = ["add_parser"]

_MISSING = "the server needs the 'server' extra: pip install 'imagepricing[server]' (missing: {name})"


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser("serve", help="run the HTTP pre-flight service (needs the 'server' extra)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    add_catalog_options(p)
    add_url_policy_option(p)
    p.add_argument("--max-json-bytes", type=int, metavar="N", help="largest JSON body (default 32 MiB)")
    p.add_argument("--max-form-bytes", type=int, metavar="N", help="largest multipart body (default 512 MiB)")
    p.add_argument("--max-estimate-bytes", type=int, metavar="N", help="largest estimate body (default 1 GiB)")
    p.add_argument("--idle-timeout", type=float, metavar="S", help="longest gap between body bytes (default 15 s)")
    p.add_argument("--body-timeout", type=float, metavar="S", help="longest time to receive a body (default 300 s)")
    p.add_argument(
        "--graceful-timeout", type=int, default=30, metavar="S", help="on SIGTERM, wait this long for requests"
    )
    p.add_argument("--access-log", action="store_true", help="log every request line (off: queries may hold tokens)")
    p.add_argument(
        "--metrics-dir",
        metavar="DIR",
        help="where workers share their counters (default: a fresh directory in the temporary directory)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        # The server extra, imported only to serve (the command line works without it).
        from imagepricing.integrations.server import Limits, ServeError, ServerConfig, serve  # noqa: PLC0415
    except ImportError as exc:
        raise UsageError(_MISSING.format(name=exc.name or exc)) from None
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.workers > 1 and sys.platform == "win32":
        raise UsageError("--workers above 1 needs a POSIX system (signals and file locks)")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be from 0 to 65535")
    sizes = {
        "max_json_bytes": args.max_json_bytes,
        "max_form_bytes": args.max_form_bytes,
        "max_estimate_bytes": args.max_estimate_bytes,
        "idle_timeout": args.idle_timeout,
        "body_timeout": args.body_timeout,
    }
    for name, value in sizes.items():
        if value is not None and value <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")
    limits = Limits(**{k: v for k, v in sizes.items() if v is not None})
    # The tables and prices are read as every command reads them (same messages, exit 2), then handed
    # to the server as data it loads through the core, in each worker.
    catalog_from_args(args)
    overrides = price_overrides(args)
    config = ServerConfig(
        host=args.host,
        port=args.port,
        workers=args.workers,
        provider=args.provider,
        url_policy=args.url_policy,
        data=args.data,
        prices=tuple(args.prices),
        price=overrides,
        limits=limits,
        graceful_timeout=args.graceful_timeout,
        access_log=args.access_log,
        metrics_dir=args.metrics_dir,
    )
    try:
        serve(config)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    return 0
