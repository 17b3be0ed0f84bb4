"""`imagepricing serve`: the pre-flight check as an HTTP service, for callers not written in Python.

An ASGI app on Starlette, served by uvicorn (extra `server`). Thin over the core: every verdict
is `imagepricing.check`'s, every estimate `imagepricing.estimate`'s; this module reads bodies,
picks endpoint and provider (`imagepricing.routes`), and writes JSON. docs/server.md is the manual.

Endpoints:
- `POST /v1/check?endpoint=generations&provider=acedata` (both optional): 200 and the report's
  `to_dict()` for any JSON body, whatever it says (multipart edits forms too); 400 for a body that
  is not JSON.
- `POST /openai/images/{generations,edits}`, `/v1/images/{generations,edits}` (any prefix, as
  `routes.endpoint_from_path` reads it): 200 and the report when the request is ok, else 400 and
  the platform's error envelope (`_envelope.rejection_envelope`). So Envoy's ext_authz can put the
  service in front of the API and clients see upstream's shape.
- `POST /v1/estimate` (JSON Lines, streamed, gzip allowed), `GET /v1/models`, `/v1/prices`,
  `/v1/spend`, `/healthz`, `/openapi.json`, `/metrics`.

The provider is, first found: the `provider` query parameter, the `X-Imagepricing-Provider`
header, the provider whose API host is in `X-Forwarded-Host` or `Host` (as a gateway forwards
it), the configured default.

Every error, the server's own included, is the platform's envelope with a stable code; no answer
carries a traceback or quotes the body (one exception, documented: HTTP that uvicorn cannot parse
gets uvicorn's own plain-text 400). The service opens no outbound connection: `check` judges URLs
by their text, never by fetching or resolving them.

`serve` runs the app in this process, or under a small supervisor with `--workers N`
(`_workers`: why, and what happens on each signal); the counters are `_metrics`', kept by
`_counts` (recorded before each answer is sent).

Why one long module (about 600 lines): one app, its routes, handlers, configuration and
OpenAPI description, which read one another's tables; the pieces apart already are (`_bodies`,
`_forms`, `_counts`, `_workers`, `_metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from imagepricing._clock import today
from imagepricing._tables import ENDPOINTS
from imagepricing._version import __version__
from imagepricing.catalog import Catalog, assemble_catalog, default_catalog
from imagepricing.engine import check
from imagepricing.estimation import GROUP_DIMENSIONS, estimate
from imagepricing.integrations._bodies import (
    BodyError,
    Limits,
    body_chunks,
    jsonl_lines,
    parse_json,
    read_body,
    read_form,
)
from imagepricing.integrations._envelope import envelope, rejection_envelope
from imagepricing.integrations._forms import request_from_form
from imagepricing.integrations._metrics import CONTENT_TYPE, ServerMetrics
from imagepricing.integrations._workers import (
    ServeError,
    announce_start,
    listen,
    metrics_directory,
    remove_stale_directories,
    run_uvicorn,
    supervise,
    worker_setup,
)
from imagepricing.listings import models_table, prices_table
from imagepricing.options import known_provider, known_url_policy
from imagepricing.pricing import PRICE_BASES
from imagepricing.report import Report
from imagepricing.routes import endpoint_from_path, provider_from_host
from imagepricing.schema import endpoint_schema

__all__ = ["Limits", "ServeError", "ServerConfig", "create_app", "serve"]

PROVIDER_HEADER = "x-imagepricing-provider"
_JSON = "application/json"
_INLINE_BYTES = 256 * 1024  # bodies up to this size are judged on the event loop (well under 1 ms)
_PLATFORM_PREFIXES = ("/openai/images", "/v1/images", "/v1/openai/images", "/v1/v1/images")


@attrs.frozen
class ServerConfig:
    """How `imagepricing serve` runs; also what each worker process rebuilds its app from.

    `price` holds (provider, model, amount) overrides, applied after the `prices` books as
    `Catalog.with_price` applies them. `metrics_dir`: where several workers share their counters;
    None makes a fresh one in the temporary directory (removed at exit).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    provider: str = "acedata"
    url_policy: str = "basic"
    data: str | None = None
    prices: tuple[str, ...] = ()
    price: tuple[tuple[str, str, str], ...] = ()
    limits: Limits = attrs.field(factory=Limits)
    graceful_timeout: int = 30
    access_log: bool = False
    metrics_dir: str | None = None

    def catalog(self) -> Catalog:
        """The tables the config names; raises CatalogError (a ValueError) for a bad table or price."""
        return assemble_catalog(self.data, self.prices, self.price, provider=self.provider)


