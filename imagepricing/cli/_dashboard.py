"""The HTML dashboard of `imagepricing estimate --format html`: one self-contained page, no
script, no network (a Content-Security-Policy forbids loading anything), CSS charts only.

- **Spend over time**, when the estimate is grouped by hour, day, week or month: one column per
  time bucket, stacked by the other dimensions (the 7 largest series, the rest as "(other)"), one
  chart per currency. Lines without a time (or, by hour, with a date alone) are never put on the
  time axis, nor is the "(other groups)" row past the group cap: a note says how many there are
  and what they cost.
- **A time axis that stays readable.** Hours and days without a line are drawn as empty columns
  (up to `_MAX_COLUMNS` of them; past that only the buckets seen are drawn, and the caption says
  so), so a quiet night is a gap, not squeezed out. Tick labels are thinned by their position
  (no two closer than a label's width, none running past the right edge), with two sets: more
  ticks at 641 px and wider, fewer under it. An hour axis over several days ticks each day's
  first hour with its date; over a single day, the hours. A value axis beside the columns prints
  the scale (0, half and the largest column, in the chart's currency), so amounts are read
  without hovering; every column still names its bucket and amount in its tooltip. Over `_DENSE`
  columns the gap between columns goes, so hundreds of hours fit in 390 px.
- **Per group**: one bar per group of the other dimensions (summed over time), per currency, its
  amount printed beside it.
- **Unknown counts under their own currency only.** A request of unknown price or model is in the
  currency of its provider's price book, and every group counts its unknowns per currency
  (`GroupTotals.unknown_price_by_currency`, `unknown_model_by_currency`): each is shown under its
  own currency (in the bars and the columns' tooltips), whatever the grouping, even for a group
  that mixes providers of different currencies. Only counts an Estimate read from an older JSON
  did not split by currency are shown apart, in a panel of their own, never under a currency
  they may not belong to.
- **USD equivalents beside the credits.** Under each chart of a currency other than USD, its total
  is followed by its USD equivalent at the reference rates (`GroupTotals.usd_equivalent`, labelled
  as an equivalent, with the priced requests that have no rate), and each bar's tooltip gives the
  group's; an equivalent is never drawn, nor added to a cost. The rates and their sources are in
  the notes.
- **The details table shows every column**: at 641 px and wider its headers wrap and it fits
  the page (no scrollbar hides the cost); under 640 px (a 390 px phone) each row is a card of
  "header: value" lines. Names never wrap mid-word; under 640 px each bar's label takes its own
  line above its bar, so the page itself never scrolls sideways.

Every piece of text goes through html.escape. Bar sizes are the only division: done in a
display context of our own, never on the costs themselves.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
from collections.abc import Iterable, Sequence
from decimal import Decimal

from imagepricing.spend import _EXACT, NO_TIME, OTHER_GROUPS, Estimate, GroupTotals

__all__ = ["render_dashboard"]

_TIME = ("hour", "day", "week", "month")
# At most this many columns on a time axis once the buckets without a line are filled in (31 days
# of hours are 744); past it only the buckets seen are drawn.
_MAX_COLUMNS = 2_000
_DENSE = 60  # columns past which they touch (no gap)
# Tick thinning, as fractions of the axis width per character of a label: the axis is at least
# 613 px wide at 641 px (wide) and 292 px at 320 px (narrow), a label character at most 7 px.
_WIDE_PER_CHAR = Decimal("0.0115")
_NARROW_PER_CHAR = Decimal("0.024")
_SERIES = 7
_PALETTE = ("#3b6fd8", "#e8833a", "#2f9e6e", "#c0392b", "#8e5bd8", "#b58900", "#17a2b8", "#7f8c8d")
_DISPLAY = decimal.Context(prec=28)
_TENTH = Decimal("0.1")
_OTHER = "(other)"

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:76em;color:#1d2430;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.8em}
.summary{color:#4a5568;overflow-wrap:anywhere}
.chart{display:grid;grid-template-columns:max-content minmax(4em,1fr) max-content;gap:.35em .8em;align-items:center}
.label{white-space:nowrap}
.bar{height:1.1em;background:#3b6fd8;border-radius:2px;min-width:1px}
.track{background:#edf1f7;border-radius:2px}
.amount{font-variant-numeric:tabular-nums;text-align:right;white-space:nowrap}
.unknown{color:#8a5a00;font-size:.9em}
.time{display:flex;align-items:flex-end;gap:2px;height:12em;border-bottom:1px solid #a0aec0;padding-top:.5em}
.col{flex:1 1 0;min-width:0;display:flex;flex-direction:column-reverse;height:100%}
.seg{width:100%;min-height:0}
.time.dense{gap:0}
.axis{position:relative;height:1.5em;color:#4a5568;font-size:.9em}
.axis span{position:absolute;top:0;white-space:nowrap;border-left:1px solid #a0aec0;padding-left:.25em}
.axiscap{color:#4a5568;font-size:.85em;margin:.1em 0 0;overflow-wrap:anywhere}
.legend{display:flex;flex-wrap:wrap;gap:.3em 1.2em;margin:.5em 0;padding:0;list-style:none}
.legend li{white-space:nowrap}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.35em;vertical-align:-.05em}
.plot{display:grid;grid-template-columns:max-content minmax(0,1fr);column-gap:.4em}
.yaxis{display:flex;flex-direction:column;justify-content:space-between;color:#4a5568;padding-top:.4em;
 font-size:.85em;text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;border-right:1px solid #a0aec0;
 padding-right:.3em}
.yaxis span{line-height:1}
table{border-collapse:collapse;margin-top:1em;width:100%}
th,td{padding:.25em .35em;border-bottom:1px solid #e2e8f0;text-align:left}
th{vertical-align:bottom;font-size:.9em}
td{overflow-wrap:anywhere}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.cost{white-space:normal;min-width:8em}
td.usd{white-space:normal}
tr.total td{font-weight:600;border-top:2px solid #a0aec0}
.note{color:#8a5a00;overflow-wrap:anywhere}
.breach{color:#fff;background:#b42318;padding:.4em .7em;border-radius:3px;font-weight:600;overflow-wrap:anywhere}
ul.bad{overflow-wrap:anywhere}
@media (max-width:640px){
 body{margin:1em auto}
 .chart{grid-template-columns:minmax(3em,1fr) auto}
 .amount .unknown{white-space:normal}
 .chart .label{grid-column:1 / -1;margin-top:.3em}
 .axis .w{display:none}
 table.details,.details tbody,.details tr,.details td{display:block;width:100%}
 .details thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
 .details tr{border-bottom:1px solid #a0aec0;padding:.4em 0}
 .details td{border:0;padding:.05em 0;text-align:left;white-space:normal;overflow-wrap:anywhere}
 .details td:empty{display:none}
 .details td::before{content:attr(data-label) ": ";color:#4a5568}
 .details tr.total td{border-top:0}
}
@media (min-width:641px){.axis .n{display:none}table.details{font-size:.92em}}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def render_dashboard(
    result: Estimate,
    *,
    summary: str,
    details: Sequence[str],
    notes: Sequence[str],
    breaches: Sequence[str],
) -> str:
    """The page. `summary`, `details` (the details table's HTML, already escaped), `notes` and
    `breaches` (plain text) come from the command line's renderer, so every format says the same."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>imagepricing estimate</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Image API cost estimate</h1>",
        f'<p class="summary">{e(summary)}.</p>',
        *(f'<p class="breach" role="alert">{e(breach)}</p>' for breach in breaches),
        f'<p class="summary">Sources: {e(", ".join(result.sources))}. Lines without a time are priced as of'
        f" {e(result.as_of.isoformat())} ({e(result.price_basis)} prices).</p>",
    ]
    # The finest time dimension is the axis (grouped by day and hour, the hours are drawn).
    time_dims = sorted((dimension for dimension in result.group_by if dimension in _TIME), key=_TIME.index)
    other_dims = [dimension for dimension in result.group_by if dimension not in _TIME]
    groups = result.groups if result.group_by else (result.totals,)
    spent = list(result.totals.cost)
    bars = bool(other_dims or not time_dims)
    if time_dims:
        # Each currency's total and USD equivalent is said once: above its bars, or its time chart.
        parts.extend(_time_charts(result, time_dims[0], other_dims, spent, with_total=not bars))
    if bars:
        parts.extend(_group_bars(result.totals, groups, other_dims, spent))
    if not spent:
        parts.append('<p class="note">No request has a known price.</p>')
    parts.extend(_unplaced_unknowns(groups, other_dims))
    parts.append("<h2>Details</h2>")
    parts.extend(details)
    parts.extend(f'<p class="note">{e(note)}</p>' for note in notes)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _sums(groups: Sequence[GroupTotals], currency: str | None = None) -> tuple[dict[str, Decimal], int, int]:
    """Costs per currency, and the unknown counts: with `currency`, those in it; without, those
    not split by currency (an Estimate read from an older JSON)."""
    cost: dict[str, Decimal] = {}
    unknown_price = unknown_model = 0
    for group in groups:
        for name, amount in group.cost.items():
            cost[name] = _EXACT.add(cost.get(name, Decimal(0)), amount)
        if currency is None:
            unknown_price += group.unknown_price - sum(group.unknown_price_by_currency.values())
            unknown_model += group.unknown_model - sum(group.unknown_model_by_currency.values())
        else:
            unknown_price += group.unknown_price_by_currency.get(currency, 0)
            unknown_model += group.unknown_model_by_currency.get(currency, 0)
    return cost, unknown_price, unknown_model


