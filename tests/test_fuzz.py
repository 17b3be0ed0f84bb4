"""Hostile requests (issue 5, parts 1 and 2): `check` never raises, whatever it is given, and
every report it returns is well formed.

Hypothesis drives arbitrary JSON-like values, and requests that are *mostly valid* (a real model,
a real prompt) with one hostile field, so fuzzing reaches the deep rules and not only the
"not an object" exit. The size of a run is set by the profile in conftest.py:
`IMAGEPRICING_PROFILE=deep` runs 20,000 examples per property.

Targeted cases cover what random generation rarely reaches: 100,000-level nesting, integers of
100,000 digits, 100,000 keys or array items, megabyte strings, look-alike Unicode. How long they
take is measured in benchmarks/bench_hostile.py, never asserted here.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagepricing import CODES, Report, check, cli, default_catalog
from imagepricing.findings import Finding
from imagepricing.rules import MAX_ITEM_FINDINGS
from imagepricing.urls import URL_PROBLEM_CODES

CATALOG = default_catalog()
MODELS = sorted(CATALOG.models)
PROVIDERS = sorted(CATALOG.price_books)
ENDPOINTS = ("generations", "edits")
PARAMETERS = sorted(CATALOG.parameters)
IMAGE_URL = "https://example.com/apple.png"
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"

# Bounds on what one finding may carry: a message quotes at most a short excerpt of a value.
MAX_MESSAGE = 1_000
MAX_PARAM = 80
# Findings about one `image` array: itemised until MAX_ITEM_FINDINGS is reached (the item that
# reaches it may add several URL problems), then one summary, plus the array-length check.
MAX_IMAGE_FINDINGS = MAX_ITEM_FINDINGS - 1 + len(URL_PROBLEM_CODES) + 1 + 1
SEVERITY_OF_BUCKET = {"errors": "error", "ignored": "ignored", "warnings": "warning"}


# ------------------------------------------------------------------------------ well formed


def assert_well_formed(report: Report) -> None:
    """Everything a caller may rely on, whatever the request was."""
    assert isinstance(report, Report)
    assert report.ok == (not report.errors)
    for bucket, severity in SEVERITY_OF_BUCKET.items():
        findings = getattr(report, bucket)
        assert isinstance(findings, tuple)
        for finding in findings:
            assert_finding(finding)
            assert CODES[finding.code].severity == severity, (bucket, finding)
    assert isinstance(report.effective, MappingProxyType)
    for key, value in report.effective.items():
        # Only scalars: no request sub-structure is ever copied into the report.
        assert type(key) is str
        assert type(value) in (str, int, bool), (key, value)
        assert not (type(value) is str and len(value) > 64), key
    assert report.model is None or report.model in CATALOG.models
    assert report.tier is None or type(report.tier) is str
    assert type(report.images) is int
    assert report.images >= 0
    for amount in (report.cost, report.unit_price, report.multiplier):
        assert amount is None or (type(amount) is Decimal and amount.is_finite() and amount >= 0)
    if not report.ok:
        assert report.cost is None
        assert report.images == 0
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert data["ok"] is report.ok


def assert_finding(finding: Finding) -> None:
    assert isinstance(finding, Finding)
    assert finding.code in CODES
    assert finding.param is None or (type(finding.param) is str and len(finding.param) <= MAX_PARAM)
    assert type(finding.message) is str
    assert 0 < len(finding.message) <= MAX_MESSAGE
    assert type(finding.path) is str
    assert finding.path.startswith("$")
    assert type(finding.source) is str
    # Printable: a message, param or path printed to a terminal or a log can neither start a new
    # line nor carry an escape sequence or a bidi override.
    for text in (finding.message, finding.path, finding.param or ""):
        assert text.isprintable(), text


def checked(request: object, **options: Any) -> Report:
    """check(), asserting the report is well formed, deterministic, and the request untouched."""
    before = _fingerprint(request)
    report = check(request, catalog=CATALOG, **options)
    assert_well_formed(report)
    assert _fingerprint(request) == before, "check must not mutate the request"
    return report


def _fingerprint(value: object) -> bytes | None:
    try:
        return pickle.dumps(value)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return None


# ------------------------------------------------------------------------------ strategies

# Strings that look like valid values but are not: full-width and Arabic-Indic digits, the
# multiplication sign, Cyrillic letters, zero-width and bidi characters, trailing newlines.
LOOKALIKES = (
    "１０２４x１０２４",
    "١٠٢٤x١٠٢٤",
    "1024×1024",
    "1024X1024",
    "1024x1024\n",
    "1024x1024\r\n",
    " 1024x1024",
    "1024x1024\u200b",
    "\u202e4201x4201",
    "1024x\u00a01024",
    "+1024x1024",
    "-1024x1024",
    "1024x1024x1024",
    "0x0",
    "00001024x1024",
    "1_024x1_024",
    "auto\n",
    "AUTO",
    "ａｕｔｏ",
    "dаll-e-2",  # Cyrillic а
    "gpt‐image‐2",  # U+2010 hyphens
    "ＧＰＴ-image-2",
    "nano-banana\x00",
    "nano-banana\u200d",
    "gpt-image-2 ",
    "hd\u200d",
    "ｈｄ",
    "ｐｎｇ",
    "trUe",
    "1",
    "１",
    "\x1b[31mred\x1b[0m",
    "line\nbreak",
    "\u2028\u2029",
    "\ufeffauto",
)

# Below 4,300 digits: hypothesis reprs the examples it draws, and str() refuses longer ints. The
# 100,000-digit case is a targeted test below.
HUGE_INTEGERS = (10**100, -(10**100), 2**63, -(2**63) - 1, 10**4000, -(10**4000))

hostile_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(HUGE_INTEGERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1.0, 0.0, -0.0, 10.0, 1e308, 5e-324, math.nan, math.inf, -math.inf]),
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Nd"]), max_size=20),
    st.sampled_from(LOOKALIKES),
)

json_values = st.recursive(
    hostile_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)

# Any string key a request could carry: real parameter names (so values reach their rules),
# their look-alikes, and arbitrary text.
keys = st.one_of(
    st.sampled_from(PARAMETERS),
    st.sampled_from([p.upper() for p in PARAMETERS] + [p + "\u200b" for p in PARAMETERS] + ["", " ", "$", "__proto__"]),
    st.text(max_size=80),
)


def _valid_base(model: str, endpoint: str) -> dict[str, object]:
    request: dict[str, object] = {"model": model, "prompt": "a small red apple on a table"}
    if endpoint == "edits":
        request["image"] = IMAGE_URL
    return request


@st.composite
def mostly_valid_requests(draw: st.DrawFn) -> tuple[dict[str, object], str]:
    """A valid request for a real model and endpoint, with one to three hostile fields."""
    endpoint = draw(st.sampled_from(ENDPOINTS))
    model = draw(st.sampled_from(MODELS))
    request = _valid_base(model, endpoint)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        request[draw(keys)] = draw(json_values)
    return request, endpoint


options = st.fixed_dictionaries(
    {
        "endpoint": st.sampled_from(ENDPOINTS),
        "provider": st.sampled_from(PROVIDERS),
        "url_policy": st.sampled_from(["basic", "strict"]),
        "price_basis": st.sampled_from(["charged", "published"]),
    }
)


# ------------------------------------------------------------------------------ properties


class TestNeverRaises:
    """check never raises for any request, and every report is well formed."""

    @given(json_values, options)
    def test_arbitrary_json_values(self, request_: object, opts: dict[str, Any]) -> None:
        checked(request_, **opts)

    @given(st.dictionaries(keys, json_values, max_size=12), options)
    def test_arbitrary_objects(self, request_: dict[str, object], opts: dict[str, Any]) -> None:
        checked(request_, **opts)

    @given(mostly_valid_requests(), st.sampled_from(PROVIDERS), st.sampled_from(["basic", "strict"]))
    def test_mostly_valid_requests_with_hostile_fields(
        self, case: tuple[dict[str, object], str], provider: str, url_policy: str
    ) -> None:
        request, endpoint = case
        report = checked(request, endpoint=endpoint, provider=provider, url_policy=url_policy)
        assert report.model == request["model"] or not report.ok

    @given(mostly_valid_requests())
    def test_reports_are_deterministic(self, case: tuple[dict[str, object], str]) -> None:
        request, endpoint = case
        first = check(request, endpoint=endpoint, catalog=CATALOG)
        second = check(request, endpoint=endpoint, catalog=CATALOG)
        assert first == second
        assert first.to_dict() == second.to_dict()

    @given(st.sampled_from(MODELS), st.sampled_from(ENDPOINTS), st.sampled_from(PARAMETERS), hostile_scalars)
    def test_every_parameter_of_every_model_with_a_hostile_scalar(
        self, model: str, endpoint: str, name: str, value: object
    ) -> None:
        request = _valid_base(model, endpoint)
        request[name] = value
        checked(request, endpoint=endpoint)

    @given(st.sampled_from(MODELS), st.lists(json_values, max_size=30))
    def test_image_arrays_of_anything(self, model: str, items: list[object]) -> None:
        request = _valid_base(model, "edits")
        request["image"] = items
        report = checked(request, endpoint="edits", url_policy="strict")
        item_errors = [f for f in report.errors if f.param == "image"]
        assert len(item_errors) <= MAX_IMAGE_FINDINGS


class TestTargetedHostileValues:
    """Values random generation rarely reaches; each must give a bounded, well-formed report."""

    def test_nesting_100000_levels_deep_is_not_recursed_into(self) -> None:
        deep_list: list[object] = []
        cursor = deep_list
        for _ in range(100_000):
            inner: list[object] = []
            cursor.append(inner)
            cursor = inner
        deep_dict: dict[str, object] = {}
        node = deep_dict
        for _ in range(100_000):
            child: dict[str, object] = {}
            node["a"] = child
            node = child
        for endpoint in ENDPOINTS:
            request = dict.fromkeys(PARAMETERS, deep_list) | {"extra": deep_dict}
            report = check(request, endpoint=endpoint, catalog=CATALOG)
            assert_well_formed(report)
            assert not report.ok
            assert all(f.code in {"wrong_type", "missing", "unknown_parameter"} for f in report.errors)
            report = check({**_valid_base("gpt-image-2", endpoint), "prompt": deep_dict}, endpoint=endpoint)
            assert [(f.param, f.code) for f in report.errors] == [("prompt", "wrong_type")]
        # The request itself as a deep structure is only looked at one level down.
        assert_well_formed(check(deep_dict, catalog=CATALOG))
        assert_well_formed(check(deep_list, catalog=CATALOG))

    @pytest.mark.parametrize(
        "value", [10**100_000, -(10**100_000), 10**4300, 2**64], ids=["1e100000", "-1e100000", "1e4300", "2**64"]
    )
    def test_huge_integers_are_described_not_printed(self, value: int) -> None:
        for name in ("n", "output_compression", "partial_images", "size", "quality", "model"):
            report = checked({**_valid_base("gpt-image-2", "generations"), name: value})
            assert not report.ok
            # Short: the value is described, not printed (a model message lists the known models).
            assert all(len(f.message) < 500 for f in report.errors)
        report = checked({**_valid_base("dall-e-2", "generations"), "n": value})
        assert [f.code for f in report.errors] == ["out_of_range"]
        if abs(value) > 10**30:
            assert "digits" in report.errors[0].message

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 2.5, 1e-300, True, False])
    def test_non_whole_floats_and_booleans_are_never_integers(self, value: float) -> None:
        for name in ("n", "output_compression", "partial_images"):
            report = checked({**_valid_base("gpt-image-2", "generations"), name: value})
            assert [(f.param, f.code) for f in report.errors] == [(name, "wrong_type")]
            # The hostile value is not carried into effective (n keeps its default of 1).
            assert type(report.effective.get(name, 1)) is int

    @pytest.mark.parametrize("value", [1.0, 3.0, -0.0, 1e300])
    def test_whole_floats_are_their_integer(self, value: float) -> None:
        # The platform's schema says integer; JSON Schema counts 3.0 as 3 (issue 9). Ranges still apply.
        for name in ("n", "output_compression", "partial_images"):
            with_float = checked({**_valid_base("gpt-image-2", "generations"), name: value})
            with_int = checked({**_valid_base("gpt-image-2", "generations"), name: int(value)})
            assert [(f.param, f.code) for f in with_float.errors] == [(f.param, f.code) for f in with_int.errors]
            assert type(with_float.effective.get(name, 1)) is int

    @pytest.mark.parametrize("size", [s for s in LOOKALIKES if "x" in s.lower() or "×" in s])
    def test_look_alike_sizes_are_refused(self, size: str) -> None:
        for model in ("gpt-image-2", "dall-e-2", "gpt-image-1"):
            report = checked({**_valid_base(model, "generations"), "size": size})
            if size in ("00001024x1024",) and model == "gpt-image-2":
                # Strict WxH with leading zeros: accepted as written, billed as a custom size.
                assert report.ok
                assert [f.code for f in report.warnings if f.code == "size_not_canonical"]
                continue
            assert not report.ok, (model, size)

    @pytest.mark.parametrize("model", ["dаll-e-2", "ＧＰＴ-image-2", "gpt‐image‐2", "nano-banana\x00", "gpt-image-2 "])
    def test_look_alike_model_names_are_unknown(self, model: str) -> None:
        report = checked({"model": model, "prompt": "p"})
        assert [f.code for f in report.errors] == ["model_unknown"]
        assert report.model is None

    def test_one_hundred_thousand_keys(self) -> None:
        request: dict[str, object] = {f"key{i}": i for i in range(100_000)}
        request.update(_valid_base("nano-banana", "generations"))
        report = checked(request)
        assert report.ok
        assert len(report.ignored) == 100_000
        assert {f.code for f in report.ignored} == {"unknown_parameter"}

    def test_one_hundred_thousand_image_items(self) -> None:
        for items in ([IMAGE_URL] * 100_000, [{"url": IMAGE_URL}] * 100_000, ["not a url"] * 100_000):
            request = {**_valid_base("gpt-image-2", "edits"), "image": items}
            report = checked(request, endpoint="edits")
            assert ("image", "too_many_items") in [(f.param, f.code) for f in report.errors]
            assert len(report.errors) <= MAX_IMAGE_FINDINGS

    def test_megabyte_strings(self) -> None:
        long_prompt = "a" * 10_000_000
        report = checked({"model": "nano-banana", "prompt": long_prompt})
        assert report.ok
        report = checked({"model": "gpt-image-2", "prompt": long_prompt})
        assert [f.code for f in report.errors] == ["too_long"]
        for size in ("1" * 1_000_000, "x" * 1_000_000, "1" * 500_000 + "x" + "1" * 500_000):
            report = checked({**_valid_base("gpt-image-2", "generations"), "size": size})
            assert not report.ok
            assert "size" not in report.effective
        report = checked({**_valid_base("gpt-image-2", "generations"), "callback_url": "https://" + "a" * 1_000_000})
        assert report.ok  # a callback the platform cannot use is a warning under the basic policy (issue 20)
        assert [f.code for f in report.warnings if f.param == "callback_url"] == ["callback_unusable"]
        assert all(len(f.message) < 1000 for f in report.warnings)
        report = checked(
            {**_valid_base("gpt-image-2", "generations"), "callback_url": "https://" + "a" * 1_000_000},
            url_policy="strict",
        )
        assert [f.code for f in report.errors] == ["url_malformed"]
        report = checked({"model": "gpt-image-2" * 100_000, "prompt": "p"})
        assert [f.code for f in report.errors] == ["model_unknown"]

    @pytest.mark.parametrize(
        "request_",
        [
            MappingProxyType({"model": "nano-banana", "prompt": "p"}),
            {"model": "nano-banana", "prompt": "p", 1: 2, None: 3, (1, 2): 4, 2.5: 5, b"k": 6},
            {"model": "nano-banana", "prompt": "p", "x": object(), "y": {1, 2}, "z": b"bytes"},
            {"model": "nano-banana", "prompt": b"bytes"},
            {"model": "dall-e-2", "prompt": "p", "n": Decimal(2)},
            {"model": "dall-e-2", "prompt": "p", "size": bytearray(b"256x256")},
        ],
        ids=["mapping-proxy", "non-string-keys", "non-json-values", "bytes-prompt", "decimal-n", "bytearray-size"],
    )
    def test_non_json_python_values(self, request_: Mapping[object, object]) -> None:
        checked(request_)

    def test_non_string_keys_are_one_finding_each(self) -> None:
        request: dict[object, object] = {i: i for i in range(1000)}
        request.update(_valid_base("nano-banana", "generations"))
        report = checked(request)
        assert [f.code for f in report.errors] == ["key_not_string"] * 1000

    def test_effective_never_holds_request_structures(self) -> None:
        request: dict[str, object] = {**_valid_base("gpt-image-2", "edits"), "image": [IMAGE_URL, PNG]}
        request.update({"mask": PNG, "callback_url": IMAGE_URL, "async": True, "n": 3, "size": "2048x2048"})
        report = checked(request, endpoint="edits")
        assert report.ok
        assert "image" not in report.effective
        assert "mask" not in report.effective
        assert "prompt" not in report.effective


class TestUrlsThroughCheck:
    """Part 2 through `check`: callback_url, image (string or array) and mask are URLs; basic asks
    for an absolute http(s) URL, strict also refuses SSRF targets. Data URIs are images, never
    callbacks. No message repeats the URL."""

    @pytest.mark.parametrize(
        ("url", "basic", "strict"),
        [
            ("https://example.com/hook", set(), set()),
            ("http://example.com/hook", set(), {"url_not_https"}),
            ("/relative/hook", {"url_not_absolute"}, {"url_not_absolute"}),
            ("ftp://example.com/hook", {"url_scheme"}, {"url_scheme"}),
            ("", {"url_empty"}, {"url_empty"}),
            ("https://example.com/hook\n", {"url_malformed"}, {"url_malformed"}),
            ("https://user:pw@example.com/", set(), {"url_credentials"}),
            ("https://127.0.0.1/", set(), {"url_loopback"}),
            ("https://localhost/", set(), {"url_single_label_host", "url_loopback"}),
            ("https://10.0.0.8/", set(), {"url_private"}),
            ("https://169.254.169.254/latest/meta-data", set(), {"url_metadata", "url_link_local"}),
            ("https://2130706433/", set(), {"url_numeric_host_obfuscated", "url_loopback"}),
            ("https://0x7f.1/", set(), {"url_numeric_host_obfuscated", "url_loopback"}),
            ("https://[::1]/", set(), {"url_loopback"}),
            ("https://xn--80ak6aa92e.com/", set(), {"url_idn_confusable"}),
            (PNG, {"url_data_uri_not_allowed"}, {"url_data_uri_not_allowed"}),
        ],
    )
    def test_callback_url(self, url: str, basic: set[str], strict: set[str]) -> None:
        for endpoint in ENDPOINTS:
            request = {**_valid_base("gpt-image-2", endpoint), "callback_url": url}
            for policy, expected in (("basic", basic), ("strict", strict)):
                report = checked(request, endpoint=endpoint, url_policy=policy)
                if policy == "basic":
                    # Issue 20: the platform takes any string there; an unusable one is a warning.
                    assert report.ok, (url, report.errors)
                    unusable = [f for f in report.warnings if f.code == "callback_unusable"]
                    assert len(unusable) == len(expected), (url, unusable)
                    found_findings = unusable
                else:
                    found = {f.code for f in report.errors}
                    assert found == expected, (policy, url, found)
                    found_findings = list(report.errors)
                assert all(f.param == "callback_url" and f.path == "$.callback_url" for f in found_findings)
                if url:
                    assert all(url not in f.message for f in found_findings)

    def test_callback_url_is_checked_for_every_model_even_without_a_valid_model(self) -> None:
        for model in [*MODELS, "no-such-model"]:
            report = checked({"model": model, "prompt": "p", "callback_url": "ftp://x"})
            assert ("callback_url", "callback_unusable") in [(f.param, f.code) for f in report.warnings]
            report = checked({"model": model, "prompt": "p", "callback_url": "ftp://x"}, url_policy="strict")
            assert ("callback_url", "url_scheme") in [(f.param, f.code) for f in report.errors]

    @pytest.mark.parametrize("field", ["image", "mask"])
    def test_data_uris_are_images(self, field: str) -> None:
        request = {**_valid_base("gpt-image-2", "edits"), field: PNG}
        for policy in ("basic", "strict"):
            report = checked(request, endpoint="edits", url_policy=policy)
            assert report.ok, report.errors
        bad = {**request, field: "data:image/svg+xml;base64,PHN2Zz4="}
        report = checked(bad, endpoint="edits")
        assert [(f.param, f.code) for f in report.errors] == [(field, "url_data_uri_invalid")]

    def test_image_arrays_point_at_the_bad_item(self) -> None:
        items = [IMAGE_URL, "http://127.0.0.1/x.png", 7, PNG, "relative/x.png"]
        request = {**_valid_base("gpt-image-2", "edits"), "image": items}
        basic = checked(request, endpoint="edits")
        assert [(f.path, f.code) for f in basic.errors] == [
            ("$.image[2]", "wrong_type"),
            ("$.image[4]", "url_not_absolute"),
        ]
        strict = checked(request, endpoint="edits", url_policy="strict")
        assert [(f.path, f.code) for f in strict.errors] == [
            ("$.image[1]", "url_not_https"),
            ("$.image[1]", "url_loopback"),
            ("$.image[2]", "wrong_type"),
            ("$.image[4]", "url_not_absolute"),
        ]

    def test_a_model_that_drops_mask_does_not_judge_it(self) -> None:
        request = {**_valid_base("nano-banana", "edits"), "mask": "http://127.0.0.1/"}
        report = checked(request, endpoint="edits", url_policy="strict")
        assert report.ok
        assert [(f.param, f.code) for f in report.ignored] == [("mask", "dropped")]

    def test_mask_is_a_single_url(self) -> None:
        request = {**_valid_base("gpt-image-2", "edits"), "mask": [IMAGE_URL]}
        report = checked(request, endpoint="edits")
        assert [(f.param, f.code) for f in report.errors] == [("mask", "wrong_type")]


class TestCliOnHostileFiles:
    """`imagepricing check FILE` answers with a report (exit 0 or 1) or a usage error (exit 2),
    never a traceback, and its --json output is strict JSON (no NaN) whatever the file holds."""

    def run(self, tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        path = tmp_path / "request.json"
        path.write_text(text, encoding="utf-8")
        status = cli.main(["check", str(path), *args])
        out, err = capsys.readouterr()
        return status, out, err

    @pytest.mark.parametrize(
        "text",
        [
            '{"model": "dall-e-2", "prompt": "p", "n": NaN, "size": Infinity, "quality": -Infinity}',
            '{"model": "dall-e-2", "prompt": "p", "n": 1e999}',
            '{"model": "gpt-image-2", "prompt": "p", "size": "1024x1024\\n", "x\\u001b[2J": 1}',
            '{"model": "gpt-image-2", "prompt": "p", "model": "dall-e-3"}',
            "[1, 2, 3]",
            '"just a string"',
            "null",
        ],
        ids=["nan-and-infinity", "float-overflow", "control-characters", "duplicate-key", "array", "string", "null"],
    )
    def test_reports(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
        status, out, err = self.run(tmp_path, text, capsys, "--json")
        assert status in (0, 1), err
        data = json.loads(out, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
        assert data["ok"] is (status == 0)
        status, out, _ = self.run(tmp_path, text, capsys)
        assert status in (0, 1)
        assert "\x1b" not in out

    def test_nesting_beyond_the_json_reader(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, _, err = self.run(tmp_path, "[" * 100_000 + "]" * 100_000, capsys)
        assert status == 2
        assert "nested too deeply" in err

    def test_an_integer_beyond_the_json_reader(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, _, err = self.run(tmp_path, '{"model": "dall-e-2", "prompt": "p", "n": ' + "9" * 5000 + "}", capsys)
        assert status == 2
        assert "number too large" in err
