"""Budget estimates over request logs (issue 3): `imagepricing.estimate` and `imagepricing estimate`.

Hand-computed totals use the shipped price books: at Ace Data Cloud nano-banana costs 0.14 credits
a call, nano-banana-2 0.28, gpt-image-2 0.11 an image from 2026-04-24; dall-e-3 has no credits
price there (unknown); OpenAI lists dall-e-3 standard 1024x1024 at 0.04 USD; XHuoAPI publishes
no base price for gpt-image-2 (unknown, 1.5x for the "other" tier).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imagepricing
from imagepricing import _log_reading, check, default_catalog, estimation, log_lines
from imagepricing.cli import main
from imagepricing.cli._estimate import render_csv, render_html
from imagepricing.estimation import (
    INVALID_MODEL,
    MAX_BAD_LINE_SAMPLES,
    NO_TIER,
    NO_TIME,
    UNKNOWN_MODEL,
    BadLine,
    Estimate,
    GroupTotals,
    LogReadError,
    estimate,
    estimate_files,
    open_log,
)

DAY = dt.date(2026, 5, 1)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "requests.jsonl"
SECRET = "sk-proj-Zq7TESTSECRET0123456789abcdef"


def nano(model: str = "nano-banana", **params: Any) -> dict[str, Any]:
    return {"model": model, "prompt": "a red apple", **params}


def envelope(request: object, **fields: Any) -> dict[str, Any]:
    return {**fields, "request": request}


def jsonl(*items: object) -> list[str]:
    return [item if isinstance(item, str) else json.dumps(item) for item in items]


def run(lines: list[Any], **options: Any) -> Estimate:
    options.setdefault("as_of", DAY)
    return estimate(lines, **options)


def by_label(result: Estimate, dimension: str) -> dict[str, GroupTotals]:
    return {group.labels[dimension]: group for group in result.groups}


def write_log(path: Path, lines: list[str], *, compress: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


class TestTotals:
    """Per group: requests, accepted, rejected (not billed), images billed, cost, unknown prices."""

    def test_hand_computed_log(self) -> None:
        result = run(
            jsonl(
                nano(),
                nano(),
                nano("nano-banana-2"),
                envelope(
                    {"model": "gpt-image-2", "prompt": "x", "size": "2048x2048", "n": 4}, time="2026-05-01T10:00:00Z"
                ),
                envelope({"model": "gpt-image-2", "prompt": "y"}, time="2026-05-02T10:00:00Z"),
                {"model": "dall-e-3", "prompt": "z", "n": 3},  # rejected: dall-e-3 takes n=1 only
                {"model": "dall-e-3", "prompt": "z"},  # accepted, no credits price
            )
        )
        totals = result.totals
        assert (totals.requests, totals.accepted, totals.rejected) == (7, 6, 1)
        assert (totals.priced, totals.unknown_price, totals.images) == (5, 1, 6)
        assert totals.cost == {"credits": Decimal("0.14") * 2 + Decimal("0.28") + Decimal("0.11") * 2}
        assert str(totals.cost["credits"]) == "0.78"
        assert (result.lines_read, result.unreadable, result.blank) == (7, 0, 0)
        groups = by_label(result, "model")
        assert groups["gpt-image-2"].images == 2  # n=4 is downgraded to one billed image
        assert groups["dall-e-3"].rejected == 1
        assert groups["dall-e-3"].unknown_price == 1
        assert groups["dall-e-3"].cost == {}

    def test_rejected_requests_cost_nothing_but_are_counted(self) -> None:
        result = run(jsonl({"model": "gpt-image-2", "prompt": "x", "size": "1000x1000"}, {"model": 7}))
        assert (result.totals.requests, result.totals.rejected, result.totals.images) == (2, 2, 0)
        assert result.totals.cost == {}
        assert by_label(result, "model").keys() == {"gpt-image-2", INVALID_MODEL}

    def test_estimate_properties_mirror_totals(self) -> None:
        result = run(jsonl(nano(), {"model": "nope"}, {"model": None}, "oops"))
        assert (result.requests, result.priced, result.rejected, result.unknown_price) == (3, 1, 1, 0)
        assert result.unknown_model == 1
        assert result.lines_read == result.requests + result.unreadable + result.blank


class TestGrouping:
    """--group-by any of model, endpoint, provider, tier, day, and combinations."""

    LOG = jsonl(
        envelope(nano(), provider="xhuoapi", time="2026-05-01T23:30:00-05:00"),  # 2026-05-02 UTC
        envelope(nano(), time="2026-05-01T00:00:00Z"),
        envelope({"model": "gpt-image-2", "prompt": "p", "size": "2048x2048"}, time="2026-05-01T08:00:00"),
        envelope({"model": "gpt-image-2", "prompt": "p", "image": "https://example.com/a.png"}, endpoint="edits"),
        {"model": "gpt-image-2", "prompt": "p", "size": "1024x1024"},
    )

    def test_by_model_is_the_default(self) -> None:
        result = run(self.LOG)
        assert result.group_by == ("model",)
        assert [(g.labels["model"], g.requests) for g in result.groups] == [("gpt-image-2", 3), ("nano-banana", 2)]

    @pytest.mark.parametrize(
        ("dimension", "expected"),
        [
            ("endpoint", {"edits": 1, "generations": 4}),
            ("provider", {"acedata": 4, "xhuoapi": 1}),
            ("tier", {"1k": 2, "other": 1, NO_TIER: 2}),
            ("day", {"2026-05-01": 2, "2026-05-02": 1, NO_TIME: 2}),
        ],
    )
    def test_each_dimension(self, dimension: str, expected: dict[str, int]) -> None:
        result = run(self.LOG, group_by=(dimension,))
        assert {label: group.requests for label, group in by_label(result, dimension).items()} == expected

    def test_day_is_the_utc_date_and_picks_the_prices(self) -> None:
        # Before 2026-04-24 no charged gpt-image-2 price is in force at Ace Data Cloud.
        log = jsonl(
            envelope({"model": "gpt-image-2", "prompt": "p"}, time="2026-04-23T23:59:59Z"),
            envelope({"model": "gpt-image-2", "prompt": "p"}, time="2026-04-23T23:00:00-02:00"),
        )
        groups = by_label(run(log, group_by="day"), "day")
        assert groups["2026-04-23"].unknown_price == 1
        assert groups["2026-04-24"].cost == {"credits": Decimal("0.11")}

    def test_lines_without_time_use_as_of(self) -> None:
        log = jsonl({"model": "gpt-image-2", "prompt": "p"})
        assert run(log, as_of=dt.date(2026, 4, 1)).totals.unknown_price == 1
        assert run(log, as_of=dt.date(2026, 5, 1)).totals.cost == {"credits": Decimal("0.11")}

    def test_combinations_are_sorted_by_labels(self) -> None:
        result = run(self.LOG, group_by=("provider", "model"))
        keys = [tuple(g.labels.values()) for g in result.groups]
        assert keys == [("acedata", "gpt-image-2"), ("acedata", "nano-banana"), ("xhuoapi", "nano-banana")]
        assert list(result.groups[0].labels) == ["provider", "model"]

    def test_no_grouping_gives_one_group_equal_to_the_totals(self) -> None:
        result = run(self.LOG, group_by=())
        assert result.groups == (result.totals,)

    def test_groups_add_up_to_the_totals(self) -> None:
        result = run(self.LOG, group_by=("day", "tier", "endpoint"))
        assert sum(g.requests for g in result.groups) == result.totals.requests
        assert sum(g.images for g in result.groups) == result.totals.images
        assert sum(g.cost.get("credits", Decimal(0)) for g in result.groups) == result.totals.cost["credits"]

    @pytest.mark.parametrize("group_by", [("colour",), ("model", "model"), "size"])
    def test_unknown_or_repeated_dimensions_are_refused(self, group_by: Any) -> None:
        with pytest.raises(ValueError, match="group"):
            run([], group_by=group_by)


class TestCurrencies:
    """Credits and USD are never added together."""

    LOG = jsonl(
        nano(),
        envelope({"model": "dall-e-3", "prompt": "p"}, provider="openai"),
        envelope({"model": "dall-e-3", "prompt": "p"}, provider="openai"),
    )

    def test_costs_are_kept_per_currency(self) -> None:
        result = run(self.LOG, group_by=())
        assert result.totals.cost == {"USD": Decimal("0.08"), "credits": Decimal("0.14")}

    def test_a_group_holding_both_keeps_both(self) -> None:
        group = by_label(run(self.LOG, group_by="endpoint"), "endpoint")["generations"]
        assert dict(group.cost) == {"USD": Decimal("0.08"), "credits": Decimal("0.14")}

    def test_the_table_shows_each_currency_and_no_mixed_sum(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write_log(tmp_path / "log.jsonl", self.LOG)
        assert main(["estimate", str(path), "--as-of", "2026-05-01", "--group-by", "provider"]) == 0
        out = capsys.readouterr().out
        assert "0.08 USD" in out
        assert "0.14 credits" in out
        assert "0.22" not in out

    def test_csv_has_one_cost_column_per_currency(self) -> None:
        rows = list(csv.reader(io.StringIO(render_csv(run(self.LOG, group_by="provider")))))
        costs = [column for column in rows[0] if column.startswith("cost_")]
        assert costs == ["cost_credits", "cost_USD"]
        at = rows[0].index("cost_credits")
        assert rows[1][0] == "acedata"
        assert rows[1][at : at + 2] == ["0.14", ""]
        assert rows[2][at : at + 2] == ["", "0.08"]


class TestUnknownPrices:
    """Accepted requests without a known price are counted and shown, never priced at zero."""

    LOG = jsonl(
        envelope({"model": "gpt-image-2", "prompt": "p", "size": "2048x2048"}, provider="xhuoapi"),
        envelope({"model": "gpt-image-2", "prompt": "p"}, provider="xhuoapi"),
        nano(),
    )

    def test_counted_with_their_images_and_no_cost(self) -> None:
        group = by_label(run(self.LOG), "model")["gpt-image-2"]
        assert (group.accepted, group.unknown_price, group.priced, group.images) == (2, 2, 0, 2)
        assert group.cost == {}

    def test_a_supplied_price_makes_them_known(self) -> None:
        catalog = default_catalog().with_price("xhuoapi", "gpt-image-2", "0.20")
        group = by_label(run(self.LOG, catalog=catalog), "model")["gpt-image-2"]
        assert group.unknown_price == 0
        assert group.cost == {"credits": Decimal("0.20") * Decimal("1.5") + Decimal("0.20")}

    def test_the_cli_shows_them_and_takes_prices(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write_log(tmp_path / "log.jsonl", self.LOG)
        assert main(["estimate", str(path)]) == 0
        out = capsys.readouterr().out
        gpt_row = next(line for line in out.splitlines() if line.startswith("gpt-image-2"))
        assert gpt_row.split()[-1] == "unknown"
        assert "2 accepted requests have no known price" in out
        assert main(["estimate", str(path), "--price", "xhuoapi:gpt-image-2=0.20"]) == 0
        gpt_row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("gpt-image-2"))
        # Then the USD equivalent: none, since no rate is recorded before 2026-05-24 (today is pinned earlier).
        assert gpt_row.endswith("0.500 credits  unknown (2 without a rate)")

    def test_prices_file_is_used(self, tmp_path: Path) -> None:
        book = tmp_path / "mine.toml"
        book.write_text(
            'schema_version = 1\nprovider = "xhuoapi"\nname = "Mine"\ncurrency = "credits"\nsource = "test"\n\n'
            '[[prices]]\nmodel = "gpt-image-2"\namount = "0.10"\ntier_multipliers = { other = "2" }\nsource = "test"\n',
            encoding="utf-8",
        )
        path = write_log(tmp_path / "log.jsonl", self.LOG)
        out = tmp_path / "out.json"
        assert main(["estimate", str(path), "--prices", str(book), "--format", "json", "-o", str(out)]) == 0
        totals = json.loads(out.read_text(encoding="utf-8"))["totals"]
        assert totals["cost"] == {"credits": "0.44"}  # 0.10 x 2 + 0.10 + 0.14
        assert totals["unknown_price"] == 0


class TestBadLines:
    """Every line is accounted for: bad ones are counted with file, line and reason; the run goes on."""

    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            ('{"model": "nano-banana", "prompt": "x",}', "not JSON: Expecting property name enclosed in double quotes"),
            ('{"model": "nano-banana" "prompt": "x"}', "not JSON: Expecting ',' delimiter at column 25"),
            ('{"model": "nano-banana"} {}', "not JSON: Extra data at column 26"),
            ("[1, 2]", "not an object: the line holds an array"),
            ('"a string"', "not an object: the line holds a string"),
            ("42", "not an object: the line holds a number"),
            ("null", "not an object: the line holds null"),
            ('{"request": [1]}', "bad envelope: 'request' is not an object (got an array)"),
            ('{"request": null}', "bad envelope: 'request' is not an object (got null)"),
            ('{"endpoint": "variations", "request": {}}', "bad envelope: 'endpoint' must be one of generations, edits"),
            ('{"endpoint": 3, "request": {}}', "bad envelope: 'endpoint' must be one of"),
            ('{"provider": "acme", "request": {}}', "bad envelope: 'provider' must be one of acedata"),
            ('{"time": "yesterday", "request": {}}', "bad envelope: 'time' is not an ISO 8601 date-time"),
            ('{"time": "2026-02-30T00:00:00Z", "request": {}}', "bad envelope: 'time' is not an ISO 8601"),
            ('{"time": 1777600000, "request": {}}', "bad envelope: 'time' must be an ISO 8601 string (got a number)"),
            ("[" * 100_000, "not readable: the JSON is nested too deeply"),
            ('{"n": ' + "9" * 5000 + "}", "not readable: a value exceeds the JSON reader's limits"),
        ],
    )
    def test_each_kind_of_bad_line(self, line: str, reason: str) -> None:
        result = run([json.dumps(nano()), line, json.dumps(nano())], name="log.jsonl")
        assert (result.lines_read, result.unreadable, result.totals.requests) == (3, 1, 2)
        [bad] = result.bad_lines
        assert (bad.file, bad.line) == ("log.jsonl", 2)
        assert bad.reason.startswith(reason)

    def test_invalid_utf8_is_reported_per_line(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        path.write_bytes(
            b'{"model": "nano-banana", "prompt": "caf\xc3\xa9"}\n{"prompt": "\xff"}\n' + json.dumps(nano()).encode()
        )
        result = estimate_files([path], as_of=DAY)
        assert (result.lines_read, result.unreadable, result.totals.priced) == (3, 1, 2)
        assert result.bad_lines == (BadLine(str(path), 2, "not UTF-8: invalid byte at position 13"),)

    def test_blank_lines_are_counted_not_bad(self) -> None:
        result = run([json.dumps(nano()), "", "   ", json.dumps(nano())])
        assert (result.lines_read, result.blank, result.unreadable, result.totals.requests) == (4, 2, 0, 2)

    def test_crlf_and_a_leading_byte_order_mark_are_fine(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        path.write_bytes(
            b"\xef\xbb\xbf" + json.dumps(nano()).encode() + b"\r\n" + json.dumps(nano()).encode() + b"\r\n"
        )
        result = estimate_files([path], as_of=DAY)
        assert (result.lines_read, result.unreadable, result.totals.priced) == (2, 0, 2)

    def test_only_the_first_samples_are_kept_but_all_are_counted(self) -> None:
        result = run(["oops"] * (MAX_BAD_LINE_SAMPLES + 5))
        assert result.unreadable == MAX_BAD_LINE_SAMPLES + 5
        assert [bad.line for bad in result.bad_lines] == list(range(1, MAX_BAD_LINE_SAMPLES + 1))

    def test_line_numbers_restart_per_file(self, tmp_path: Path) -> None:
        first = write_log(tmp_path / "a.jsonl", jsonl(nano(), "oops"))
        second = write_log(tmp_path / "b.jsonl", jsonl("oops", nano()))
        result = estimate_files([first, second], as_of=DAY)
        assert [(bad.file, bad.line) for bad in result.bad_lines] == [(str(first), 2), (str(second), 1)]
        assert result.sources == (str(first), str(second))
        assert result.lines_read == 4

    def test_a_line_longer_than_the_limit_is_skipped_not_held(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(_log_reading, "_MAX_LINE", 100)
        monkeypatch.setattr(_log_reading, "_READ_SIZE", 16)
        long_line = json.dumps(nano(prompt="x" * 300))
        path = write_log(tmp_path / "log.jsonl", [json.dumps(nano()), long_line, json.dumps(nano()), long_line])
        result = estimate_files([path], as_of=DAY)
        assert (result.lines_read, result.unreadable, result.totals.priced) == (4, 2, 2)
        assert [bad.line for bad in result.bad_lines] == [2, 4]
        assert result.bad_lines[0].reason == "not readable: the line is longer than 0 MiB"

    def test_items_that_are_neither_lines_nor_objects(self) -> None:
        result = estimate([json.dumps(nano()), 3, None, bytearray(json.dumps(nano()).encode())], as_of=DAY)
        assert (result.unreadable, result.totals.priced) == (2, 2)
        assert [bad.reason for bad in result.bad_lines] == [
            "not a line or an object: got a int",
            "not a line or an object: got a NoneType",
        ]


class TestEnvelopes:
    """A bare object is a request unless it has a "request" key; envelope extras are ignored."""

    def test_defaults_apply_to_bare_requests(self) -> None:
        result = run(jsonl({"model": "dall-e-3", "prompt": "p"}), provider="openai", group_by="provider")
        assert by_label(result, "provider")["openai"].cost == {"USD": Decimal("0.04")}

    def test_endpoint_default_for_bare_lines(self) -> None:
        edit = {"model": "nano-banana", "prompt": "p", "image": "https://example.com/a.png"}
        assert run(jsonl(edit), endpoint="edits").totals.priced == 1
        assert run(jsonl(edit)).totals.priced == 1  # image is not a generations parameter: dropped
        assert run(jsonl({"model": "nano-banana", "prompt": "p"}), endpoint="edits").totals.rejected == 1

    def test_envelope_values_win_over_defaults(self) -> None:
        line = envelope({"model": "dall-e-3", "prompt": "p"}, provider="openai", endpoint="generations")
        result = run(jsonl(line), provider="xhuoapi", endpoint="edits", group_by=("provider", "endpoint"))
        assert [dict(g.labels) for g in result.groups] == [{"provider": "openai", "endpoint": "generations"}]

    def test_unknown_envelope_keys_are_ignored_and_null_means_absent(self) -> None:
        line = envelope(nano(), id="req_1", status=200, headers={"x": "y"}, endpoint=None, provider=None, time=None)
        result = run(jsonl(line), group_by=("endpoint", "provider", "day"))
        assert [tuple(g.labels.values()) for g in result.groups] == [("generations", "acedata", NO_TIME)]
        assert result.unreadable == 0

    def test_already_parsed_objects_and_bytes_are_accepted(self) -> None:
        result = estimate([nano(), envelope(nano()), json.dumps(nano()).encode()], as_of=DAY)
        assert result.totals.priced == 3


class TestSecrets:
    """Nothing printed repeats a credential found in a log line."""

    LOG = jsonl(
        envelope(nano(), headers={"authorization": f"Bearer {SECRET}"}),
        {**nano(), "api_key": SECRET},
        f'{{"model": "nano-banana", "api_key": "{SECRET}", ',  # malformed, holding the secret
        json.dumps({"provider": SECRET, "request": nano()}),
        json.dumps({"endpoint": SECRET, "request": nano()}),
        json.dumps({"time": SECRET, "request": nano()}),
        json.dumps({"request": SECRET}),
        json.dumps({"model": SECRET, "prompt": SECRET}),
        json.dumps(SECRET),
    )

    def test_reasons_never_quote_the_line(self) -> None:
        result = run(self.LOG)
        assert result.unreadable == 6
        assert SECRET not in json.dumps(result.to_dict())
        assert "sk-" not in json.dumps(result.to_dict())

    @pytest.mark.parametrize("fmt", ["table", "json", "csv", "html"])
    def test_no_output_format_repeats_it(self, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write_log(tmp_path / "log.jsonl", self.LOG)
        assert main(["estimate", str(path), "--format", fmt, "--group-by", "model,provider,day"]) == 0
        captured = capsys.readouterr()
        assert SECRET not in captured.out + captured.err
        assert "Bearer" not in captured.out + captured.err


class TestGzipAndStdin:
    """gzip is recognised by its magic bytes; "-" and no file mean standard input."""

    LOG = jsonl(nano(), nano("nano-banana-2"), "oops")

    @pytest.mark.parametrize("name", ["log.jsonl.gz", "log.jsonl"])
    def test_gzip_is_read_transparently(self, name: str, tmp_path: Path) -> None:
        path = write_log(tmp_path / name, self.LOG, compress=True)
        result = estimate_files([path], as_of=DAY)
        assert (result.lines_read, result.unreadable) == (3, 1)
        assert result.totals.cost == {"credits": Decimal("0.42")}

    def test_a_plain_file_named_gz_is_read_as_plain(self, tmp_path: Path) -> None:
        path = write_log(tmp_path / "log.gz", self.LOG)
        assert estimate_files([path], as_of=DAY).totals.priced == 2

    def test_open_log_gives_decompressed_bytes(self, tmp_path: Path) -> None:
        path = write_log(tmp_path / "log.bin", self.LOG, compress=True)
        with open_log(path) as stream:
            assert stream.read().splitlines()[2] == b"oops"

    def test_a_truncated_gzip_file_is_a_clear_error(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        whole = gzip.compress(("\n".join(jsonl(*[nano()] * 2000)) + "\n").encode())
        path = tmp_path / "log.jsonl.gz"
        path.write_bytes(whole[: len(whole) // 2])
        with pytest.raises(LogReadError, match=r"log\.jsonl\.gz: the gzip data is truncated after line"):
            estimate_files([path])
        assert main(["estimate", str(path)]) == 2
        captured = capsys.readouterr()
        assert "the gzip data is truncated" in captured.err
        assert "Traceback" not in captured.err
        assert captured.out == ""

    def test_a_corrupt_gzip_file_is_a_clear_error(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "log.jsonl.gz"
        path.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
        assert main(["estimate", str(path)]) == 2
        assert "the gzip data is corrupt" in capsys.readouterr().err

    def test_a_missing_file_is_a_usage_error(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(tmp_path / "nope.jsonl")]) == 2
        assert "cannot read" in capsys.readouterr().err

    @pytest.mark.parametrize("args", [[], ["-"]])
    @pytest.mark.parametrize("compress", [False, True])
    def test_standard_input(
        self, args: list[str], compress: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        data = ("\n".join(self.LOG) + "\n").encode()
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data) if compress else data)))
        assert main(["estimate", *args, "--format", "json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["lines"]["read"] == 3
        assert report["sources"] == ["<stdin>"]
        assert report["bad_lines"] == [
            {"file": "<stdin>", "line": 3, "reason": "not JSON: Expecting value at column 1"}
        ]


class TestCli:
    """Exit status, formats and options of `imagepricing estimate`."""

    LOG = jsonl(nano(), envelope({"model": "dall-e-3", "prompt": "p"}, provider="openai"), {"model": "nope"}, "oops")

    @pytest.fixture
    def log(self, tmp_path: Path) -> Path:
        return write_log(tmp_path / "log.jsonl", self.LOG)

    def test_table(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log), "--as-of", "2026-05-01"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(
            "4 lines read from 1 file: 3 requests, 2 priced, 0 with unknown price, 0 rejected (not billed),"
            " 1 with unknown model, 1 unreadable"
        )
        assert "1 request names a model the catalog does not know (nope)" in out
        assert "model" in out.splitlines()[2]
        assert any(
            line.startswith("total")
            and line.endswith("0.14 credits + 0.04 USD (+ unknown)  unknown (1 without a rate)")
            for line in out.splitlines()
        )
        assert f"{log}:4: not JSON: Expecting value at column 1" in out

    def test_json_is_the_api_result(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log), "--format", "json", "--as-of", "2026-05-01", "--group-by", "provider"]) == 0
        assert json.loads(capsys.readouterr().out) == estimate_files([log], as_of=DAY, group_by="provider").to_dict()

    def test_csv_parses_and_says_unreadable_lines_on_stderr(
        self, log: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["estimate", str(log), "--format", "csv"]) == 0
        captured = capsys.readouterr()
        rows = list(csv.DictReader(io.StringIO(captured.out)))
        assert [row["model"] for row in rows] == [UNKNOWN_MODEL, "dall-e-3", "nano-banana"]
        assert rows[0]["unknown_model"] == "1"
        assert rows[2]["cost_credits"] == "0.14"
        assert "1 unreadable line of 4" in captured.err

    def test_html_is_self_contained(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log), "--format", "html"]) == 0
        page = capsys.readouterr().out
        assert page.startswith("<!DOCTYPE html>")
        for forbidden in ("http://", "https://", "<script", "src=", "url(", "@import"):
            assert forbidden not in page
        assert "credits per model" in page
        assert 'class="bar" style="width:100.0%"' in page

    def test_output_file(self, log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "report.html"
        assert main(["estimate", str(log), "--format", "html", "-o", str(out)]) == 0
        assert capsys.readouterr().out == ""
        assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    def test_strict_fails_on_unreadable_lines_only(self, log: Path, tmp_path: Path) -> None:
        assert main(["estimate", str(log), "--strict"]) == 1
        clean = write_log(tmp_path / "clean.jsonl", jsonl(nano(), {"model": "nope"}))
        assert main(["estimate", str(clean), "--strict"]) == 0

    @pytest.mark.parametrize(
        "args",
        [["--group-by", "colour"], ["--group-by", "model,model"], ["--format", "xml"], ["--endpoint", "variations"]],
    )
    def test_bad_options_are_usage_errors(self, args: list[str], log: Path) -> None:
        with pytest.raises(SystemExit) as exc:
            main(["estimate", str(log), *args])
        assert exc.value.code == 2

    def test_unknown_provider_is_a_usage_error(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log), "--provider", "acme"]) == 2
        assert "unknown provider" in capsys.readouterr().err

    def test_group_by_none_and_combinations(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log), "--group-by", "none", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["group_by"] == []
        assert main(["estimate", str(log), "--group-by", "provider, model", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["group_by"] == ["provider", "model"]

    def test_no_progress_when_stderr_is_not_a_terminal(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log)]) == 0
        assert capsys.readouterr().err == ""

    def test_the_shipped_example_log(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(EXAMPLE), "--group-by", "provider,model", "--format", "json"]) == 0
        report = json.loads(capsys.readouterr().out)
        lines = report["lines"]
        assert lines["read"] == lines["requests"] + lines["unreadable"] + lines["blank"]
        assert lines["unreadable"] >= 2
        assert lines["rejected"] >= 3
        assert set(report["totals"]["cost"]) == {"credits", "USD"}
        assert {g["labels"]["provider"] for g in report["groups"]} == {"acedata", "xhuoapi", "openai"}


def _crafted(label: str) -> Estimate:
    """An Estimate whose group label is hostile text (labels come from the catalog, and --data
    lets a user supply any catalog)."""
    group = GroupTotals(
        labels=MappingProxyType({"model": label}),
        requests=1,
        accepted=1,
        rejected=0,
        priced=1,
        unknown_price=0,
        images=1,
        cost=MappingProxyType({"credits": Decimal("0.14")}),
    )
    totals = attrs.evolve(group, labels=MappingProxyType({}))
    return Estimate(
        group_by=("model",),
        totals=totals,
        groups=(group,),
        lines_read=1,
        unreadable=0,
        blank=0,
        bad_lines=(),
        sources=("<b>log</b>",),
        endpoint="generations",
        provider="acedata",
        as_of=DAY,
        price_basis="charged",
    )


class TestRendering:
    """HTML escapes every label; CSV defuses spreadsheet formulas."""

    def test_html_escapes_labels(self) -> None:
        page = render_html(_crafted('<img src=x onerror="alert(1)">&'))
        assert "<img" not in page
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in page
        assert "<b>log</b>" not in page

    @pytest.mark.parametrize("label", ["=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
    def test_csv_prefixes_formula_labels(self, label: str) -> None:
        rows = list(csv.reader(io.StringIO(render_csv(_crafted(label)), newline="")))
        assert rows[1][0] == "'" + label

    def test_csv_leaves_ordinary_labels_and_quotes_commas(self) -> None:
        rows = list(csv.reader(io.StringIO(render_csv(_crafted('gpt "image", 2')))))
        assert rows[1][0] == 'gpt "image", 2'


class TestApi:
    """The Python API: frozen result, to_dict, argument checks, determinism, progress."""

    def test_result_is_frozen_and_json_ready(self) -> None:
        result = run(TestGrouping.LOG, group_by=("model", "day"))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            result.lines_read = 0  # type: ignore[misc]
        data = result.to_dict()
        assert json.loads(json.dumps(data)) == data
        assert data["totals"]["cost"] == {"credits": "0.61"}

    def test_same_log_same_result(self) -> None:
        assert run(TestGrouping.LOG) == run(list(TestGrouping.LOG))

    def test_exported_from_the_package(self) -> None:
        assert imagepricing.estimate is estimate
        assert {"estimate", "Estimate", "GroupTotals"} <= set(imagepricing.__all__)

    def test_an_open_text_file_is_a_source(self) -> None:
        with EXAMPLE.open(encoding="utf-8") as log:
            from_lines = estimate(log, as_of=DAY, name=str(EXAMPLE))
        assert from_lines == estimate_files([EXAMPLE], as_of=DAY)

    @pytest.mark.parametrize("line", ['{"model": "nano-banana"}\n', '{"model": "nano-banana"} \r\n', ' {"model": 1}'])
    def test_surrounding_whitespace_is_allowed(self, line: str) -> None:
        assert run([line]).totals.requests == 1

    def test_a_single_string_is_refused(self) -> None:
        with pytest.raises(TypeError, match="splitlines"):
            estimate(json.dumps(nano()))

    @pytest.mark.parametrize(
        ("option", "value"), [("endpoint", "variations"), ("provider", "acme"), ("price_basis", "x")]
    )
    def test_unknown_options_raise(self, option: str, value: str) -> None:
        options: dict[str, Any] = {option: value}
        with pytest.raises(ValueError, match="unknown"):
            estimate([], **options)

    def test_progress_is_called_between_chunks(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(estimation, "_CHUNK", 2)
        seen: list[int] = []
        run(jsonl(*[nano()] * 5), progress=seen.append)
        assert seen == [2, 4, 5]

    def test_published_prices_can_be_asked_for(self) -> None:
        log = jsonl({"model": "gpt-image-2", "prompt": "p", "size": "2048x2048"})
        assert run(log, as_of=dt.date(2026, 5, 10), price_basis="published").totals.cost == {"credits": Decimal("0.30")}


# ---------------------------------------------------------------------------------- properties

CATALOG = default_catalog()
TIMES = {
    None: None,
    "2026-04-01T00:00:00Z": dt.date(2026, 4, 1),
    "2026-05-10T23:30:00-05:00": dt.date(2026, 5, 11),
    "2026-05-01T12:00:00": dt.date(2026, 5, 1),
    "2026-05-01T00:00:00+02:00": dt.date(2026, 4, 30),
}
PROMPT_LENGTHS = [0, 1, 999, 1000, 1001, 3999, 4000, 4001, 31999, 32000, 32001]
URLS = [
    "https://example.com/a.png",
    "https://example.com/b.png",
    "http://[::1",
    "ftp://example.com/x.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:image/svg+xml;base64,AAAA",
    "",
    "https://exa mple.com/x.png",
]
MALFORMED = [
    "oops",
    "[1]",
    '{"request": 1}',
    '{"endpoint": "x", "request": {}}',
    '{"time": "never", "request": {}}',
    "",
]

prompts = st.one_of(
    st.sampled_from(PROMPT_LENGTHS).map(lambda n: "p" * n),
    st.text(max_size=8),
    st.sampled_from([None, 5, True, ["x"], {"a": 1}]),
)
urls = st.sampled_from(URLS)
images = st.one_of(urls, st.lists(urls, max_size=3), st.sampled_from([[], [3], 5, [None]]))
requests = st.fixed_dictionaries(
    {"model": st.sampled_from([*CATALOG.models, "gpt-image-3", "", 7, None])},
    optional={
        "prompt": prompts,
        "size": st.sampled_from(
            [
                *("1024x1024", "1536x1024", "2048x2048", "1254x1254", "auto", "", "1024X1024", "1000x1000"),
                *("3840x2160", "512x512", "1792x1024", "01024x1024", 1024, None),
            ]
        ),
        "n": st.sampled_from([1, 2, 4, 10, 11, 0, True, 1.0, "1", None, 10**30]),
        "quality": st.sampled_from(["high", "medium", "low", "auto", "standard", "hd", "best", None, 3]),
        "style": st.sampled_from(["vivid", "natural", "loud"]),
        "response_format": st.sampled_from(["url", "b64_json", "png"]),
        "background": st.sampled_from(["transparent", "opaque", "auto", True]),
        "output_format": st.sampled_from(["png", "jpeg", "webp", "gif"]),
        "output_compression": st.sampled_from([0, 50, 100, 101, 50.0, False]),
        "image": images,
        "mask": st.one_of(urls, st.just(3)),
        "callback_url": st.one_of(urls, st.just(None)),
        "async": st.sampled_from([True, False, 1, None]),
        "user": st.sampled_from(["u1", "u2", "x" * 2000]),
        "api_key": st.just(SECRET),
        "nested": st.just({"a": [1]}),
    },
)

# Mostly valid requests, so that a value that alone decides the verdict (a URL, a prompt length)
# often meets a request that is otherwise accepted.
plain_requests = st.fixed_dictionaries(
    {"model": st.sampled_from(list(CATALOG.models)), "prompt": prompts},
    optional={
        "size": st.sampled_from(["1024x1024", "auto", "2048x2048"]),
        "image": images,
        "mask": urls,
        "callback_url": urls,
        "n": st.sampled_from([1, True, 2]),
    },
)

VARIATIONS: dict[str, st.SearchStrategy[object]] = {
    "prompt": prompts,
    "image": images,
    "mask": urls,
    "callback_url": urls,
    "n": st.sampled_from([1, True, 1.0, 2, 11]),
    "size": st.sampled_from(["1024x1024", "1000x1000", "auto", 1024]),
}


@st.composite
def logs(draw: st.DrawFn) -> list[tuple[str, object]]:
    """(line, oracle) pairs; the oracle is (request, endpoint, provider, day) or None for a bad line.

    Lines reuse a few request shapes with different prompts, so that cached verdicts are hit.
    """
    pool = draw(st.lists(st.one_of(plain_requests, requests), min_size=1, max_size=3))
    # A few endpoints, providers and times per log, so that lines often share them.
    endpoints = draw(st.lists(st.sampled_from(["generations", "edits", None]), min_size=1, max_size=2))
    providers = draw(st.lists(st.sampled_from([*CATALOG.price_books, None]), min_size=1, max_size=2))
    times = draw(st.lists(st.sampled_from(list(TIMES)), min_size=1, max_size=3))
    entries: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(0, 24))):
        if draw(st.integers(0, 9)) == 0:
            entries.append((draw(st.sampled_from(MALFORMED)), None))
            continue
        request = dict(draw(st.sampled_from(pool)))
        if draw(st.booleans()):
            # A variation of a shape in one value: the cache must tell them apart if it matters.
            varied = draw(st.sampled_from(sorted(VARIATIONS)))
            request[varied] = draw(VARIATIONS[varied])
        if draw(st.booleans()):
            entries.append((json.dumps(request), (request, "generations", "acedata", None)))
            continue
        endpoint = draw(st.sampled_from(endpoints))
        provider = draw(st.sampled_from(providers))
        moment = draw(st.sampled_from(times))
        line = envelope(request, endpoint=endpoint, provider=provider, time=moment)
        entries.append((json.dumps(line), (request, endpoint or "generations", provider or "acedata", TIMES[moment])))
    return entries


class TestExactSums:
    """For any log, the totals are exactly the sums of the per-line results of check()."""

    @given(logs())
    def test_totals_equal_the_sum_of_per_line_checks(self, entries: list[tuple[str, object]]) -> None:
        result = run([line for line, _ in entries], group_by=())
        costs: dict[str, Decimal] = {}
        requests = accepted = unknown = images = unknown_model = 0
        for _, oracle in entries:
            if oracle is None:
                continue
            request, endpoint, provider, day = cast(tuple[object, str, str, "dt.date | None"], oracle)
            report = check(request, endpoint, provider, as_of=day or DAY)
            requests += 1
            accepted += report.ok
            unknown_model += any(error.code == "model_unknown" for error in report.errors)
            images += report.images if report.ok else 0
            if report.ok and report.cost is None:
                unknown += 1
            if report.cost is not None:
                costs[report.currency] = costs.get(report.currency, Decimal(0)) + report.cost
        totals = result.totals
        assert dict(totals.cost) == costs
        assert (totals.requests, totals.accepted, totals.unknown_model) == (requests, accepted, unknown_model)
        assert totals.rejected == requests - accepted - unknown_model
        assert (totals.unknown_price, totals.images) == (unknown, images)
        assert result.unreadable + result.blank == sum(oracle is None for _, oracle in entries)


class TestMemoisation:
    """The verdict cache is an optimisation only: cached and uncached estimates agree exactly."""

    @given(logs(), st.sampled_from([("model",), ("model", "tier", "day"), ("provider", "endpoint")]))
    def test_cached_equals_uncached(self, entries: list[tuple[str, object]], group_by: tuple[str, ...]) -> None:
        lines = [line for line, _ in entries]
        assert run(lines, group_by=group_by) == run(lines, group_by=group_by, memoize=False)

    @given(logs())
    def test_cached_equals_uncached_with_tiny_caches(self, entries: list[tuple[str, object]]) -> None:
        lines = [line for line, _ in entries]
        expected = run(lines, group_by=("model", "day"), memoize=False)
        limits = {"_SEEN_LIMIT": 1, "_RAW_LIMIT": 1, "_REGISTRY_LIMIT": 2}
        saved = {name: getattr(log_lines, name) for name in limits}
        try:
            for name, value in limits.items():
                setattr(log_lines, name, value)
            assert run(lines, group_by=("model", "day")) == expected
        finally:
            for name, value in saved.items():
                setattr(log_lines, name, value)

    @given(logs())
    def test_parsed_objects_give_the_same_result_as_lines(self, entries: list[tuple[str, object]]) -> None:
        lines = [line for line, _ in entries]
        objects: list[object] = []
        for line in lines:
            try:
                objects.append(json.loads(line))
            except ValueError:
                objects.append(line)
        assert run(objects, group_by=("model", "day")).totals == run(lines, group_by=("model", "day")).totals

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ({"prompt": "p" * 1000}, {"prompt": "p" * 1001}),
            ({"prompt": "p"}, {"prompt": ""}),
            ({"n": 1}, {"n": True}),
            # 2.0 is the integer 2 (issue 9), so it shares 2's verdict; 2.5 (equal to no int) does not.
            ({"n": 2}, {"n": 2.5}),
            ({"response_format": "url"}, {"response_format": "URL"}),
        ],
    )
    def test_values_that_change_the_verdict_are_not_merged(self, first: dict[str, Any], second: dict[str, Any]) -> None:
        base = {"model": "dall-e-2", "prompt": "p", "size": "256x256"}
        lines = jsonl({**base, **first}, {**base, **second}, {**base, **first})
        assert run(lines) == run(lines, memoize=False)
        assert run(lines).totals.rejected == 1

    def test_a_whole_float_shares_the_verdict_of_its_integer(self) -> None:
        base = {"model": "dall-e-2", "prompt": "p", "size": "256x256"}
        lines = jsonl({**base, "n": 2}, {**base, "n": 2.0}, {**base, "n": 2})
        assert run(lines) == run(lines, memoize=False)
        assert (run(lines).totals.accepted, run(lines).totals.images) == (3, 6)

    def test_url_values_that_change_the_verdict_are_not_merged(self) -> None:
        base = {"model": "gpt-image-2", "prompt": "p"}
        lines = jsonl(
            {**base, "image": "https://example.com/a.png"},
            {**base, "image": "https://exa mple.com/a.png"},
            {**base, "image": ["https://example.com/a.png", "ftp://x"]},
            {**base, "image": ["https://example.com/b.png", "https://example.com/c.png"]},
        )
        result = run(lines, endpoint="edits")
        assert result == run(lines, endpoint="edits", memoize=False)
        assert (result.totals.accepted, result.totals.rejected) == (2, 2)