def _equivalent(groups: Iterable[GroupTotals], currency: str) -> tuple[Decimal | None, int]:
    """The USD equivalent of `currency`'s costs in `groups` (None: no priced request has a rate),
    and the priced requests without a rate."""
    known: Decimal | None = None
    missing = 0
    for group in groups:
        amount = group.usd_equivalent.get(currency)
        if amount is not None:
            known = amount if known is None else _EXACT.add(known, amount)
        missing += group.usd_unknown.get(currency, 0)
    return known, missing


def _equivalent_text(known: Decimal | None, missing: int) -> str:
    if known is None:
        return f"no USD rate for {missing:,} priced request{'' if missing == 1 else 's'}" if missing else ""
    return f"≈ {format(known, 'f')} USD equivalent" + (f" (+ {missing:,} without a rate)" if missing else "")


def _currency_total(totals: GroupTotals, currency: str) -> list[str]:
    """The paragraph under a currency's chart: its total and, but for USD, its USD equivalent."""
    e = html.escape
    if currency == "USD":
        return []
    amount = totals.cost.get(currency, Decimal(0))
    equivalent = _equivalent_text(*_equivalent((totals,), currency))
    if not equivalent:
        return []
    return [f'<p class="summary usd">{e(format(amount, "f"))} {e(currency)} in all, {e(equivalent)}.</p>']


