"""The server's Prometheus metrics and its exact predicted spend.

Exposed at `GET /metrics` (Prometheus text format, written by prometheus_client):

- `imagepricing_checks_total{endpoint, outcome}`: requests checked; outcome `ok` or `rejected`.
- `imagepricing_rejections_total{code}`: error findings, one per finding, by finding code.
- `imagepricing_ignored_parameters_total{param}`: parameters upstream drops or overrides.
- `imagepricing_bad_requests_total{code}`: requests the server answered with an error of its
  own (not JSON, too large, too slow, a broken form, no such path, ...) and malformed HTTP that
  uvicorn answered before the app ran (`invalid_http`), by error code.
- `imagepricing_predicted_spend_total{provider, model, currency}`: the predicted cost of the
  accepted requests, summed.

Every label value comes from the catalog or a fixed registry of codes, never from the request, so
the number of series is bounded and no client text reaches the exposition (an unknown name is
`(other)`, a request naming no served model `(invalid)`).

**Exact spend.** Costs are `Decimal`s, added in a context that traps Inexact. Prometheus sample
values are floats by nature: the exact total becomes a float only when the text is written, so
rounding never accumulates. The exact totals, as decimal strings, are at `GET /v1/spend`.

**What the spend covers.** The predicted cost of the checks whose request the rules accept: a
rejected check has no cost (`Report.cost` is None: upstream would refuse it, and a refused call is
not billed), so nothing the server rejects is in the spend; `/v1/spend` gives the checks it covers
(`accepted`) beside those it does not (`rejected`). The server judges requests before they are
sent and never sees upstream's answer, so it cannot know of a call that failed upstream: no failed
call is counted here (`imagepricing estimate` counts them from a log's status and response).

**Recorded before answering.** `record` runs before the answer is sent. A check's count and its
spend are one value of the store (`_counts.CountsFile`), written in one commit, so
`checks_total` and the spend never disagree, not even in a worker killed between two writes.

**Several workers** (`--workers N`): each worker keeps its counters in its own memory-mapped file
in a directory the workers share, and any worker's `/metrics` and `/v1/spend` add every file up
(`_counts.read_directory`): exact, and at once. A worker that dies, even by SIGKILL, leaves its
file, so everything it answered stays counted. The guarantee, exactly: every answer a client
received was recorded before it was sent; a worker killed after recording a check and before its
answer reached the client counts a check nobody was answered. The store errs on the side of
counting, by at most the checks a killed worker had in flight.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from imagepricing.capabilities import Catalog
from imagepricing.findings import CODES
from imagepricing.integrations._counts import EXACT, SUFFIX, CountsFile, Key, Value, read_directory, slot_size
from imagepricing.report import Report

__all__ = ["BAD_REQUEST_CODES", "CONTENT_TYPE", "ServerMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OTHER = "(other)"
INVALID_MODEL = "(invalid)"

# Every error code the server answers with itself (docs/server.md, "The error envelope").
BAD_REQUEST_CODES = frozenset(
    {
        "invalid_json",
        "invalid_form",
        "invalid_gzip",
        "invalid_content_length",
        "invalid_http",
        "client_disconnected",
        "body_too_large",
        "field_too_large",
        "form_too_large",
        "line_too_long",
        "body_timeout",
        "headers_too_large",
        "unsupported_encoding",
        "unknown_provider",
        "unknown_endpoint",
        "bad_group_by",
        "bad_price_basis",
        "bad_as_of",
        "api_not_found",
        "method_not_allowed",
        "bad_request",
        "counts_unavailable",
    }
)

_CHECKS, _REJECTIONS, _IGNORED, _BAD = "checks", "rejections", "ignored", "bad_requests"


class ServerMetrics:
    """The counters the server keeps, and their exposition.

    `directory`: where the workers of one server share their counters (`serve --workers N`);
    None keeps them in this process's memory.
    """

    def __init__(self, catalog: Catalog, directory: str | os.PathLike[str] | None = None) -> None:
        self.catalog = catalog
        self.directory = Path(directory) if directory is not None else None
        self._params = frozenset(catalog.parameters)
        path = self.directory / f"{os.getpid()}{SUFFIX}" if self.directory is not None else None
        self.counts = CountsFile(path, _capacity(catalog))
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(cast("Collector", _Collector(self)))

    def close(self) -> None:
        self.counts.close()

    def record(self, report: Report) -> None:
        """Count a check and add its spend; raises OSError if the counts file must grow and cannot."""
        model = report.model if report.model is not None and report.model in self.catalog.models else INVALID_MODEL
        outcome = "ok" if report.ok else "rejected"
        # The count and the spend under one key: one commit, so they never disagree.
        self.counts.add((_CHECKS, report.endpoint, outcome, report.provider, model, report.currency), report.cost)
        for finding in report.errors:
            self.counts.add((_REJECTIONS, finding.code if finding.code in CODES else OTHER))
        for finding in report.ignored:
            self.counts.add((_IGNORED, finding.param if finding.param in self._params else OTHER))

    def record_bad(self, code: str) -> None:
        self.counts.add((_BAD, code if code in BAD_REQUEST_CODES else OTHER))

    def values(self) -> dict[Key, Value]:
        """Every counter: all workers' (added up exactly) when they share a directory, else this process's."""
        if self.directory is None:
            return self.counts.values()
        return read_directory(self.directory)

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))

    def spend(self) -> dict[str, Any]:
        """Exact totals as decimal strings, by provider, model and currency, and per currency."""
        values = self.values()
        by_key: dict[tuple[str, str, str], Decimal] = {}
        outcomes = {"ok": 0, "rejected": 0}
        for key, (count, amount) in values.items():
            if key[0] != _CHECKS:
                continue
            outcomes[key[2]] += count
            if amount is not None:
                spend_key = (key[3], key[4], key[5])
                by_key[spend_key] = EXACT.add(by_key.get(spend_key, Decimal(0)), amount)
        per_currency: dict[str, Decimal] = {}
        for (_, _, currency), amount in by_key.items():
            per_currency[currency] = EXACT.add(per_currency.get(currency, Decimal(0)), amount)
        return {
            "scope": "this process" if self.directory is None else "all workers",
            "checks": outcomes["ok"] + outcomes["rejected"],
            # The spend is of the accepted checks; a rejected one costs nothing (never billed).
            "accepted": outcomes["ok"],
            "rejected": outcomes["rejected"],
            "spend": [
                {"provider": p, "model": m, "currency": c, "amount": str(a)} for (p, m, c), a in sorted(by_key.items())
            ],
            "totals": {currency: str(amount) for currency, amount in sorted(per_currency.items())},
        }


def _capacity(catalog: Catalog) -> int:
    """Room for every key this catalog allows, twice over: the file never grows in practice."""
    currencies = 2  # a provider's book has one currency; room for a second
    checks = 2 * 2 * len(catalog.price_books) * (len(catalog.models) + 1) * currencies
    keys = checks + len(CODES) + len(catalog.parameters) + len(BAD_REQUEST_CODES) + 3
    return 2 * keys * slot_size(96)


class _Collector:
    """A custom collector (duck-typed, as prometheus_client allows) over the exact counters."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[CounterMetricFamily]:
        values = self.metrics.values()
        checks: dict[tuple[str, ...], int] = {}
        spend: dict[tuple[str, ...], Decimal] = {}
        counts: dict[str, dict[tuple[str, ...], int]] = {_REJECTIONS: {}, _IGNORED: {}, _BAD: {}}
        for key, (count, amount) in values.items():
            family, labels = key[0], key[1:]
            if family == _CHECKS:
                checks[labels[:2]] = checks.get(labels[:2], 0) + count
                if amount is not None:
                    spend[labels[2:]] = EXACT.add(spend.get(labels[2:], Decimal(0)), amount)
            elif family in counts:
                counts[family][labels] = counts[family].get(labels, 0) + count
        yield _family(
            "imagepricing_checks", "Requests checked, by endpoint and outcome.", ["endpoint", "outcome"], checks
        )
        yield _family("imagepricing_rejections", "Error findings, by code.", ["code"], counts[_REJECTIONS])
        yield _family(
            "imagepricing_ignored_parameters", "Parameters upstream drops or overrides.", ["param"], counts[_IGNORED]
        )
        yield _family(
            "imagepricing_bad_requests",
            "Requests answered with an error of the server's own, by error code.",
            ["code"],
            counts[_BAD],
        )
        yield _family(
            "imagepricing_predicted_spend",
            "Predicted cost of accepted requests (an exact Decimal sum; a float only in this text).",
            ["provider", "model", "currency"],
            spend,
        )


def _family(
    name: str,
    documentation: str,
    labels: list[str],
    values: dict[tuple[str, ...], int] | dict[tuple[str, ...], Decimal],
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for label_values, value in sorted(values.items()):
        exact: Any = value  # prometheus_client turns a Decimal into a float when it writes the text
        family.add_metric(list(label_values), exact)
    return family
