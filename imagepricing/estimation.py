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

The story in three modules, read in this order:

- this one: the entry points `estimate` and `estimate_files`, and `_Estimator`, the streaming
  accumulator behind both. Its loop (`_Estimator.consume`) reads each line's envelope, asks the
  engine for a report, turns a report seen for the first time into a verdict (`_Verdict`: what
  the line contributes) and counts lines per verdict; the counts fold into group sums (`_Sums`),
  which freeze into the result.
- `imagepricing.spend`: the result, `Estimate` with one `GroupTotals` per group and the
  `BadLine` samples, its labels, exact sums, `merge`, `to_dict` and `from_dict` (re-exported here).
- `imagepricing._log_reading`: files in, `open_log` (gzip or not, standard input) and the block
  reader `_blocks`, and the JSON parsers the loop calls per line.

Decisions (docs/estimate.md explains each at more length):

- **Currencies are never added together.** Costs are kept per currency (`cost` maps "credits"
  or "USD" to a Decimal), in every group and in the totals.
- **Exact sums.** Per-line costs come from the core engine as Decimals; they are added and
  multiplied in a decimal context with the maximum precision and the Inexact trap set, so a sum
  is exact or the run fails loudly, never rounds silently. Sums do not depend on line order.
- **Prices by date.** A line's `time` selects the prices in force on its UTC date; a naive time
  (no offset) is read as UTC. Lines without `time` use `as_of` (default: today, UTC). Grouped
  by hour, a line is counted in its UTC hour ("2026-06-01T10:00Z", see _time_bucket) and still
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
import decimal
import json
import os
import zlib
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from itertools import islice
from typing import Any, NamedTuple

from imagepricing import _log_reading
from imagepricing._clock import today
from imagepricing._describe import escape_unprintable, plausible_token
from imagepricing._envelopes import EndpointReader, call_outcome, field_names
from imagepricing._log_reading import (
    _FAST_LINE,
    _SCAN,
    _TOO_LONG,
    LogReadError,
    _blocks,
    _fast_loads,
    _GzipLog,
    _position,
    _read_failure,
    _total_size,
    open_log,
)
from imagepricing._tables import ENDPOINTS
from imagepricing.catalog import Catalog, default_catalog
from imagepricing.engine import Checker, Outcome
from imagepricing.pricing import PRICE_BASES, PriceBasis
from imagepricing.report import Report
from imagepricing.spend import (
    _EXACT,
    GROUP_DIMENSIONS,
    INVALID_MODEL,
    MAX_BAD_LINE_SAMPLES,
    MAX_GROUPS,
    MAX_UNKNOWN_MODEL_NAMES,
    NO_TIER,
    NO_TIME,
    OTHER_GROUPS,
    UNKNOWN_MODEL,
    BadLine,
    Estimate,
    GroupTotals,
    Tally,
    _cap_warning,
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
    "estimate",
    "estimate_files",
    "open_log",
]

_TIME_DIMENSIONS = frozenset({"hour", "day", "week", "month"})
_MAX_MODEL_NAME = 64

