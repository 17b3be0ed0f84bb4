"""Guard an `openai.OpenAI` / `openai.AsyncOpenAI` client: image requests are checked before they are sent.

>>> import openai
>>> from imagepricing.integrations.openai import guard
>>> client = guard(openai.OpenAI(base_url="https://api.xhuoapi.ai/v1", api_key="sk-..."))
>>> client.base_url.host
'api.xhuoapi.ai'

`guard(client)` returns a copy of `client` (`client.with_options(http_client=...)`: same type, same
methods, same settings) whose HTTP client carries one request event hook, the extension point both
httpx (openai 2) and httpx2 (openai 3) document. The hook reads each outgoing request:

- a POST whose path ends in `images/generations` or `images/edits` (under any prefix, see
  `imagepricing.routes`) is checked: a JSON body as is, a multipart/form-data edits body through
  `imagepricing.integrations._forms` (each file part an uploaded image, `image[]` a list). Parameters
  passed through `extra_body` are in the body, so they are checked too;
- every other request (chat, embeddings, files, a GET...) passes untouched, its body unread.

Reading a body keeps its bytes: httpx and httpx2 send the bytes they read, so an accepted request goes
out byte for byte as an unguarded client would send it (tests/integrations/test_openai.py compares).

Decisions (the issue leaves them open):

- **Provider.** Given explicitly, or found from the request's host in the price books' `hosts`. When
  `guard()` is called with no `provider` and the client's `base_url` names no known host (a gateway,
  `127.0.0.1`), it raises ValueError at once, naming the choices: rules are the same for every provider
  but prices are not, and a guess would put a wrong price in every report.
- **Last report.** `last_report()` (the context variable `LAST_REPORT`) is the Report of the last call
  this guarded client made in this context (thread or task): read it right after the call. A call
  that is not an images request (chat, a GET, ...), or an images request the guard could not check,
  clears it to None, so it never shows an earlier call's report. Calls through other, unguarded
  clients do not pass through the guard and leave it alone. Each checked request's Report is also in
  the HTTP request's extensions under `"imagepricing.report"`
  (`response = client.images.with_raw_response.generate(...)`,
  `response.http_request.extensions["imagepricing.report"]`).
- **URL policy.** `url_policy="basic"` by default, as everywhere in imagepricing (`check`, the
  LiteLLM guardrail, `imagepricing serve`): a rejection means upstream would certainly reject, and
  the platform accepts any usable http(s) URL. Pass `url_policy="strict"` for SSRF-style pre-flight
  checks (no credentials, private addresses, ...).
- **on_reject.** `"raise"` raises `GuardRejected` (a `RequestRejected` and an `openai.OpenAIError`, so
  both SDK majors propagate it as is: no retry, no wrapping) and nothing is sent. `"warn"` logs the
  rejection on the `imagepricing.integrations.openai` logger at WARNING and sends. A callable is called
  with the Report, only for a report with errors; it returns True to send anyway, False to reject as
  "raise" does; an exception it raises propagates (openai 3 as is; openai 2 propagates only
  `openai.OpenAIError` subclasses as is and wraps others, after retries, in `APIConnectionError`).
- **A client with its own http_client** (proxies, certificates, transports): pass that http client as
  `guard(client, http_client=...)`; the guard appends its hook to that client's `event_hooks` and the
  copy uses it. Without it, the copy gets the SDK's default HTTP client (`openai.DefaultHttpxClient`)
  with the client's base URL and timeout: the SDK offers no public way to read a client's http_client.
- **A body the guard cannot read** (not JSON, a broken form) on an images path: logged at WARNING and
  sent; only upstream can say what it makes of it, and a false rejection is worse than a missed one.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar, overload

import openai

from imagepricing.catalog import Catalog, default_catalog
from imagepricing.engine import check
from imagepricing.integrations._forms import FormError, parse_multipart, request_from_form
from imagepricing.options import known_endpoint, known_provider, known_url_policy
from imagepricing.report import Report, RequestRejected
from imagepricing.routes import endpoint_from_path, provider_from_host

__all__ = ["LAST_REPORT", "REPORT_EXTENSION", "GuardRejected", "OnReject", "guard", "last_report"]

logger = logging.getLogger(__name__)

OnReject = Literal["raise", "warn"] | Callable[[Report], bool]
ClientT = TypeVar("ClientT", openai.OpenAI, openai.AsyncOpenAI)

LAST_REPORT: contextvars.ContextVar[Report | None] = contextvars.ContextVar("imagepricing_last_report", default=None)
REPORT_EXTENSION = "imagepricing.report"

# An edits body is read whole to be checked (the SDK already holds the files in memory); past this
# size the guard does not parse it, logs, and lets it go (no source gives the platform's body limit).
_MAX_BODY = 256 * 1024 * 1024


class GuardRejected(RequestRejected, openai.OpenAIError):
    """A request the guard stopped before sending: a `RequestRejected` the openai SDK lets through as is.

    Both SDK majors re-raise an `OpenAIError` from the HTTP client unchanged; any other exception is
    retried (openai 2) or wrapped. Catch it as `imagepricing.RequestRejected`.
    """


class _OnRejectMisuse(TypeError, openai.OpenAIError):
    """An on_reject callable that answered neither True nor False (an OpenAIError so openai 2 does not wrap it)."""


def last_report() -> Report | None:
    """The Report of the last call a guarded client made in this context (thread or task), or None.

    None after a call that was not an images request, or that the guard could not check.
    """
    return LAST_REPORT.get()


@overload
def guard(
    client: openai.OpenAI,
    *,
    provider: str | None = ...,
    endpoint: str | None = ...,
    url_policy: str = ...,
    on_reject: OnReject = ...,
    catalog: Catalog | None = ...,
    http_client: Any = ...,
    as_of: datetime.date | None = ...,
) -> openai.OpenAI: ...
@overload
# Without the openai extra both client types are Any to mypy, and the overloads overlap.
def guard(  # type: ignore[overload-cannot-match, unused-ignore]
    client: openai.AsyncOpenAI,
    *,
    provider: str | None = ...,
    endpoint: str | None = ...,
    url_policy: str = ...,
    on_reject: OnReject = ...,
    catalog: Catalog | None = ...,
    http_client: Any = ...,
    as_of: datetime.date | None = ...,
) -> openai.AsyncOpenAI: ...
def guard(
    client: openai.OpenAI | openai.AsyncOpenAI,
    *,
    provider: str | None = None,
    endpoint: str | None = None,
    url_policy: str = "basic",
    on_reject: OnReject = "raise",
    catalog: Catalog | None = None,
    http_client: Any = None,
    as_of: datetime.date | None = None,
) -> openai.OpenAI | openai.AsyncOpenAI:
    """A copy of `client` that checks every images request before sending it (see the module docstring).

    `provider` prices the requests (default: from the request's host); `endpoint` forces
    `generations` or `edits` (default: from the path); `url_policy` (default "basic"), `catalog` and
    `as_of` (the day whose prices apply; default: the day of each call, UTC) are `check`'s.
    `http_client`: your own httpx/httpx2 client for the copy, to keep its settings (it gains the hook).
    Raises ValueError for an unknown provider, endpoint, url_policy or on_reject, or when no provider
    is given and the base URL names none; TypeError for a client that is not an OpenAI client.
    """
    catalog = default_catalog() if catalog is None else catalog
    is_async = isinstance(client, openai.AsyncOpenAI)
    if not is_async and not isinstance(client, openai.OpenAI):
        raise TypeError(f"guard() takes an openai.OpenAI or openai.AsyncOpenAI client, not {type(client).__name__}")
    if provider is not None:
        known_provider(provider, catalog)
    if endpoint is not None:
        known_endpoint(endpoint)
    if not (on_reject in ("raise", "warn") or callable(on_reject)):
        raise ValueError(f"on_reject must be 'raise', 'warn' or a callable taking a Report; got {on_reject!r}")
    known_url_policy(url_policy)
    if provider is None and provider_from_host(client.base_url.host, catalog) is None:
        raise ValueError(
            f"cannot tell the provider from base_url {str(client.base_url)!r} (no price book lists host "
            f"{client.base_url.host!r}); pass provider= one of {', '.join(catalog.price_books)}"
        )
    if as_of is not None and not (isinstance(as_of, datetime.date) and not isinstance(as_of, datetime.datetime)):
        raise ValueError(f"as_of must be a datetime.date; got {as_of!r}")
    settings = _Settings(provider, endpoint, url_policy, on_reject, catalog, as_of)
    if is_async:
        async_hook = _async_hook(settings)
        if http_client is None:
            http_client = openai.DefaultAsyncHttpxClient(base_url=client.base_url, timeout=client.timeout)
        http_client.event_hooks = {
            **http_client.event_hooks,
            "request": [*http_client.event_hooks["request"], async_hook],
        }
    else:
        sync_hook = _sync_hook(settings)
        if http_client is None:
            http_client = openai.DefaultHttpxClient(base_url=client.base_url, timeout=client.timeout)
        http_client.event_hooks = {
            **http_client.event_hooks,
            "request": [*http_client.event_hooks["request"], sync_hook],
        }
    return client.with_options(http_client=http_client)


class _Settings:
    __slots__ = ("as_of", "catalog", "endpoint", "on_reject", "provider", "url_policy")

    def __init__(
        self,
        provider: str | None,
        endpoint: str | None,
        url_policy: str,
        on_reject: OnReject,
        catalog: Catalog,
        as_of: datetime.date | None,
    ) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self.url_policy = url_policy
        self.on_reject = on_reject
        self.catalog = catalog
        self.as_of = as_of


# The hooks take the request of httpx or httpx2 (openai 2 or 3, or a legacy httpx client given to
# openai 3); both have the same Request API, so it is typed structurally as Any.
def _sync_hook(settings: _Settings) -> Callable[[Any], None]:
    def check_request(request: Any) -> None:
        # Until this call is checked, no report is its report (see "Last report").
        LAST_REPORT.set(None)
        endpoint = _images_endpoint(request, settings)
        if endpoint is None:
            return
        body = request.read() if _body_size_ok(request) else None
        _judge(request, body, endpoint, settings)

    return check_request


def _async_hook(settings: _Settings) -> Callable[[Any], Awaitable[None]]:
    async def check_request(request: Any) -> None:
        # Until this call is checked, no report is its report (see "Last report").
        LAST_REPORT.set(None)
        endpoint = _images_endpoint(request, settings)
        if endpoint is None:
            return
        body = await request.aread() if _body_size_ok(request) else None
        _judge(request, body, endpoint, settings)

    return check_request


def _images_endpoint(request: Any, settings: _Settings) -> str | None:
    if request.method != "POST":
        return None
    endpoint = endpoint_from_path(request.url.path)
    if endpoint is None:
        return None
    return settings.endpoint or endpoint


def _body_size_ok(request: Any) -> bool:
    length = request.headers.get("content-length")
    return not (length is not None and length.isascii() and length.isdigit() and int(length) > _MAX_BODY)


def _judge(request: Any, body: bytes | None, endpoint: str, settings: _Settings) -> None:
    provider = settings.provider or provider_from_host(request.url.host, settings.catalog)
    if provider is None:
        # An absolute URL to another host than base_url's: nothing to price it with.
        logger.warning("imagepricing: not checked: no provider for host %r; pass provider=", request.url.host)
        return
    payload = _payload(body, request.headers.get("content-type", ""), settings.catalog)
    if payload is None:
        logger.warning("imagepricing: not checked: the %s body could not be read as JSON or a form", endpoint)
        return
    report = check(payload, endpoint, provider, settings.catalog, as_of=settings.as_of, url_policy=settings.url_policy)
    LAST_REPORT.set(report)
    request.extensions = {**request.extensions, REPORT_EXTENSION: report}
    if report.ok:
        return
    on_reject = settings.on_reject
    if on_reject == "warn":
        logger.warning("imagepricing: sending a request upstream will reject: %s", GuardRejected(report))
        return
    if callable(on_reject):
        decision = on_reject(report)
        if not isinstance(decision, bool):
            raise _OnRejectMisuse(f"on_reject must return True (send) or False (reject); it returned {decision!r}")
        if decision:
            return
    raise GuardRejected(report)


def _payload(body: bytes | None, content_type: str, catalog: Catalog) -> object | None:
    if body is None:
        return None
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        try:
            return request_from_form(parse_multipart(body, content_type), catalog)
        except FormError:
            return None
    try:
        payload: object = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return payload
