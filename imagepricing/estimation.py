"""Budget estimates over request logs: price every line of a JSON Lines log and add it up.

A log holds one request per line: either a bare request object, or an envelope
``{"endpoint": ..., "provider": ..., "time": "<ISO 8601>", "request": {...}}``. Every line is
priced with `imagepricing.check` and counted into groups (`group_by` any of model, endpoint,
provider, tier, hour, day, week, month). Nothing is dropped silently: a line that cannot be read is counted, and the
first ones are kept with file, line number and reason.

>>> result = estimate(['{"model": "nano-banana", "prompt": "an apple"}', "not json"])
>>> result.lines_read, result.totals.accepted, result.unreadable, dict(result.totals.cost)
(2, 1, 1, {'credits': Decimal('0.14')})
>>> result.bad_lines[0].reason
'not JSON: Expecting value at column 1'

The story in four modules, read in this order:

- this one: the entry points `estimate` and `estimate_files`, and `_Run`, which adds up what
  the judge counts: each verdict's count goes into the group sums (spend.Tally) of its labels.
- `imagepricing.log_lines`: `LineJudge`, which reads each line's envelope, asks the engine for
  a report (`Checker.judge`, `Checker.price`), turns a report seen for the first time into a
  `Verdict` (what the line contributes) and counts lines per verdict.
- `imagepricing.spend`: the result, `Estimate` with one `GroupTotals` per group and the
  `BadLine` samples, its labels, exact sums, `merge`, `to_dict` and `from_dict` (re-exported here).
- `imagepricing._log_reading`: files in, `open_log` (gzip or not, standard input) and the block
  reader `_blocks`, and the JSON parsers the judge calls per line.

Decisions (docs/estimate.md explains each at more length):

- **Currencies are never added together.** Costs are kept per currency (`cost` maps "credits"
  or "USD" to a Decimal), in every group and in the totals.
- **Exact sums.** Per-line costs come from the core engine as Decimals; they are added and
  multiplied in a decimal context with the maximum precision and the Inexact trap set, so a sum
  is exact or the run fails loudly, never rounds silently. Sums do not depend on line order.
- **Prices by date.** A line's `time` selects the prices in force on its UTC date; a naive time
  (no offset) is read as UTC. Lines without `time` use `as_of` (default: today, UTC). Grouped
  by hour, a line is counted in its UTC hour ("2026-06-01T10:00Z", see spend.time_label) and still
  priced by its UTC date.
- **Envelopes.** An object with a "request" key is an envelope; any other object is a bare
  request. Envelope keys other than endpoint, provider, time, status, response and request
  (ids, headers, latency, ...) are ignored, because real logs carry them; `fields` renames the
  keys read (`{"time": "ts", "request": "body"}`). "request" must be an object, "endpoint" a
  name, an images API path or a URL (whose host names the provider when "provider" is absent;
  imagepricing._envelopes), "provider" a known name, "time" an ISO 8601 string; otherwise the
  line is a bad envelope. A null endpoint, provider or time counts as absent.
- **What was billed.** "status" (HTTP) and "response" (the platform's JSON answer) say what the
  platform billed: nothing for a failed call (status >= 400 or `"success": false`), else the
  images it returned. Such a line is `observed`; every other line counts as predicted. Predicted
  and billed are shown side by side, with the number of lines where they differ.
- **Failed calls** are counted as such (`failed`), unless the rules reject the request (then it
  is `rejected`, as predicted): left out of accepted, images and the cost, which is spend, with
  what they would have cost beside (`failed_would_have_cost`).
- **USD equivalents.** A priced line's cost at the reference rate of its day (Report.usd_equivalent)
  is summed per currency in `usd_equivalent`, beside the cost and never added to it; priced lines
  whose day has no rate are counted in `usd_unknown`.
- **What counts** (spend.line_status, counted by spend.Tally). `accepted` requests pass the rules
  and are billed; `rejected` ones would fail upstream and are not billed. An accepted request
  whose price is unknown counts in `unknown_price` (its images still count as billed) and never
  adds zero to a cost. A request naming a model the catalog does not know counts in
  `unknown_model`, neither rejected nor free (a newer model is billed all the same); the first
  names are listed in `unknown_models`.
- **Group labels** come from the catalog, never from the log: a request naming a model the catalog
  does not know is grouped under "(unknown model)", one naming no model (or not a string) under
  "(invalid)", a model without size tiers under tier "(none)", a line without time
  under day "(no time)". So the number of groups is bounded by the catalog and the days covered,
  and no untrusted text reaches a label.
- **Secrets.** Reasons describe what is wrong ("not JSON: Expecting ',' delimiter at column 17",
  "bad envelope: 'request' is not an object (got an array)"); they never repeat line content,
  which may hold an API key.
- **Speed.** A line seen before, character for character, has the verdict it had (the raw-line
  memo; it turns itself off when identical lines are rare). Every other line is judged by the
  engine in two halves (`Checker.judge` and `Checker.price`, engine.py): the engine memoises by
  the request's shape (what each rule reads of it, declared by the rule) and returns the same
  Outcome for a repeated shape; so an (outcome, provider, day) seen before maps to the verdict it
  had, and only a new one is priced and turned into a verdict. estimate keeps no key or price
  logic of its own. Everything is bounded (the registries fold into the group sums, the maps
  start afresh when full), so memory stays constant; `memoize=False` checks every line afresh
  and gives identical results.
- **Reading** (imagepricing._log_reading). Files are read and decoded 64 KiB at a time and
  lines are parsed with the C scanner behind json.loads; json.loads itself decides every line
  the scanner alone does not (leading or trailing text), so results and messages are
  json.loads's. Blank lines are counted apart; a line that is not UTF-8 is unreadable; a line
  over 64 MiB is unreadable and skipped without being held in memory.
"""

