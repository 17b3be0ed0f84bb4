"""Render docs/sources.md: every source the rules cite (data/sources.toml), and where each is cited.

`python -m imagepricing sources --out docs/sources.md` writes it; tests/test_sources_doc.py fails when
the committed file differs from what this module renders.
"""

from __future__ import annotations

from collections.abc import Mapping

from imagepricing.catalog import default_sources
from imagepricing.sources import Source

__all__ = ["REFRESH_COMMAND", "render_sources"]

REFRESH_COMMAND = "python -m imagepricing sources --out docs/sources.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_sources(sources: Mapping[str, Source] | None = None) -> str:
    """The sources reference as Markdown (deterministic: the registry's order)."""
    registry = default_sources() if sources is None else sources
    lines = [
        "# Sources",
        "",
        f"<!-- Generated from data/sources.toml by `{REFRESH_COMMAND}`; do not edit by hand. -->",
        "",
        "Every rule, price and conformance vector cites one of these sources by its id, with the section or",
        'a short quote: `"<id>: <section or quote>"`, several citations joined by `"; "`, several sources',
        'saying the same thing as `"<id> + <id>: ..."`. Loading the tables fails on an unknown id, naming the',
        "file and the path; a finding's `source` shows the publisher, the title and the address instead of the",
        "id. Where sources disagree, `check` accepts the request and reports `sources_disagree`, naming both.",
        "",
        "| id | publisher | title | address | version | read |",
        "|---|---|---|---|---|---|",
    ]
    for source in registry.values():
        lines.append(
            "| "
            + " | ".join(
                (
                    f"`{source.id}`",
                    _cell(source.publisher),
                    _cell(source.title),
                    f"<{source.url}>" if source.url else "-",
                    _cell(source.version or "-"),
                    source.read.isoformat(),
                )
            )
            + " |"
        )
    lines += ["", "## Notes", ""]
    for source in registry.values():
        if source.note:
            lines.append(f"- `{source.id}`: {source.note}")
    return "\n".join(lines) + "\n"
