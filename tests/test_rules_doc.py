"""docs/rules.md: generated from the tables and the rule definitions, and never stale."""

from __future__ import annotations

from pathlib import Path

from imagepricing import CODES, default_catalog, rules
from imagepricing._rules_doc import REFRESH_COMMAND, checked_by, codes_of, render_rules

DOC = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date() -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    assert current == render_rules(), f"docs/rules.md is stale: run `{REFRESH_COMMAND}`"


class TestContent:
    """Every rule with its finding code, what it checks and its source."""

    text = render_rules()

    def test_every_code_with_severity_summary_and_source(self) -> None:
        for code, info in CODES.items():
            row = next(line for line in self.text.splitlines() if line.startswith(f"| `{code}` |"))
            assert info.severity in row
            assert info.summary.replace("|", "\\|") in row
            assert info.source.replace("|", "\\|") in row

    def test_every_model_endpoint_and_parameter_source(self) -> None:
        catalog = default_catalog()
        for model in catalog.models.values():
            assert f"### {model.id}\n" in self.text
            for endpoint, capability in model.endpoints.items():
                assert f"#### {model.id} on {endpoint}" in self.text
                for spec in capability.params.values():
                    assert spec.source in self.text

    def test_every_price_with_its_source_and_dates(self) -> None:
        for book in default_catalog().price_books.values():
            assert f"### {book.provider}: {book.name} ({book.currency})" in self.text
            for entry in book.entries:
                assert entry.source in self.text
                if entry.effective_from is not None:
                    assert entry.effective_from.isoformat() in self.text

    def test_size_constraints_with_numbers_and_sources(self) -> None:
        for limits in default_catalog().constraints.values():
            for _code, text, source, _disputed in limits.limits():
                assert text in self.text
                assert source in self.text
            assert limits.source in self.text

    def test_tells_how_to_refresh(self) -> None:
        assert REFRESH_COMMAND in self.text

    def test_rendering_is_deterministic(self) -> None:
        assert render_rules() == self.text


class TestRuleIndex:
    """The codes each rule can report are read from the rule functions' source."""

    def test_every_registered_code_is_reported_somewhere(self) -> None:
        # A code no function names is dead: either the rule was lost or the registry is stale.
        assert [code for code, where in checked_by().items() if not where] == []

    def test_codes_follow_helpers(self) -> None:
        assert {"wrong_type", "empty", "too_long"} == codes_of(rules.check_text)
        assert {"size_not_multiple", "size_format", "aspect_fallback"} <= codes_of(rules.check_size)
        assert "url_loopback" in codes_of(rules.check_url)
        assert "url_loopback" not in codes_of(rules.check_boolean)


def test_command_line_writes_the_same(tmp_path: Path) -> None:
    from imagepricing.cli import main

    out = tmp_path / "rules.md"
    assert main(["rules", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_rules()
