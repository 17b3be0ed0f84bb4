"""Sources: a registry of what every rule cites, citations that name it, and findings a person can follow."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from imagepricing import CODES, check, load_catalog
from imagepricing.catalog import default_catalog, default_sources, shipped_data_dir
from imagepricing.cli import main
from imagepricing.errors import CatalogError
from imagepricing.sources import citation_problems, parse_citations, render_citation
from imagepricing.vectors import load_vectors

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = re.compile(r"\b00[0-4]_[0-9a-f]{16}\.txt\b|\b00[0-4]_\*")


class TestCitations:
    def test_parse_ids_and_detail(self) -> None:
        [a, b] = parse_citations("xhuoapi-generations + xhuoapi-edits: n > 1; same on edits; rfc8259: section 4") or []
        assert a.ids == ("xhuoapi-generations", "xhuoapi-edits")
        assert a.detail == "n > 1; same on edits"
        assert b.ids == ("rfc8259",)
        assert b.detail == "section 4"

    def test_text_without_an_id_is_refused(self) -> None:
        assert parse_citations("OpenAI API reference: default") is None
        assert citation_problems("OpenAI API reference: default", default_sources())

    def test_unknown_id_is_named(self) -> None:
        assert citation_problems("no-such-source: x", default_sources()) == [
            "unknown source id 'no-such-source' (known ids are listed in sources.toml)"
        ]

    def test_render_reads_as_a_reference(self) -> None:
        text = render_citation("xhuoapi-edits: image may be an array", default_sources())
        assert text == (
            'XHuoAPI, "OpenAI Images Edits API" <https://docs.xhuoapi.ai/en/guides/openai/openai_images_edits>:'
            " image may be an array"
        )


class TestTheLoader:
    def _copy(self, tmp_path: Path) -> Path:
        target = tmp_path / "data"
        shutil.copytree(shipped_data_dir(), target)
        return target

    def test_unknown_source_id_fails_with_file_and_path(self, tmp_path: Path) -> None:
        data = self._copy(tmp_path)
        models = data / "models.toml"
        models.write_text(
            models.read_text(encoding="utf-8").replace(
                'source = "xhuoapi-generations: dall-e-2 is the only model',
                'source = "seed-file: dall-e-2 is the only model',
            ),
            encoding="utf-8",
        )
        with pytest.raises(CatalogError) as caught:
            load_catalog(data)
        assert any(
            p.startswith("models.toml: $.models.dall-e-2.endpoints.generations.params.n.source: unknown source id")
            for p in caught.value.problems
        ), caught.value.problems

    def test_a_seed_file_name_is_not_a_source(self, tmp_path: Path) -> None:
        data = self._copy(tmp_path)
        sizes = data / "sizes.toml"
        text = sizes.read_text(encoding="utf-8").replace(
            'source = "acedata-api-reference: dall-e-2 supports',
            'source = "003_b61386298ebb611a.txt: dall-e-2 supports',
        )
        sizes.write_text(text, encoding="utf-8")
        with pytest.raises(CatalogError) as caught:
            load_catalog(data)
        assert any("sizes.toml: $.size_sets.dall-e-2.source" in p for p in caught.value.problems)

    def test_missing_registry_fails(self, tmp_path: Path) -> None:
        data = self._copy(tmp_path)
        (data / "sources.toml").unlink()
        with pytest.raises(CatalogError, match=r"sources\.toml: file missing"):
            load_catalog(data)

    def test_bad_registry_entry_fails_with_path(self, tmp_path: Path) -> None:
        data = self._copy(tmp_path)
        reg = data / "sources.toml"
        reg.write_text(
            reg.read_text(encoding="utf-8").replace('url = "https://www.rfc', 'url = "http://www.rfc'), "utf-8"
        )
        with pytest.raises(CatalogError, match=r"sources\.toml: \$\.sources\.rfc8259\.url"):
            load_catalog(data)

    def test_a_known_parameter_cannot_shadow_a_parameter(self, tmp_path: Path) -> None:
        data = self._copy(tmp_path)
        with (data / "parameters.toml").open("a", encoding="utf-8") as handle:
            handle.write('\n[known_parameters.n]\nendpoints = ["generations"]\nnote = "x"\nsource = "rfc8259: x"\n')
        with pytest.raises(CatalogError, match=r"known_parameters\.n: already a parameter"):
            load_catalog(data)

    def test_a_dispute_needs_its_note_and_source(self, tmp_path: Path) -> None:
        data = self._copy(tmp_path)
        models = data / "models.toml"
        text = models.read_text(encoding="utf-8")
        anchor = 'style = { values = ["vivid", "natural"], default = "vivid",'
        models.write_text(text.replace(anchor, anchor[:-1] + ', disputed_values = ["vivid"],', 1), encoding="utf-8")
        with pytest.raises(CatalogError, match=r"dall-e-3\.endpoints\.generations\.params\.style: disputed_values"):
            load_catalog(data)

    def test_a_disputed_source_is_checked_and_rendered(self) -> None:
        spec = load_catalog().models["dall-e-2"].endpoints["generations"].params["quality"]
        assert spec.disputed_source is not None
        assert "AceDataCloud/Docs" in spec.disputed_source


class TestNoSeedFileNames:
    """No rule, finding or vector cites a file no user has."""

    @pytest.mark.parametrize("folder", ["data", "imagepricing", "tests/vectors"])
    def test_no_seed_file_or_spec_citation(self, folder: str) -> None:
        found = []
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in {".toml", ".py", ".json"} and path.is_file():
                text = path.read_text(encoding="utf-8")
                if SEED_FILE.search(text) or "SPEC.md" in text:
                    found.append(str(path.relative_to(ROOT)))
        assert found == []

    def test_every_vector_cites_known_sources(self) -> None:
        registry = default_sources()
        bad = {v["id"]: citation_problems(v["source"], registry) for v in load_vectors()}
        assert {k: v for k, v in bad.items() if v} == {}

    def test_every_code_cites_known_sources(self) -> None:
        registry = default_sources()
        assert {
            c: citation_problems(i.source, registry) for c, i in CODES.items() if citation_problems(i.source, registry)
        } == {}


class TestFindingsReadAsCitations:
    def test_findings_name_publisher_and_address(self) -> None:
        report = check({"model": "dall-e-3", "prompt": "x", "n": 2, "bogus": 1, "quality": "auto"})
        for finding in (*report.errors, *report.ignored, *report.warnings):
            assert "https://" in finding.source, finding
            assert parse_citations(finding.source) is None or not any(
                i in default_sources() for c in parse_citations(finding.source) or [] for i in c.ids
            ), finding.source

    def test_default_source_of_a_code_is_rendered(self) -> None:
        cited = default_catalog().cite(CODES["missing"].source)
        assert cited.startswith('Ace Data Cloud, "OpenAI Images Generations API')

    def test_findings_cite_the_sources_of_the_catalog_checked_against(self, tmp_path: Path) -> None:
        """A catalog of your own renders every source, the codes' own included, from its own
        sources.toml: never from the shipped registry."""
        data = tmp_path / "data"
        shutil.copytree(shipped_data_dir(), data)
        registry = data / "sources.toml"
        text = registry.read_text(encoding="utf-8")
        publisher = 'publisher = "Ace Data Cloud"'
        assert publisher in text
        registry.write_text(text.replace(publisher, 'publisher = "Mirror Of Ace"'), encoding="utf-8")
        mine = load_catalog(data)
        request = {"model": "gpt-image-2", "prompt": "x", "colour": 1, "size": 5, "n": "two"}
        report = check(request, catalog=mine, as_of=dt.date(2026, 5, 1))
        shipped = check(request, as_of=dt.date(2026, 5, 1))
        codes = {f.code for f in (*report.errors, *report.ignored)}
        assert {"unknown_parameter", "wrong_type"} <= codes
        for finding in (*report.errors, *report.ignored, *report.warnings):
            assert "Ace Data Cloud" not in finding.source, finding
        assert any("Mirror Of Ace" in f.source for f in report.ignored if f.code == "unknown_parameter")
        assert all("Mirror Of Ace" not in f.source for f in (*shipped.errors, *shipped.ignored, *shipped.warnings))
        assert mine.code_source("unknown_parameter") != default_catalog().code_source("unknown_parameter")


class TestCommand:
    def test_lists_every_source(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["sources", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)["sources"]
        assert [r["id"] for r in rows] == list(default_sources())
        assert all(r["title"] and r["publisher"] and r["read"] for r in rows)

    def test_markdown_is_docs_sources_md(self, tmp_path: Path) -> None:
        from imagepricing._sources_doc import render_sources

        out = tmp_path / "sources.md"
        assert main(["sources", "--out", str(out)]) == 0
        assert out.read_text(encoding="utf-8") == render_sources()
