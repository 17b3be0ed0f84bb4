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
carries a traceback or quotes the body. The service opens no outbound connection: `check` judges
URLs by their text, never by fetching or resolving them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from imagepricing import __version__
from imagepricing._clock import today
from imagepricing._tables import ENDPOINTS
from imagepricing._url_codes import URL_POLICIES
from imagepricing.catalog import Catalog, default_catalog
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
from imagepricing.pricing import PRICE_BASES
from imagepricing.report import Report
from imagepricing.routes import endpoint_from_path, provider_from_host
from imagepricing.schema import endpoint_schema

__all__ = ["CONFIG_ENV", "Limits", "ServerConfig", "app_from_environment", "create_app", "serve"]

CONFIG_ENV = "IMAGEPRICING_SERVER_CONFIG"
PROVIDER_HEADER = "x-imagepricing-provider"
_JSON = "application/json"
_INLINE_BYTES = 256 * 1024  # bodies up to this size are judged on the event loop (well under 1 ms)
_PLATFORM_PREFIXES = ("/openai/images", "/v1/images", "/v1/openai/images", "/v1/v1/images")


@attrs.frozen
class ServerConfig:
    """How `imagepricing serve` runs; also what each worker process rebuilds its app from."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    provider: str = "acedata"
    url_policy: str = "basic"
    data: str | None = None
    prices: tuple[str, ...] = ()
    price: tuple[str, ...] = ()
    limits: Limits = attrs.field(factory=Limits)
    graceful_timeout: int = 30
    access_log: bool = False

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        raw = json.loads(text)
        raw["prices"] = tuple(raw["prices"])
        raw["price"] = tuple(raw["price"])
        raw["limits"] = Limits(**raw["limits"])
        return cls(**raw)

    def catalog(self) -> Catalog:
        """The tables the config names (raises CatalogError or UsageError as the CLI does)."""
        from imagepricing.cli import catalog_from_args  # noqa: PLC0415 (the CLI imports this module lazily)

        args = argparse.Namespace(data=self.data, prices=list(self.prices), price=list(self.price), provider=None)
        catalog = catalog_from_args(args)
        if self.provider not in catalog.price_books:
            raise ValueError(f"unknown provider {self.provider!r}; known: {', '.join(catalog.price_books)}")
        return catalog


# ------------------------------------------------------------------------------------ the app


class _Service:
    """The handlers, bound to one catalog, default provider, URL policy and set of limits."""

    def __init__(self, catalog: Catalog, provider: str, url_policy: str, limits: Limits) -> None:
        if provider not in catalog.price_books:
            raise ValueError(f"unknown provider {provider!r}; known: {', '.join(catalog.price_books)}")
        if url_policy not in URL_POLICIES:
            raise ValueError(f"unknown url_policy {url_policy!r}; expected one of {', '.join(URL_POLICIES)}")
        self.catalog = catalog
        self.provider = provider
        self.url_policy = url_policy
        self.limits = limits
        self.metrics = ServerMetrics(catalog)
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
        self.metrics.record(report)
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
        from imagepricing.cli import models_table  # noqa: PLC0415

        return _json(200, {"models": models_table(self.catalog, today())})

    async def prices(self, request: Request) -> Response:
        from imagepricing.cli import prices_table  # noqa: PLC0415

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
        self.metrics.record_bad(exc.code)
        body = envelope(exc.code, exc.message)
        headers = {"x-trace-id": body["trace_id"]}
        if exc.status in (408, 413):
            headers["connection"] = "close"  # the rest of the body is not read: the connection cannot be reused
        return _json(exc.status, body, headers)


def create_app(
    catalog: Catalog | None = None,
    *,
    provider: str = "acedata",
    url_policy: str = "basic",
    limits: Limits | None = None,
) -> ASGIApp:
    """The ASGI app. Raises ValueError for an unknown provider or URL policy."""
    service = _Service(catalog or default_catalog(), provider, url_policy, limits or Limits())

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
        return _json(status, envelope(code, "no such endpoint" if status == 404 else f"HTTP {status}"))

    async def internal_error(request: Request, exc: Exception) -> Response:
        # A bug of ours: the platform's own code for it, and no detail (the log has the traceback).
        return _json(500, envelope("api_error", "internal error"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        flusher = asyncio.create_task(_flush_every_second(service)) if service.metrics.ledger.shared_dir else None
        try:
            yield
        finally:
            if flusher is not None:
                flusher.cancel()
            service.metrics.ledger.flush()

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.service = service
    return _HeaderLimits(app, service.limits, service.metrics)


async def _flush_every_second(service: _Service) -> None:
    while True:
        await asyncio.sleep(1.0)
        service.metrics.ledger.flush()


class _HeaderLimits:
    """Refuse a request with too many headers (431) before any handler runs.

    Their total size is bounded earlier, by uvicorn's h11 parser (`h11_max_incomplete_event_size`).
    """

    def __init__(self, app: ASGIApp, limits: Limits, metrics: ServerMetrics) -> None:
        self.app = app
        self.limits = limits
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(name) + len(value) for name, value in headers)
            if len(headers) > self.limits.max_headers or size > self.limits.max_header_bytes:
                self.metrics.record_bad("headers_too_large")
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
        ("/v1/spend", "Predicted spend so far, exact decimal strings."),
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


def app_from_environment() -> ASGIApp:
    """The app for one worker of `serve --workers N`, rebuilt from the config the command exported."""
    config = ServerConfig.from_json(os.environ[CONFIG_ENV])
    return create_app(config.catalog(), provider=config.provider, url_policy=config.url_policy, limits=config.limits)


def serve(config: ServerConfig) -> None:
    """Run the service until SIGINT or SIGTERM; requests in flight finish first (up to graceful_timeout s).

    Tables are loaded here, before the port is bound, so a bad table fails at once.
    """
    import uvicorn  # noqa: PLC0415

    catalog = config.catalog()
    common: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        # h11: its header-size limit is configurable (h11_max_incomplete_event_size); the subclass
        # answers unparseable HTTP with the JSON envelope instead of uvicorn's plain text.
        "http": "imagepricing.integrations._h11:JsonErrorsH11Protocol",
        "h11_max_incomplete_event_size": config.limits.max_header_bytes,
        "timeout_graceful_shutdown": config.graceful_timeout,
        "access_log": config.access_log,  # off by default: a query string may hold a token
        "server_header": False,
        "log_level": "info",
    }
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for the handler
    # it found. A no-op handler here makes that a normal return: a requested stop exits 0.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if config.workers <= 1:
            app = create_app(catalog, provider=config.provider, url_policy=config.url_policy, limits=config.limits)
            uvicorn.run(app, **common)
        else:
            os.environ[CONFIG_ENV] = config.to_json()
            target = "imagepricing.integrations.server:app_from_environment"
            uvicorn.run(target, factory=True, workers=config.workers, **common)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stopped(signum: int, frame: object) -> None:
    """Nothing to do: uvicorn has already finished the requests in flight and stopped."""