# Distinct verdicts held at once; past it, the counts are folded into the group sums and the
# registry starts afresh (see _Estimator._fold), so memory stays bounded whatever the log holds
# (a million distinct sizes or dates).
_REGISTRY_LIMIT = 1 << 15
# (outcome, provider, day) keys whose verdict this run knows (see _Estimator._verdict), held at once.
_SEEN_LIMIT = 1 << 16
# The raw-line verdict memo (see _Estimator.consume): a line seen before, character for character,
# has the verdict it had then. Lines up to _RAW_LINE characters, _RAW_LIMIT of them at once. It
# watches its own hit rate over windows of _RAW_WINDOW lookups and turns itself off for
# _RAW_PAUSE lines when fewer than one in _RAW_MIN_SHARE hit: on a log of distinct lines every
# insertion would be wasted work.
_RAW_LINE = 2048
_RAW_LIMIT = 8192
_RAW_WINDOW = 4096
_RAW_MIN_SHARE = 8
_RAW_PAUSE = 1 << 17
_CHUNK = 65_536  # items between progress calls, for iterables
_URL_POLICY = "basic"
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
    engine = _Estimator(
        catalog,
        group_by,
        endpoint,
        provider,
        as_of,
        price_basis,
        memoize=memoize,
        progress=progress,
        max_groups=max_groups,
        fields=fields,
        since=since,
        until=until,
    )
    name = escape_unprintable(name)
    engine.start(name)
    items = iter(source)
    while True:
        before = engine.last_line
        engine.consume(islice(items, _CHUNK), before + 1, name)
        if engine.last_line == before:
            break
        engine.report_progress()
    return engine.result()


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
) -> Estimate:
    """Like `estimate`, over log files read one after the other ("-" is standard input).

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
    engine = _Estimator(
        catalog,
        group_by,
        endpoint,
        provider,
        as_of,
        price_basis,
        memoize=memoize,
        progress=progress,
        max_groups=max_groups,
        fields=fields,
        since=since,
        until=until,
    )
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
        engine.start(label)
        raw = stream.fileobj if isinstance(stream, _GzipLog) else stream  # compressed bytes for gzip
        try:
            for lines in _blocks(stream):
                if type(lines) is int:
                    engine.skip_blank(lines)
                else:
                    engine.consume(lines, engine.last_line + 1, label)  # type: ignore[arg-type]
                engine.report_progress()
                if progress_bytes is not None and total:
                    progress_bytes(done + _position(raw), total)
        except (OSError, EOFError, zlib.error) as exc:
            raise LogReadError(f"{label}: {_read_failure(exc)} after line {engine.last_line:,}") from None
        finally:
            if progress_bytes is not None and total:
                done += _position(raw)
            if not is_stdin:
                stream.close()
        if getattr(stream, "trailing_garbage", False):
            # What `gzip -d` says of such a file; the lines before the garbage all count.
            engine.warnings.append(f"{label}: decompression OK, trailing garbage ignored")
    return engine.result()


def _window(
    since: dt.date | dt.datetime | None, until: dt.date | dt.datetime | None
) -> tuple[dt.datetime, dt.datetime] | None:
    """`since`/`until` as naive UTC date-times, `until` excluded. A date as `since` starts at its
    midnight; a date as `until` includes that whole day (a reader of "until June 30" counts the
    30th). A naive date-time is UTC, as a log's time is."""
    if since is None and until is None:
        return None
    start = dt.datetime.min if since is None else _utc(since, end=False)
    stop = dt.datetime.max if until is None else _utc(until, end=True)
    if start >= stop:
        raise ValueError("since must come before until")
    return start, stop


def _utc(moment: dt.date | dt.datetime, *, end: bool) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        offset = moment.utcoffset()
        return (moment - offset if offset else moment).replace(tzinfo=None)
    if not isinstance(moment, dt.date):
        raise TypeError(f"since and until must be dates or date-times, not {type(moment).__name__}")
    if end:
        return (
            dt.datetime.max if moment == dt.date.max else dt.datetime.combine(moment + dt.timedelta(days=1), dt.time())
        )
    return dt.datetime.combine(moment, dt.time())


# ------------------------------------------------------------------------------------ the engine


class _Verdict(NamedTuple):
    """What one line contributes; lines are counted per verdict, so per line only a counter moves."""

    endpoint: str
    provider: str
    day: str
    model: str
    tier: str
    ok: bool
    images: int
    cost: str | None  # str so that 0.30 and 0.3 stay distinct verdicts (Decimal equality merges them)
    currency: str
    # Kept only for per-request results (`detailed`); estimate leaves them empty, so its verdicts
    # are unchanged.
    codes: tuple[str, ...] = ()
    unit_price: str | None = None
    multiplier: str | None = None
    # What the platform billed, where the envelope says (status, response; see _observed):
    # -1 when it does not, and the line counts as predicted; `failed` when it says the call failed.
    billed: int = -1
    billed_cost: str | None = None
    failed: bool = False
    # The cost's USD equivalent at the reference rate of the day (None: cost or rate unknown); the
    # rate itself is kept only for per-request results (`detailed`).
    usd_equivalent: str | None = None
    usd_rate: str | None = None