# ------------------------------------------------------------------------------------ the app


class _Service:
    """The handlers, bound to one catalog, default provider, URL policy and set of limits."""

    def __init__(
        self, catalog: Catalog, provider: str, url_policy: str, limits: Limits, metrics_dir: str | None
    ) -> None:
        known_provider(provider, catalog)
        known_url_policy(url_policy)
        self.catalog = catalog
        self.provider = provider
        self.url_policy = url_policy
        self.limits = limits
        self.metrics = ServerMetrics(catalog, metrics_dir)
        self.openapi = _openapi(catalog)

    # -- the checks

    async def check(self, request: Request) -> Response:
        endpoint = request.query_params.get("endpoint", "generations")
        if endpoint not in ENDPOINTS:
            raise BodyError(400, "unknown_endpoint", f"endpoint must be one of {', '.join(ENDPOINTS)}")
        report = await self._checked(request, endpoint)
        return _json(200, report.to_dict())

    async def platform(self, request: Request) -> Response:
        endpoint = endpoint_from_path(request.url.path)
        if endpoint is None:  # pragma: no cover - the routes only list images paths
            raise BodyError(404, "api_not_found", "no such path")
        report = await self._checked(request, endpoint)
        if report.ok:
            return _json(200, report.to_dict())
        body = rejection_envelope(report)
        return _json(400, body, {"x-trace-id": body["trace_id"]})

    async def _checked(self, request: Request, endpoint: str) -> Report:
        provider = self._provider(request)
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding != "identity":
            raise BodyError(415, "unsupported_encoding", "a request to check must not be compressed")
        if _is_form(request):
            fields = await read_form(request, self.limits)
            payload: object = request_from_form(fields, self.catalog)
            report = check(payload, endpoint, provider, self.catalog, url_policy=self.url_policy)
        else:
            body = await read_body(request, self.limits.max_json_bytes, self.limits)
            if len(body) <= _INLINE_BYTES:
                report = self._judge(body, endpoint, provider)
            else:
                # Parsing and checking are linear in the body: a large one (a long prompt, images
                # inline) is judged in a worker thread so the event loop keeps serving the others.
                loop = asyncio.get_running_loop()
                report = await loop.run_in_executor(None, self._judge, body, endpoint, provider)
        try:
            # Before the answer is sent: whatever a client is answered is counted (docs/server.md).
            self.metrics.record(report)
        except OSError:
            message = "the check could not be counted (no room for the server's counters), so it is not answered"
            raise BodyError(503, "counts_unavailable", message) from None
        return report

    def _judge(self, body: bytes, endpoint: str, provider: str) -> Report:
        return check(parse_json(body), endpoint, provider, self.catalog, url_policy=self.url_policy)

    def _provider(self, request: Request) -> str:
        named = request.query_params.get("provider") or request.headers.get(PROVIDER_HEADER)
        if named is not None:
            if named not in self.catalog.price_books:
                known = ", ".join(self.catalog.price_books)
                raise BodyError(400, "unknown_provider", f"unknown provider; known: {known}")
            return str(named)
        for header in ("x-forwarded-host", "host"):
            host = request.headers.get(header, "").split(",", 1)[0].strip()
            found = provider_from_host(host, self.catalog) if host else None
            if found is not None:
                return found
        return self.provider

    # -- estimates

    async def estimate(self, request: Request) -> Response:
        query = request.query_params
        group_by = [name.strip() for value in query.getlist("group_by") for name in value.split(",") if name.strip()]
        if any(name not in GROUP_DIMENSIONS for name in group_by):
            raise BodyError(400, "bad_group_by", f"group_by takes {', '.join(GROUP_DIMENSIONS)}")
        endpoint = query.get("endpoint", "generations")
        if endpoint not in ENDPOINTS:
            raise BodyError(400, "unknown_endpoint", f"endpoint must be one of {', '.join(ENDPOINTS)}")
        price_basis = query.get("price_basis", "charged")
        if price_basis not in PRICE_BASES:
            raise BodyError(400, "bad_price_basis", f"price_basis must be one of {', '.join(PRICE_BASES)}")
        as_of = None
        if "as_of" in query:
            try:
                as_of = dt.date.fromisoformat(query["as_of"])
            except ValueError:
                raise BodyError(400, "bad_as_of", "as_of must be a date, YYYY-MM-DD") from None
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip"):
            raise BodyError(415, "unsupported_encoding", "Content-Encoding must be gzip or identity")
        provider = self._provider(request)

        loop = asyncio.get_running_loop()
        chunks = body_chunks(request, self.limits.max_estimate_bytes, self.limits).__aiter__()

        async def pull() -> bytes | None:
            try:
                return await chunks.__anext__()
            except StopAsyncIteration:
                return None

        def next_chunk() -> bytes | None:
            # The worker thread waits for the event loop to receive the next chunk: the log
            # streams through in constant memory while the loop keeps serving other requests.
            return asyncio.run_coroutine_threadsafe(pull(), loop).result()

        lines = jsonl_lines(next_chunk, encoding != "identity", self.limits)
        result = await loop.run_in_executor(
            None,
            lambda: estimate(
                lines,
                group_by=group_by or ("model",),
                endpoint=endpoint,
                provider=provider,
                catalog=self.catalog,
                as_of=as_of,
                price_basis=price_basis,  # checked against PRICE_BASES above
                name="<body>",
            ),
        )
        return _json(200, result.to_dict())

    # -- listings

    async def models(self, request: Request) -> Response:

        return _json(200, {"models": models_table(self.catalog, today())})

    async def prices(self, request: Request) -> Response:

        return _json(200, {"prices": prices_table(self.catalog)})

    async def spend(self, request: Request) -> Response:
        return _json(200, self.metrics.spend())

    async def healthz(self, request: Request) -> Response:
        body = {"status": "ok", "version": __version__, "models": len(self.catalog.models)}
        return _json(200, {**body, "providers": list(self.catalog.price_books), "default_provider": self.provider})

    async def openapi_json(self, request: Request) -> Response:
        return _json(200, self.openapi)

    async def metrics_text(self, request: Request) -> Response:
        return Response(self.metrics.exposition(), 200, media_type=CONTENT_TYPE)

    # -- errors

    def body_error(self, exc: BodyError) -> Response:
        self.record_bad(exc.code)
        body = envelope(exc.code, exc.message)
        headers = {"x-trace-id": body["trace_id"]}
        if exc.status in (408, 413):
            headers["connection"] = "close"  # the rest of the body is not read: the connection cannot be reused
        return _json(exc.status, body, headers)

    def record_bad(self, code: str) -> None:
        try:
            self.metrics.record_bad(code)
        except OSError:
            # No room to count it: the answer goes out uncounted (unlike a check's, it carries no spend).
            logging.getLogger("imagepricing.serve").warning("bad request %s not counted: no room", code)