from __future__ import annotations

import datetime as dt
import os
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import islice
from typing import Literal

from imagepricing._describe import escape_unprintable
from imagepricing._log_reading import (
    INCOMPLETE,
    LogReadError,
    _blocks,
    _GzipLog,
    _position,
    _read_failure,
    _total_size,
    open_log,
)
from imagepricing.catalog import Catalog, default_catalog
from imagepricing.log_lines import LineJudge, RequestResult, Sink, Verdict, time_window
from imagepricing.options import Options
from imagepricing.pricing import PriceBasis
from imagepricing.spend import (
    GROUP_DIMENSIONS,
    INVALID_MODEL,
    MAX_BAD_LINE_SAMPLES,
    MAX_GROUPS,
    MAX_UNKNOWN_MODEL_NAMES,
    NO_TIER,
    NO_TIME,
    OTHER_GROUPS,
    TIME_DIMENSIONS,
    UNKNOWN_MODEL,
    BadLine,
    Estimate,
    GroupTotals,
    Tally,
    _cap_warning,
    group_dimensions,
    group_labels,
    line_status,
)

__all__ = [
    "GROUP_DIMENSIONS",
    "INVALID_MODEL",
    "MAX_BAD_LINE_SAMPLES",
    "MAX_GROUPS",
    "MAX_UNKNOWN_MODEL_NAMES",
    "NO_TIER",
    "NO_TIME",
    "OTHER_GROUPS",
    "UNKNOWN_MODEL",
    "BadLine",
    "Estimate",
    "GroupTotals",
    "LogReadError",
    "RowSink",
    "estimate",
    "estimate_files",
    "open_log",
]

_CHUNK = 65_536  # items between progress calls, for iterables

# What `estimate_files(rows=...)` calls per block: the file's label, the block's first line number,
# its items and one result per item.
RowSink = Callable[[str, int, Sequence[object], Sequence[RequestResult]], None]
_UTC = dt.UTC


# ------------------------------------------------------------------------------- public entry points


