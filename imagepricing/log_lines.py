"""Log lines judged: what each line of a request log contributes, read, judged and priced once.

A log holds one request per line: either a bare request object, or an envelope
``{"endpoint": ..., "provider": ..., "time": "<ISO 8601>", "request": {...}}`` (keys renamed with
`fields`; imagepricing._envelopes reads endpoints, providers and what the platform answered).
`LineJudge.consume` reads each line, asks the engine (`Checker.judge`, then `Checker.price`) and
turns a report seen for the first time into a `Verdict`: what the line contributes (its labels,
images, cost, what was billed). Lines are counted per verdict, so per line only a counter moves.

Two consumers, each on the public side of this module:

- `imagepricing.estimation` adds the verdicts' counts up into groups (spend.Tally) as the
  judge's registry fills (`on_full`), and into the `Estimate`;
- `imagepricing.per_request` turns each line's verdict into a row (`sink`: one entry per line).

Decisions (docs/estimate.md explains each at more length):

- **Labels come from the catalog**, never from the log: a verdict's model is a catalog id or None
  (`unknown_model` says whether the request named a model the catalog does not know; its name is
  listed in `unknown_models`, escaped and bounded), its tier a tier of the tables or None. Group
  labels for these ("(unknown model)", "(invalid)", "(none)", "(no time)") are spend's.
- **Prices by date.** A line's `time` selects the rules and prices in force on its UTC date; a
  naive time (no offset) is UTC. Lines without `time` use the options' `as_of` (default today).
- **What was billed.** "status" and "response" say what the platform billed (envelopes.call_outcome);
  the billed cost is priced by the quote's own rule (`pricing.cost_of`: per image or per request).
- **Secrets.** Reasons describe what is wrong ("not JSON: Expecting ',' delimiter at column 17");
  they never repeat line content, which may hold an API key.
- **Speed.** A line seen before, character for character, has the verdict it had (the raw-line
  memo; it turns itself off when identical lines are rare). Every other line is judged by the
  engine, which memoises by the request's shape and hands out the same Outcome for a repeated
  shape; so an (outcome, provider, day) seen before maps to the verdict it had. Everything is
  bounded: the registry hands its counts to `on_full` and starts afresh when full.

Why one long module (about 700 lines): `LineJudge.consume` is the hot loop, deliberately one
straight-line function (a helper call per line shows at a few microseconds a line), with the
verdict registry it feeds.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final, Literal, NamedTuple

from imagepricing._clock import today
from imagepricing._describe import escape_unprintable, plausible_token
from imagepricing._envelopes import EndpointReader, call_outcome, field_names
from imagepricing._log_reading import _FAST_LINE, _SCAN, _TOO_LONG, _fast_loads, too_long
from imagepricing._tables import ENDPOINTS
from imagepricing.engine import Checker, Outcome
from imagepricing.options import Options
from imagepricing.pricing import cost_of
from imagepricing.report import Report
from imagepricing.spend import MAX_BAD_LINE_SAMPLES, MAX_UNKNOWN_MODEL_NAMES, BadLine, line_status

__all__ = ["BLANK", "LineJudge", "RequestResult", "Sink", "Verdict", "time_window"]

_MAX_MODEL_NAME = 64
# Distinct verdicts held at once; past it, the counts go to `on_full` and the registry starts
# afresh, so memory stays bounded whatever the log holds (a million distinct sizes or dates).
_REGISTRY_LIMIT = 1 << 15
# (outcome, provider, day) keys whose verdict this judge knows (see LineJudge._verdict), held at once.
_SEEN_LIMIT = 1 << 16
# The raw-line verdict memo (see LineJudge.consume): a line seen before, character for character,
# has the verdict it had then. Lines up to _RAW_LINE characters, _RAW_LIMIT of them at once. It
# watches its own hit rate over windows of _RAW_WINDOW lookups and turns itself off for
# _RAW_PAUSE lines when fewer than one in _RAW_MIN_SHARE hit: on a log of distinct lines every
# insertion would be wasted work.
_RAW_LINE = 2048
_RAW_LIMIT = 8192
_RAW_WINDOW = 4096
_RAW_MIN_SHARE = 8
_RAW_PAUSE = 1 << 17
_MISSING: Any = object()
# Per-request results kept at once (see LineJudge.result): one per distinct verdict or reason.
_RESULTS_LIMIT = 1 << 16

# What `consume` appends per line to a sink: the verdict's number, the reason of an unreadable
# line, or None for a blank one (or one outside the time window: neither has a row).
Sink = list[int | str | None]


class Verdict(NamedTuple):
    """What one line contributes; lines are counted per verdict, so per line only a counter moves."""

    endpoint: str
    provider: str
    # The line's UTC date ("2026-06-01"), or hour ("2026-06-01T10:00:00") when the judge keeps
    # hours; None when the line has no time or the judge keeps no times (see LineJudge: fewer
    # verdicts when no grouping needs them).
    moment: str | None
    # The catalog's id of the model; None when the request names no model served, and then
    # `unknown_model` says whether it named one the catalog does not know.
    model: str | None
    unknown_model: bool
    tier: str | None
    ok: bool
    images: int
    cost: str | None  # str so that 0.30 and 0.3 stay distinct verdicts (Decimal equality merges them)
    currency: str
    # The price of a billed request (None for a rejected one, or where unknown): what the billed
    # cost of another number of images is computed from (pricing.cost_of).
    unit_price: str | None = None
    multiplier: str | None = None
    per: str | None = None
    # What the platform billed, where the envelope says (status, response; see _observed):
    # -1 when it does not, and the line counts as predicted; `failed` when it says the call failed.
    billed: int = -1
    billed_cost: str | None = None
    failed: bool = False
    # The cost's USD equivalent at the reference rate of the day (None: cost or rate unknown).
    usd_equivalent: str | None = None
    # Kept only by a `detailed` judge (per-request rows): the error codes and the USD rate.
    codes: tuple[str, ...] = ()
    usd_rate: str | None = None


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


def time_window(
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


class LineJudge:
    """Reads, judges and prices log lines into verdicts, and counts the lines per verdict.

    `times` says which time a verdict keeps: None (none: the fewest verdicts), "day" (the line's
    UTC date) or "hour" (its UTC hour). `window` is (from, to), naive UTC, `to` excluded
    (`time_window`): lines outside it, and lines without a time, are counted in `outside` only.
    `detailed` keeps each verdict's error codes and USD rate (per-request rows). `on_full`, when
    given, is handed the verdicts and their counts whenever the registry is full (and by
    `release`), after which the registry starts afresh; without it the registry only grows (a
    per-request caller starts a new judge between batches).
    """

    def __init__(
        self,
        options: Options,
        *,
        memoize: bool = True,
        fields: Mapping[str, str] | None = None,
        window: tuple[dt.datetime, dt.datetime] | None = None,
        times: Literal["day", "hour"] | None = None,
        detailed: bool = False,
        on_full: Callable[[list[Verdict], list[int]], None] | None = None,
    ) -> None:
        self.options = options
        self.catalog = options.catalog
        self.as_of: dt.date = options.as_of if options.as_of is not None else today()
        self.fields = field_names(fields)
        self.read_endpoint = EndpointReader(self.catalog)
        self._endpoint_problem = (
            f"bad envelope: {self.fields['endpoint']!r} must be one of {', '.join(ENDPOINTS)},"
            " or an images API path or URL ending in /images/generations or /images/edits"
        )
        self._provider_problem = (
            f"bad envelope: {self.fields['provider']!r} must be one of {', '.join(self.catalog.price_books)}"
        )
        self.memoize = memoize
        self.window = window
        self.times = times
        self.detailed = detailed
        self.on_full = on_full
        # The engine, options bound (memoize=False: no memo at all, the same results).
        self.checker = Checker(
            self.catalog, price_basis=options.price_basis, url_policy=options.url_policy, memoize=memoize
        )
        # (outcome, provider, day) -> verdict number, for what this judge has seen: the engine hands
        # out the same Outcome for a repeated request shape (hashed by identity; the key holds it,
        # so its id is not reused). A line without a time has day None: priced at as_of.
        self.seen: dict[tuple[Outcome, str, dt.date | None], int] = {}
        # (verdict number, billed images, failed) -> the verdict with what was billed (see _observed)
        self.billed_ids: dict[tuple[int, int, bool], int] = {}
        # line text -> verdict number; with its hit counters (see consume).
        self.raw: dict[str, int] = {}
        self.raw_lookups = 0
        self.raw_hits = 0
        self.raw_paused_until = 0
        self.verdicts: list[Verdict] = []
        self.verdict_ids: dict[Verdict, int] = {}
        self.counts: list[int] = []
        # Models the catalog does not know, as the log names them (escaped, bounded; see _unknown_model)
        self.unknown_models: dict[str, None] = {}
        self.lines = 0
        self.blank = 0
        self.unreadable = 0
        self.outside = 0
        # Whether a line was dated after the day the tables' sources were last reviewed (its report
        # warns tables_may_be_stale; the estimate says it once).
        self.after_review = False
        self.bad: list[BadLine] = []
        self.last_line = 0
        self._sink: Sink | None = None
        # Per-request results built so far (see `result`), by sink entry.
        self._results: dict[int | str, RequestResult] = {}

    def start(self, name: str) -> None:
        """A new source begins: line numbers start again at 1."""
        del name  # the name travels with each consume call
        self.last_line = 0

    def skip_blank(self, count: int) -> None:
        """Count `count` blank lines in a row (a run found in bulk by the block reader)."""
        self.blank += count
        self.lines += count
        self.last_line += count

    def release(self) -> None:
        """Hand every counted verdict to `on_full` and start the registry afresh."""
        if self.on_full is not None:
            self.on_full(self.verdicts, self.counts)
        self.verdicts.clear()
        self.verdict_ids.clear()
        self.billed_ids.clear()
        self.counts.clear()
        self.seen.clear()
        self.raw.clear()  # it holds verdict numbers, which start afresh
        self._results.clear()

    def make_room(self) -> None:
        """Between batches of a sink: start the registry afresh if it is full (see _make_room)."""
        if len(self.verdicts) >= _REGISTRY_LIMIT:
            self.release()

    def result(self, outcome: int | str | None) -> RequestResult:
        """The per-request result of one entry of a sink (a verdict's number, the reason of an
        unreadable line, or None for a blank one), built once per distinct entry until the
        registry starts afresh."""
        if outcome is None:
            return BLANK
        found = self._results.get(outcome)
        if found is None:
            if isinstance(outcome, str):
                found = RequestResult(
                    "unreadable", None, None, None, None, None, None, None, None, None, None, None, (), outcome
                )
            else:
                found = _result_of(self.verdicts[outcome])
            if len(self._results) < _RESULTS_LIMIT:
                self._results[outcome] = found
        return found

    def consume(self, items: Iterable[object], start: int, name: str, sink: Sink | None = None) -> None:
        """Judge and count every line of `items` (numbered from `start` in source `name`); with a
        `sink`, append one entry per line to it (see `Sink`; the registry then never starts
        afresh mid-batch, so the numbers stay valid).

        The hot loop: straight-line code per line and no helper call on the common path (a
        cached verdict), because at a few microseconds a line every call and allocation shows."""
        self._sink = sink
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
        default_endpoint = self.options.endpoint
        default_provider = self.options.provider
        missing = _MISSING
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
        by_hour = self.times == "hour"
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
                        if sink is not None:
                            sink.append(None)  # no row, as for a blank line
                        continue
            if window is not None and day is None:  # no time: it cannot be placed in the window
                self.outside += 1
                if sink is not None:
                    sink.append(None)
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
        if billed == verdict.images:
            billed_cost = verdict.cost if verdict.ok else None
        elif verdict.unit_price is not None and verdict.multiplier is not None and verdict.per is not None:
            # Billed as the quote bills: per image, or once per request (pricing.cost_of).
            billed_cost = str(cost_of(Decimal(verdict.unit_price), Decimal(verdict.multiplier), verdict.per, billed))
        if billed == 0:
            billed_cost = "0"
        self._make_room()  # may fold and renumber; `verdict` is in hand
        found = self._register(verdict._replace(billed=billed, billed_cost=billed_cost, failed=failed))
        if index < len(self.verdicts) and self.verdicts[index] is verdict:  # not folded meanwhile
            self.billed_ids[(index, billed, failed)] = found
        return found

    def _unknown_model(self, request: Mapping[Any, Any], report: Report) -> bool:
        """Whether a request naming no served model names one the catalog does not know (its name
        then kept, escaped and bounded); False for a request naming no model, or not a string."""
        if not any(finding.code == "model_unknown" for finding in report.errors):
            return False
        named = request.get("model")
        # Only a name shaped like a model id is listed ("openai/gpt-image-1" is, a pasted API key
        # is not): the text comes from the log and may hold anything. Its requests count anyway.
        if (
            type(named) is str
            and len(self.unknown_models) < MAX_UNKNOWN_MODEL_NAMES
            and plausible_token(named.replace("/", "-"), _MAX_MODEL_NAME)
        ):
            self.unknown_models[escape_unprintable(named)] = None
        return True

    def _verdict(
        self,
        request: Mapping[Any, Any],
        report: Report,
        day: dt.date | None,
        seen_key: tuple[Outcome, str, dt.date | None],
    ) -> int:
        """The verdict of a line whose report this judge has not seen: what the report says, with
        the line's time as the judge keeps it."""
        self._make_room()  # may start afresh, which renumbers verdicts and forgets the reports seen
        if not self.after_review and any(w.code == "tables_may_be_stale" for w in report.warnings):
            self.after_review = True
        billed = report.ok  # a rejected request is not billed: no price
        cost, usd = report.cost, report.usd_equivalent
        unit_price, multiplier = report.unit_price, report.multiplier
        verdict = Verdict(
            endpoint=report.endpoint,
            provider=report.provider,
            moment=None if self.times is None or day is None else day.isoformat(),
            model=report.model,
            unknown_model=report.model is None and self._unknown_model(request, report),
            tier=report.tier,
            ok=report.ok,
            images=report.images,
            cost=None if cost is None else str(cost),
            currency=report.currency,
            unit_price=None if unit_price is None or not billed else str(unit_price),
            multiplier=None if multiplier is None or not billed else str(multiplier),
            per=report.price_per if billed else None,
            usd_equivalent=None if usd is None else str(usd),
        )
        if self.detailed:
            rate = report.usd_rate
            verdict = verdict._replace(
                codes=tuple(finding.code for finding in report.errors),
                usd_rate=None if rate is None or not billed else str(rate),
            )
        index = self._register(verdict)
        if seen_key[0].memoised:
            # An outcome the engine's memo does not hold (memoize=False, a request it does not
            # memoise) is one of a kind: kept here it could never be found again.
            if len(self.seen) >= _SEEN_LIMIT:
                self.seen.clear()
            self.seen[seen_key] = index
        return index

    def _register(self, verdict: Verdict) -> int:
        index = self.verdict_ids.get(verdict)
        if index is None:
            index = len(self.verdicts)
            self.verdicts.append(verdict)
            self.verdict_ids[verdict] = index
            self.counts.append(0)
        return index

    def _make_room(self) -> None:
        """Keep the verdict registry bounded: called before it may grow by one.

        Not while a sink holds verdict numbers, nor without `on_full`: starting afresh would
        renumber them mid-batch. Such a judge is bounded by its batch instead (the sink itself is
        one entry per line), and imagepricing.per_request starts a fresh judge once it has grown.
        """
        if self._sink is None and self.on_full is not None and len(self.verdicts) >= _REGISTRY_LIMIT:
            self.release()

    def _other_item(self, name: str, lineno: int, item: object) -> Mapping[Any, Any] | None:
        """Items that are not bytes, str or dict: rare, so kept off the hot path."""
        if item is _TOO_LONG:
            # The limit is read where it lives, so that it has one home (a test lowers it).
            self._bad(name, lineno, too_long())
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
            if self._sink is not None:
                self._sink.append(None)
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
        if self._sink is not None:
            self._sink.append(reason)
        if len(self.bad) < MAX_BAD_LINE_SAMPLES:
            self.bad.append(BadLine(name, lineno, reason))


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


def _result_of(verdict: Verdict) -> RequestResult:
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
