"""Which endpoint and which provider a URL, a path or a host names.

Logs, SDK clients and gateways name the call by where it went, not by our endpoint names:
`https://api.xhuoapi.ai/v1/openai/images/edits`, `/openai/images/generations`, a `base_url` of
`https://api.acedata.cloud`. This module is the one place that reads them, shared by the SDK
guard, the LiteLLM guardrail, the server and the log estimates.

- The endpoint is the path's last two segments, `images/generations` or `images/edits`, under any
  prefix (`/v1`, `/openai`, `/v1/openai`, and the doubled `/v1/v1` that XHuoAPI's "OpenAI Images
  Edits API" page shows). A query string or fragment is ignored; so is one trailing slash.
- The provider is the host's, from the `hosts` listed in each price book (`data/prices/*.toml`).

>>> route("https://api.xhuoapi.ai/v1/openai/images/edits")
Route(endpoint='edits', provider='xhuoapi')
>>> route("/openai/images/generations?x=1")
Route(endpoint='generations', provider=None)
>>> route("https://example.com/v1/chat/completions")
Route(endpoint=None, provider=None)
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from imagepricing._tables import ENDPOINTS, Endpoint
from imagepricing.catalog import Catalog, default_catalog

__all__ = ["Route", "endpoint_from_path", "provider_from_host", "route"]

# Paths are matched on their last two segments; anything longer than this is no API path.
_MAX_PATH = 2048


class Route(NamedTuple):
    """What a URL or path names: an endpoint name and a provider, each None when it names none."""

    endpoint: Endpoint | None
    provider: str | None


def endpoint_from_path(path: str) -> Endpoint | None:
    """`generations` or `edits` for an images API path under any prefix; None for any other path.

    >>> endpoint_from_path("/v1/v1/images/edits/")
    'edits'
    >>> endpoint_from_path("/v1/images/variations") is None
    True
    """
    if not isinstance(path, str) or len(path) > _MAX_PATH:
        return None
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path.endswith("/"):
        path = path[:-1]
    head, _, last = path.rpartition("/")
    if head.rpartition("/")[2] != "images":
        return None
    for endpoint in ENDPOINTS:
        if last == endpoint:
            return endpoint
    return None


def provider_from_host(host: str, catalog: Catalog | None = None) -> str | None:
    """The provider selling at `host` (as listed in the price books), or None.

    >>> provider_from_host("api.acedata.cloud")
    'acedata'
    """
    if not isinstance(host, str) or not host or len(host) > 255:
        return None
    return (catalog or default_catalog()).provider_for_host(host)


def route(target: str, catalog: Catalog | None = None) -> Route:
    """The endpoint and provider named by a full URL or by a bare path (which names no provider)."""
    if not isinstance(target, str) or len(target) > _MAX_PATH:
        return Route(None, None)
    if target.startswith("/"):
        return Route(endpoint_from_path(target), None)
    try:
        parts = urlsplit(target)
    except ValueError:  # an unbalanced IPv6 bracket, for one
        return Route(None, None)
    if parts.scheme.lower() not in ("http", "https"):
        return Route(None, None)
    return Route(endpoint_from_path(parts.path), provider_from_host(parts.netloc, catalog))
