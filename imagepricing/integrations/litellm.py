"""A LiteLLM proxy guardrail: image requests the platform would certainly reject are answered 400 at the proxy.

In the proxy's `config.yaml`::

    guardrails:
      - guardrail_name: imagepricing
        litellm_params:
          guardrail: imagepricing.integrations.litellm.ImagePricingGuardrail
          mode: pre_call
          default_on: true

`async_pre_call_hook` runs for the proxy's image routes: `call_type` `image_generation` (the
generations route) and `aimage_edit` (the edits route; `image_edit` too, for direct callers), and
leaves every other call untouched. For each image request it:

- finds the **platform's model id and provider**: from `model_map` (proxy model name -> platform id)
  when given, else from the proxy's `model_list` (`litellm_params.model`, its `openai/` style prefix
  dropped; the provider from `litellm_params.api_base`'s host), else the name as sent; the provider
  is the `provider` given, else the deployment's host. A model group whose deployments point at
  different models or providers is checked against each, and rejected only when every one rejects
  (the router may pick any of them);
- reads only the **request's own parameters**: keys that `data/parameters.toml` names. What the proxy
  adds (`messages`, `metadata`, `litellm_call_id`, `proxy_server_request`, `user_api_key_*`...) is
  never judged, nor are the `prompt: None` / `image: None` placeholders the edits route inserts;
- treats **uploaded files** (the `BytesIO`s the edits route makes of a form's files, or any bytes or
  readable object) as images, without reading them; an edits form's text values are typed as the
  platform's form parser types them (`imagepricing.integrations._forms`);
- **rejects** with `Rejected`, a `fastapi.HTTPException(400)` whose detail is the JSON body the proxy
  answers: `{"error": {"message", "type": "invalid_request_error", "param", "code", "findings": [...],
  "model", "provider"}}`, where `code` and `param` are the first error's and `findings` lists every
  error with its code, param, message, source and path. LiteLLM's proxy answers an exception from a
  guardrail with its own envelope (`code` is the HTTP status, and on the generations route the detail
  is flattened into a Python repr in `message`), so in a running proxy the guardrail registers an
  answer for its rejections on the proxy's FastAPI app (an exception handler, FastAPI's extension
  point), and every other error keeps LiteLLM's answer;
- with `on_reject="warn"` logs the rejection (codes, params, messages) at WARNING on this module's
  logger and lets the request through, its record saying `"ok": false`;
- **records** the predicted cost in `data["metadata"]["imagepricing"]` (`cost` and `unit_price` as
  decimal strings, `currency`, `provider`, `model`, `tier`, `images`, `warnings`), where LiteLLM's
  logging callbacks and spend tracking can read it.

Options: `provider`, `default_provider`, `model_map`, `model_list`, `url_policy` (default "basic", as
everywhere in imagepricing: a rejection means upstream would certainly reject), `on_reject` ("raise"
or "warn"), `as_of` (a date, or "YYYY-MM-DD": the day whose prices and rules apply; default the day of
each request, UTC), `catalog`; in config.yaml, as keys under the guardrail's `litellm_params`.

Decision: a model whose provider cannot be told (no `provider`, no known host in `api_base`) is
checked with the rules (the same for every provider) and priced at `default_provider`
("acedata", the platform; XHuoAPI is its white-label copy): the record says which provider priced it.
"""

from __future__ import annotations

import datetime
import io
import logging
import sys
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from litellm.integrations.custom_guardrail import CustomGuardrail

from imagepricing.catalog import Catalog, default_catalog
from imagepricing.engine import check
from imagepricing.integrations._forms import UPLOADED_IMAGE, FilePart, request_from_form
from imagepricing.options import known_provider, known_url_policy
from imagepricing.report import Report
from imagepricing.routes import provider_from_host

__all__ = ["CALL_TYPES", "METADATA_KEY", "ImagePricingGuardrail", "Rejected"]

logger = logging.getLogger(__name__)

# LiteLLM 1.110's proxy calls the pre-call hook with these call types (proxy/image_endpoints/endpoints.py:
# "image_generation" for generations, the route type "aimage_edit" for edits); the sync names too.
CALL_TYPES: Mapping[str, str] = {
    "image_generation": "generations",
    "aimage_generation": "generations",
    "image_edit": "edits",
    "aimage_edit": "edits",
}
METADATA_KEY = "imagepricing"
_PLACEHOLDERS = ("prompt", "image", "mask")  # the edits route inserts prompt/image as None when absent