def _unknown_text(unknown_price: int, unknown_model: int) -> str:
    parts = []
    if unknown_price:
        parts.append(f"+{unknown_price:,} unknown price")
    if unknown_model:
        parts.append(f"+{unknown_model:,} unknown model")
    return ", ".join(parts)


def _percent(amount: Decimal, largest: Decimal) -> Decimal:
    if not largest:
        return Decimal(0)
    return _DISPLAY.quantize(_DISPLAY.divide(_DISPLAY.multiply(amount, 100), largest), _TENTH)


def _merged(groups: Sequence[GroupTotals], dimensions: Sequence[str]) -> list[tuple[str, list[GroupTotals]]]:
    """The groups summed over every dimension but `dimensions`, in label order."""
    merged: dict[str, list[GroupTotals]] = {}
    for group in groups:
        label = _joined(group, dimensions) if dimensions else "total"
        merged.setdefault(label, []).append(group)
    return sorted(merged.items())


def _group_bars(
    totals: GroupTotals, groups: Sequence[GroupTotals], dimensions: Sequence[str], currencies: Sequence[str]
) -> list[str]:
    """Per group of `dimensions` (summed over the time dimensions), one bar chart per currency."""
    e = html.escape
    merged = _merged(groups, dimensions)
    title = " / ".join(dimensions) if dimensions else "total"
    parts = []
    for currency in currencies:
        rows = [(label, members, *_sums(members, currency)) for label, members in merged]
        amounts = [cost.get(currency, Decimal(0)) for _, _, cost, _, _ in rows]
        largest = max(amounts, default=Decimal(0))
        parts.append(f"<h2>{e(currency)} per {e(title)}</h2>")
        parts.extend(_currency_total(totals, currency))
        parts.append(f'<div class="chart" role="img" aria-label="{e(currency)} per {e(title)}">')
        for (label, members, cost, unknown_price, unknown_model), amount in zip(rows, amounts, strict=True):
            if currency not in cost and not (unknown_price or unknown_model):
                continue
            unknown = _unknown_text(unknown_price, unknown_model)
            equivalent = _equivalent_text(*_equivalent(members, currency)) if currency != "USD" else ""
            tip = f' title="{e(equivalent)}"' if equivalent else ""
            parts.append(
                f'<div class="label">{e(label)}</div>'
                f'<div class="track"><div class="bar" style="width:{_percent(amount, largest)}%"></div></div>'
                f'<div class="amount"{tip}>{e(format(amount, "f"))}'
                + (f' <span class="unknown">({e(unknown)})</span>' if unknown else "")
                + "</div>"
            )
        parts.append("</div>")
    return parts


