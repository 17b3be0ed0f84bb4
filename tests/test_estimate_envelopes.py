"""Real envelopes (issue 14): endpoints as paths or URLs, providers from hosts, what was billed,
models the catalog does not know, and envelope keys named otherwise."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagepricing._envelopes import billed_images, field_names
from imagepricing.cli import main
from imagepricing.cli._estimate import _Progress
from imagepricing.estimation import MAX_UNKNOWN_MODEL_NAMES, UNKNOWN_MODEL, Estimate, estimate, estimate_files
from imagepricing.per_request import RequestPricer

DAY = dt.date(2026, 6, 1)
SECRET = "sk-proj-Zq7TESTSECRET0123456789abcdef"
# Shaped like the answers on Ace Data Cloud's and XHuoAPI's "OpenAI Images Generations API" pages.
SUCCESS_TWO = {
    "success": True,
    "task_id": "ab58a5df-6f46-4874-bff6-93169e2849a3",
    "created": 1777048800,
    "data": [{"revised_prompt": "a", "url": "https://platform.cdn.acedata.cloud/a_0.png"}, {"url": "b"}],
}
SUCCESS_NESTED = {"success": True, "trace_id": "t", "data": {"created": 1721626477, "data": [{"url": "u"}]}}
FAILURE = {"success": False, "error": {"code": "api_error", "message": "fetch failed"}, "trace_id": "t"}


def nano(**params: Any) -> dict[str, Any]:
    return {"model": "nano-banana", "prompt": "an apple", **params}


def run(lines: list[Any], **options: Any) -> Estimate:
    options.setdefault("as_of", DAY)
    return estimate(lines, **options)


class TestEndpoints:
    @pytest.mark.parametrize(
        ("written", "endpoint", "provider"),
        [
            ("edits", "edits", "acedata"),
            ("/v1/images/generations", "generations", "acedata"),
            ("/openai/images/edits", "edits", "acedata"),
            ("/v1/openai/images/edits", "edits", "acedata"),
            ("/v1/v1/images/edits/", "edits", "acedata"),
            ("https://api.acedata.cloud/openai/images/generations", "generations", "acedata"),
            ("https://api.xhuoapi.ai/v1/openai/images/edits?trace=1", "edits", "xhuoapi"),
            ("https://api.openai.com/v1/images/generations", "generations", "openai"),
            ("https://gateway.example/v1/images/generations", "generations", "acedata"),  # unknown host: default
        ],
    )
    def test_names_paths_and_urls(self, written: str, endpoint: str, provider: str) -> None:
        request = nano(image="https://example.com/a.png") if endpoint == "edits" else nano()
        result = run([{"endpoint": written, "request": request}], group_by=("endpoint", "provider"))
        assert result.unreadable == 0
        (group,) = result.groups
        assert (group.labels["endpoint"], group.labels["provider"]) == (endpoint, provider)

    def test_an_explicit_provider_wins_over_the_host(self) -> None:
        line = {"endpoint": "https://api.xhuoapi.ai/v1/images/generations", "provider": "openai", "request": nano()}
        assert run([line], group_by="provider").groups[0].labels["provider"] == "openai"

    @pytest.mark.parametrize(
        "written", ["/v1/chat/completions", "/v1/images/variations", "ftp://api.acedata.cloud/images/edits", "", 5]
    )
    def test_anything_else_is_a_bad_envelope_that_never_quotes_it(self, written: object) -> None:
        result = run([{"endpoint": written, "request": nano()}])
        assert result.unreadable == 1
        assert "images API path or URL" in result.bad_lines[0].reason
        assert str(written) not in result.bad_lines[0].reason or written == ""

    def test_a_secret_in_the_url_is_never_repeated(self) -> None:
        line = {"endpoint": f"https://user:{SECRET}@api.acedata.cloud/v1/chat", "request": nano()}
        assert SECRET not in json.dumps(run([line]).to_dict())


class TestBilled:
    @pytest.mark.parametrize(
        ("status", "response", "billed"),
        [
            (200, SUCCESS_TWO, 2),
            (None, SUCCESS_NESTED, 1),
            (200, None, 1),  # success without a body: as predicted
            ("200", None, 1),
            (500, None, 0),
            (429, SUCCESS_TWO, 0),  # the status decides a failure
            (None, FAILURE, 0),
            (200, FAILURE, 0),
            (None, json.dumps(SUCCESS_TWO), 2),  # the body logged as text
            (None, {"error": {"code": "x"}}, 0),
            (None, {"success": True}, 1),
        ],
    )
    def test_billed_images(self, status: object, response: object, billed: int) -> None:
        line: dict[str, Any] = {"request": nano(), "status": status, "response": response}
        totals = run([line]).totals
        failed = billed == 0  # here every call that billed nothing failed (a status, success: false, an error)
        assert (totals.observed, totals.billed_images, totals.failed) == (1, billed, int(failed))
        assert totals.billed_differ == (billed != 1)
        # nano-banana is billed per request on DAY (until 2026-07-18): one price however many
        # images came back, nothing for a call that returned none (pricing.cost_of).
        assert totals.billed_cost == {"credits": Decimal("0.14") * min(billed, 1)}
        # Issue 21: a failed call is counted as such, out of the spend (accepted, images, cost), and
        # what it would have cost is kept beside; a call that succeeded keeps its prediction.
        assert (totals.accepted, totals.images) == ((0, 0) if failed else (1, 1))
        assert totals.cost == ({} if failed else {"credits": Decimal("0.14")})
        assert totals.failed_would_have_cost == ({"credits": Decimal("0.14")} if failed else {})

    @pytest.mark.parametrize("status", [True, 2.5e2, "OK", "２００", 99, 600, [200], {"code": 200}])
    @pytest.mark.parametrize("response", [None, "not json", "[1]", [SUCCESS_TWO], 7, "{" * 100_000])
    def test_what_says_nothing_is_no_evidence(self, status: object, response: object) -> None:
        totals = run([{"request": nano(), "status": status, "response": response}]).totals
        assert (totals.observed, totals.billed_images, totals.billed_cost) == (0, 1, {"credits": Decimal("0.14")})

    @pytest.mark.parametrize(
        ("day", "billed_cost"),
        [
            (dt.date(2026, 5, 1), "0.14"),  # nano-banana billed per request: once, however many images
            (dt.date(2026, 8, 1), "0.28"),  # billed per image from 2026-07-18: two images, twice
        ],
    )
    def test_what_was_billed_follows_the_quotes_rule(self, day: dt.date, billed_cost: str) -> None:
        totals = run([{"request": nano(), "status": 200, "response": SUCCESS_TWO}], as_of=day).totals
        assert (totals.billed_images, totals.billed_cost) == (2, {"credits": Decimal(billed_cost)})

    def test_lines_without_an_outcome_count_as_predicted(self) -> None:
        totals = run([nano(), {"request": nano()}]).totals
        assert (totals.observed, totals.billed_differ, totals.billed_images) == (0, 0, 2)
        assert totals.billed_cost == totals.cost

    def test_a_rejected_request_that_was_served_differs_and_its_cost_stays_unknown(self) -> None:
        line = {"request": {"model": "nano-banana"}, "status": 200, "response": SUCCESS_TWO}  # no prompt
        totals = run([line]).totals
        assert (totals.rejected, totals.billed_images, totals.billed_differ, dict(totals.billed_cost)) == (1, 2, 1, {})

    def test_per_group_and_memo_free_runs_agree(self) -> None:
        lines = [
            {"request": nano(), "status": 200, "response": SUCCESS_TWO},
            {"request": nano(), "status": 500},
            {"request": nano(), "status": 200, "response": SUCCESS_TWO},
            {"request": nano(), "status": 200},
            nano(),
        ]
        fast, slow = run(lines, group_by="model"), run(lines, group_by="model", memoize=False)
        assert fast == slow
        totals = fast.totals
        assert (totals.images, totals.billed_images, totals.observed, totals.billed_differ) == (4, 6, 4, 3)
        assert (totals.failed, totals.cost, totals.failed_would_have_cost) == (
            1,
            {"credits": Decimal("0.56")},
            {"credits": Decimal("0.14")},
        )
        assert totals.billed_cost == {"credits": Decimal("0.56")}  # per request on DAY: 0.14 + 0.14 + 0 + 0.14 + 0.14

    def test_to_dict_from_dict_and_merge_keep_every_count(self) -> None:
        one = run([{"request": nano(), "status": 500}, {"model": "gpt-image-9", "prompt": "a"}])
        two = run([{"request": nano(), "response": SUCCESS_TWO}])
        assert Estimate.from_dict(one.to_dict()) == one
        both = one.merge(two)
        assert (both.totals.observed, both.totals.billed_images, both.totals.unknown_model) == (2, 2, 1)
        assert both.unknown_models == ("gpt-image-9",)

    @given(st.lists(st.sampled_from([200, 201, 400, 500, None]), max_size=12))
    def test_billed_never_exceeds_what_a_status_allows(self, statuses: list[int | None]) -> None:
        lines = [{"request": nano(), "status": status} for status in statuses]
        totals = run(lines).totals
        assert totals.billed_images == sum(status is None or status < 400 for status in statuses)
        assert totals.observed == sum(status is not None for status in statuses)

    def test_billed_images_alone(self) -> None:
        assert billed_images(None, {"data": [{"url": "a"}, "junk", None]}, 3) == 1
        assert billed_images(204, {"success": True, "data": list(range(3))}, 1) == 0


class TestUnknownModels:
    def test_counted_apart_never_rejected_never_free(self) -> None:
        lines = [
            {"model": "openai/gpt-image-1", "prompt": "a"},
            {"model": "GPT-Image-2", "prompt": "a"},
            {"model": "gpt-image-9", "prompt": "a"},
            {"model": "gpt-image-9", "prompt": "b"},
            {"prompt": "no model"},
            nano(),
        ]
        result = run(lines, group_by="model")
        totals = result.totals
        assert (totals.requests, totals.unknown_model, totals.rejected, totals.accepted) == (6, 4, 1, 1)
        assert result.unknown_models == ("openai/gpt-image-1", "GPT-Image-2", "gpt-image-9")
        unknown = next(group for group in result.groups if group.labels["model"] == UNKNOWN_MODEL)
        assert (unknown.unknown_model, unknown.cost) == (4, {})

    def test_names_are_bounded_escaped_and_never_secrets(self) -> None:
        names = [f"model-{i}" for i in range(MAX_UNKNOWN_MODEL_NAMES + 5)]
        lines = [{"model": name, "prompt": "a"} for name in names]
        lines += [{"model": SECRET, "prompt": "a"}, {"model": "x" * 500, "prompt": "a"}]
        result = run(lines)
        assert result.unknown_models == tuple(names[:MAX_UNKNOWN_MODEL_NAMES])
        assert result.totals.unknown_model == len(lines)
        assert SECRET not in json.dumps(result.to_dict())
        unprintable = run([{"model": "gpt\u202eimage", "prompt": "a"}]).unknown_models
        assert all(name.isprintable() for name in unprintable)

    def test_per_request_status(self) -> None:
        (result,) = RequestPricer(as_of=DAY).price_lines(['{"model": "openai/gpt-image-1", "prompt": "a"}'])
        assert (result.status, result.model) == ("unknown_model", None)


class TestFieldNames:
    def test_renamed_keys(self) -> None:
        line = {"ts": "2026-06-01T10:00:00Z", "body": nano(), "url": "/v1/images/generations", "code": 500}
        fields = {"time": "ts", "request": "body", "endpoint": "url", "status": "code"}
        result = run([line], fields=fields, group_by="day")
        assert result.groups[0].labels["day"] == "2026-06-01"
        assert (result.totals.observed, result.totals.billed_images) == (1, 0)

    @pytest.mark.parametrize(
        "renames", [{"nope": "x"}, {"time": ""}, {"time": 5}, {"time": "request"}, {"time": "a", "status": "a"}]
    )
    def test_bad_renames_are_refused(self, renames: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match=r"envelope field|log key"):
            field_names(renames)

    def test_cli(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = tmp_path / "log.jsonl"
        lines = [
            {"ts": "2026-06-01T10:00:00Z", "body": nano(), "code": 200, "answer": SUCCESS_TWO},
            {"ts": "2026-06-01T11:00:00Z", "body": {"model": "gpt-image-9", "prompt": "a"}, "code": 500},
        ]
        log.write_text("".join(json.dumps(line) + "\n" for line in lines))
        fields = [
            "--field",
            "time=ts",
            "--field",
            "request=body",
            "--field",
            "status=code",
            "--field",
            "response=answer",
        ]
        assert main(["estimate", str(log), "--format", "json", *fields]) == 0
        data = json.loads(capsys.readouterr().out)
        # nano-banana on 2026-06-01 is billed per request (until 2026-07-18): two images, one price.
        assert data["totals"]["billed"] == {"observed": 2, "differ": 1, "images": 2, "cost": {"credits": "0.14"}}
        # The unknown model's call failed: counted as failed (it billed nothing), not as of unknown cost.
        assert (data["lines"]["unknown_model"], data["lines"]["failed"]) == (0, 1)
        assert main(["estimate", str(log), *fields]) == 0
        out = capsys.readouterr().out
        assert "billed images" in out
        assert "2 with a logged outcome, 1 billed otherwise than predicted" in out

    @pytest.mark.parametrize("bad", ["time", "when=ts", "=ts", "time="])
    def test_cli_usage_errors(self, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["estimate", "--field", bad, "-"])
        assert exit_info.value.code == 2
        capsys.readouterr()


class TestPerRequestFile:
    LINES = (
        {
            "id": "req_1",
            "time": "2026-06-01T10:00:00Z",
            "endpoint": "https://api.xhuoapi.ai/v1/images/generations",
            "status": 200,
            "response": SUCCESS_TWO,
            "request": nano(),
        },
        {"id": "=1+1", "status": 500, "request": {"model": "gpt-image-9", "prompt": "a"}},
        nano(),
    )

    @pytest.fixture
    def log(self, tmp_path: Path) -> Path:
        path = tmp_path / "log.jsonl"
        text = json.dumps(self.LINES[0]) + "\n\n" + json.dumps(self.LINES[1]) + "\nnot json\n"
        path.write_text(text + json.dumps(self.LINES[2]) + "\n")
        return path

    def test_jsonl_rows_join_back_to_the_log(self, log: Path, tmp_path: Path) -> None:
        out = tmp_path / "rows.jsonl"
        assert main(["estimate", str(log), "--per-request", str(out), "--as-of", "2026-06-01"]) == 0
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert [row["line"] for row in rows] == [1, 3, 4, 5]  # the blank line 2 has no row
        first = rows[0]
        assert (first["id"], first["time"], first["provider"], first["images"], first["billed"]) == (
            "req_1",
            "2026-06-01T10:00:00Z",
            "xhuoapi",
            1,
            2,
        )
        assert (first["unit_price"], first["cost"], first["currency"], first["status"]) == (
            "0.14",
            "0.14",
            "credits",
            "priced",
        )
        assert (rows[1]["status"], rows[1]["http_status"], rows[1]["billed"]) == ("failed", 500, 0)
        assert rows[2]["status"] == "unreadable"
        assert rows[2]["reason"].startswith("not JSON")
        assert (rows[3]["id"], rows[3]["billed"], rows[3]["cost"]) == (None, None, "0.14")

    def test_csv_is_formula_safe(self, log: Path, tmp_path: Path) -> None:
        out = tmp_path / "rows.csv"
        assert main(["estimate", str(log), "--per-request", str(out), "--as-of", "2026-06-01"]) == 0
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert rows[1]["id"] == "'=1+1"
        assert rows[0]["cost"] == "0.14"
        assert rows[2]["cost"] == ""

    def test_parquet(self, log: Path, tmp_path: Path) -> None:
        pq = pytest.importorskip("pyarrow.parquet")
        out = tmp_path / "rows.parquet"
        assert main(["estimate", str(log), "--per-request", str(out), "--as-of", "2026-06-01"]) == 0
        rows = pq.read_table(out).to_pylist()
        assert rows[0]["cost"] == Decimal("0.14")
        assert rows[0]["billed"] == 2
        assert len(rows) == 4

    @pytest.mark.parametrize(("target", "files"), [("rows.txt", None), ("rows.jsonl", "-")])
    def test_usage_errors(self, log: Path, tmp_path: Path, target: str, files: str | None) -> None:
        assert main(["estimate", files or str(log), "--per-request", str(tmp_path / target)]) == 2

    def test_to_arrow(self) -> None:
        pytest.importorskip("pyarrow")
        result = run([nano(), {"request": nano(), "status": 500}, {"model": "gpt-image-9", "prompt": "a"}])
        table = result.to_arrow()
        assert table.column("model").to_pylist() == [UNKNOWN_MODEL, "nano-banana"]
        assert table.column("cost_credits").to_pylist() == [None, Decimal("0.14")]  # the failed call left out
        assert table.column("failed").to_pylist() == [0, 1]
        assert table.column("failed_would_have_cost_credits").to_pylist() == [None, Decimal("0.14")]
        assert table.column("billed_cost_credits").to_pylist() == [None, Decimal("0.14")]
        assert table.column("unknown_model").to_pylist() == [1, 0]


class TestBudgets:
    @pytest.fixture
    def log(self, tmp_path: Path) -> Path:
        path = tmp_path / "log.jsonl"
        lines: list[dict[str, Any]] = [nano()] * 3
        lines += [{"provider": "openai", "request": {"model": "dall-e-3", "prompt": "p"}}]
        lines += [{"provider": "openai", "request": {"model": "dall-e-3", "prompt": "p"}, "status": 500}]
        lines += [{"model": "gpt-image-9", "prompt": "p"}]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return path

    def test_within_budget_exits_0(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log), "--budget", "credits=0.56", "--as-of", "2026-06-01"]) == 0
        assert "budget" not in capsys.readouterr().err

    def test_each_breach_is_one_line_and_exit_3(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        budgets = ["--budget", "credits=0.4", "--budget", "model=nano-banana:credits=0.1", "--budget", "USD=100"]
        assert main(["estimate", str(log), *budgets, "--as-of", "2026-06-01"]) == 3
        err = capsys.readouterr().err.splitlines()
        assert err == [
            "imagepricing: budget exceeded: credits 0.42 > 0.4 (total); 1 request(s) of unknown cost not included",
            "imagepricing: budget exceeded: credits 0.42 > 0.1 (model=nano-banana)",
        ]

    def test_spend_is_what_was_billed(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        # The failed dall-e-3 call (status 500) is predicted at 0.04 USD but billed nothing.
        assert main(["estimate", str(log), "--budget", "USD=0.04", "--as-of", "2026-06-01"]) == 0
        capsys.readouterr()

    def test_breaches_in_json_and_html(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log), "--budget", "credits=0.1", "--format", "json"]) == 3
        data = json.loads(capsys.readouterr().out)
        assert data["budget_breaches"] == [
            {"where": "total", "currency": "credits", "limit": "0.1", "spent": "0.42", "unknown_cost_requests": 1}
        ]
        assert main(["estimate", str(log), "--budget", "credits=0.1", "--format", "html"]) == 3
        assert 'class="breach"' in capsys.readouterr().out

    @pytest.mark.parametrize(
        "bad", ["credits", "credits=-1", "credits=1e3", "credits=１", "nope=x:credits=1", "model:credits=1", "=5"]
    )
    def test_bad_budgets_are_usage_errors(self, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["estimate", "--budget", bad, "-"])
        assert exit_info.value.code == 2
        capsys.readouterr()

    def test_a_group_budget_needs_its_dimension(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", str(log), "--budget", "provider=openai:USD=1"]) == 2
        assert "--group-by" in capsys.readouterr().err


class TestTime:
    LINES = (
        {"time": "2026-05-31T23:30:00-01:00", "request": nano()},  # 2026-06-01T00:30Z
        {"time": "2026-06-07T12:00:00Z", "request": nano()},
        {"time": "2026-06-08T00:00:00", "request": nano()},  # naive: UTC
        {"time": "2026-07-01T00:00:00Z", "request": nano()},
        nano(),  # no time
    )

    def test_week_and_month(self) -> None:
        result = run(list(self.LINES), group_by=("month", "week"))
        labels = [(group.labels["month"], group.labels["week"], group.requests) for group in result.groups]
        assert labels == [
            ("(no time)", "(no time)", 1),
            ("2026-06", "2026-W23", 2),
            ("2026-06", "2026-W24", 1),
            ("2026-07", "2026-W27", 1),
        ]
        year_end = run([{"time": "2026-12-31T10:00:00Z", "request": nano()}], group_by="week")
        assert year_end.groups[0].labels["week"] == "2026-W53"

    @pytest.mark.parametrize(
        ("since", "until", "kept"),
        [
            (dt.date(2026, 6, 1), None, 4),
            (None, dt.date(2026, 6, 7), 2),  # a date includes its whole day
            (None, dt.datetime(2026, 6, 7, 12), 1),  # a date-time is excluded
            (dt.datetime(2026, 6, 1, 0, 30, tzinfo=dt.UTC), dt.date(2026, 6, 30), 3),
            (dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), None, 4),
        ],
    )
    def test_since_and_until(self, since: Any, until: Any, kept: int) -> None:
        result = run(list(self.LINES), since=since, until=until, group_by="day")
        assert result.requests == kept
        assert result.outside_window == len(self.LINES) - kept  # the line without time included
        assert result.lines_read == result.requests + result.unreadable + result.blank + result.outside_window
        assert all(group.labels["day"] != "(no time)" for group in result.groups)
        assert Estimate.from_dict(result.to_dict()) == result
        assert result.merge(result).outside_window == 2 * result.outside_window

    def test_bad_windows(self) -> None:
        with pytest.raises(ValueError, match="before"):
            run([], since=dt.date(2026, 6, 2), until=dt.date(2026, 6, 1))
        with pytest.raises(TypeError):
            run([], since="2026-06-01")

    def test_cli(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = tmp_path / "log.jsonl"
        log.write_text("".join(json.dumps(line) + "\n" for line in self.LINES))
        assert main(["estimate", str(log), "--since", "2026-06-02", "--until", "2026-06-30", "--group-by", "week"]) == 0
        out = capsys.readouterr().out
        assert "2 requests" in out
        assert "3 outside --since/--until or without a time" in out
        with pytest.raises(SystemExit):
            main(["estimate", str(log), "--since", "June"])
        capsys.readouterr()


class TestProgress:
    @pytest.mark.parametrize("compress", [False, True])
    def test_bytes_read_reach_the_size_on_disk(self, tmp_path: Path, compress: bool) -> None:
        import gzip
        import random

        rng = random.Random(4)
        text = "".join(json.dumps(nano(prompt=str(rng.random()) * 20)) + "\n" for _ in range(3000)).encode()
        path = tmp_path / ("log.jsonl.gz" if compress else "log.jsonl")
        path.write_bytes(gzip.compress(text) if compress else text)
        calls: list[tuple[int, int]] = []
        result = estimate_files([path, path], progress_bytes=lambda done, total: calls.append((done, total)))
        size = path.stat().st_size
        assert result.requests == 6000
        assert len(calls) > 2
        assert all(total == 2 * size for _, total in calls)
        done = [call[0] for call in calls]
        assert done == sorted(done)
        assert done[-1] == 2 * size

    def test_the_line_says_percent_rate_and_time_left(self) -> None:
        progress = _Progress(io.StringIO())
        progress.bytes_read(250, 1000)
        assert progress.line(50_000, 2.0) == ("imagepricing: 25% of 0.0 MB, 50,000 lines (25,000 lines/s), 6 s left")
        progress.bytes_read(0, 0)
        assert progress.line(50_000, 2.0) == "imagepricing: 50,000 lines read (25,000 lines/s)"
        progress.bytes_read(1_000_000, 400_000_000)
        assert progress.line(10, 10.0).endswith("1 h 06 min left")
        progress.bytes_read(100, 300)
        assert progress.line(10, 100.0).endswith("3 min 20 s left")
