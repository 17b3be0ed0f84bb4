"""Regular expressions compiled on first use.

`import re` (with the enum and compiler modules it pulls in) is about a fifth of `import
imagepricing` plus `load_catalog()` (docs/startup.md), and no pattern is needed to load the tables
or to check a request that raises no finding: a pattern here compiles, and imports `re`, the first
time it is used. Flags go inline in the pattern (`(?i)`), so that defining one needs nothing of re.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; see frozen.py)
if TYPE_CHECKING:
    import re
    from collections.abc import Iterator

__all__ = ["LazyPattern"]


class LazyPattern:
    """A `re.Pattern` compiled on first use, with the methods the library calls."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        found = self._compiled
        if found is None:
            import re  # noqa: PLC0415

            # Two threads may both compile; either result is the same pattern.
            found = self._compiled = re.compile(self.pattern)
        return found

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.compiled().fullmatch(text)

    def match(self, text: str) -> re.Match[str] | None:
        return self.compiled().match(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled().search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(text)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"