def _unplaced_unknowns(groups: Sequence[GroupTotals], dimensions: Sequence[str]) -> list[str]:
    """Unknown counts whose currency the estimate does not say (read from an older JSON), once
    each, under no currency."""
    e = html.escape
    rows = []
    for label, members in _merged(groups, dimensions):
        _, unknown_price, unknown_model = _sums(members)
        if unknown_price or unknown_model:
            rows.append(f"<li>{e(label)}: {e(_unknown_text(unknown_price, unknown_model))}</li>")
    if not rows:
        return []
    return [
        "<h2>Requests of unknown cost</h2>",
        '<p class="summary">Counted by an estimate that did not record their currency (its provider\'s).</p>',
        f'<ul class="unknown">{"".join(rows)}</ul>',
    ]


def _time_charts(
    result: Estimate, axis: str, stack_by: Sequence[str], currencies: Sequence[str], *, with_total: bool
) -> list[str]:
    """Columns per time bucket, stacked by the other dimensions; lines without a time in a note."""
    e = html.escape
    groups = result.groups
    undated = [group for group in groups if group.labels[axis] == NO_TIME]
    folded = [group for group in groups if group.labels[axis] == OTHER_GROUPS]
    dated = [group for group in groups if group.labels[axis] not in (NO_TIME, OTHER_GROUPS)]
    seen = sorted({group.labels[axis] for group in dated})
    buckets = _filled(seen, axis)
    ticks = _ticks(buckets, axis)
    parts = []
    for currency in currencies:
        series_total: dict[str, Decimal] = {}
        for group in dated:
            series = _series_label(group, stack_by)
            series_total[series] = _EXACT.add(
                series_total.get(series, Decimal(0)), group.cost.get(currency, Decimal(0))
            )
        # Only series that spent in this currency: the others would be empty swatches.
        spent = [name for name in series_total if series_total[name]]
        ranked = sorted(spent, key=lambda name: (-series_total[name], name))
        kept = ranked[:_SERIES] if len(ranked) > _SERIES + 1 else ranked
        colour = {name: _PALETTE[index % len(_PALETTE)] for index, name in enumerate(kept)}
        colour[_OTHER] = _PALETTE[-1]
        columns: dict[str, dict[str, Decimal]] = {bucket: {} for bucket in buckets}
        unknown: dict[str, tuple[int, int]] = dict.fromkeys(buckets, (0, 0))
        for group in dated:
            bucket = group.labels[axis]
            series = _series_label(group, stack_by)
            if series not in colour:
                series = _OTHER
            stack = columns[bucket]
            stack[series] = _EXACT.add(stack.get(series, Decimal(0)), group.cost.get(currency, Decimal(0)))
            price, model = unknown[bucket]
            unknown[bucket] = (
                price + group.unknown_price_by_currency.get(currency, 0),
                model + group.unknown_model_by_currency.get(currency, 0),
            )
        totals = {bucket: _total(stack.values()) for bucket, stack in columns.items()}
        largest = max(totals.values(), default=Decimal(0))
        parts.append(f"<h2>{e(currency)} per {e(axis)}</h2>")
        if with_total:
            parts.extend(_currency_total(result.totals, currency))
        if not buckets:
            parts.append('<p class="note">No line has a time.</p>')
        else:
            dense = " dense" if len(buckets) > _DENSE else ""
            half = _DISPLAY.divide(largest, 2).normalize() if largest else Decimal(0)
            scale = [f"{format(largest, 'f')} {currency}", format(half, "f"), "0"]
            parts.append('<div class="plot">')
            parts.append('<div class="yaxis">' + "".join(f"<span>{e(value)}</span>" for value in scale) + "</div>")
            parts.append(
                f'<div class="time{dense}" role="img" aria-label="{e(currency)} per {e(axis)},'
                f' up to {e(format(largest, "f"))} {e(currency)}">'
            )
            for bucket in buckets:
                price, model = unknown[bucket]
                extra = _unknown_text(price, model)
                tip = f"{bucket}: {format(totals[bucket], 'f')} {currency}" + (f" ({extra})" if extra else "")
                parts.append(f'<div class="col" title="{e(tip)}">')
                for series, amount in columns[bucket].items():
                    height = _percent(amount, largest)
                    if height:
                        parts.append(
                            f'<div class="seg" style="height:{height}%;background:{colour[series]}"'
                            f' title="{e(series)}: {e(format(amount, "f"))}"></div>'
                        )
                parts.append("</div>")
            parts.append("</div>")
            parts.append('<div></div><div class="axis">')
            for left, label, css in ticks:
                kind = f' class="{css}"' if css else ""
                parts.append(f'<span{kind} style="left:{left}%">{e(label)}</span>')
            parts.append("</div></div>")
            parts.append(f'<p class="axiscap">{e(_caption(buckets, seen, axis))}</p>')
            if stack_by:
                parts.append('<ul class="legend">')
                for name in [*kept, *([_OTHER] if len(kept) < len(ranked) else [])]:
                    parts.append(f'<li><span class="swatch" style="background:{colour[name]}"></span>{e(name)}</li>')
                parts.append("</ul>")
        for left_out, what in (
            (undated, "without a time" + (" (or with a date alone)" if axis == "hour" else "")),
            (folded, f"in the {OTHER_GROUPS!r} row past the group cap"),
        ):
            if not left_out:
                continue
            cost, price, model = _sums(left_out, currency)
            count = sum(group.requests for group in left_out)
            amount = cost.get(currency, Decimal(0))
            extra = _unknown_text(price, model)
            parts.append(
                f'<p class="note">{count:,} request{"" if count == 1 else "s"} {e(what)}'
                f" ({e(format(amount, 'f'))} {e(currency)}{', ' + e(extra) if extra else ''}) are counted in"
                " the totals but not on the time axis.</p>"
            )
    return parts


