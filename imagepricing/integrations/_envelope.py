"""The platform's error envelope, built from findings: what a client would get upstream.

Ace Data Cloud and XHuoAPI answer a failed call with one JSON shape (section "Error Handling" of
XHuoAPI's "OpenAI Images Generations API" and "OpenAI Images Edits API" pages, https://docs.xhuoapi.ai,
and Ace Data Cloud's application guide for the same API):

    {"success": false, "error": {"code": "...", "message": "..."}, "trace_id": "..."}

A gateway or guard that stops a request before it leaves should answer in that shape, so a client
handles a pre-flight rejection as it handles upstream's own. Dependency-free; shared by the server
(`imagepricing.integrations.server`) and any guard that answers over HTTP.

Decisions:
- `error.code` is the first error's finding code (`above_model_limit`, `too_long`, ...), not the
  platform's generic `token_mismatched` ("Bad request, possibly due to missing or invalid
  parameters"): a client branching on the code learns more, and the HTTP status (400) is the
  platform's own for this class of failure.
- `error.message` lists every error as `code (param): message`, joined with "; " - the text of
  `RequestRejected` on one line. Findings never quote a secret, so neither does the envelope.
- `trace_id` is a fresh UUID4 per answer (the platform's own ids look like that), never anything
  the client sent, so no client text is echoed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from imagepricing.findings import Finding
from imagepricing.report import Report

__all__ = ["envelope", "new_trace_id", "rejection_envelope", "rejection_message"]

# Long prompt findings are short already; this only bounds a pathological number of findings.
_MAX_MESSAGE = 4000


def new_trace_id() -> str:
    """A fresh trace id, the shape the platform uses (a UUID4)."""
    return str(uuid.uuid4())


def envelope(code: str, message: str, trace_id: str | None = None) -> dict[str, Any]:
    """The platform's failure envelope for one error `code` and `message`.

    >>> envelope("invalid_json", "the body is not JSON", trace_id="t")
    {'success': False, 'error': {'code': 'invalid_json', 'message': 'the body is not JSON'}, 'trace_id': 't'}
    """
    return {
        "success": False,
        "error": {"code": code, "message": message},
        "trace_id": trace_id or new_trace_id(),
    }


def rejection_message(findings: Iterable[Finding]) -> str:
    """Every finding as `code (param): message`, on one line.

    >>> rejection_message([Finding("above_model_limit", "n", "dall-e-3 takes n=1; got 2.")])
    'above_model_limit (n): dall-e-3 takes n=1; got 2.'
    """
    text = "; ".join(f"{f.code} ({f.param or 'request'}): {f.message}" for f in findings)
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def rejection_envelope(report: Report, trace_id: str | None = None) -> dict[str, Any]:
    """The envelope for a report with errors (code of the first error, every error in the message).

    >>> import imagepricing
    >>> body = rejection_envelope(imagepricing.check({"model": "dall-e-3", "prompt": "p", "n": 2}), "t")
    >>> body["success"], body["error"]["code"], body["trace_id"]
    (False, 'above_model_limit', 't')
    """
    if not report.errors:
        raise ValueError("the report has no errors; a request that passes gets no error envelope")
    return envelope(report.errors[0].code, rejection_message(report.errors), trace_id)
