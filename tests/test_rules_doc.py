"""docs/rules.md: generated from the tables and the rule definitions, and never stale."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagepricing import CODES, check, default_catalog, rules
from imagepricing._rules_doc import REFRESH_COMMAND, render_rules
from imagepricing.findings import codes_of, declare, reported_by, reports
from imagepricing.rules import Context
from imagepricing.strategies import json_values

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


class TestDeclarations:
    """Each code is declared once next to its check; each check says which codes it reports."""

    def test_every_declared_code_is_reported_somewhere(self) -> None:
        # A code no check reports is dead: either the rule was lost or the declaration is stale.
        assert [code for code, where in reported_by().items() if not where] == []

    def test_a_check_declares_the_codes_of_its_helpers(self) -> None:
        assert {"wrong_type", "empty", "too_long"} == codes_of(rules.check_text)
        assert {"size_not_multiple", "size_format", "aspect_fallback"} <= codes_of(rules.check_size)
        assert "url_loopback" in codes_of(rules.check_url)
        assert "url_loopback" not in codes_of(rules.check_boolean)

    def test_a_code_is_declared_once(self) -> None:
        with pytest.raises(ValueError, match="declared twice"):
            declare("wrong_type", "error", "again", "imagepricing: x")

    def test_an_undeclared_code_cannot_be_reported(self) -> None:
        with pytest.raises(ValueError, match="which no module declares"):
            reports("no_such_code")(len)
        assert "no_such_code" not in CODES

    @settings(max_examples=400, deadline=None)
    @given(data=st.data())
    def test_each_rule_reports_only_what_it_declares(self, data: st.DataObject) -> None:
        day = data.draw(st.sampled_from([dt.date(2026, 4, 20), dt.date(2026, 5, 1), dt.date(2026, 8, 1)]))
        catalog = default_catalog().on(day)
        capability = data.draw(
            st.sampled_from([c for m in catalog.models.values() for c in m.endpoints.values() if c.params])
        )
        name = data.draw(st.sampled_from(sorted(capability.params)))
        spec = capability.params[name]
        choices = [*(spec.values or ()), *spec.disputed_values, "auto", "", "1024x1024", "4096x4096", "0x16"]
        value = data.draw(
            st.one_of(
                json_values(),
                st.sampled_from(choices),
                st.integers(-2, 20),
                st.integers(),
                st.lists(st.sampled_from(["https://example.com/a.png", "http://10.0.0.1/x", 3]), max_size=20),
            )
        )
        ctx = Context(capability.model, data.draw(st.sampled_from(["basic", "strict"])), catalog)
        ctx.capability = capability
        rule = rules.RULES[spec.kind]
        rule(ctx, name, value, spec)
        for cross_rule in rules.CROSS_RULES:
            cross_rule(ctx, {name: value})
        found = {f.code for f in (*ctx.errors, *ctx.ignored, *ctx.warnings)}
        declared = codes_of(rule).union(*map(codes_of, rules.CROSS_RULES))
        assert found <= declared, (rule.__name__, found - declared)

    @settings(max_examples=300, deadline=None)
    @given(
        request=st.dictionaries(
            st.sampled_from(["model", "prompt", "n", "size", "image", "zzz", "quality"]), json_values()
        )
    )
    def test_every_code_check_reports_has_a_declared_reporter(self, request: dict[str, object]) -> None:
        report = check(request, as_of=dt.date(2026, 5, 1))
        reporters = reported_by()
        for finding in (*report.errors, *report.ignored, *report.warnings):
            assert reporters[finding.code], finding.code


def test_command_line_writes_the_same(tmp_path: Path) -> None:
    from imagepricing.cli import main

    out = tmp_path / "rules.md"
    assert main(["rules", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_rules()
