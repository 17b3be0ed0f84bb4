"""Secrets never echo (issue 5, part 3).

A request may carry an authorization header, a bearer token or an API key: as a key, as the
value of an unknown key, pasted into the wrong parameter, or inside a URL. No finding (message,
param, path), no `to_dict()` JSON and no CLI output repeats it, not even in part. Request keys
and values are also shown printable, so that a newline or an escape sequence in a request cannot
forge a line of CLI or log output.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagepricing import Report, check
from imagepricing._describe import describe, escape_unprintable, looks_secret
from imagepricing.cli import main
from imagepricing.cli._main import render_report
from imagepricing.estimation import estimate

# Random-looking tokens, unique enough that any 8-character piece of one in an output is a leak.
OPENAI_KEY = "sk-proj-Q7vT2mX9pL4kR8sW1nB6cY3hJ0dF5gZa"
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.Kp3Xw9Lm2Qv8Rt5Yz1Nb"
BASIC = "dXNlcjpzM2NyM3RQYXNzd29yZDk5"  # base64 of user:s3cr3tPassword99
GITHUB = "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s"
AWS = "AKIAQ7VT2MX9PL4KR8SW"
HEX_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
URL_TOKEN = "Zq8Wm3Xr7Tn2Lp6Vb9Kc"
URL_PASSWORD = "Pw7Hq2Zx9Lk4Mn8Rt3Vb"

SECRETS = (OPENAI_KEY, BEARER, BASIC, GITHUB, AWS, HEX_KEY, URL_TOKEN, URL_PASSWORD)
WINDOW = 8


def leaks(text: str, secret: str) -> list[str]:
    """Every 8-character piece of `secret` found in `text`."""
    return [secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1) if secret[i : i + WINDOW] in text]


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert not leaks(text, secret), (secret, leaks(text, secret), text[:2000])


def report_texts(report: Report) -> Iterator[str]:
    for finding in (*report.errors, *report.ignored, *report.warnings):
        yield finding.message
        yield finding.path
        if finding.param is not None:
            yield finding.param
    yield json.dumps(report.to_dict(), ensure_ascii=False)
    yield repr(report)


def base(endpoint: str = "generations", model: str = "gpt-image-2") -> dict[str, Any]:
    request: dict[str, Any] = {"model": model, "prompt": "a small red apple"}
    if endpoint == "edits":
        request["image"] = "https://example.com/apple.png"
    return request


# Where a credential can sit in a request, and the endpoint that reads it there.
PLACEMENTS: list[tuple[str, str, dict[str, Any]]] = [
    ("header as key", "generations", {f"Authorization: Bearer {BEARER}": True}),
    ("key as key", "generations", {OPENAI_KEY: "x"}),
    ("github token as key", "generations", {GITHUB: 1}),
    ("authorization value", "generations", {"authorization": f"Bearer {BEARER}"}),
    ("api_key value", "generations", {"api_key": OPENAI_KEY, "x-api-key": AWS}),
    ("headers object", "generations", {"headers": {"Authorization": f"Basic {BASIC}"}}),
    ("key as quality", "generations", {"quality": OPENAI_KEY}),
    ("bearer as quality", "generations", {"quality": f"Bearer {BEARER}"}),
    ("header as size", "generations", {"size": f"Authorization: Bearer {BEARER}"}),
    ("basic as style", "generations", {"model": "dall-e-3", "style": f"Basic {BASIC}"}),
    ("jwt as output_format", "generations", {"output_format": BEARER}),
    ("github as background", "generations", {"background": GITHUB}),
    ("aws as moderation", "generations", {"moderation": AWS}),
    ("hex as response_format", "generations", {"model": "dall-e-2", "response_format": HEX_KEY}),
    ("key as n", "generations", {"n": OPENAI_KEY}),
    ("key as async", "generations", {"async": OPENAI_KEY}),
    ("key as model", "generations", {"model": OPENAI_KEY}),
    ("key after prefix as model", "generations", {"model": "gpt-image-2 " + OPENAI_KEY}),
    ("api_key= as model", "generations", {"model": f"api_key={HEX_KEY}"}),
    ("key as size of nano-banana", "generations", {"model": "nano-banana", "size": OPENAI_KEY}),
    ("key as input_fidelity", "edits", {"input_fidelity": OPENAI_KEY}),
    ("bearer as prompt object", "generations", {"prompt": {"authorization": f"Bearer {BEARER}"}}),
    ("credentials in callback_url", "generations", {"callback_url": f"https://u:{URL_PASSWORD}@x.example/"}),
    ("token in callback_url", "generations", {"callback_url": f"http://x.example/hook?token={URL_TOKEN}"}),
    ("key in callback_url path", "generations", {"callback_url": f"ftp://x.example/{OPENAI_KEY}"}),
    ("credentials in image", "edits", {"image": f"http://admin:{URL_PASSWORD}@10.0.0.1/a.png?sig={URL_TOKEN}"}),
    ("credentials in image array", "edits", {"image": [f"https://u:{URL_PASSWORD}@x.example/a.png", OPENAI_KEY]}),
    ("key as mask", "edits", {"mask": OPENAI_KEY}),
    ("credentials in mask", "edits", {"mask": f"https://u:{URL_PASSWORD}@localhost/m.png"}),
]


class TestCheckNeverEchoesSecrets:
    @pytest.mark.parametrize(("endpoint", "extra"), [(e, x) for _, e, x in PLACEMENTS], ids=[p[0] for p in PLACEMENTS])
    @pytest.mark.parametrize("url_policy", ["basic", "strict"])
    def test_no_finding_or_dict_repeats_the_secret(self, endpoint: str, extra: dict[str, Any], url_policy: str) -> None:
        request = {**base(endpoint), **extra}
        report = check(request, endpoint=endpoint, url_policy=url_policy)
        for text in report_texts(report):
            assert_no_secret(text)

    @pytest.mark.parametrize(("endpoint", "extra"), [(e, x) for _, e, x in PLACEMENTS], ids=[p[0] for p in PLACEMENTS])
    def test_the_placements_are_really_reported(self, endpoint: str, extra: dict[str, Any]) -> None:
        # Guard against a vacuous pass: each field holding a secret gets a finding about that
        # field (a credential-looking key gets a finding naming it only as such).
        report = check({**base(endpoint), **extra}, endpoint=endpoint, url_policy="strict")
        params = {f.param for f in (*report.errors, *report.ignored, *report.warnings)}
        for key, value in extra.items():
            if not any(secret in key or secret in json.dumps(value) for secret in SECRETS):
                continue
            if looks_secret(key):
                assert any(p is not None and "looks like a credential" in p for p in params), params
            else:
                assert key in params, (key, params)

    def test_masked_values_still_say_what_was_wrong(self) -> None:
        report = check({**base(), "quality": OPENAI_KEY})
        [finding] = report.errors
        assert finding.code == "not_allowed"
        assert "looks like a credential (not shown)" in finding.message
        assert "auto, high, medium, low" in finding.message

    def test_a_credential_key_is_reported_without_its_text(self) -> None:
        report = check({**base(), f"Authorization: Bearer {BEARER}": True})
        [finding] = [f for f in report.ignored if f.code == "unknown_parameter"]
        assert finding.param is not None
        assert "looks like a credential" in finding.param
        assert finding.path.startswith("$[")

    @given(
        st.sampled_from(SECRETS),
        st.sampled_from(["quality", "size", "model", "style", "n", "callback_url", "zz", "mask"]),
        st.text(max_size=20),
        st.text(max_size=20),
    )
    def test_a_secret_anywhere_in_a_value_never_echoes(self, secret: str, field: str, before: str, after: str) -> None:
        value = f"{before} Bearer {secret}{after}" if secret in (BEARER, BASIC) else f"{before} {secret} {after}"
        for endpoint in ("generations", "edits"):
            report = check({**base(endpoint), field: value}, endpoint=endpoint, url_policy="strict")
            for text in report_texts(report):
                assert not leaks(text, secret), text


class TestCliNeverEchoesSecrets:
    @pytest.mark.parametrize(("endpoint", "extra"), [(e, x) for _, e, x in PLACEMENTS], ids=[p[0] for p in PLACEMENTS])
    @pytest.mark.parametrize("as_json", [False, True])
    def test_check_output(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], endpoint: str, extra: dict[str, Any], as_json: bool
    ) -> None:
        path = tmp_path / "request.json"
        path.write_text(json.dumps({**base(endpoint), **extra}), encoding="utf-8")
        argv = ["check", str(path), "--endpoint", endpoint, "--url-policy", "strict"]
        status = main([*argv, "--json"] if as_json else argv)
        out, err = capsys.readouterr()
        assert status in (0, 1)
        assert out
        assert_no_secret(out)
        assert_no_secret(err)

    def test_unreadable_json_does_not_echo_the_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "request.json"
        path.write_text('{"model": "gpt-image-2", "authorization": "Bearer ' + BEARER + '" ', encoding="utf-8")
        assert main(["check", str(path)]) == 2
        out, err = capsys.readouterr()
        assert "not JSON" in err
        assert_no_secret(out + err)

    def test_a_key_with_control_characters_cannot_forge_output_lines(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        forged = "x\nOK: nano-banana costs 0 credits\x1b[2K\u202e"
        path = tmp_path / "request.json"
        path.write_text(json.dumps({**base(), forged: 1}), encoding="utf-8")
        main(["check", str(path)])
        out, _ = capsys.readouterr()
        assert "\x1b" not in out
        assert "\u202e" not in out
        assert not any(line.startswith("OK: nano-banana") for line in out.splitlines())
        # Issue 10: a key that could not be a parameter name (here it holds ':' and '[') is not
        # shown at all; keys that are shown have their control characters escaped.
        assert f"<key of {len(forged)} characters, not shown>" in out


class TestEstimateNeverEchoesSecrets:
    """The estimate command prices request logs; its output and its bad-line reasons never
    repeat a line's content."""

    def lines(self) -> list[str]:
        envelope = {
            "endpoint": "generations",
            "time": "2026-05-01T10:00:00Z",
            "headers": {"Authorization": f"Bearer {BEARER}", "x-api-key": OPENAI_KEY},
            "request": {**base(), "quality": OPENAI_KEY, GITHUB: 1},
        }
        return [
            json.dumps(envelope),
            json.dumps({**base(), "api_key": AWS, "callback_url": f"https://u:{URL_PASSWORD}@x.example/"}),
            json.dumps({**base(), "model": HEX_KEY}),
            f'{{"model": "gpt-image-2", "authorization": "Bearer {BEARER}", ',  # truncated JSON
            f"Authorization: Bearer {BEARER}",  # a stray header line
            json.dumps({"request": f"Basic {BASIC}"}),  # bad envelope
            json.dumps({"request": base(), "endpoint": OPENAI_KEY}),  # bad envelope field
            json.dumps({"request": base(), "time": GITHUB}),
        ]

    def test_estimate_result(self) -> None:
        result = estimate(self.lines(), group_by=("model", "tier"))
        assert result.lines_read == len(self.lines())
        assert result.unreadable >= 4
        assert_no_secret(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        assert_no_secret(repr(result))

    def test_estimate_cli(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "requests.jsonl"
        path.write_text("\n".join(self.lines()) + "\n", encoding="utf-8")
        for output in ("table", "json", "csv", "html"):
            main(["estimate", str(path), "--format", output, "--group-by", "model,tier,day", "--no-progress"])
            out, err = capsys.readouterr()
            assert out
            assert_no_secret(out)
            assert_no_secret(err)


class TestLooksSecret:
    @pytest.mark.parametrize(
        "text",
        [
            f"Bearer {BEARER}",
            "bearer x",
            "Authorization: Basic abc",
            "authorization=abc",
            "x-api-key: abc",
            "api_key=abc",
            "API-KEY: abc",
            "password: hunter2",
            "access_token=abc",
            "Cookie: session=abc",
            OPENAI_KEY,
            "sk-ant-api03-abcdefgh",
            "sk_live_abcdefghijkl",
            "rk_live_abcdefghijkl",
            GITHUB,
            "github_pat_11ABCDEFG0123456789abcdef",
            "xoxb-1234567890-abcdefghij",
            AWS,
            "AIzaSyA-abcdefghijklmnopqrstuvwxyz0123",
            "hf_abcdefghijklmnopqrstuvwxyz",
            "glpat-abcdefghijklmnopqrst",
            BEARER,
            BASIC,
            HEX_KEY,
            "prefix " + OPENAI_KEY + " suffix",
        ],
    )
    def test_credentials(self, text: str) -> None:
        assert looks_secret(text)
        assert "not shown" in describe(text)

    @pytest.mark.parametrize(
        "text",
        [
            "1024x1024",
            "auto",
            "standard",
            "gpt-image-2",
            "nano-banana-pro",
            "dall-e-3",
            "a small red apple on a table",
            "the token of my affection",
            "ask-me-anything",
            "1" * 1000,
            "x" * 1000,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "abcdef0123456789",
            "",
        ],
    )
    def test_ordinary_values(self, text: str) -> None:
        assert not looks_secret(text)

    def test_long_values_are_scanned_in_bounded_time_and_shown_cut(self) -> None:
        assert not looks_secret("a" * 10_000_000)
        assert looks_secret("x " * 100 + OPENAI_KEY + " y" * 5_000_000)
        text = describe("a" * 10_000_000)
        assert len(text) < 100
        assert "10,000,000 characters" in text


class TestEscapeUnprintable:
    @pytest.mark.parametrize(
        ("raw", "shown"),
        [
            ("plain key", "plain key"),
            ("línea", "línea"),
            ("a\nb", "a\\nb"),
            ("a\x1b[31mb", "a\\x1b[31mb"),
            ("\u202eabc", "\\u202eabc"),
            ("zero\u200bwidth", "zero\\u200bwidth"),
            ("nul\x00", "nul\\x00"),
            ("\u2028", "\\u2028"),
        ],
    )
    def test_escapes(self, raw: str, shown: str) -> None:
        assert escape_unprintable(raw) == shown

    @given(st.text())
    def test_always_printable(self, text: str) -> None:
        assert escape_unprintable(text).isprintable()

    @given(st.text(min_size=1))
    def test_unknown_keys_are_shown_printable(self, key: str) -> None:
        report = check({**base(), key: 1} if key not in base() else base())
        for finding in report.ignored:
            assert finding.param is None or finding.param.isprintable()
            assert finding.path.isprintable()
            assert finding.message.isprintable()


# ------------------------------------------------------------------------------------------------
# Issue 10, item 4: a sweep of secret shapes x placements x outputs. A shape is (value, secret):
# the value goes into the request; no 8-character piece of `secret` may appear in any output.

SWEEP_SHAPES: list[tuple[str, str, str]] = [
    ("https URL with user and password", "https://admin:hunter2@db.example.com", "admin:hunter2"),
    ("postgres DSN", "postgres://app:s3cretpw@10.0.0.5/db", "app:s3cretpw"),
    ("mysql DSN with port", "mysql://root:toor1234@127.0.0.1:3306/app", "root:toor1234"),
    ("redis DSN, password only", "redis://:r3disPassw0rd@cache:6379/0", "r3disPassw0rd"),
    ("amqp DSN", "amqp://guest:gu3stpass@rabbit.internal/vhost", "guest:gu3stpass"),
    ("mongodb+srv DSN", "mongodb+srv://dbuser:mongoPa55wd@cluster0.example.net/x", "dbuser:mongoPa55wd"),
    ("percent-encoded password", "https://u:p%40ssw0rd99@x.example/", "p%40ssw0rd99"),
    ("password in query", "https://x.example/?password=qu3rypassword", "qu3rypassword"),
    ("UUID key", "123e4567-e89b-42d3-a456-556642440000", "123e4567-e89b-42d3-a456-556642440000"),
    ("UUID key, upper case", "9B2C1F7A-3D4E-4F60-8A9B-C0D1E2F3A4B5", "9B2C1F7A-3D4E-4F60-8A9B-C0D1E2F3A4B5"),
    ("24 lowercase and digits", "k3j9x0q2m5n8p1r4t7v6w2y9", "k3j9x0q2m5n8p1r4t7v6w2y9"),
    ("16 lowercase and digits", "q8w7e6r5t4y3u2i1", "q8w7e6r5t4y3u2i1"),
    ("32 lowercase and digits", "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6", "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6"),
    ("40 hex (sha1)", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
    ("OpenAI project key", OPENAI_KEY, OPENAI_KEY),
    ("Anthropic key", "sk-ant-api03-Xy7Qw2Er9Ty4Ui8Op", "sk-ant-api03-Xy7Qw2Er9Ty4Ui8Op"),
    ("Stripe live key", "sk_live_51HxQw2Er9Ty4Ui8OpAs", "sk_live_51HxQw2Er9Ty4Ui8OpAs"),
    ("GitHub token", GITHUB, GITHUB),
    ("GitHub fine-grained token", "github_pat_11ABCDEFG0a1b2c3d4e5f6g7", "github_pat_11ABCDEFG0a1b2c3d4e5f6g7"),
    ("Slack bot token", "xoxb-1234567890-0987654321-AbCdEfGh", "xoxb-1234567890-0987654321-AbCdEfGh"),
    ("AWS access key id", AWS, AWS),
    ("Google API key", "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStU", "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStU"),
    ("Hugging Face token", "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345", "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"),
    ("GitLab token", "glpat-Zx8Cv7Bn6Mm5Ll4Kk3Jj", "glpat-Zx8Cv7Bn6Mm5Ll4Kk3Jj"),
    ("JWT", BEARER, BEARER),
    ("Basic credentials", f"Basic {BASIC}", BASIC),
    ("Bearer token", "Bearer tok3nW1thD1g1ts", "tok3nW1thD1g1ts"),
    ("api_key assignment", "api_key=plainsecretvalue", "plainsecretvalue"),
    ("password header", "password: correcthorsebattery", "correcthorsebattery"),
    ("mixed-case letters only", "QwErTyUiOpAsDfGhJkLz", "QwErTyUiOpAsDfGhJkLz"),
    ("64 hex", HEX_KEY, HEX_KEY),
]
ENVELOPE_FIELDS = ("endpoint", "provider", "time")
CLI_PLACEMENTS = frozenset(
    {"model", "key", "generations gpt-image-2 quality", "generations dall-e-3 size", "edits gpt-image-1 image"}
)


def _rejections(report: Report) -> list[Exception]:
    try:
        report.raise_for_errors()
    except Exception as exc:  # RequestRejected: its text is logged by callers
        return [exc]
    return []


def sweep_placements(value: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every place a string can sit in a request: each parameter of each endpoint (valid model so
    the deep rules run), the model itself, a key, an unknown key's value, an array item."""
    gen_params = [
        "quality",
        "size",
        "style",
        "output_format",
        "background",
        "moderation",
        "response_format",
        "n",
        "output_compression",
        "partial_images",
        "async",
        "prompt",
        "callback_url",
        "user",
    ]
    edit_params = ["quality", "size", "input_fidelity", "image", "mask", "output_format", "n", "callback_url"]
    out: list[tuple[str, str, dict[str, Any]]] = []
    for model in ("gpt-image-2", "dall-e-3", "dall-e-2", "nano-banana"):
        for param in gen_params:
            out.append((f"generations {model} {param}", "generations", {"model": model, "prompt": "p", param: value}))
    for model in ("gpt-image-1", "nano-banana-pro"):
        for param in edit_params:
            request = {"model": model, "prompt": "p", "image": "https://example.com/a.png", param: value}
            out.append((f"edits {model} {param}", "edits", request))
    out += [
        ("model", "generations", {"model": value, "prompt": "p"}),
        ("model with a prefix", "generations", {"model": "gpt-image-2 " + value, "prompt": "p"}),
        ("key", "generations", {"model": "gpt-image-2", "prompt": "p", value: 1}),
        ("key without model", "generations", {value: "x"}),
        ("unknown key's value", "generations", {"model": "gpt-image-2", "prompt": "p", "zz": value}),
        (
            "image array item",
            "edits",
            {"model": "gpt-image-1", "prompt": "p", "image": ["https://e.example/a.png", value]},
        ),
        ("size of an unknown model", "generations", {"model": "nope", "size": value}),
    ]
    return out


def secret_leaks(text: str, secret: str) -> list[str]:
    return [secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1) if secret[i : i + WINDOW] in text]


class TestSecretSweep:
    """>= 25 shapes x every placement x every output: repr, str, to_dict, CLI text and JSON, and
    estimate in all four formats. Zero echoes of 8 or more characters."""

    def test_the_sweep_is_wide(self) -> None:
        assert len(SWEEP_SHAPES) >= 25
        assert len(sweep_placements("x")) >= 60

    @pytest.mark.parametrize(
        ("value", "secret"), [(v, s) for _, v, s in SWEEP_SHAPES], ids=[n for n, _, _ in SWEEP_SHAPES]
    )
    def test_check_and_cli(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, secret: str) -> None:
        checked = 0
        for name, endpoint, request in sweep_placements(value):
            for policy in ("basic", "strict"):
                report = check(request, endpoint=endpoint, url_policy=policy)
                text_out = io.StringIO()
                render_report(report, text_out)  # what `imagepricing check` prints
                texts = [
                    repr(report),
                    str(report),
                    json.dumps(report.to_dict(), ensure_ascii=False),
                    json.dumps(report.to_dict(), indent=2, ensure_ascii=False),  # `check --json`
                    text_out.getvalue(),
                    *(str(exc) for exc in _rejections(report)),
                ]
                for text in texts:
                    assert not secret_leaks(text, secret), (name, policy, secret_leaks(text, secret), text[:600])
                checked += 1
            if name in CLI_PLACEMENTS:
                # The whole command, end to end, for a few placements (it loads the tables each time).
                path = tmp_path / "request.json"
                path.write_text(json.dumps(request), encoding="utf-8")
                for extra in ([], ["--json"]):
                    main(["check", str(path), "--endpoint", endpoint, "--url-policy", "strict", *extra])
                    out, err = capsys.readouterr()
                    assert out
                    assert not secret_leaks(out + err, secret), (name, extra, secret_leaks(out + err, secret))
        assert checked >= 120

    @pytest.mark.parametrize(
        ("value", "secret"), [(v, s) for _, v, s in SWEEP_SHAPES], ids=[n for n, _, _ in SWEEP_SHAPES]
    )
    def test_estimate_in_every_format(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, secret: str
    ) -> None:
        lines = [
            json.dumps({"endpoint": e, "time": "2026-05-01T10:00:00Z", "request": r})
            for _, e, r in sweep_placements(value)
        ]
        lines += [
            json.dumps({"request": {"model": "gpt-image-2", "prompt": "p"}, field: value}) for field in ENVELOPE_FIELDS
        ]
        lines += [value, json.dumps(value), json.dumps({"request": value}), '{"model": "' + value + '", ']
        result = estimate(lines, group_by=("model", "endpoint", "provider", "tier", "day"))
        assert result.lines_read == len(lines)
        for text in (repr(result), json.dumps(result.to_dict(), ensure_ascii=False)):
            assert not secret_leaks(text, secret), secret_leaks(text, secret)
        path = tmp_path / "log.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for fmt in ("table", "json", "csv", "html"):
            main(
                [
                    "estimate",
                    str(path),
                    "--format",
                    fmt,
                    "--group-by",
                    "model,endpoint,provider,tier,day",
                    "--no-progress",
                ]
            )
            out, err = capsys.readouterr()
            assert out
            assert not secret_leaks(out + err, secret), (fmt, secret_leaks(out + err, secret))
