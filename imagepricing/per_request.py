"""Per-request results: what one log line is, and costs, for batch callers.

`RequestPricer.price_lines` prices lines one by one (the same items `estimate` reads: JSON lines
as str or bytes, or already-parsed objects, bare requests or envelopes) and returns one
`RequestResult` per item, in order. It runs the very code `estimate` runs (`log_lines.LineJudge`:
the envelope reading, and the engine's `Checker` with its memo), so a line is read, judged and
priced the same way by both: this module is the one seam batch callers (the Arrow kernel, engines
built on it) go through.

>>> pricer = RequestPricer(as_of=dt.date(2026, 6, 1))
>>> good, bad, unknown = pricer.price_lines(
...     ['{"model": "nano-banana", "prompt": "an apple"}', "{", '{"model": "gpt-image-9", "prompt": "a"}'])
>>> good.status, good.images, good.unit_price, good.cost, good.currency
('priced', 1, Decimal('0.14'), Decimal('0.14'), 'credits')
>>> bad.status, bad.reason
('unreadable', 'not JSON: Expecting property name enclosed in double quotes at column 2')
>>> unknown.status, unknown.errors
('unknown_model', ('model_unknown',))

Decisions:

- **Statuses.** `priced` (accepted, known cost), `unknown_price` (accepted, no price known that
  day: never a cost of zero), `unknown_model` (the catalog does not know the model: reported on
  its own, so spend on a model newer than the tables is visible; `estimate` counts it apart
  too), `rejected` (upstream would refuse the request), `failed` (the envelope says the call
  failed, a status of 400 or more or `"success": false`, though the rules accept the request or
  do not know its model: billed nothing; its `cost` is what it would have cost), `unreadable`
  (the line is not a request; `reason` says why and never quotes it), `blank`. The statuses of
  requests are `spend.line_status`'s, so rows and `estimate`'s totals count alike.
- **USD equivalent.** `usd_equivalent` is `cost` in US dollars at `usd_rate`, the reference rate
  of the currency on the line's day (the price book's `usd_rates`; 1 for a price in USD); None
  when the cost or the rate is unknown (no rate is recorded for credits before 2026-05-24). A
  reference for comparing amounts, never what an account is charged.
- **Prices only where billed.** `unit_price`, `multiplier` and `cost` are None for a request
  upstream would refuse (failures are not billed), even where `check`'s report quotes a price.
- **Labels come from the catalog**, as in `estimate`: `model` is a catalog id or None (never text
  from the log), `tier` is None for a model without size tiers, `day` is the UTC date of the
  line's `time`, None when it has none (its prices are those of `as_of`).
- **Not thread-safe.** A pricer holds its memo; use one per thread (the Arrow kernel does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from imagepricing.capabilities import Catalog
from imagepricing.catalog import default_catalog
from imagepricing.log_lines import BLANK, LineJudge, RequestResult, Sink
from imagepricing.options import Options
from imagepricing.pricing import PriceBasis
from imagepricing.spend import LINE_STATUSES

__all__ = ["BLANK", "STATUSES", "RequestPricer", "RequestResult"]

STATUSES: Final = (*LINE_STATUSES, "unreadable", "blank")


class RequestPricer:
    """Prices lines into `RequestResult`s with `estimate`'s own reading and memo.

    Options as for `imagepricing.estimate`; ValueError or TypeError for a bad one. Memory stays
    bounded: the judge's registry starts afresh between batches once it is full.
    """

    def __init__(
        self,
        *,
        endpoint: str = "generations",
        provider: str = "acedata",
        catalog: Catalog | None = None,
        as_of: dt.date | None = None,
        price_basis: PriceBasis = "charged",
        fields: Mapping[str, str] | None = None,
    ) -> None:
        catalog = default_catalog() if catalog is None else catalog
        self.options = Options(catalog, endpoint, provider, as_of, price_basis)
        # A row carries the line's date, its error codes and USD rate.
        self._judge = LineJudge(self.options, fields=fields, times="day", detailed=True)
        self._sink: Sink = []
        self.as_of: dt.date = self._judge.as_of
        self.catalog: Catalog = self.options.catalog

    def price_lines(self, items: Iterable[object]) -> list[RequestResult]:
        """One result per item, in order; never raises for an item's content."""
        return [self.result(outcome) for outcome in self.outcomes(items)]

    def outcomes(self, items: Iterable[object]) -> Sequence[int | str | None]:
        """The raw outcome of each item: a verdict number (see `result`), the reason of an
        unreadable line, or None for a blank one. Callers building columns use these to build
        each distinct result once."""
        judge = self._judge
        # Results already handed out stay valid; the numbers of a batch are resolved (`result`)
        # before the next call, so starting afresh between batches mixes none of them up.
        judge.make_room()
        sink = self._sink
        sink.clear()
        judge.consume(items, 1, "<batch>", sink)
        del judge.bad[:]  # samples are the caller's business; keep the judge from holding lines
        return sink

    def result(self, outcome: int | str | None) -> RequestResult:
        """The result for one outcome from `outcomes` (built once per distinct outcome)."""
        return self._judge.result(outcome)
