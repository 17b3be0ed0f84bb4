"""The command line: exit status 0 ok / 1 not ok / 2 usage or unreadable input, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from imagepricing.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "request.json"


def run(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, request: object) -> str:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    return str(path)


class TestCheck:
    def test_ok_request_exits_0_with_a_readable_report(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = run(["check", write(tmp_path, {"model": "nano-banana", "prompt": "x", "n": 3})], capsys)
        assert code == 0
        assert "nano-banana on generations at acedata: OK" in out
        assert "0.14 credits" in out
        assert "n [dropped]" in out
        assert err == ""

    def test_rejected_request_exits_1(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(["check", write(tmp_path, {"model": "dall-e-3", "prompt": "x", "n": 2})], capsys)
        assert code == 1
        assert "REJECTED" in out
        assert "above_model_limit" in out

    def test_json_output_is_to_dict(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        request = {"model": "gpt-image-2", "prompt": "x", "size": "2048x2048"}
        code, out, _ = run(
            [
                "check",
                write(tmp_path, request),
                "--json",
                "--provider",
                "xhuoapi",
                "--price",
                "xhuoapi:gpt-image-2=0.20",
            ],
            capsys,
        )
        data = json.loads(out)
        assert code == 0
        assert (data["tier"], data["multiplier"], data["cost"], data["currency"]) == (
            "other",
            "1.5",
            "0.300",
            "credits",
        )

    def test_reads_standard_input(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        code, out, _ = run(
            ["check", "--endpoint", "edits"],
            capsys,
            stdin='{"model": "dall-e-3", "prompt": "x", "image": "https://e.com/a.png", "quality": "hd"}',
            monkeypatch=monkeypatch,
        )
        assert code == 1
        assert "sources_disagree" in out  # dall-e-3 on edits: the sources disagree
        assert "not_allowed" in out  # and the platform's edits schema still applies: no hd there

    def test_the_shipped_example_checks(self, capsys: pytest.CaptureFixture[str]) -> None:
        if not EXAMPLE.is_file():
            pytest.skip("examples/ is not installed with the wheel")
        code, out, _ = run(["check", str(EXAMPLE)], capsys)
        assert code == 0
        assert "downgraded" in out

    def test_as_of_and_price_basis(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, {"model": "gpt-image-2", "prompt": "x", "size": "2048x2048"})
        _, out, _ = run(["check", path, "--json", "--as-of", "2026-05-10", "--price-basis", "published"], capsys)
        assert json.loads(out)["cost"] == "0.30"

    @pytest.mark.parametrize(
        ("args", "stdin", "message"),
        [
            (["check", "/no/such/file.json"], None, "cannot read /no/such/file.json"),
            (["check"], '{"model": ', "standard input is not JSON"),
            (["check"], "", "standard input is not JSON"),
            (["check", "--provider", "nobody"], "{}", "unknown provider 'nobody'"),
            (["check", "--price", "gpt-image-2=0.2"], "{}", "expected PROVIDER:MODEL=AMOUNT"),
            (["check", "--price", "xhuoapi:gpt-image-2=0.2.3"], "{}", "price must be"),
            (["check", "--data", "/no/such/dir"], "{}", "not a directory"),
        ],
    )
    def test_usage_errors_exit_2_with_a_message_and_no_traceback(
        self,
        args: list[str],
        stdin: str | None,
        message: str,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        code, out, err = run(args, capsys, stdin=stdin, monkeypatch=monkeypatch)
        assert code == 2
        assert message in err
        assert "Traceback" not in err + out

    @pytest.mark.parametrize(
        "args", [["check", "--endpoint", "variations"], ["check", "--as-of", "yesterday"], ["frobnicate"]]
    )
    def test_argparse_errors_exit_2(self, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2
        assert "imagepricing:" in capsys.readouterr().err

    def test_no_command_prints_help_and_exits_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main([]) == 2
        assert "commands" in capsys.readouterr().err

    def test_non_object_json_is_a_finding_not_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        code, out, _ = run(["check"], capsys, stdin="[1, 2, 3]", monkeypatch=monkeypatch)
        assert code == 1
        assert "not_an_object" in out


class TestListings:
    def test_models_lists_every_model_with_prices(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(["models"], capsys)
        assert code == 0
        for model in ("dall-e-2", "gpt-image-2", "nano-banana-pro", "nano-banana-2-lite"):
            assert f"{model}  (" in out
        assert "0.14 credits/request" in out

    def test_models_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(["models", "--json"], capsys)
        rows = json.loads(out)
        assert code == 0
        by_model = {row["model"]: row for row in rows}
        # dall-e-3 on edits: listed (the platform's edits schema serves it), with the dispute named.
        assert by_model["dall-e-3"]["endpoints"]["edits"]["disputed"]
        assert by_model["nano-banana"]["endpoints"]["generations"]["dropped"]

    def test_prices_lists_every_entry_with_currency_dates_and_source(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(["prices", "--json"], capsys)
        rows = json.loads(out)
        assert code == 0
        assert {row["currency"] for row in rows} == {"credits", "USD"}
        assert all(row["source"] for row in rows)
        published = [r for r in rows if r["provider"] == "acedata" and r["basis"] == "published"]
        assert {(r["amount"], r["effective_from"], r["effective_until"]) for r in published} == {
            ("0.2", "2026-05-05", "2026-05-26"),
            ("0.11", "2026-05-26", None),
        }

    def test_prices_shows_overrides(self, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(["prices", "--price", "xhuoapi:gpt-image-2=0.20"], capsys)
        assert "user override" in out