def _filled(seen: Sequence[str], axis: str) -> list[str]:
    """The buckets from the first seen to the last, those without a line included, for hours and
    days (up to _MAX_COLUMNS); otherwise the buckets seen."""
    if axis not in ("hour", "day") or len(seen) < 2:
        return list(seen)
    step = dt.timedelta(hours=1) if axis == "hour" else dt.timedelta(days=1)
    first, last = (dt.datetime.fromisoformat(seen[0]), dt.datetime.fromisoformat(seen[-1]))
    if (last - first) // step >= _MAX_COLUMNS:
        return list(seen)
    moments = [first + step * index for index in range((last - first) // step + 1)]
    if axis == "hour":
        # The label estimate gives an hour (spend.time_label), built without strftime,
        # whose %Y does not pad years before 1000.
        return [f"{moment.date().isoformat()}T{moment.hour:02d}:00Z" for moment in moments]
    return [moment.date().isoformat() for moment in moments]


def _ticks(buckets: Sequence[str], axis: str) -> list[tuple[Decimal, str, str]]:
    """(left edge in percent, label, CSS class) of each tick: class "w" shows it at 641 px and
    wider only, "n" under that only, "" at every width. Candidates are every bucket, or on an hour
    axis over several days the first hour of each day, labelled with the date."""
    count = len(buckets)
    if not count:
        return []
    candidates: list[tuple[int, str]]
    if axis == "hour" and buckets[0][:10] != buckets[-1][:10]:
        candidates = [(i, b[:10]) for i, b in enumerate(buckets) if i == 0 or b[:10] != buckets[i - 1][:10]]
    elif axis == "hour":
        candidates = [(i, b[11:]) for i, b in enumerate(buckets)]
    else:
        candidates = list(enumerate(buckets))
    wide = _thinned(candidates, count, _WIDE_PER_CHAR)
    narrow = _thinned(candidates, count, _NARROW_PER_CHAR)
    ticks = []
    for index, label in candidates:
        if index in wide or index in narrow:
            css = "" if index in wide and index in narrow else "w" if index in wide else "n"
            ticks.append((_DISPLAY.quantize(_DISPLAY.divide(Decimal(100 * index), count), _TENTH), label, css))
    return ticks


def _thinned(candidates: Sequence[tuple[int, str]], count: int, per_char: Decimal) -> set[int]:
    """The candidates kept, greedily from the left: each at least one label width (and a gap)
    after the last kept, and none whose label would run past the right edge."""
    kept: set[int] = set()
    last: Decimal | None = None
    for index, label in candidates:
        width = _DISPLAY.multiply(per_char, len(label) + 1)
        position = _DISPLAY.divide(index, count)
        if position + width > 1:
            break
        if last is None or position - last >= _DISPLAY.add(width, _DISPLAY.multiply(per_char, 2)):
            kept.add(index)
            last = position
    return kept


def _caption(buckets: Sequence[str], seen: Sequence[str], axis: str) -> str:
    span = f"{buckets[0]} to {buckets[-1]}" if len(buckets) > 1 else buckets[0]
    text = f"{span}: {len(buckets):,} {axis}{'' if len(buckets) == 1 else 's'}"
    if axis == "hour":
        text += " (UTC)"
        if buckets[0][:10] != buckets[-1][:10]:
            text += "; ticks mark the first hour of each day"
    if axis in ("hour", "day") and len(buckets) > len(seen):
        text += f"; {len(buckets) - len(seen):,} without a line are drawn empty"
    elif axis in ("hour", "day") and len(seen) > 1 and len(buckets) == len(seen):
        first, last = dt.datetime.fromisoformat(seen[0]), dt.datetime.fromisoformat(seen[-1])
        step = dt.timedelta(hours=1) if axis == "hour" else dt.timedelta(days=1)
        if (last - first) // step + 1 > len(seen):
            text += f"; only the {axis}s with a line are drawn (the span is over {_MAX_COLUMNS:,} {axis}s)"
    return text + "."


def _total(amounts: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for amount in amounts:
        total = _EXACT.add(total, amount)
    return total


def _series_label(group: GroupTotals, dimensions: Sequence[str]) -> str:
    return _joined(group, dimensions) if dimensions else "spend"


def _joined(group: GroupTotals, dimensions: Sequence[str]) -> str:
    """A group's labels in `dimensions`, joined; the row past the group cap, labelled OTHER_GROUPS
    in every dimension, once (so its label stays short enough for one line)."""
    labels = [group.labels[dimension] for dimension in dimensions]
    if all(label == OTHER_GROUPS for label in labels):
        return OTHER_GROUPS
    return " / ".join(labels)
