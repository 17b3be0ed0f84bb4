"""Sources: the registry of what every rule cites (data/sources.toml), and citations of it.

A citation names one or more source ids and, after a colon, the section or a short quote:
`"xhuoapi-generations: About the n parameter"`. Several citations are joined with `"; "`, and
several sources saying the same thing share one citation: `"xhuoapi-generations + xhuoapi-edits:
..."`. Every `source` in the data tables, in the finding registry (`findings.CODES`) and in the
conformance vectors is written this way; the catalog refuses an unknown id at load, naming the
file and the path, and renders every citation so that a finding's `source` reads as a reference a
person can follow (publisher, title, address), not as an id.

>>> from imagepricing.catalog import default_sources
>>> cited = render_citation("rfc8259: section 4, object names are strings", default_sources())
>>> cited.startswith('IETF, "RFC 8259: The JavaScript Object Notation (JSON) Data Interchange Format"')
True
>>> cited.endswith("<https://www.rfc-editor.org/rfc/rfc8259>: section 4, object names are strings")
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import attrs

__all__ = [
    "SOURCE_ID",
    "Citation",
    "Source",
    "citation_problems",
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
