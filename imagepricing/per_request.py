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
from decimal import Decimal
from typing import Final, NamedTuple

from imagepricing.capabilities import Catalog
from imagepricing.catalog import default_catalog
from imagepricing.log_lines import LineJudge, Sink, Verdict
from imagepricing.options import Options
from imagepricing.pricing import PriceBasis
from imagepricing.spend import LINE_STATUSES, line_status

__all__ = ["STATUSES", "RequestPricer", "RequestResult"]

STATUSES: Final = (*LINE_STATUSES, "unreadable", "blank")

# Outcomes remembered by one pricer before it starts afresh: what a pricer keeps grows with the
# distinct outcomes (shapes x days) it has seen, and a long-lived worker thread must stay bounded.
_OUTCOME_LIMIT = 1 << 16


class RequestResult(NamedTuple):
    """One line's result. Every field but `status` is None where it does not apply: `ok`, the
    labels and `images` for unreadable and blank lines, prices when unknown, `reason` unless
    the line is unreadable. `errors` lists the error codes of a request upstream would refuse."""

    status: str
    ok: bool | None
    endpoint: str | None
    provider: str | None
    model: str | None
    tier: str | None
    day: dt.date | None
    images: int | None
    unit_price: Decimal | None
    multiplier: Decimal | None
    cost: Decimal | None
    currency: str | None
    errors: tuple[str, ...]
    reason: str | None
    billed: int | None = None
    """Images the platform billed, where the envelope says (status, response); else None."""
    billed_cost: Decimal | None = None
    """What the platform billed for them (0 for a failed call), where the envelope says and the
    price is known; else None."""
    usd_equivalent: Decimal | None = None
    """`cost` in US dollars at `usd_rate` (a reference, never a charge); None where either is unknown."""
    usd_rate: Decimal | None = None
    """US dollars per unit of `currency` on the line's day (the price book's reference rate); None
    where none is recorded or the request is not billed."""


BLANK: Final = RequestResult("blank", None, None, None, None, None, None, None, None, None, None, None, (), None)


class RequestPricer:
    """Prices lines into `RequestResult`s with `estimate`'s own reading and memo.

    Options as for `imagepricing.estimate`; ValueError or TypeError for a bad one. Memory stays
    bounded: the memo starts afresh after `_OUTCOME_LIMIT` distinct outcomes.
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
        self._fields = fields
        self._sink: Sink = []
        self._judge = self._new_judge()
        self.as_of: dt.date = self._judge.as_of
        self.catalog: Catalog = self.options.catalog

    def _new_judge(self) -> LineJudge:
        # A row carries the line's date, its error codes and USD rate; no `on_full`: the numbers
        # handed out stay valid until the next batch, and a grown judge is replaced (outcomes).
        judge = LineJudge(self.options, fields=self._fields, times="day", detailed=True)
        self._results: dict[int, RequestResult] = {}
        self._unreadable: dict[str, RequestResult] = {}
        return judge

    def price_lines(self, items: Iterable[object]) -> list[RequestResult]:
        """One result per item, in order; never raises for an item's content."""
        return [self.result(outcome) for outcome in self.outcomes(items)]

    def outcomes(self, items: Iterable[object]) -> Sequence[int | str | None]:
        """The raw outcome of each item: a verdict number (see `result`), the reason of an
        unreadable line, or None for a blank one. Callers building columns use these to build
        each distinct result once."""
        judge = self._judge
        if len(judge.verdicts) > _OUTCOME_LIMIT:
            # Results already handed out stay valid; numbers from before are not mixed with new ones
            # because callers resolve them before the next call.
            judge = self._judge = self._new_judge()
        sink = self._sink
        sink.clear()
        judge.consume(items, 1, "<batch>", sink)
        del judge.bad[:]  # samples are the caller's business; keep the judge from holding lines
        return sink

    def result(self, outcome: int | str | None) -> RequestResult:
        """The result for one outcome from `outcomes` (built once per distinct outcome)."""
        if outcome is None:
            return BLANK
        if isinstance(outcome, str):
            found = self._unreadable.get(outcome)
            if found is None:
                found = RequestResult(
                    "unreadable", None, None, None, None, None, None, None, None, None, None, None, (), outcome
                )
                if len(self._unreadable) < _OUTCOME_LIMIT:
                    self._unreadable[outcome] = found
            return found
        result = self._results.get(outcome)
        if result is None:
            result = self._results[outcome] = _from_verdict(self._judge.verdicts[outcome])
        return result


def _from_verdict(verdict: Verdict) -> RequestResult:
    status = line_status(
        ok=verdict.ok,
        unknown_model=verdict.unknown_model,
        priced=verdict.cost is not None,
        failed=verdict.failed,
    )
    return RequestResult(
        status=status,
        ok=verdict.ok,
        endpoint=verdict.endpoint,
        provider=verdict.provider,
        model=verdict.model,
        tier=verdict.tier,
        day=None if verdict.moment is None else dt.date.fromisoformat(verdict.moment),
        images=verdict.images,
        unit_price=_decimal(verdict.unit_price),
        multiplier=_decimal(verdict.multiplier),
        cost=_decimal(verdict.cost),
        currency=verdict.currency,
        errors=verdict.codes,
        reason=None,
        billed=None if verdict.billed < 0 else verdict.billed,
        billed_cost=None if verdict.billed < 0 else _decimal(verdict.billed_cost),
        usd_equivalent=_decimal(verdict.usd_equivalent),
        usd_rate=_decimal(verdict.usd_rate),
    )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