class _CountInvalidHttp(logging.Filter):
    """Counts the malformed HTTP uvicorn answers itself, from its documented `uvicorn.error` logger.

    uvicorn parses HTTP before any app runs; a request it cannot parse (a broken request line or
    chunk, two Content-Lengths, a head still incomplete past `h11_max_incomplete_event_size`) it
    answers with its own 400 (text/plain, "Invalid HTTP request received.") and closes the
    connection; no ASGI hook sees it. It logs the same sentence as a warning just before, on
    `uvicorn.error` (both its h11 and httptools protocols): this filter counts that record, as
    `bad_requests_total{code="invalid_http"}`, and lets it through. If a uvicorn release rewords
    the warning, the count stops; test_server.py sends malformed HTTP and checks it. (uvicorn must
    log warnings for this: `imagepricing serve` runs it at level info.)
    """

    MESSAGE = "Invalid HTTP request received."

    def __init__(self, service: _Service) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == self.MESSAGE:
            self.service.record_bad("invalid_http")
        return True


def create_app(
    catalog: Catalog | None = None,
    *,
    provider: str = "acedata",
    url_policy: str = "basic",
    limits: Limits | None = None,
    metrics_dir: str | None = None,
) -> ASGIApp:
    """The ASGI app. Raises ValueError for an unknown provider or URL policy.

    `metrics_dir`: a directory where several processes serving the same app share their counters
    (each writes its own file there; `/metrics` and `/v1/spend` add them all up); None keeps them
    in this process. OSError if this process's file cannot be made there.
    """
    service = _Service(catalog or default_catalog(), provider, url_policy, limits or Limits(), metrics_dir)

    def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except BodyError as exc:
                return service.body_error(exc)

        return run

    routes = [
        Route("/v1/check", guarded(service.check), methods=["POST"]),
        Route("/v1/estimate", guarded(service.estimate), methods=["POST"]),
        Route("/v1/models", service.models, methods=["GET"]),
        Route("/v1/prices", service.prices, methods=["GET"]),
        Route("/v1/spend", service.spend, methods=["GET"]),
        Route("/healthz", service.healthz, methods=["GET"]),
        Route("/openapi.json", service.openapi_json, methods=["GET"]),
        Route("/metrics", service.metrics_text, methods=["GET"]),
    ]
    for prefix in _PLATFORM_PREFIXES:
        for endpoint in ENDPOINTS:
            # With and without one trailing slash, as routes.endpoint_from_path reads paths: a
            # redirect would be no answer for a gateway's check.
            for slash in ("", "/"):
                routes.append(Route(f"{prefix}/{endpoint}{slash}", guarded(service.platform), methods=["POST"]))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = {404: "api_not_found", 405: "method_not_allowed"}.get(status, "bad_request")
        service.record_bad(code)
        return _json(status, envelope(code, "no such endpoint" if status == 404 else f"HTTP {status}"))

    async def internal_error(request: Request, exc: Exception) -> Response:
        # A bug of ours: the platform's own code for it, and no detail (the log has the traceback).
        return _json(500, envelope("api_error", "internal error"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        uvicorn_log = logging.getLogger("uvicorn.error")
        counter = _CountInvalidHttp(service)
        uvicorn_log.addFilter(counter)
        try:
            yield
        finally:
            uvicorn_log.removeFilter(counter)

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.service = service
    return _HeaderLimits(app, service.limits, service)


class _HeaderLimits:
    """Refuse a request with too many headers (431) before any handler runs.

    Their total size is bounded earlier, by uvicorn's h11 parser (`h11_max_incomplete_event_size`).
    """

    def __init__(self, app: ASGIApp, limits: Limits, service: _Service) -> None:
        self.app = app
        self.limits = limits
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(name) + len(value) for name, value in headers)
            if len(headers) > self.limits.max_headers or size > self.limits.max_header_bytes:
                self.service.record_bad("headers_too_large")
                message = f"at most {self.limits.max_headers} headers of {self.limits.max_header_bytes:,} bytes in all"
                response = _json(431, envelope("headers_too_large", message), {"connection": "close"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_form(request: Request) -> bool:
    return bool(request.headers.get("content-type", "").lstrip().lower().startswith("multipart/"))


def _json(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(_dumps(body), status, headers=dict(headers) if headers else None, media_type=_JSON)


def _dumps(body: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False, default=str, separators=(",", ":"))
    except (ValueError, RecursionError):
        # A request may hold 1e999 (read as infinity) or be nested deep; it is echoed in
        # `effective`. Non-finite numbers are written as strings rather than failing the answer.
        text = json.dumps(_finite(body), ensure_ascii=False, default=str, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


def _finite(value: Any, depth: int = 0) -> Any:
    if depth > 200:
        return "(nested too deeply to show)"
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _finite(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, depth + 1) for v in value]
    return value


def _openapi(catalog: Catalog) -> dict[str, Any]:
    """A small OpenAPI 3.1 description; request bodies are the JSON Schemas `imagepricing schema` prints."""
    error = {"$ref": "#/components/schemas/Error"}

    def answer(description: str) -> dict[str, Any]:
        return {"description": description, "content": {_JSON: {"schema": {"type": "object"}}}}

    def failure(description: str) -> dict[str, Any]:
        return {"description": description, "content": {_JSON: {"schema": error}}}

    def body(endpoint: str) -> dict[str, Any]:
        return {
            "required": True,
            "content": {
                _JSON: {"schema": {"$ref": f"#/components/schemas/{endpoint}"}},
                "multipart/form-data": {"schema": {"type": "object"}},
            },
        }

    provider = {"name": "provider", "in": "query", "schema": {"enum": list(catalog.price_books)}}
    paths: dict[str, Any] = {
        "/v1/check": {
            "post": {
                "summary": "Check and price one request; 200 with the report whatever it says.",
                "parameters": [{"name": "endpoint", "in": "query", "schema": {"enum": list(ENDPOINTS)}}, provider],
                "requestBody": body("generations"),
                "responses": {"200": answer("The report (`Report.to_dict()`)."), "400": failure("Not JSON.")},
            }
        },
        "/v1/estimate": {
            "post": {
                "summary": "Price a JSON Lines log (gzip allowed); the estimate.",
                "parameters": [
                    {"name": "group_by", "in": "query", "schema": {"type": "string"}},
                    {"name": "endpoint", "in": "query", "schema": {"enum": list(ENDPOINTS)}},
                    provider,
                    {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "price_basis", "in": "query", "schema": {"enum": list(PRICE_BASES)}},
                ],
                "requestBody": {"content": {"application/jsonl": {"schema": {"type": "string"}}}},
                "responses": {"200": answer("The estimate (`Estimate.to_dict()`)."), "400": failure("Bad input.")},
            }
        },
    }
    for prefix in _PLATFORM_PREFIXES[:2]:
        for endpoint in ENDPOINTS:
            paths[f"{prefix}/{endpoint}"] = {
                "post": {
                    "summary": f"The platform's {endpoint} path: 200 and the report if ok, else its error envelope.",
                    "parameters": [provider],
                    "requestBody": body(endpoint),
                    "responses": {"200": answer("The report."), "400": failure("Upstream would reject.")},
                }
            }
    for path, what in (
        ("/v1/models", "What each model accepts and costs."),
        ("/v1/prices", "Every price book entry."),
        ("/v1/spend", "Predicted spend of the accepted checks so far, exact decimal strings."),
        ("/healthz", "Liveness."),
        ("/metrics", "Prometheus metrics (text format)."),
    ):
        paths[path] = {"get": {"summary": what, "responses": {"200": answer(what)}}}
    schemas: dict[str, Any] = {endpoint: endpoint_schema(endpoint, catalog) for endpoint in ENDPOINTS}
    schemas["Error"] = {
        "type": "object",
        "required": ["success", "error", "trace_id"],
        "properties": {
            "success": {"const": False},
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
            "trace_id": {"type": "string"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "imagepricing", "version": __version__},
        "paths": paths,
        "components": {"schemas": schemas},
    }


# ------------------------------------------------------------------------------------ running


def serve(config: ServerConfig) -> None:
    """Run the service until SIGINT or SIGTERM; requests in flight finish first (up to graceful_timeout s).

    Tables are loaded and the port bound before anything is served: a bad table raises
    CatalogError or ValueError, a port in use or a worker that cannot start ServeError (all exit
    status 2 from the command). With several workers, see `_workers` for how they are run.
    """
    catalog = config.catalog()
    remove_stale_directories()
    with contextlib.closing(listen(config.host, config.port)) as sock:
        if config.workers <= 1 and config.metrics_dir is None:
            _serve_here(config, catalog, sock, None)
            return
        with metrics_directory(config.metrics_dir) as directory:
            shared = attrs.evolve(config, metrics_dir=str(directory))
            if config.workers <= 1:
                _serve_here(shared, catalog, sock, shared.metrics_dir)
            else:
                supervise(_worker, (shared,), sock, workers=config.workers, graceful_timeout=config.graceful_timeout)


def _serve_here(config: ServerConfig, catalog: Catalog, sock: socket.socket, metrics_dir: str | None) -> None:
    try:
        app = create_app(
            catalog,
            provider=config.provider,
            url_policy=config.url_policy,
            limits=config.limits,
            metrics_dir=metrics_dir,
        )
    except OSError as exc:
        raise ServeError(f"cannot keep counters in {metrics_dir}: {exc.strerror or exc}") from None
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for the handler
    # it found. A no-op handler here makes that a normal return: a requested stop exits 0.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_uvicorn(app, sock, _uvicorn_options(config), announce=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _worker(sock: socket.socket, parent: Connection, config: ServerConfig) -> None:
    """One worker process of `serve --workers N`, spawned by `_workers.supervise`; rebuilds its app from `config`."""
    worker_setup(config.metrics_dir)
    try:
        app = create_app(
            config.catalog(),
            provider=config.provider,
            url_policy=config.url_policy,
            limits=config.limits,
            metrics_dir=config.metrics_dir,
        )
    except OSError as exc:
        parent.send(f"cannot keep counters in {config.metrics_dir}: {exc.strerror or exc}")
        sys.exit(2)
    except ValueError as exc:  # the parent loaded the same tables a moment ago; a file changed since
        parent.send(str(exc))
        sys.exit(2)
    run_uvicorn(announce_start(app, parent), sock, _uvicorn_options(config))


def _uvicorn_options(config: ServerConfig) -> dict[str, Any]:
    return {
        # h11, for its header-size limit (h11_max_incomplete_event_size). Malformed HTTP is
        # answered by uvicorn itself (400, plain text) and counted from its log (_CountInvalidHttp).
        "http": "h11",
        "h11_max_incomplete_event_size": config.limits.max_header_bytes,
        "timeout_graceful_shutdown": config.graceful_timeout,
        "access_log": config.access_log,  # off by default: a query string may hold a token
        "server_header": False,
        "log_level": "info",
        "lifespan": "on",
    }


def _stopped(signum: int, frame: object) -> None:
    """Nothing to do: uvicorn has already finished the requests in flight and stopped."""