def estimate(
    source: Iterable[object],
    *,
    group_by: Iterable[str] | str = ("model",),
    endpoint: str = "generations",
    provider: str = "acedata",
    catalog: Catalog | None = None,
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
    name: str = "<input>",
    memoize: bool = True,
    progress: Callable[[int], None] | None = None,
    max_groups: int = MAX_GROUPS,
    fields: Mapping[str, str] | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
) -> Estimate:
    """Price every item of `source` and add it up.

    Each item is a JSON line (str or bytes, surrounding whitespace allowed) or an already-parsed
    object (a dict: a bare request, or an envelope when it has a "request" key). `endpoint` and
    `provider` apply to items without an envelope value; `as_of` is the price date of items
    without a time (default today, UTC). `fields` maps envelope roles (request, endpoint,
    provider, time, status, response, id) to the keys a log names them by. `name` labels the
    bad-line samples. `progress`, if given,
    is called now and then with the number of lines read so far. `memoize=False` checks every
    request afresh (slower; the result is the same).

    Raises ValueError for an unknown endpoint, provider, price basis or group dimension, and
    TypeError when `source` is a single str or bytes (pass `text.splitlines()`).

    >>> log = [{"model": "nano-banana-2", "prompt": "a pear"},
    ...        {"provider": "xhuoapi", "request": {"model": "nano-banana", "prompt": "a fig"}}]
    >>> [(g.labels["provider"], str(g.cost["credits"])) for g in estimate(log, group_by="provider").groups]
    [('acedata', '0.28'), ('xhuoapi', '0.14')]
    """
    if isinstance(source, (str, bytes, bytearray)):
        raise TypeError("source must be an iterable of lines or objects, not one string; try text.splitlines()")
    run = _Run(
        Options(default_catalog() if catalog is None else catalog, endpoint, provider, as_of, price_basis),
        group_by,
        memoize=memoize,
        progress=progress,
        max_groups=max_groups,
        fields=fields,
        since=since,
        until=until,
    )
    judge = run.judge
    name = escape_unprintable(name)
    run.start(name)
    items = iter(source)
    while True:
        before = judge.last_line
        judge.consume(islice(items, _CHUNK), before + 1, name)
        if judge.last_line == before:
            break
        run.report_progress()
    return run.result()


