"""Reading what a log line's envelope says beyond the request: where the call went and what came back.

`estimation` calls these only for envelope keys that are not already plain, so a log of bare
requests or of envelopes naming `generations` and `acedata` never reaches this module.

- **Endpoint**: a name (`generations`, `edits`), a path under any prefix
  (`/v1/images/generations`, `/openai/images/edits`, `/v1/openai/images/edits`) or a full URL;
  the host of a URL names the provider (`api.acedata.cloud`, `api.xhuoapi.ai`, `api.openai.com`,
  from the price books' `hosts`) for a line that has no `provider`. Read by `imagepricing.routes`.
- **Billed images** (`billed_images`): what the platform billed, read from `status` (the HTTP
  status) and `response` (the platform's JSON answer). Ace Data Cloud's and XHuoAPI's pages show
  `{"success": true, "data": [...]}` (or `"data": {"created": ..., "data": [...]}`) and
  `{"success": false, "error": {...}}`; a failed call is not billed, and a successful one bills
  each image returned. `call_outcome` says both: the images billed and whether the call failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from imagepricing._tables import ENDPOINTS
from imagepricing.capabilities import Catalog
from imagepricing.routes import route

__all__ = ["ENVELOPE_FIELDS", "EndpointReader", "billed_images", "call_outcome", "field_names"]

# The envelope's keys, by role; `field_names` renames them for logs that call them otherwise.
ENVELOPE_FIELDS: Final = ("request", "endpoint", "provider", "time", "status", "response", "id")

_MEMO_LIMIT = 1024
_MAX_RESPONSE_TEXT = 1 << 20  # a response logged as JSON text is parsed up to this size
_MAX_IMAGES = 10_000  # more items than any request may ask for: no image list, whatever it is


def field_names(renames: Mapping[str, str] | None) -> dict[str, str]:
    """Every envelope role mapped to the key a log uses for it. ValueError for an unknown role,
    a key that is not a non-empty string, or two roles given the same key."""
    names = {role: role for role in ENVELOPE_FIELDS}
    for role, key in (renames or {}).items():
        if role not in names:
            raise ValueError(f"unknown envelope field {role!r}; choose from {', '.join(ENVELOPE_FIELDS)}")
        if type(key) is not str or not key:
            raise ValueError(f"the log key for {role!r} must be a non-empty string")
        names[role] = key
    if len(set(names.values())) != len(names):
        raise ValueError("two envelope fields are read from the same log key")
    return names


class EndpointReader:
    """Reads an envelope's `endpoint` value: (endpoint name, the URL host's provider or None), or
    None when it names no images endpoint. Memoised (bounded): a log repeats a handful of URLs."""

    __slots__ = ("catalog", "memo")

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.memo: dict[str, tuple[str, str | None] | None] = {}

    def __call__(self, value: object) -> tuple[str, str | None] | None:
        if type(value) is not str:
            return None
        try:
            return self.memo[value]
        except KeyError:
            pass
        found: tuple[str, str | None] | None
        if value in ENDPOINTS:
            found = (value, None)
        else:
            where = route(value.strip(), self.catalog)
            found = None if where.endpoint is None else (where.endpoint, where.provider)
        if len(self.memo) >= _MEMO_LIMIT:
            self.memo.clear()
        self.memo[value] = found
        return found


def billed_images(status: object, response: object, predicted: int) -> int | None:
    """The images the platform billed for one call, or None when the envelope does not say
    (`call_outcome`'s first half).

    >>> billed_images(200, {"success": True, "data": [{"url": "a"}, {"url": "b"}]}, 1)
    2
    >>> billed_images(500, None, 1), billed_images(None, {"success": False, "error": {}}, 1)
    (0, 0)
    >>> billed_images(None, None, 1) is None
    True
    """
    outcome = call_outcome(status, response, predicted)
    return None if outcome is None else outcome[0]


def call_outcome(status: object, response: object, predicted: int) -> tuple[int, bool] | None:
    """What the envelope says of one call: (images billed, whether the call failed), or None when
    it says nothing.

    A call **failed** when its HTTP status is 400 or more, or its response says `"success": false`
    (or holds an `error` object and no data): it billed 0 images. For a successful one, the
    number of items in the response's `data` list (at the top, or in `data.data` as the DALL-E
    guide shows); `predicted` when the call succeeded but the response lists no images (a status
    alone, or a response logged without its data). A success that lists no image at all
    (`"data": []`) billed 0 but did not fail. A status or response of the wrong kind is no
    evidence and is ignored.

    >>> call_outcome(502, None, 1), call_outcome(200, {"success": True, "data": []}, 1)
    ((0, True), (0, False))
    >>> call_outcome(200, None, 2), call_outcome("OK", None, 2)
    ((2, False), None)
    """
    code = _status_code(status)
    if code is not None and code >= 400:
        return _FAILED
    answer = _response_object(response)
    if answer is not None:
        success = answer.get("success")
        if success is False:
            return _FAILED
        count = _image_count(answer.get("data"))
        if count is not None:
            return count, False
        if success is not True and isinstance(answer.get("error"), Mapping):
            return _FAILED
        if success is True:
            return predicted, False
    return None if code is None else (predicted, False)


_FAILED: Final = (0, True)


def _status_code(status: object) -> int | None:
    if type(status) is int and 100 <= status <= 599:
        return status
    if type(status) is str and len(status) == 3 and status.isascii() and status.isdigit():
        return int(status)
    return None


def _response_object(response: object) -> Mapping[str, Any] | None:
    if isinstance(response, Mapping):
        return response
    if type(response) is str and len(response) <= _MAX_RESPONSE_TEXT:
        # Some loggers keep the body as text.
        try:
            parsed = json.loads(response)
        except (ValueError, RecursionError):
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def _image_count(data: object) -> int | None:
    if isinstance(data, Mapping):
        data = data.get("data")
    if type(data) is list and len(data) <= _MAX_IMAGES:
        return sum(1 for item in data if isinstance(item, Mapping))
    return None
