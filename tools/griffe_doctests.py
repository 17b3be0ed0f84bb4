"""A griffe extension for the API reference (mkdocs.yml): doctest examples in docstrings become code blocks.

The docstrings are prose with `>>>` examples (run by pytest --doctest-modules), not in a docstring
style's "Examples" section; rendered as Markdown, a `>>>` line is a nested block quote, and its
`x["a"]["b"]` a reference link. Each run of example lines (a `>>>` line, its `...` lines and its
expected output, up to a blank line) is wrapped in a ```pycon fence, as the Python REPL shows it.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    inside = False
    for line in lines:
        example = line.lstrip().startswith(">>>")
        if example and not inside:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            inside = True
        elif inside and not line.strip():
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fences the doctest examples of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
