"""Findings: what `check` says about a request, and the registry of every finding code.

A finding is one fact about one parameter: a stable machine `code`, the `param` it concerns (the
request key, or None for the request as a whole), a `message` a person can act on (it names the
allowed values or limits), the JSON `path` of the offending value, and the `source` of the rule
(a citation of data/sources.toml, rendered as publisher, title and address: see `Catalog.cite`: the
catalog checked against renders it from its own sources.toml).

Codes follow jsonschema's habit of naming the rule, not the parameter: `out_of_range` with
`param="n"` rather than `n_out_of_range`, so one code means one kind of check everywhere.

Each code is declared once, next to the check that reports it (`declare`: severity, what it
checks, default source, and the verdict under the rule of certainty as a comment above it), and
each check says which codes it reports (`reports`). `CODES` and docs/rules.md are made from these
declarations; `import imagepricing` imports every module that declares one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

import attrs

Severity = Literal["error", "ignored", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "ignored", "warning")
_F = TypeVar("_F", bound=Callable[..., object])

__all__ = [
    "CODES",
    "PLATFORM_SCHEMA",
    "SEED_PARAMETERS",
    "SEED_REQUEST_BODY",
    "SEVERITIES",
    "CodeInfo",
    "Finding",
    "Severity",
    "codes_of",
    "declare",
    "reported_by",
    "reports",
]


@attrs.frozen(weakref_slot=True)
class Finding:
    """One thing `check` found.

    >>> Finding("out_of_range", "n", "n must be an integer from 1 to 10; got 11.", path="$.n").to_dict()["code"]
    'out_of_range'
    """

    code: str
    param: str | None
    message: str
    source: str = ""
    path: str = "$"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "param": self.param,
            "message": self.message,
            "path": self.path,
            "source": self.source,
        }


@attrs.frozen(weakref_slot=True)
class CodeInfo:
    """What a finding code means: where it is reported, what it checks, and its default source."""

    severity: Severity
    summary: str
    source: str


# Citations several codes share (data/sources.toml ids with the section).
SEED_REQUEST_BODY = "acedata-api-reference: request body"
SEED_PARAMETERS = "xhuoapi-generations + acedata-generations-guide"
PLATFORM_SCHEMA = "acedata-openapi: request schemas of /openai/images/generations and /openai/images/edits"

# Every code, in the order declared. Default sources are citations of data/sources.toml ("<id>:
# <section or quote>"); a finding carries them rendered by the catalog in hand
# (`Catalog.code_source`).
CODES: dict[str, CodeInfo] = {}
# The checks that report each code, as "module.function", and the codes each check reports.
_REPORTERS: dict[str, list[str]] = {}
_REPORTED: dict[Callable[..., object], frozenset[str]] = {}


def declare(code: str, severity: Severity, summary: str, source: str) -> str:
    """Declare finding code `code` (once, next to the check that reports it); returns `code`."""
    if code in CODES:
        raise ValueError(f"finding code {code!r} is declared twice")
    if severity not in SEVERITIES:
        raise ValueError(f"finding code {code!r}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    CODES[code] = CodeInfo(severity, summary, source)
    _REPORTERS[code] = []
    return code


def reports(*codes: str) -> Callable[[_F], _F]:
    """Decorator: the check below reports `codes` (each declared), directly or through its helpers.

    >>> reports("no_such_code")(len)
    Traceback (most recent call last):
    ...
    ValueError: builtins.len reports 'no_such_code', which no module declares
    """

    def mark(check: _F) -> _F:
        name = f"{check.__module__.rpartition('.')[2]}.{check.__qualname__}"
        for code in codes:
            if code not in CODES:
                raise ValueError(f"{name} reports {code!r}, which no module declares")
        for code in codes:
            _REPORTERS[code].append(name)
        _REPORTED[check] = frozenset(codes)
        return check

    return mark


def reported_by() -> dict[str, tuple[str, ...]]:
    """For each declared code, the checks that report it ("module.function"), sorted."""
    return {code: tuple(sorted(names)) for code, names in _REPORTERS.items()}


def codes_of(check: Callable[..., object]) -> frozenset[str]:
    """The codes `check` reports, as its `reports` declaration says (empty when it declares none)."""
    return _REPORTED.get(check, frozenset())
