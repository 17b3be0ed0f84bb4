"""The conformance vectors (tests/vectors/*.json), one test per vector, run against the engine.

Known deviations (a vector whose expectation follows the seeds where the engine does not yet) run
as strict expected failures carrying the reason, as jsonschema's suite does with named skips.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from imagepricing import CODES, check, default_catalog
from imagepricing.catalog import default_sources
from imagepricing.findings import Finding
from imagepricing.report import Report
from imagepricing.sources import citation_problems
from imagepricing.vectors import (
    DEFAULTS,
    FORMAT,
    VectorError,
    _locate,
    build_request,
    compare,
    export_vectors,
    load_vectors,
    run_vector,
    vectors_dir,
    vectors_document,
)

VECTORS = load_vectors()
SEED_FILE = re.compile(r"\b00[0-4]_[0-9a-f]{16}\.txt\b")

# Finding codes no JSON request can produce, with the reason.
NOT_EXPRESSIBLE_IN_JSON = {"key_not_string": "JSON object keys are always strings"}
# Finding codes the shipped tables cannot produce, with the reason (tests/test_check.py covers them
# with user tables).
UNREACHABLE_WITH_SHIPPED_TABLES = {
    "endpoint_unsupported": "every shipped model serves both endpoints (dall-e-3 on edits is disputed: a"
    " sources_disagree warning)",
    "size_too_few_pixels": "the shipped tables dispute gpt-image-2's minimum pixels (a sources_disagree warning,"
    " issue 20); tests/test_strategies.py covers the error with undisputed tables",
    "size_aspect_ratio": "the shipped tables dispute gpt-image-2's ratio limit (a sources_disagree warning, issue 20)",
}


def _param(vector: dict[str, Any]) -> Any:
    marks = []
    if vector.get("known_deviation"):
        marks.append(pytest.mark.xfail(strict=True, reason=vector["known_deviation"]))
    return pytest.param(vector, id=vector["id"], marks=marks)


@pytest.mark.parametrize("vector", [_param(v) for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    problems = run_vector(vector)
    assert problems == [], f"{vector['file']}: {vector['id']}: " + "; ".join(problems)


class TestTheSuite:
    """Every vector names its seed or public fact, every rule and edge has one."""

    def test_ids_are_unique(self) -> None:
        counts = Counter(v["id"] for v in VECTORS)
        assert [i for i, c in counts.items() if c > 1] == []

    def test_every_vector_cites_a_known_source(self) -> None:
        registry = default_sources()
        unsourced = [v["id"] for v in VECTORS if citation_problems(v["source"], registry)]
        assert unsourced == []

    def test_no_vector_cites_a_seed_file(self) -> None:
        assert [v["id"] for v in VECTORS if SEED_FILE.search(v["source"]) or "SPEC.md" in v["source"]] == []

    def test_every_vector_spells_out_endpoint_and_provider(self) -> None:
        # Defaults exist, but a reader in another language should not need them.
        assert [v["id"] for v in VECTORS if "endpoint" not in v or "provider" not in v] == []

    def test_every_pricing_vector_fixes_its_date(self) -> None:
        # A price depends on the day; a rejected request's cost (none) does not.
        priced = [
            v
            for v in VECTORS
            if v["file"] == "pricing.json"
            or any(v["expect"].get(k) is not None for k in ("cost", "unit_price", "multiplier"))
        ]
        assert priced
        assert [v["id"] for v in priced if "as_of" not in v] == []

    def test_every_code_a_json_request_can_produce_has_a_vector(self) -> None:
        covered = {
            code for v in VECTORS for key in ("errors", "ignored", "warnings") for _, code in v["expect"].get(key, [])
        }
        assert set(CODES) - set(NOT_EXPRESSIBLE_IN_JSON) - set(UNREACHABLE_WITH_SHIPPED_TABLES) - covered == set()

    def test_url_codes_are_covered_under_both_policies(self) -> None:
        def codes(policy: str) -> set[str]:
            return {
                code
                for v in VECTORS
                if v.get("url_policy", DEFAULTS["url_policy"]) == policy
                for _, code in v["expect"].get("errors", [])
                if code.startswith("url_")
            }

        assert {"url_empty", "url_not_absolute", "url_scheme", "url_no_host", "url_malformed"} <= codes("basic")
        strict_only = {c for c, info in CODES.items() if c.startswith("url_") and info.summary.startswith("strict:")}
        assert strict_only <= codes("strict")

    def test_every_model_and_endpoint_has_a_minimal_vector(self) -> None:
        catalog = default_catalog()
        uncovered = []
        for model in catalog.models.values():
            for endpoint in ("generations", "edits"):
                want_ok = endpoint in model.endpoints or endpoint in model.disputed_endpoints
                disputed = endpoint in model.disputed_endpoints
                found = any(
                    isinstance(v["request"], dict)
                    and v["request"].get("model") == model.id
                    and v["endpoint"] == endpoint
                    and v["expect"]["ok"] is want_ok
                    and (want_ok or ["model", "endpoint_unsupported"] in v["expect"].get("errors", []))
                    and (not disputed or ["model", "sources_disagree"] in v["expect"].get("warnings", []))
                    for v in VECTORS
                )
                if not found:
                    uncovered.append(f"{model.id} on {endpoint}")
        assert uncovered == [], "add a vector to tests/vectors/models.json for each"

    def test_known_deviations_are_explained(self) -> None:
        deviations = [v for v in VECTORS if "known_deviation" in v]
        assert all(isinstance(v["known_deviation"], str) and len(v["known_deviation"]) > 40 for v in deviations)


class TestRunner:
    """run_vector compares only what a vector states, findings order-free, decimals by value."""

    @staticmethod
    def _report(**overrides: Any) -> Report:
        report = check({"model": "nano-banana", "prompt": "p", "quality": "x"})
        return attrs.evolve(report, **overrides)

    def test_findings_compare_as_multisets(self) -> None:
        a, b = Finding("dropped", "quality", "m"), Finding("dropped", "n", "m")
        report = self._report(ignored=(a, b))
        assert compare({"ok": True, "ignored": [["n", "dropped"], ["quality", "dropped"]]}, report) == []
        assert compare({"ok": True, "ignored": [["n", "dropped"]]}, report) != []
        assert compare({"ok": True, "ignored": [["n", "dropped"], ["n", "dropped"], ["quality", "dropped"]]}, report)

    def test_decimals_compare_by_value(self) -> None:
        report = self._report(cost=Decimal("0.300"))
        assert compare({"ok": True, "cost": "0.3"}, report) == []
        assert compare({"ok": True, "cost": "0.31"}, report) != []
        assert compare({"ok": True, "cost": None}, report) != []

    def test_absent_keys_are_not_compared(self) -> None:
        assert compare({"ok": True}, self._report()) == []
        assert compare({"ok": False}, self._report()) != []

    def test_request_repeat_builds_long_strings(self) -> None:
        vector = {"request": {"model": "m", "prompt": ""}, "request_repeat": {"prompt": {"text": "ab", "times": 3}}}
        assert build_request(vector) == {"model": "m", "prompt": "ababab"}

    def test_a_wrong_expectation_is_reported(self) -> None:
        vector = dict(next(v for v in VECTORS if v["id"] == "dall-e-3/n/2"))
        vector["expect"] = {"ok": True}
        assert run_vector(vector) != []


class TestFiles:
    """The files are found in the wheel or the checkout, validated on load, exported as one."""

    def test_shipped_vectors_are_found_in_the_checkout(self) -> None:
        assert vectors_dir().name == "vectors"
        assert len(VECTORS) >= 300

    def test_locate_prefers_the_packaged_copy(self, tmp_path: Path) -> None:
        package = tmp_path / "site-packages" / "imagepricing"
        (package / "vectors").mkdir(parents=True)
        (package / "vectors" / "a.json").write_text("{}")
        assert _locate(package) == package / "vectors"

    def test_locate_falls_back_to_a_checkout_only(self, tmp_path: Path) -> None:
        package = tmp_path / "imagepricing"
        package.mkdir()
        (tmp_path / "tests" / "vectors").mkdir(parents=True)
        (tmp_path / "tests" / "vectors" / "a.json").write_text("{}")
        with pytest.raises(FileNotFoundError):
            _locate(package)  # no pyproject.toml: not a checkout
        (tmp_path / "pyproject.toml").write_text("")
        assert _locate(package) == tmp_path / "tests" / "vectors"

    @pytest.mark.parametrize(
        ("mutation", "message"),
        [
            (lambda v: v.pop("source"), "'source' is required"),
            (lambda v: v.update(expcet={}), "unknown keys"),
            (lambda v: v["expect"].update(ok="yes"), "boolean"),
            (lambda v: v["expect"].update(cost=0.3), "decimals are written as strings"),
            (lambda v: v["expect"].update(errors=[["n"]]), "param or null, code"),
            (lambda v: v.update(request_repeat={"prompt": {"text": "a"}}), "request_repeat"),
        ],
    )
    def test_malformed_vectors_fail_at_load(self, tmp_path: Path, mutation: Any, message: str) -> None:
        vector = {k: v for k, v in VECTORS[0].items() if k != "file"}
        vector = json.loads(json.dumps(vector))
        mutation(vector)
        (tmp_path / "bad.json").write_text(json.dumps({"format": FORMAT, "vectors": [vector]}))
        with pytest.raises(VectorError, match=message):
            load_vectors(tmp_path)

    def test_a_file_without_the_format_tag_fails(self, tmp_path: Path) -> None:
        (tmp_path / "x.json").write_text(json.dumps({"vectors": []}))
        with pytest.raises(VectorError, match="format"):
            load_vectors(tmp_path)

    def test_export_is_one_document_with_every_vector(self, tmp_path: Path) -> None:
        out = tmp_path / "all.json"
        export_vectors(out)
        document = json.loads(out.read_text(encoding="utf-8"))
        assert document["format"] == FORMAT
        assert document["defaults"] == dict(DEFAULTS)
        assert [v["id"] for v in document["vectors"]] == [v["id"] for v in VECTORS]
        assert out.read_text(encoding="utf-8").isascii()

    def test_exported_vectors_run_from_the_file(self, tmp_path: Path) -> None:
        # What another implementation does: read the one file and run each vector.
        buffer = io.StringIO()
        export_vectors(buffer)
        vectors = json.loads(buffer.getvalue())["vectors"]
        failing = [v["id"] for v in vectors if run_vector(v) and "known_deviation" not in v]
        assert failing == []

    def test_document_carries_the_version(self) -> None:
        from imagepricing import __version__

        assert vectors_document()["imagepricing_version"] == __version__


class TestCommandLine:
    def test_vectors_to_a_file(self, tmp_path: Path) -> None:
        from imagepricing.cli import main

        out = tmp_path / "v.json"
        assert main(["vectors", "--out", str(out)]) == 0
        assert len(json.loads(out.read_text(encoding="utf-8"))["vectors"]) == len(VECTORS)

    def test_vectors_to_stdout(self, capsys: pytest.CaptureFixture[str]) -> None:
        from imagepricing.cli import main

        assert main(["vectors"]) == 0
        assert json.loads(capsys.readouterr().out)["format"] == FORMAT