class ImagePricingGuardrail(CustomGuardrail):
    """Pre-flight checks and predicted cost for the proxy's image routes (see the module docstring).

    Options (keyword arguments, or keys under the guardrail's `litellm_params` in config.yaml):
    `provider` (price book; default from each deployment's `api_base` host), `default_provider`,
    `model_map` ({proxy model name: platform model id}), `model_list` (the proxy's, when it is not
    the running proxy's router), `url_policy` (default "basic"), `on_reject` ("raise" or "warn"),
    `as_of` (a date or "YYYY-MM-DD"; default: each request's day, UTC), `catalog`.
    """

    def __init__(
        self,
        *,
        provider: str | None = None,
        default_provider: str = "acedata",
        model_map: Mapping[str, str] | None = None,
        model_list: Iterable[Mapping[str, Any]] | None = None,
        url_policy: str = "basic",
        on_reject: str = "raise",
        as_of: datetime.date | str | None = None,
        catalog: Catalog | None = None,
        guardrail_name: str = "imagepricing",
        event_hook: Any = "pre_call",
        default_on: bool = True,
        **kwargs: Any,
    ) -> None:
        self.catalog = default_catalog() if catalog is None else catalog
        for value in (provider, default_provider):
            if value is not None:
                known_provider(value, self.catalog)
        known_url_policy(url_policy)
        if model_map is not None and not (
            isinstance(model_map, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in model_map.items())
        ):
            raise ValueError("model_map must map proxy model names to platform model ids (strings)")
        self.provider = provider
        self.default_provider = default_provider
        self.model_map: dict[str, str] = dict(model_map or {})
        self.model_list = None if model_list is None else list(model_list)
        if on_reject not in ("raise", "warn"):
            raise ValueError(f"unknown on_reject {on_reject!r}; expected raise or warn")
        self.url_policy = url_policy
        self.on_reject = on_reject
        self.as_of = _day(as_of)
        _answer_rejections_in_the_running_proxy()
        super().__init__(guardrail_name=guardrail_name, event_hook=event_hook, default_on=default_on, **kwargs)

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: str
    ) -> dict[str, Any] | None:
        endpoint = CALL_TYPES.get(call_type)
        if endpoint is None or not isinstance(data, dict):
            return None
        request = self._request(data, endpoint)
        reports = [
            check(
                {**request, "model": model},
                endpoint,
                provider,
                self.catalog,
                as_of=self.as_of,
                url_policy=self.url_policy,
            )
            for model, provider in self._targets(data.get("model"))
        ]
        accepted = [report for report in reports if report.ok]
        if not accepted:
            rejection = Rejected(reports[0])
            if self.on_reject == "raise":
                raise rejection
            logger.warning("imagepricing: letting through a request upstream will reject: %s", rejection.message)
        metadata = data.get("metadata")
        if not isinstance(metadata, dict):
            metadata = data["metadata"] = {}
        metadata[METADATA_KEY] = _record((accepted or reports)[0])
        return data

    def _request(self, data: Mapping[str, Any], endpoint: str) -> dict[str, object]:
        """The request as the platform will receive it: its own parameters, uploads as images."""
        parameters = self.catalog.parameters
        own = {
            key: value
            for key, value in data.items()
            if key in parameters and key != "model" and not (value is None and key in _PLACEHOLDERS)
        }
        if endpoint == "generations":
            return own
        # An edits form: files are images; text is typed as a form parser types it.
        parts: list[tuple[str, str | FilePart]] = []
        typed: dict[str, object] = {}
        for key, value in own.items():
            if _is_upload(value):
                parts.append((key, FilePart(getattr(value, "name", None), None)))
            elif isinstance(value, list) and value and all(_is_upload(item) for item in value):
                # The route hands every file field over as a list; LiteLLM sends `image` on as
                # `image[]` (a list upstream) and a lone mask as one file.
                many = key == "image" or len(value) > 1
                typed[key] = [UPLOADED_IMAGE] * len(value) if many else UPLOADED_IMAGE
            elif isinstance(value, str):
                parts.append((key, value))
            else:
                typed[key] = value
        return {**request_from_form(parts, self.catalog), **typed}

    def _targets(self, proxy_model: object) -> list[tuple[object, str]]:
        """(platform model, provider) pairs the proxy may send `proxy_model` to, in the proxy's order."""
        if not isinstance(proxy_model, str):
            return [(proxy_model, self.provider or self.default_provider)]
        if proxy_model in self.model_map:
            return [(self.model_map[proxy_model], self.provider or self.default_provider)]
        targets: list[tuple[object, str]] = []
        for deployment in self._deployments(proxy_model):
            params = deployment.get("litellm_params")
            if not isinstance(params, Mapping) or not isinstance(params.get("model"), str):
                continue
            model = params["model"].rpartition("/")[2]  # "openai/gpt-image-2" -> "gpt-image-2"
            provider = self.provider or _provider_of(params.get("api_base"), self.catalog) or self.default_provider
            if (model, provider) not in targets:
                targets.append((model, provider))
        return targets or [(proxy_model, self.provider or self.default_provider)]

    def _deployments(self, proxy_model: str) -> list[Mapping[str, Any]]:
        model_list = self.model_list
        if model_list is None:
            model_list = _running_proxy_model_list()
        return [d for d in model_list if isinstance(d, Mapping) and d.get("model_name") == proxy_model]


