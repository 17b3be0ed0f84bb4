"""Sources: the registry of what every rule cites (data/sources.toml), and citations of it.

A citation names one or more source ids and, after a colon, the section or a short quote:
`"xhuoapi-generations: About the n parameter"`. Several citations are joined with `"; "`, and
several sources saying the same thing share one citation: `"xhuoapi-generations + xhuoapi-edits:
..."`. Every `source` in the data tables, in the finding registry (`findings.CODES`) and in the
conformance vectors is written this way; the catalog refuses an unknown id at load, naming the
file and the path, and renders every citation so that a finding's `source` reads as a reference a
person can follow (publisher, title, address), not as an id.

>>> cited = render_citation("rfc8259: section 4, object names are strings", default_sources())
>>> cited.startswith('IETF, "RFC 8259: The JavaScript Object Notation (JSON) Data Interchange Format"')
True
>>> cited.endswith("<https://www.rfc-editor.org/rfc/rfc8259>: section 4, object names are strings")
True
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import attrs

__all__ = [
    "SOURCE_ID",
    "Citation",
    "Source",
    "citation_problems",
    "default_sources",
    "load_sources",
    "load_sources_file",
    "parse_citations",
    "render_citation",
]

# A source id: lowercase ASCII letters, digits, dots and hyphens, starting with a letter or digit.
SOURCE_ID = re.compile(r"[a-z0-9][a-z0-9.-]*")
# The head of a citation: ids joined by " + ", then ": " or the end of the citation.
_HEAD = re.compile(r"([a-z0-9][a-z0-9.-]*(?: \+ [a-z0-9][a-z0-9.-]*)*)(?:: |\Z)")


@attrs.frozen(weakref_slot=True)
class Source:
    """One source a rule can cite."""

    id: str
    title: str
    publisher: str
    read: dt.date
    url: str | None = None
    version: str | None = None
    note: str | None = None

    @property
    def reference(self) -> str:
        """The source as a reader can find it: publisher, title and address."""
        where = f" <{self.url}>" if self.url else ""
        return f'{self.publisher}, "{self.title}"{where}'


@attrs.frozen(weakref_slot=True)
class Citation:
    """Source ids and what they say (the section or a short quote; may be empty)."""

    ids: tuple[str, ...]
    detail: str


def parse_citations(text: str) -> list[Citation] | None:
    """The citations `text` makes, or None if it does not start with a citation head.

    A `"; "` followed by something that is not a citation head stays inside the detail.
    """
    citations: list[Citation] = []
    for part in text.split("; "):
        head = _HEAD.match(part)
        if head is not None:
            citations.append(Citation(tuple(head.group(1).split(" + ")), part[head.end() :]))
        elif citations:
            last = citations[-1]
            citations[-1] = Citation(last.ids, f"{last.detail}; {part}")
        else:
            return None
    return citations or None


def citation_problems(text: str, sources: Mapping[str, Source]) -> list[str]:
    """What is wrong with `text` as a citation of `sources` (empty when it is right)."""
    citations = parse_citations(text)
    if citations is None:
        return [f'{text[:60]!r} does not start with a source id ("<id>: <section or quote>")']
    unknown = [i for c in citations for i in c.ids if i not in sources]
    return [f"unknown source id {i!r} (known ids are listed in sources.toml)" for i in unknown]


def render_citation(text: str, sources: Mapping[str, Source]) -> str:
    """`text` with each source id replaced by the source's reference; unknown ids stay as written."""
    citations = parse_citations(text)
    if citations is None:
        return text
    parts = []
    for citation in citations:
        refs = " + ".join(sources[i].reference if i in sources else i for i in citation.ids)
        parts.append(f"{refs}: {citation.detail}" if citation.detail else refs)
    return "; ".join(parts)


@functools.cache
def default_sources() -> Mapping[str, Source]:
    """The shipped registry (data/sources.toml), loaded once; raises CatalogError if it is bad."""
    from imagepricing import _compiled_tables, catalog  # noqa: PLC0415 - catalog imports this module
    from imagepricing.catalog import shipped_data_dir  # noqa: PLC0415
    from imagepricing.errors import CatalogError  # noqa: PLC0415

    # The shipped catalog holds this very registry: take it from there when it is loaded or
    # compiled, rather than validate sources.toml again. (No lock is taken here: the default
    # catalog is read only once cached, so a load that renders a citation cannot wait on itself.)
    if catalog.default_catalog.cache_info().currsize:
        return catalog.default_catalog().sources
    compiled = _compiled_tables.load(catalog._shipped_tables())
    if compiled is not None:
        return compiled.sources
    problems: list[str] = []
    registry = load_sources(shipped_data_dir() / "sources.toml", problems)
    if problems or registry is None:
        raise CatalogError(problems)
    return registry


def load_sources(path: Path, problems: list[str], label: str = "sources.toml") -> Mapping[str, Source] | None:
    """Read one sources.toml; append every problem (file and path) to `problems`."""
    return load_sources_file(path, problems, label)[0]


def load_sources_file(
    path: Path, problems: list[str], label: str = "sources.toml"
) -> tuple[Mapping[str, Source] | None, dt.date | None]:
    """Read one sources.toml: the registry and the day its sources were last reviewed (None when
    the file does not say); append every problem (file and path) to `problems`."""
    # Validation only: a process that loads the compiled catalog never needs tomllib or cattrs.
    import tomllib  # noqa: PLC0415

    from imagepricing._table_shapes import SourcesFile, structure_table  # noqa: PLC0415

    try:
        with path.open("rb") as handle:
            doc = tomllib.load(handle)
    except FileNotFoundError:
        problems.append(f"{label}: file missing ({path})")
        return None, None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{label}: cannot be read: {exc}")
        return None, None
    table, found = structure_table(doc, SourcesFile, label)
    problems.extend(found)
    if table is None:
        return None, None
    registry: dict[str, Source] = {}
    for source_id, row in table.sources.items():
        where = f"{label}: $.sources.{source_id}"
        if not SOURCE_ID.fullmatch(source_id):
            problems.append(f"{where}: an id is lowercase ASCII letters, digits, dots and hyphens")
        for key in ("title", "publisher"):
            if not getattr(row, key).strip():
                problems.append(f"{where}.{key}: blank")
        if row.url is not None and not row.url.startswith("https://"):
            problems.append(f"{where}.url: {row.url!r} is not an https:// address")
        registry[source_id] = Source(
            id=source_id,
            title=row.title,
            publisher=row.publisher,
            read=row.read,
            url=row.url,
            version=row.version,
            note=row.note,
        )
    if not registry:
        problems.append(f"{label}: $.sources: empty")
    return MappingProxyType(registry), table.reviewed