_MISSING: Any = object()


class _Estimator:
    """The streaming accumulator behind `estimate` and `estimate_files`; one per run."""

    def __init__(
        self,
        catalog: Catalog | None,
        group_by: Iterable[str] | str,
        endpoint: str,
        provider: str,
        as_of: dt.date | None,
        price_basis: str,
        *,
        memoize: bool,
        progress: Callable[[int], None] | None,
        max_groups: int = MAX_GROUPS,
        fields: Mapping[str, str] | None = None,
        since: dt.date | dt.datetime | None = None,
        until: dt.date | dt.datetime | None = None,
    ) -> None:
        self.catalog = default_catalog() if catalog is None else catalog
        self.fields = field_names(fields)
        self.read_endpoint = EndpointReader(self.catalog)
        self._endpoint_problem = (
            f"bad envelope: {self.fields['endpoint']!r} must be one of {', '.join(ENDPOINTS)},"
            " or an images API path or URL ending in /images/generations or /images/edits"
        )
        self._provider_problem = (
            f"bad envelope: {self.fields['provider']!r} must be one of {', '.join(self.catalog.price_books)}"
        )
        # (verdict index, billed images, failed) -> the verdict with what was billed (see _observed)
        self.billed_ids: dict[tuple[int, int, bool], int] = {}
        # Models the catalog does not know, as the log names them (escaped, bounded; see _checked)
        self.unknown_models: dict[str, None] = {}
        if type(max_groups) is not int or max_groups < 1:
            raise ValueError(f"max_groups must be a positive integer, not {max_groups!r}")
        self.group_by = _group_dimensions(group_by)
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
        if provider not in self.catalog.price_books:
            raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(self.catalog.price_books)}")
        if price_basis not in PRICE_BASES:
            raise ValueError(f"unknown price_basis {price_basis!r}; expected one of {', '.join(PRICE_BASES)}")
        if as_of is not None and (not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime)):
            raise TypeError(f"as_of must be a date, not {type(as_of).__name__}")
        self.endpoint: str = endpoint
        self.provider = provider
        self.as_of = as_of if as_of is not None else today()
        self.price_basis: PriceBasis = price_basis
        self.memoize = memoize
        self.progress = progress
        self.by_day = not _TIME_DIMENSIONS.isdisjoint(self.group_by)
        # Grouped by hour, a timed line's time key (`day` in consume) is a naive UTC datetime
        # truncated to the hour, and its verdict's `day` its isoformat (see _time_bucket). The
        # engine prices it by its date, so one report serves the 24 hours of a date: the verdicts
        # of outcomes seen are then found by (outcome, provider, hour).
        self.by_hour = "hour" in self.group_by
        # --since/--until: (from, to) as naive UTC date-times, `to` excluded; lines outside, and
        # lines without a time, are counted in `outside` and nothing else.
        self.window: tuple[dt.datetime, dt.datetime] | None = _window(since, until)
        self.outside = 0
        # The engine, options bound (memoize=False: no memo at all, the same results).
        self.checker = Checker(self.catalog, price_basis=price_basis, url_policy=_URL_POLICY, memoize=memoize)
        # (outcome, provider, day) -> verdict index, for what this run has seen: the engine hands
        # out the same Outcome for a repeated request shape (hashed by identity; the key holds it,
        # so its id is not reused). A line without a time has day None: priced at as_of, labelled
        # "(no time)" when grouping by time.
        self.seen: dict[tuple[Outcome, str, dt.date | None], int] = {}
        # line text -> verdict index; with its hit counters (see consume).
        self.raw: dict[str, int] = {}
        self.raw_lookups = 0
        self.raw_hits = 0
        self.raw_paused_until = 0
        self.verdicts: list[_Verdict] = []
        self.verdict_ids: dict[_Verdict, int] = {}
        self.counts: list[int] = []
        self.lines = 0
        self.blank = 0
        self.unreadable = 0
        self.bad: list[BadLine] = []
        self.sources: list[str] = []
        self.last_line = 0
        # Per-request results (imagepricing.per_request): with `detailed`, verdicts also keep error
        # codes, unit price and multiplier; with a `sink`, consume appends one entry per line: the
        # verdict's index, the reason of an unreadable line (str), or None for a blank line.
        self.detailed = False
        self.sink: list[int | str | None] | None = None
        self.warnings: list[str] = []
        # Group sums of the verdicts folded so far (see _fold); past max_groups, the groups after
        # `cutoff` in label order are added up in `other`.
        self.max_groups = max_groups
        self.groups: dict[tuple[str, ...], Tally] = {}
        self.other = Tally()
        self.cutoff: tuple[str, ...] | None = None

    def start(self, name: str) -> None:
        self.sources.append(name)
        self.last_line = 0

    def skip_blank(self, count: int) -> None:
        """Count `count` blank lines in a row (a run found in bulk by _pieces)."""
        self.blank += count
        self.lines += count
        self.last_line += count

    def report_progress(self) -> None:
        if self.progress is not None:
            self.progress(self.lines)

    def consume(self, items: Iterable[object], start: int, name: str) -> None:
        """The hot loop: straight-line code per line and no helper call on the common path (a
        cached verdict), because at a few microseconds a line every call and allocation shows."""
        scan = _SCAN
        loads = json.loads
        fromisoformat = dt.datetime.fromisoformat
        # The engine's two halves (engine.Checker): each line is judged by the rules in force on
        # its own day and priced on that day (a line without a time on `as_of`).
        judge = self.checker.judge
        price = self.checker.price
        as_of = self.as_of
        seen = self.seen
        counts = self.counts
        memoize = self.memoize
        endpoints = frozenset(ENDPOINTS)
        providers = frozenset(self.catalog.price_books)
        default_endpoint = self.endpoint
        default_provider = self.provider
        missing = _MISSING
        sink = self.sink
        raw = self.raw
        raw_on = memoize and self.lines + 1 >= self.raw_paused_until
        fast = _fast_loads()
        fast_loads, fast_error = fast if fast is not None else (None, ValueError)
        raw_lookups = raw_hits = 0
        read_endpoint = self.read_endpoint
        fields = self.fields
        request_field, endpoint_field, provider_field = fields["request"], fields["endpoint"], fields["provider"]
        time_field, status_field, response_field = fields["time"], fields["status"], fields["response"]
        window = self.window
        by_hour = self.by_hour
        datetime = dt.datetime
        lineno = start - 1
        # Values read from a log are untyped JSON until the rules have judged them.
        obj: Any
        request: Any
        endpoint: Any
        provider: Any
        day: dt.date | None  # a datetime (the UTC hour) when grouped by hour
        for lineno, item in enumerate(items, start):  # lineno is read after the loop
            kind = type(item)
            if kind is bytes:
                try:
                    item = item.decode()  # type: ignore[attr-defined]  # noqa: PLW2901  # the str branch reads it
                except UnicodeDecodeError as exc:
                    self._unreadable_line(name, lineno, item, exc)
                    continue
                kind = str
            if kind is str:
                if raw_on:
                    found = raw.get(item)  # type: ignore[call-overload]
                    raw_lookups += 1
                    if found is not None:
                        raw_hits += 1
                        counts[found] += 1
                        if sink is not None:
                            sink.append(found)
                        continue
                    if raw_lookups >= _RAW_WINDOW:
                        if raw_hits * _RAW_MIN_SHARE < raw_lookups:
                            # Identical lines are rare here: stop paying for the memo for a while.
                            raw_on = False
                            raw.clear()
                            self.raw_paused_until = self.lines + lineno - start + 1 + _RAW_PAUSE
                        self.raw_lookups += raw_lookups
                        self.raw_hits += raw_hits
                        raw_lookups = raw_hits = 0
                parsed = True
                size = len(item)  # type: ignore[arg-type]
                obj = missing
                if fast_loads is not None and size <= _FAST_LINE:
                    try:  # noqa: SIM105  # contextlib.suppress costs a call per line
                        obj = fast_loads(item)  # type: ignore[arg-type]
                    except (fast_error, RecursionError):
                        pass  # json decides, with its own message
                if obj is missing:
                    try:
                        try:
                            obj, end = scan(item, 0)  # type: ignore[arg-type]
                        except StopIteration:  # maybe only leading whitespace: json.loads decides
                            if not item.strip():  # type: ignore[attr-defined]
                                self.blank += 1  # blank: counted without raising and catching an error
                                if sink is not None:
                                    sink.append(None)
                                continue
                            end = -1
                        # Trailing JSON whitespace (a text file's "\n") is what json.loads allows too;
                        # anything else after the value, or before it, is for json.loads to judge.
                        if end != size and (end < 0 or item[end:].strip(" \t\n\r")):  # type: ignore[index]
                            obj = loads(item)  # type: ignore[arg-type]
                    except (ValueError, RecursionError) as exc:
                        self._unreadable_line(name, lineno, item, exc)
                        continue
            else:
                parsed = False
                obj = item if kind is dict else self._other_item(name, lineno, item)
                if obj is None:
                    continue
            if type(obj) is not dict and not isinstance(obj, Mapping):
                self._bad(name, lineno, f"not an object: the line holds {_kind(obj)}")
                continue

            request = obj.get(request_field, missing)
            observed = None
            if request is missing:
                request = obj
                endpoint = default_endpoint
                provider = default_provider
                day = None
            else:
                if type(request) is not dict and not isinstance(request, Mapping):
                    self._bad(name, lineno, f"bad envelope: {request_field!r} is not an object (got {_kind(request)})")
                    continue
                endpoint = obj.get(endpoint_field)
                host_provider = None
                if endpoint is None:
                    endpoint = default_endpoint
                elif type(endpoint) is not str or endpoint not in endpoints:
                    routed = read_endpoint(endpoint)  # a path or a URL (see imagepricing._envelopes)
                    if routed is None:
                        self._bad(name, lineno, self._endpoint_problem)
                        continue
                    endpoint, host_provider = routed
                provider = obj.get(provider_field)
                if provider is None:
                    provider = host_provider or default_provider
                elif type(provider) is not str or provider not in providers:
                    self._bad(name, lineno, self._provider_problem)
                    continue
                if status_field in obj or response_field in obj:
                    observed = obj
                moment = obj.get(time_field)
                if moment is None:
                    day = None
                elif type(moment) is not str:
                    self._bad(
                        name, lineno, f"bad envelope: {time_field!r} must be an ISO 8601 string (got {_kind(moment)})"
                    )
                    continue
                else:
                    try:
                        stamp = fromisoformat(moment)
                        if moment[-1] != "Z":  # "Z" is UTC: no offset to apply (it is the usual case)
                            offset = stamp.utcoffset()
                            if offset:
                                stamp -= offset
                    except (ValueError, OverflowError):
                        self._bad(name, lineno, f"bad envelope: {time_field!r} is not an ISO 8601 date-time")
                        continue
                    # Grouped by hour, the time key is the UTC hour as a naive datetime (built, not
                    # replace()d: 8 times faster); prices still follow its date (the engine reads a
                    # datetime's date). A date without a time of day has no hour and keeps its date.
                    if by_hour and len(moment) > 10:
                        day = datetime(stamp.year, stamp.month, stamp.day, stamp.hour)
                    else:
                        day = stamp.date()
                    if window is not None and not window[0] <= stamp.replace(tzinfo=None) < window[1]:
                        self.outside += 1
                        continue
            if window is not None and day is None:  # no time: it cannot be placed in the window
                self.outside += 1
                continue

            # The engine memoises (see engine.py): a repeated request shape gets the same Outcome,
            # so an outcome seen before at this provider and day has the verdict it had.
            when = as_of if day is None else day
            outcome = judge(request, endpoint, when)
            seen_key = (outcome, provider, day)
            verdict = seen.get(seen_key, -1)
            if verdict < 0:
                report = price(outcome, provider, when)
                verdict = self._verdict(request, report, day, seen_key)
            if observed is not None:
                verdict = self._observed(verdict, observed)
            counts[verdict] += 1
            if sink is not None:
                sink.append(verdict)
            if raw_on and parsed and len(item) <= _RAW_LINE:  # type: ignore[arg-type]
                # The verdict of a line depends on nothing but its text and this run's options.
                if len(raw) >= _RAW_LIMIT:
                    raw.clear()
                raw[item] = verdict  # type: ignore[index]
        self.raw_lookups += raw_lookups
        self.raw_hits += raw_hits
        self.lines += lineno - start + 1
        self.last_line = lineno

    def _observed(self, index: int, envelope: Mapping[Any, Any]) -> int:
        """The verdict of a line whose envelope says what the platform billed (status, response):
        the request's verdict with `billed` (and `failed`) set. Lines without either keep `billed`
        at -1 (as predicted)."""
        verdict = self.verdicts[index]
        said = call_outcome(envelope.get(self.fields["status"]), envelope.get(self.fields["response"]), verdict.images)
        if said is None:
            return index
        billed, failed = said
        found = self.billed_ids.get((index, billed, failed))
        if found is not None:
            return found
        billed_cost: str | None = None
        if verdict.ok and verdict.cost is not None and verdict.images:
            if billed == verdict.images:
                billed_cost = verdict.cost
            else:
                # Prices are per image (pricing.quote multiplies by the count), so the exact
                # quotient always exists; a price that is not would raise Inexact: unknown then.
                try:
                    billed_cost = str(_EXACT.divide(_EXACT.multiply(Decimal(verdict.cost), billed), verdict.images))
                except decimal.Inexact:
                    billed_cost = None
        elif billed == 0:
            billed_cost = "0"
        self._make_room()  # may fold and renumber; `verdict` is in hand
        found = self._register(verdict._replace(billed=billed, billed_cost=billed_cost, failed=failed))
        if index < len(self.verdicts) and self.verdicts[index] is verdict:  # not folded meanwhile
            self.billed_ids[(index, billed, failed)] = found
        return found

    def _unknown_model(self, request: Mapping[Any, Any], report: Report) -> str:
        """The model label of a request naming no served model: UNKNOWN_MODEL when it names a
        model the catalog does not know (its name kept, escaped and bounded), else INVALID_MODEL."""
        if not any(finding.code == "model_unknown" for finding in report.errors):
            return INVALID_MODEL
        named = request.get("model")
        # Only a name shaped like a model id is listed ("openai/gpt-image-1" is, a pasted API key
        # is not): the text comes from the log and may hold anything. Its requests count anyway.
        if (
            type(named) is str
            and len(self.unknown_models) < MAX_UNKNOWN_MODEL_NAMES
            and plausible_token(named.replace("/", "-"), _MAX_MODEL_NAME)
        ):
            self.unknown_models[escape_unprintable(named)] = None
        return UNKNOWN_MODEL

    def _verdict(
        self,
        request: Mapping[Any, Any],
        report: Report,
        day: dt.date | None,
        seen_key: tuple[Outcome, str, dt.date | None],
    ) -> int:
        """The verdict of a line whose report this run has not seen: what the report says, with
        the labels estimate adds (the model label of an unknown model, the line's day)."""
        self._make_room()  # may fold, which renumbers verdicts and forgets the reports seen
        model = report.model
        if model is None:
            model = self._unknown_model(request, report)
        cost = report.cost
        usd = report.usd_equivalent
        verdict = _Verdict(
            endpoint=report.endpoint,
            provider=report.provider,
            day=("" if not self.by_day else NO_TIME if day is None else day.isoformat()),
            model=model,
            tier=report.tier if report.tier is not None else NO_TIER,
            ok=report.ok,
            images=report.images,
            cost=None if cost is None else str(cost),
            currency=report.currency,
            usd_equivalent=None if usd is None else str(usd),
        )
        if self.detailed:
            codes = tuple(finding.code for finding in report.errors)
            if report.ok:  # a rejected request is not billed: no price
                unit_price, multiplier, rate = report.unit_price, report.multiplier, report.usd_rate
                verdict = verdict._replace(
                    codes=codes,
                    unit_price=None if unit_price is None else str(unit_price),
                    multiplier=None if multiplier is None else str(multiplier),
                    usd_rate=None if rate is None else str(rate),
                )
            else:
                verdict = verdict._replace(codes=codes)
        index = self._register(verdict)
        if seen_key[0].memoised:
            # An outcome the engine's memo does not hold (memoize=False, a request it does not
            # memoise) is one of a kind: kept here it could never be found again.
            if len(self.seen) >= _SEEN_LIMIT:
                self.seen.clear()
            self.seen[seen_key] = index
        return index

    def _register(self, verdict: _Verdict) -> int:
        index = self.verdict_ids.get(verdict)
        if index is None:
            index = len(self.verdicts)
            self.verdicts.append(verdict)
            self.verdict_ids[verdict] = index
            self.counts.append(0)
        return index

    def _make_room(self) -> None:
        """Keep the verdict registry bounded: called before it may grow by one.

        Not while a per-request `sink` holds verdict numbers: folding would renumber them mid-batch.
        Such a run is bounded by its batch instead (the sink itself is one entry per line), and
        imagepricing.per_request starts a fresh estimator between batches once it has grown.
        """
        if self.sink is not None:
            return
        if len(self.verdicts) >= _REGISTRY_LIMIT:
            self._fold()

    def _fold(self) -> None:
        """Add the counted verdicts to the group sums and start the registry afresh.

        The maps from reports and raw lines to verdict indices go too. Everything is cleared in
        place: the hot loop holds these containers in local variables.
        """
        for verdict, count in zip(self.verdicts, self.counts, strict=True):
            if count:
                _count(self._sums_for(tuple(_label(verdict, dimension) for dimension in self.group_by)), verdict, count)
        self.verdicts.clear()
        self.verdict_ids.clear()
        self.billed_ids.clear()
        self.counts.clear()
        self.seen.clear()
        self.raw.clear()  # it holds verdict numbers, which start afresh
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

    def _other_item(self, name: str, lineno: int, item: object) -> Mapping[Any, Any] | None:
        """Items that are not bytes, str or dict: rare, so kept off the hot path."""
        if item is _TOO_LONG:
            # The limit is read where it lives, so that it has one home (a test lowers it).
            self._bad(name, lineno, f"not readable: the line is longer than {_log_reading._MAX_LINE >> 20} MiB")
            return None
        if isinstance(item, (bytes, bytearray, str)):
            text = item if isinstance(item, str) else bytes(item)
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError) as exc:
                self._unreadable_line(name, lineno, text, exc)
                return None
            if isinstance(obj, Mapping):
                return obj
            self._bad(name, lineno, f"not an object: the line holds {_kind(obj)}")
            return None
        if isinstance(item, Mapping):
            return item
        self._bad(name, lineno, f"not a line or an object: got a {type(item).__name__}")
        return None

    def _unreadable_line(self, name: str, lineno: int, item: object, exc: BaseException) -> None:
        if isinstance(item, (bytes, str)) and not item.strip():
            self.blank += 1
            if self.sink is not None:
                self.sink.append(None)
            return
        if isinstance(exc, UnicodeDecodeError):
            reason = f"not UTF-8: invalid byte at position {exc.start + 1}"
        elif isinstance(exc, json.JSONDecodeError):
            if isinstance(item, str) and item.endswith(("\n", "\r")):
                # A line end left on the line (a text file's lines) moves where some errors are
                # found; report them as for the line without it, as files are read.
                try:
                    json.loads(item.rstrip("\r\n"))
                except json.JSONDecodeError as bare:
                    exc = bare
            # The decoder's messages are fixed phrases; the line's content is never quoted.
            # json's own message may already end in "at" ("Invalid control character at").
            reason = f"not JSON: {exc.msg.removesuffix(' at')} at column {exc.pos + 1}"
            if exc.msg == "Extra data" and isinstance(item, str) and item[: exc.pos].rstrip(" \t\n").endswith("\r"):
                # Decision (docs/estimate.md): JSON Lines separates lines with "\n" only, so a
                # file whose lines end in a bare "\r" (classic Mac OS) is one line; say so.
                reason += (
                    "; the line holds a bare carriage return (\\r) between values:"
                    " JSON Lines must be separated by \\n (or \\r\\n)"
                )
        elif isinstance(exc, RecursionError):
            reason = "not readable: the JSON is nested too deeply"
        else:
            reason = "not readable: a value exceeds the JSON reader's limits (an integer of over 4,300 digits)"
        self._bad(name, lineno, reason)

    def _bad(self, name: str, lineno: int, reason: str) -> None:
        self.unreadable += 1
        if self.sink is not None:
            self.sink.append(reason)
        if len(self.bad) < MAX_BAD_LINE_SAMPLES:
            self.bad.append(BadLine(name, lineno, reason))

    def result(self) -> Estimate:
        self._fold()
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
        return Estimate(
            group_by=self.group_by,
            totals=total.freeze({}),
            groups=tuple(ordered),
            lines_read=self.lines,
            unreadable=self.unreadable,
            blank=self.blank,
            bad_lines=tuple(self.bad),
            sources=tuple(self.sources),
            endpoint=self.endpoint,
            provider=self.provider,
            as_of=self.as_of,
            price_basis=self.price_basis,
            warnings=tuple(warnings),
            unknown_models=tuple(self.unknown_models),
            outside_window=self.outside,
            since=None
            if self.window is None or self.window[0] == dt.datetime.min
            else self.window[0].replace(tzinfo=_UTC),
            until=None
            if self.window is None or self.window[1] == dt.datetime.max
            else self.window[1].replace(tzinfo=_UTC),
        )


