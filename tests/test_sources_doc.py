"""docs/sources.md: generated from data/sources.toml, and never stale."""

from __future__ import annotations

from pathlib import Path

from imagepricing._sources_doc import REFRESH_COMMAND, render_sources
from imagepricing.catalog import default_sources

DOC = Path(__file__).resolve().parent.parent / "docs" / "sources.md"


def test_docs_sources_md_is_up_to_date() -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    assert current == render_sources(), f"docs/sources.md is stale: run `{REFRESH_COMMAND}`"


def test_every_source_is_listed_with_its_address() -> None:
    text = render_sources()
    for source in default_sources().values():
        assert f"| `{source.id}` |" in text
        if source.url:
            assert f"<{source.url}>" in text
    assert REFRESH_COMMAND in text
