"""The exceptions imagepricing raises.

`check` itself never raises for a bad *request* (that is a finding); `CatalogError` is for bad
*tables*. `RequestRejected`, raised for a report upstream would reject, lives beside `Report`
(imagepricing.report).
"""

from __future__ import annotations

from imagepricing._describe import escape_unprintable

__all__ = ["CatalogError"]


class CatalogError(ValueError):
    """A data table is invalid. Carries every problem found, each naming the file and the path.

    Loading is all-or-nothing: when this is raised, no part of the tables is used.

    >>> err = CatalogError(["models.toml: $.models['x'].family: required field missing"])
    >>> err.problems
    ("models.toml: $.models['x'].family: required field missing",)
    """

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        # A table's own text (a model id with a zero-width space, a newline in a value) is shown
        # escaped, so the message names the look-alike instead of hiding it or breaking lines.
        self.problems: tuple[str, ...] = tuple(escape_unprintable(problem) for problem in problems)
        count = len(self.problems)
        header = f"invalid data tables ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n  ".join([header, *self.problems]))