def estimate_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    group_by: Iterable[str] | str = ("model",),
    endpoint: str = "generations",
    provider: str = "acedata",
    catalog: Catalog | None = None,
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
    memoize: bool = True,
    progress: Callable[[int], None] | None = None,
    max_groups: int = MAX_GROUPS,
    fields: Mapping[str, str] | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    progress_bytes: Callable[[int, int], None] | None = None,
    rows: RowSink | None = None,
) -> Estimate:
    """Like `estimate`, over log files read one after the other ("-" is standard input).

    `rows`, if given, is handed each line's own result as the line is read, in the same single
    pass that makes the totals (so the two always agree, and standard input works): called per
    block with the file's label, the number of the block's first line, its items and one
    `RequestResult` per item (`BLANK` for a blank line). imagepricing.per_request_file.RowsFile
    writes them to a file (`imagepricing estimate --per-request FILE`).

    `progress_bytes`, if given, is called with the bytes read so far and the total size of the
    files (on disk: for gzip, the compressed bytes), 0 when unknown (standard input), after each
    block; a terminal's percent and time left come from it.

    Files are streamed 64 KiB at a time (constant memory) and gzip files are read
    transparently (see `open_log`). Bad-line samples name the file and the line number within it.
    Raises LogReadError when a file cannot be opened or read to the end, e.g. a corrupt or
    truncated gzip file; the lines read before are then lost with the run. Data that is not gzip
    after the last gzip member (trailing garbage) is ignored, as `gzip -d` does: the lines before
    it count and `Estimate.warnings` says so.
    """
    run = _Run(
        Options(default_catalog() if catalog is None else catalog, endpoint, provider, as_of, price_basis),
        group_by,
        memoize=memoize,
        progress=progress,
        max_groups=max_groups,
        fields=fields,
        since=since,
        until=until,
        detailed=rows is not None,
    )
    judge = run.judge
    sink: Sink = []
    paths = list(paths)
    total = _total_size(paths) if progress_bytes is not None else 0
    done = 0
    for path in paths:
        # A file name is shown in every output (sources, bad lines, errors); escaped so that a
        # name holding a newline or an ANSI escape cannot forge a line or drive a terminal.
        label = escape_unprintable(os.fspath(path))
        is_stdin = label == "-"
        if is_stdin:
            label = "<stdin>"
        stream = open_log(path)
        run.start(label)
        raw = stream.fileobj if isinstance(stream, _GzipLog) else stream  # compressed bytes for gzip
        blocks = _blocks(stream)
        try:
            while True:
                # Only reading is in this `try`: an error of the rows' writer is its own.
                try:
                    lines = next(blocks, None)
                except (OSError, EOFError, zlib.error) as exc:
                    raise LogReadError(f"{label}: {_read_failure(exc)} after line {judge.last_line:,}") from None
                if lines is None:
                    break
                if type(lines) is int:
                    judge.skip_blank(lines)
                elif lines[0] is INCOMPLETE:  # type: ignore[index]
                    run.warnings.append(f"{label}: incomplete last line, not read (the log is still being written)")
                elif rows is None:
                    judge.consume(lines, judge.last_line + 1, label)  # type: ignore[arg-type]
                else:
                    first = judge.last_line + 1
                    sink.clear()
                    judge.consume(lines, first, label, sink)  # type: ignore[arg-type]
                    rows(label, first, lines, [judge.result(outcome) for outcome in sink])  # type: ignore[arg-type]
                    judge.make_room()
                run.report_progress()
                if progress_bytes is not None and total:
                    progress_bytes(done + _position(raw), total)
        finally:
            if progress_bytes is not None and total:
                done += _position(raw)
            if not is_stdin:
                stream.close()
        if getattr(stream, "trailing_garbage", False):
            # What `gzip -d` says of such a file; the lines before the garbage all count.
            run.warnings.append(f"{label}: decompression OK, trailing garbage ignored")
    return run.result()


# ------------------------------------------------------------------------------------ the run


