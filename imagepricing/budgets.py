"""Budgets over an estimate: `--budget credits=500`, `--budget USD=20`, and per group,
`--budget model=gpt-image-2:credits=100`. `imagepricing estimate` exits 3 when one is exceeded.

>>> from imagepricing import estimate
>>> result = estimate(['{"model": "nano-banana", "prompt": "a"}'] * 3)
>>> [str(breach) for breach in check_budgets(result, [parse_budget("credits=0.3")])]
['budget exceeded: credits 0.42 > 0.3 (total)']

Decisions:

- **Spend is what was billed** (`GroupTotals.billed_cost`): what the platform billed where the
  log says (status, response), the prediction elsewhere. A log without outcomes therefore
  compares the predicted cost.
- **Unknown costs are not zero**, but cannot be compared either: a budget is breached by the
  known spend alone, and a breach, or a budget within limits while requests of unknown cost
  (price or model) exist, says how many such requests there are.
- **Exceeded means above**: spending exactly the budget is within it.
- **An hour budget names the hour as its label** (`hour=2026-06-01T10:00Z:credits=5`; the label
  holds colons, the amount follows the last one); another spelling is refused, never unchecked.
- **A per-group budget needs its dimension in `--group-by`**; otherwise it is a usage error
  (ValueError here), never silently unchecked. A group the log never reached has spent nothing.
- Amounts are exact Decimals; a limit must be a plain non-negative decimal number (no
  exponent, no NaN, ASCII digits only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

import attrs

from imagepricing.spend import _EXACT, GROUP_DIMENSIONS, NO_TIME, Estimate, GroupTotals

__all__ = ["Breach", "Budget", "check_budgets", "parse_budget"]

_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# The label `estimate` gives an hour (spend.time_label): a budget on another spelling of it
# ("2026-06-01T10") would match no group and never be breached, so it is refused instead.
_HOUR = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00Z")


@attrs.frozen
class Budget:
    """A spending limit in one currency, over the totals or over one group (`dimension=label`)."""

    currency: str
    limit: Decimal
    dimension: str | None = None
    label: str | None = None

    def where(self) -> str:
        return "total" if self.dimension is None else f"{self.dimension}={self.label}"


@attrs.frozen
class Breach:
    """A budget exceeded: what was spent against the limit, and how many requests of unknown cost
    come on top."""

    budget: Budget
    spent: Decimal
    unknown: int

    def __str__(self) -> str:
        unknown = f"; {self.unknown:,} request(s) of unknown cost not included" if self.unknown else ""
        return (
            f"budget exceeded: {self.budget.currency} {format(self.spent, 'f')} > {format(self.budget.limit, 'f')}"
            f" ({self.budget.where()}){unknown}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "where": self.budget.where(),
            "currency": self.budget.currency,
            "limit": format(self.budget.limit, "f"),
            "spent": format(self.spent, "f"),
            "unknown_cost_requests": self.unknown,
        }


def parse_budget(text: str) -> Budget:
    """`CURRENCY=AMOUNT` or `DIMENSION=LABEL:CURRENCY=AMOUNT`; ValueError otherwise.

    >>> parse_budget("model=gpt-image-2:credits=100")
    Budget(currency='credits', limit=Decimal('100'), dimension='model', label='gpt-image-2')
    """
    scope, sep, spend = text.rpartition(":")
    currency, eq, amount = spend.partition("=")
    currency, amount = currency.strip(), amount.strip()
    if not eq or not currency or not _AMOUNT.fullmatch(amount) or not amount.isascii():
        raise ValueError(f"expected CURRENCY=AMOUNT or DIMENSION=LABEL:CURRENCY=AMOUNT, e.g. credits=500; got {text!r}")
    if not sep:
        return Budget(currency, Decimal(amount))
    dimension, eq, label = scope.partition("=")
    dimension = dimension.strip()
    if not eq or not label:
        raise ValueError(f"expected DIMENSION=LABEL before ':' (e.g. model=gpt-image-2:credits=100); got {text!r}")
    if dimension not in GROUP_DIMENSIONS:
        raise ValueError(f"cannot budget by {dimension!r}; choose from {', '.join(GROUP_DIMENSIONS)}")
    if dimension == "hour" and not (_HOUR.fullmatch(label) or label == NO_TIME):
        raise ValueError(f"an hour is written as its group label, e.g. hour=2026-06-01T10:00Z:credits=5; got {label!r}")
    return Budget(currency, Decimal(amount), dimension, label)


def check_budgets(result: Estimate, budgets: Iterable[Budget]) -> list[Breach]:
    """The budgets `result` exceeds, in the order given. ValueError for a per-group budget whose
    dimension the estimate was not grouped by."""
    breaches = []
    for budget in budgets:
        if budget.dimension is None:
            groups: list[GroupTotals] = [result.totals]
        else:
            if budget.dimension not in result.group_by:
                raise ValueError(
                    f"the budget {budget.where()} needs --group-by to include {budget.dimension!r}"
                    f" (now: {','.join(result.group_by) or 'none'})"
                )
            groups = [group for group in result.groups if group.labels[budget.dimension] == budget.label]
        spent = Decimal(0)
        unknown = 0
        for group in groups:
            spent = _EXACT.add(spent, group.billed_cost.get(budget.currency, Decimal(0)))
            unknown += group.unknown_price + group.unknown_model
        if spent > budget.limit:
            breaches.append(Breach(budget, spent, unknown))
    return breaches
