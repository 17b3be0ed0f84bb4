"""The exceptions imagepricing raises.

`check` itself never raises for a bad *request* (that is a finding); these are for bad *tables*
and for programming errors such as an unknown endpoint name.
"""

from __future__ import annotations

from imagepricing._describe import escape_unprintable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; see frozen.py)

if TYPE_CHECKING:
    from imagepricing.findings import Finding
    from imagepricing.report import Report

__all__ = ["CatalogError", "RequestRejected"]


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


class RequestRejected(ValueError):
    """A request upstream would certainly reject, raised by `Report.raise_for_errors` and the guards.

    `.report` is the whole Report (its quote, ignored parameters and warnings too); `.findings`
    are its errors. The text lists every error as `code (param): message`; messages never quote
    a secret, so the text is safe to log.

    >>> import imagepricing
    >>> try:
    ...     imagepricing.check({"model": "dall-e-3", "prompt": "p", "n": 2}).raise_for_errors()
    ... except imagepricing.RequestRejected as rejected:
    ...     print([f.code for f in rejected.findings])
    ['above_model_limit']
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        self.findings: tuple[Finding, ...] = report.errors
        count = len(self.findings)
        lines = [f"request rejected ({count} error{'s' if count != 1 else ''}):"]
        lines.extend(f"{f.code} ({f.param or 'request'}): {f.message}" for f in self.findings)
        super().__init__("\n  ".join(lines))