def _count(tally: Tally, verdict: _Verdict, count: int) -> None:
    """Count `count` lines of one verdict into `tally` (spend.Tally: the one place lines are counted)."""
    tally.add(
        line_status(
            ok=verdict.ok,
            unknown_model=verdict.model == UNKNOWN_MODEL,
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


def _label(verdict: _Verdict, dimension: str) -> str:
    if dimension in _TIME_DIMENSIONS:
        return _time_bucket(verdict.day, dimension)
    value: str = getattr(verdict, dimension)
    return value


def _time_bucket(day: str, dimension: str) -> str:
    """The time label of a verdict's `day` ("2026-06-01", or "2026-06-01T10:00:00" when grouped by
    hour): its UTC hour ("2026-06-01T10:00Z"), date, ISO week ("2026-W23", the ISO year:
    2026-12-31 is in 2026-W53) or month ("2026-06").

    Decision (docs/estimate.md): an hour is labelled "2026-06-01T10:00Z". Every label has the
    same width, so text order is time order (the groups' sort); the "Z" says it is UTC, whatever
    offset the log wrote; and it is ISO 8601 that Python's datetime.fromisoformat and
    JavaScript's Date.parse both read. A line whose time is a date alone has no hour: NO_TIME.
    """
    if day == NO_TIME:
        return NO_TIME
    if dimension == "hour":
        return NO_TIME if len(day) <= 10 else f"{day[:13]}:00Z"
    if dimension == "day":
        return day[:10]
    if dimension == "month":
        return day[:7]
    year, week, _ = dt.date.fromisoformat(day[:10]).isocalendar()
    return f"{year:04d}-W{week:02d}"


def _group_dimensions(group_by: Iterable[str] | str) -> tuple[str, ...]:
    dimensions = (group_by,) if isinstance(group_by, str) else tuple(group_by)
    for dimension in dimensions:
        if dimension not in GROUP_DIMENSIONS:
            raise ValueError(f"cannot group by {dimension!r}; choose from {', '.join(GROUP_DIMENSIONS)}")
    if len(set(dimensions)) != len(dimensions):
        raise ValueError(f"group_by names a dimension twice: {', '.join(dimensions)}")
    return dimensions


def _kind(value: object) -> str:
    """What a JSON value is, without showing it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"
