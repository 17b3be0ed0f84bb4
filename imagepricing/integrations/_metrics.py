"""The server's Prometheus metrics, and its exact ledger of predicted spend.

Exposed at `GET /metrics` (Prometheus text format, via prometheus_client):

- `imagepricing_checks_total{endpoint, outcome}`: requests checked; outcome `ok` or `rejected`.
- `imagepricing_rejections_total{code}`: error findings, one per finding, by finding code.
- `imagepricing_ignored_parameters_total{param}`: parameters upstream drops or overrides.
- `imagepricing_bad_requests_total{code}`: bodies the server would not read (not JSON, too
  large, too slow, a broken form, ...), by error code.
- `imagepricing_predicted_spend_total{provider, model, currency}`: the predicted cost of the
  accepted requests, summed.

Every label value comes from the catalog or the code registry, never from the request, so the
number of series is bounded and no client text reaches the exposition (unknown names become
`(other)`, a request naming no served model `(invalid)`).

**Exact spend.** Costs are `Decimal`s; the ledger adds them in a decimal context of maximum
precision that traps Inexact, so each total is exact. Prometheus sample values are floats by
nature: the exact total is handed to prometheus_client as it is and becomes a float only when the
text is written (the exposition boundary), so rounding never accumulates across requests. The
exact totals, as decimal strings, are at `GET /v1/spend`.

**Several workers** (`--workers N`): prometheus_client's multiprocess mode. The command sets
`PROMETHEUS_MULTIPROC_DIR` (a fresh temporary directory unless you set one) before the workers
start; counters then live in memory-mapped files there and any worker's `/metrics` sums all of
them. The spend ledger is kept the same way in spirit: each worker writes its exact totals to
`spend-<pid>.json` in that directory (at most once a second while it changes, and at shutdown),
and `/metrics` and `/v1/spend` add every worker's file in `Decimal`. So counts are exact at once
and spend is exact but may lag by up to a second.
"""

from __future__ import annotations

import decimal
import json
import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from imagepricing.catalog import Catalog
from imagepricing.findings import CODES
from imagepricing.report import Report

__all__ = ["CONTENT_TYPE", "MULTIPROC_ENV", "ServerMetrics", "SpendLedger"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "(other)"
INVALID_MODEL = "(invalid)"

_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Overflow, decimal.DivisionByZero],
)
SpendKey = tuple[str, str, str]  # provider, model, currency


class SpendLedger:
    """Exact predicted spend by (provider, model, currency); one per process."""

    def __init__(self, shared_dir: str | None = None) -> None:
        self.totals: dict[SpendKey, Decimal] = {}
        self.shared_dir = Path(shared_dir) if shared_dir else None
        self.dirty = False

    def add(self, key: SpendKey, amount: Decimal) -> None:
        self.totals[key] = _EXACT.add(self.totals.get(key, Decimal(0)), amount)
        self.dirty = True

    def flush(self) -> None:
        """Write this process's totals for the other workers (multiprocess mode only)."""
        if self.shared_dir is None or not self.dirty:
            return
        self.dirty = False
        rows = [[*key, str(amount)] for key, amount in self.totals.items()]
        target = self.shared_dir / f"spend-{os.getpid()}.json"
        fd, temp = tempfile.mkstemp(dir=self.shared_dir, prefix=".spend-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(rows, out)
        os.replace(temp, target)  # readers see the old file or the new one, never half of one

    def combined(self) -> dict[SpendKey, Decimal]:
        """Every process's totals added exactly (only this process's outside multiprocess mode)."""
        if self.shared_dir is None:
            return dict(self.totals)
        self.flush()
        combined: dict[SpendKey, Decimal] = {}
        for path in sorted(self.shared_dir.glob("spend-*.json")):
            try:
                rows = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a worker's file vanished under us: it is rewritten within a second
            for provider, model, currency, amount in rows:
                key = (provider, model, currency)
                combined[key] = _EXACT.add(combined.get(key, Decimal(0)), Decimal(amount))
        return combined


class _SpendCollector:
    """A custom collector (duck-typed, as prometheus_client allows) over the exact spend ledger."""

    def __init__(self, ledger: SpendLedger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "imagepricing_predicted_spend",
            "Predicted cost of accepted requests (exact Decimal sum; a float only in this text).",
            labels=["provider", "model", "currency"],
        )
        for key, amount in sorted(self.ledger.combined().items()):
            exact: Any = amount  # prometheus_client turns it into a float when writing the text
            family.add_metric(list(key), exact)
        yield family


class ServerMetrics:
    """The counters the server keeps, and their exposition."""

    def __init__(self, catalog: Catalog) -> None:
        shared = os.environ.get(MULTIPROC_ENV) or None
        self.catalog = catalog
        self.ledger = SpendLedger(shared)
        own = CollectorRegistry(auto_describe=True)
        self.checks = Counter(
            "imagepricing_checks", "Requests checked, by endpoint and outcome.", ["endpoint", "outcome"], registry=own
        )
        self.rejections = Counter("imagepricing_rejections", "Error findings, by code.", ["code"], registry=own)
        self.ignored = Counter(
            "imagepricing_ignored_parameters", "Parameters upstream drops or overrides.", ["param"], registry=own
        )
        self.bad_requests = Counter(
            "imagepricing_bad_requests", "Bodies the server would not read, by error code.", ["code"], registry=own
        )
        if shared:
            self.registry = CollectorRegistry(auto_describe=True)
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call, unused-ignore]
        else:
            self.registry = own
        self.registry.register(cast("Collector", _SpendCollector(self.ledger)))
        self._params = frozenset(catalog.parameters)

    def record(self, report: Report) -> None:
        self.checks.labels(report.endpoint, "ok" if report.ok else "rejected").inc()
        for finding in report.errors:
            self.rejections.labels(finding.code if finding.code in CODES else OTHER).inc()
        for finding in report.ignored:
            param = finding.param if finding.param in self._params else OTHER
            self.ignored.labels(param).inc()
        if report.cost is not None:
            model = report.model if report.model is not None and report.model in self.catalog.models else INVALID_MODEL
            self.ledger.add((report.provider, model, report.currency), report.cost)

    def record_bad(self, code: str) -> None:
        self.bad_requests.labels(code).inc()

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))

    def spend(self) -> dict[str, Any]:
        """Exact totals as decimal strings, by provider, model and currency, and per currency."""
        combined = self.ledger.combined()
        per_currency: dict[str, Decimal] = {}
        for (_, _, currency), amount in combined.items():
            per_currency[currency] = _EXACT.add(per_currency.get(currency, Decimal(0)), amount)
        return {
            "scope": "all workers" if self.ledger.shared_dir else "this process",
            "spend": [
                {"provider": p, "model": m, "currency": c, "amount": str(a)}
                for (p, m, c), a in sorted(combined.items())
            ],
            "totals": {currency: str(amount) for currency, amount in sorted(per_currency.items())},
        }