class _Run:
    """One estimate: a `LineJudge` (options bound) and the group sums its counts are added to."""

    def __init__(
        self,
        options: Options,
        group_by: Iterable[str] | str,
        *,
        memoize: bool,
        progress: Callable[[int], None] | None,
        max_groups: int = MAX_GROUPS,
        fields: Mapping[str, str] | None = None,
        since: dt.date | dt.datetime | None = None,
        until: dt.date | dt.datetime | None = None,
        detailed: bool = False,
    ) -> None:
        if type(max_groups) is not int or max_groups < 1:
            raise ValueError(f"max_groups must be a positive integer, not {max_groups!r}")
        self.options = options
        self.group_by = group_dimensions(group_by)
        # A verdict keeps the line's time only where a grouping or a per-request row reads it (fewer
        # verdicts else): its UTC hour when grouped by hour (still priced by its date), else its date.
        times: Literal["day", "hour"] | None = None
        if "hour" in self.group_by:
            times = "hour"
        elif detailed or not TIME_DIMENSIONS.isdisjoint(self.group_by):
            times = "day"
        self.judge = LineJudge(
            options,
            memoize=memoize,
            fields=fields,
            window=time_window(since, until),
            times=times,
            detailed=detailed,
            on_full=self._add,
        )
        self.progress = progress
        self.sources: list[str] = []
        self.warnings: list[str] = []
        # Group sums of the verdicts counted so far; past max_groups, the groups after `cutoff` in
        # label order are added up in `other`.
        self.max_groups = max_groups
        self.groups: dict[tuple[str, ...], Tally] = {}
        self.other = Tally()
        self.cutoff: tuple[str, ...] | None = None

    def start(self, name: str) -> None:
        self.sources.append(name)
        self.judge.start(name)

    def report_progress(self) -> None:
        if self.progress is not None:
            self.progress(self.judge.lines)

    def _add(self, verdicts: list[Verdict], counts: list[int]) -> None:
        """Add each verdict's count to the sums of its group (the judge's `on_full`)."""
        for verdict, count in zip(verdicts, counts, strict=True):
            if count:
                labels = group_labels(
                    self.group_by,
                    model=verdict.model,
                    unknown_model=verdict.unknown_model,
                    endpoint=verdict.endpoint,
                    provider=verdict.provider,
                    tier=verdict.tier,
                    moment=verdict.moment,
                )
                _count(self._sums_for(labels), verdict, count)
        if len(self.groups) >= 2 * self.max_groups:
            self._cap_groups()

    def _sums_for(self, labels: tuple[str, ...]) -> Tally:
        if self.cutoff is not None and labels > self.cutoff:
            return self.other
        sums = self.groups.get(labels)
        if sums is None:
            sums = self.groups[labels] = Tally()
        return sums

    def _cap_groups(self) -> None:
        """Keep the first max_groups groups in label order and add the others up in `other`.

        A group once past the cutoff can never come back among the first ones (the cutoff only
        moves down), so the groups kept are the first max_groups of the whole log, whatever the
        order of its lines.
        """
        if len(self.groups) <= self.max_groups:
            return
        ordered = sorted(self.groups)
        for labels in ordered[self.max_groups :]:
            self.other.merge(self.groups.pop(labels))
        self.cutoff = ordered[self.max_groups - 1]

    def result(self) -> Estimate:
        judge = self.judge
        judge.release()
        self._cap_groups()
        warnings = list(self.warnings)
        total = Tally()
        for sums in self.groups.values():
            total.merge(sums)
        total.merge(self.other)
        ordered = [
            self.groups[labels].freeze(dict(zip(self.group_by, labels, strict=True))) for labels in sorted(self.groups)
        ]
        if self.other.requests:
            ordered.append(self.other.freeze(dict.fromkeys(self.group_by, OTHER_GROUPS)))
            warnings.append(_cap_warning(self.max_groups, self.group_by, self.other.requests))
        reviewed = self.options.catalog.reviewed
        if judge.after_review and reviewed is not None:
            warnings.append(
                f"lines dated after {reviewed.isoformat()} are priced as if nothing changed since: the tables'"
                " sources were last reviewed that day (imagepricing changes lists what is recorded)"
            )
        window = judge.window
        return Estimate(
            group_by=self.group_by,
            totals=total.freeze({}),
            groups=tuple(ordered),
            lines_read=judge.lines,
            unreadable=judge.unreadable,
            blank=judge.blank,
            bad_lines=tuple(judge.bad),
            sources=tuple(self.sources),
            endpoint=self.options.endpoint,
            provider=self.options.provider,
            as_of=judge.as_of,
            price_basis=self.options.price_basis,
            warnings=tuple(warnings),
            unknown_models=tuple(judge.unknown_models),
            outside_window=judge.outside,
            since=None if window is None or window[0] == dt.datetime.min else window[0].replace(tzinfo=_UTC),
            until=None if window is None or window[1] == dt.datetime.max else window[1].replace(tzinfo=_UTC),
        )


def _count(tally: Tally, verdict: Verdict, count: int) -> None:
    """Count `count` lines of one verdict into `tally` (spend.Tally: the one place lines are counted)."""
    tally.add(
        line_status(
            ok=verdict.ok,
            unknown_model=verdict.unknown_model,
            priced=verdict.cost is not None,
            failed=verdict.failed,
        ),
        count,
        verdict.currency,
        images=verdict.images if verdict.ok else 0,
        cost=_decimal(verdict.cost),
        usd_equivalent=_decimal(verdict.usd_equivalent),
        billed=None if verdict.billed < 0 else verdict.billed,
        billed_cost=_decimal(verdict.billed_cost),
    )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
