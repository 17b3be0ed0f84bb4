"""The exceptions imagepricing raises.

`check` itself never raises for a bad *request* (that is a finding); these are for bad *tables*
and for programming errors such as an unknown endpoint name.
"""

from __future__ import annotations

__all__ = ["CatalogError"]


class CatalogError(ValueError):
    """A data table is invalid. Carries every problem found, each naming the file and the path.

    Loading is all-or-nothing: when this is raised, no part of the tables is used.

    >>> err = CatalogError(["models.toml: $.models['x'].family: required field missing"])
    >>> err.problems
    ("models.toml: $.models['x'].family: required field missing",)
    """

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        header = f"invalid data tables ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n  ".join([header, *self.problems]))