def _running_proxy_model_list() -> list[Mapping[str, Any]]:
    """The model_list of the proxy this guardrail runs in, or [] outside a proxy."""
    try:
        from litellm.proxy.proxy_server import llm_router  # noqa: PLC0415  # only inside a running proxy
    except ImportError:  # litellm without its [proxy] extra
        return []
    model_list = getattr(llm_router, "model_list", None)
    return list(model_list) if isinstance(model_list, list) else []


def _provider_of(api_base: object, catalog: Catalog) -> str | None:
    if not isinstance(api_base, str):
        return None
    host = api_base.partition("://")[2].partition("/")[0]
    return provider_from_host(host, catalog)


def _is_upload(value: object) -> bool:
    return isinstance(value, bytes | bytearray | memoryview | io.IOBase) or callable(getattr(value, "read", None))


class Rejected(HTTPException):
    """A request the platform would reject: HTTP 400 with `detail` (also `body`), the JSON the proxy answers.

    `message`, `type` and `param` are attributes too: what LiteLLM's routes read from an exception
    when this guardrail's answer is not registered (outside a running proxy).
    """

    def __init__(self, report: Report) -> None:
        first = report.errors[0]
        summary = "; ".join(f"{f.code} ({f.param or 'request'}): {f.message}" for f in report.errors)
        self.message = f"imagepricing: the platform would reject this request: {summary}"
        self.type = "invalid_request_error"
        self.param = first.param
        self.body: dict[str, object] = {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": first.param,
                "code": first.code,
                "findings": [finding.to_dict() for finding in report.errors],
                "model": report.model,
                "provider": report.provider,
            }
        }
        super().__init__(status_code=400, detail=self.body)


_ANSWERING: weakref.WeakSet[Any] = weakref.WeakSet()


def _answer_rejections_in_the_running_proxy() -> None:
    """Register this guardrail's answer to its rejections on the running LiteLLM proxy's app, once.

    LiteLLM answers every error through its handler of `ProxyException`; its generations route wraps a
    guardrail's exception in a new ProxyException whose `message` is the exception's text (raised
    while handling it, so it is that exception's `__context__`). The answer registered here finds a
    `Rejected` in the chain and answers its body; anything else goes to LiteLLM's own handler. FastAPI
    copies its handlers into the middleware stack when it starts serving, and a guardrail is built
    during start-up, so the stack is built again with the answer in it (before any request).
    """
    proxy = sys.modules.get("litellm.proxy.proxy_server")  # only inside a running proxy; never imported here
    app = getattr(proxy, "app", None)
    proxy_exception = getattr(sys.modules.get("litellm.proxy._types"), "ProxyException", None)
    if app is None or proxy_exception is None or app in _ANSWERING:
        return
    litellm_answer: Callable[[Any, Exception], Awaitable[Any]] | None = app.exception_handlers.get(proxy_exception)
    if litellm_answer is None:
        return

    async def answer(request: Any, exc: Exception) -> Any:
        rejected = _rejected_behind(exc)
        if rejected is None:
            return await litellm_answer(request, exc)
        return JSONResponse(status_code=400, content=rejected.body, headers=getattr(exc, "headers", None) or None)

    app.exception_handlers[proxy_exception] = answer
    if app.middleware_stack is not None:
        app.middleware_stack = app.build_middleware_stack()
    _ANSWERING.add(app)


def _rejected_behind(exc: BaseException) -> Rejected | None:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:  # the routes wrap once or twice; never loop on a cycle
        if isinstance(current, Rejected):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _day(as_of: object) -> datetime.date | None:
    """`as_of` as a date: config.yaml gives a date (YAML reads 2026-05-01 as one) or a string."""
    if as_of is None or (isinstance(as_of, datetime.date) and not isinstance(as_of, datetime.datetime)):
        return as_of
    if isinstance(as_of, str):
        try:
            return datetime.date.fromisoformat(as_of)
        except ValueError:
            pass
    raise ValueError(f"as_of must be a date (YYYY-MM-DD); got {as_of!r}")


def _record(report: Report) -> dict[str, object]:
    whole = report.to_dict()
    return {
        "ok": report.ok,
        "errors": [finding.code for finding in report.errors],
        "cost": whole["cost"],
        "unit_price": whole["unit_price"],
        "currency": report.currency,
        "provider": report.provider,
        "model": report.model,
        "endpoint": report.endpoint,
        "tier": report.tier,
        "images": report.images,
        "warnings": [finding.code for finding in report.warnings],
    }
