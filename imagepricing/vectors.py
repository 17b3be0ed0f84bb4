"""Conformance vectors: language-neutral JSON test cases that any implementation can run.

The vectors are hand-curated from the sources of data/sources.toml (`tests/vectors/*.json` in the
repository, shipped inside the wheel as `imagepricing/vectors/`). Each vector is a request, how
to send it (endpoint, provider, date, prices) and the verdict the rules give: ok, the errors,
what upstream ignores, the warnings, the tier, the images billed and the cost. docs/reference.md
describes the format for implementers in other languages.

>>> vectors = load_vectors()
>>> len({v["id"] for v in vectors}) == len(vectors)
True
>>> [run_vector(v) for v in vectors if v["id"] == "gpt-image-2/size/alias-1254x1254-is-1k"]
[[]]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from imagepricing._version import __version__
from imagepricing.catalog import Catalog, default_catalog
from imagepricing.engine import check
from imagepricing.findings import Finding
from imagepricing.report import Report

__all__ = [
    "DEFAULTS",
    "FORMAT",
    "VectorError",
    "build_request",
    "compare",
    "export_vectors",
    "load_vectors",
    "run_vector",
    "vector_report",
    "vectors_dir",
    "vectors_document",
]

FORMAT = "imagepricing-vectors/1"

# What an absent optional field means. as_of is fixed so that no vector depends on today's date.
DEFAULTS: Mapping[str, str] = {
    "endpoint": "generations",
    "provider": "acedata",
    "as_of": "2026-05-01",
    "price_basis": "charged",
    "url_policy": "basic",
}

_REQUIRED = ("id", "description", "source", "request", "expect")
_OPTIONAL = (*DEFAULTS, "price_override", "request_repeat", "known_deviation", "file")
_EXPECT_KEYS = (
    "ok",
    "errors",
    "ignored",
    "warnings",
    "tier",
    "images",
    "multiplier",
    "unit_price",
    "cost",
    "currency",
    "effective",
    "usd_equivalent",
)
_DECIMAL_KEYS = ("multiplier", "unit_price", "cost", "usd_equivalent")
_FINDING_KEYS = ("errors", "ignored", "warnings")


class VectorError(ValueError):
    """A vector file or a vector is malformed (names the file and the vector id)."""


def vectors_dir() -> Path:
    """Where the shipped vectors are: inside the installed package (wheel), or the checkout's
    `tests/vectors/` (editable install or a plain checkout)."""
    return _locate(Path(__file__).resolve().parent)


def _locate(here: Path) -> Path:
    packaged = here / "vectors"
    if packaged.is_dir() and any(packaged.glob("*.json")):
        return packaged
    checkout = here.parent / "tests" / "vectors"
    if (here.parent / "pyproject.toml").is_file() and checkout.is_dir() and any(checkout.glob("*.json")):
        return checkout
    raise FileNotFoundError(f"the conformance vectors are missing: looked in {packaged} and {checkout}")


def load_vectors(directory: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Every vector of every `*.json` file in `directory` (default: the shipped ones), in file
    name order, each with a `file` key naming the file it comes from."""
    folder = Path(directory) if directory is not None else vectors_dir()
    vectors: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VectorError(f"{path.name}: cannot be read as JSON: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise VectorError(f'{path.name}: expected an object with "format": "{FORMAT}"')
        items = document.get("vectors")
        if not isinstance(items, list):
            raise VectorError(f'{path.name}: "vectors" must be an array')
        for index, vector in enumerate(items):
            _validate(vector, f"{path.name}: vectors[{index}]")
            vectors.append({**vector, "file": path.name})
    return vectors


def _validate(vector: object, where: str) -> None:
    if not isinstance(vector, dict):
        raise VectorError(f"{where}: a vector must be an object")
    where = f"{where} ({vector.get('id', '?')})"
    for key in _REQUIRED:
        if key not in vector:
            raise VectorError(f"{where}: {key!r} is required")
    unknown = sorted(set(vector) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise VectorError(f"{where}: unknown keys {unknown}")
    expect = vector["expect"]
    if not isinstance(expect, dict) or type(expect.get("ok")) is not bool:
        raise VectorError(f'{where}: "expect" must be an object with a boolean "ok"')
    unknown = sorted(set(expect) - set(_EXPECT_KEYS))
    if unknown:
        raise VectorError(f"{where}: unknown expect keys {unknown}")
    for key in _FINDING_KEYS:
        pairs = expect.get(key, [])
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and (p[0] is None or isinstance(p[0], str)) and isinstance(p[1], str)
            for p in pairs
        ):
            raise VectorError(f"{where}: expect.{key} must be an array of [param or null, code]")
    for key in _DECIMAL_KEYS:
        if expect.get(key) is not None:
            _decimal(expect[key], f"{where}: expect.{key}")
    repeat = vector.get("request_repeat", {})
    if not isinstance(repeat, dict) or (repeat and not isinstance(vector["request"], dict)):
        raise VectorError(f"{where}: request_repeat needs an object request")
    for key, spec in repeat.items():
        if not (
            isinstance(spec, dict)
            and set(spec) == {"text", "times"}
            and isinstance(spec["text"], str)
            and type(spec["times"]) is int
            and spec["times"] >= 0
        ):
            raise VectorError(f'{where}: request_repeat.{key} must be {{"text": "...", "times": N}}')
    override = vector.get("price_override")
    if override is not None and not (isinstance(override, dict) and set(override) == {"model", "amount"}):
        raise VectorError(f'{where}: price_override must be {{"model": ..., "amount": "..."}}')


def _decimal(text: object, where: str) -> Decimal:
    if not isinstance(text, str):
        raise VectorError(f'{where}: decimals are written as strings, e.g. "0.30"')
    try:
        return Decimal(text)
    except InvalidOperation:
        raise VectorError(f"{where}: {text!r} is not a decimal") from None


def build_request(vector: Mapping[str, Any]) -> object:
    """The request a vector sends: `request`, with each `request_repeat` key set to `text`
    repeated `times` times (so a 32,001-character prompt stays one line of JSON)."""
    request = vector["request"]
    repeat = vector.get("request_repeat")
    if not repeat:
        return request
    return {**request, **{key: spec["text"] * spec["times"] for key, spec in repeat.items()}}


def _setting(vector: Mapping[str, Any], key: str) -> str:
    value = vector.get(key, DEFAULTS[key])
    return str(value)


def run_vector(vector: Mapping[str, Any], catalog: Catalog | None = None) -> list[str]:
    """Run one vector through `check`; the mismatches, described, or [] when the engine agrees.

    Findings compare as multisets of (param, code), decimals by value, `effective` as a subset;
    an `expect` key that is absent is not compared.
    """
    return compare(vector["expect"], vector_report(vector, catalog))


def vector_report(vector: Mapping[str, Any], catalog: Catalog | None = None) -> Report:
    """The report `check` gives for one vector's request and settings (its date included)."""
    catalog = catalog or default_catalog()
    provider = _setting(vector, "provider")
    override = vector.get("price_override")
    if override is not None:
        catalog = catalog.with_price(provider, override["model"], override["amount"])
    return check(
        build_request(vector),
        endpoint=_setting(vector, "endpoint"),
        provider=provider,
        catalog=catalog,
        as_of=dt.date.fromisoformat(_setting(vector, "as_of")),
        price_basis=_setting(vector, "price_basis"),  # type: ignore[arg-type]  # check() validates it
        url_policy=_setting(vector, "url_policy"),
    )


def compare(expect: Mapping[str, Any], report: Report) -> list[str]:
    """The differences between a vector's `expect` and a report."""
    problems: list[str] = []
    if report.ok is not expect["ok"]:
        problems.append(f"ok: expected {expect['ok']}, got {report.ok} (errors {_pairs(report.errors)})")
    for key in _FINDING_KEYS:
        if key in expect:
            want = Counter((p, c) for p, c in expect[key])
            got = Counter(_pairs(getattr(report, key)))
            if want != got:
                missing, extra = sorted(want - got, key=str), sorted(got - want, key=str)
                problems.append(f"{key}: missing {missing}, unexpected {extra}")
    for key in ("tier", "images", "currency"):
        if key in expect and expect[key] != getattr(report, key):
            problems.append(f"{key}: expected {expect[key]!r}, got {getattr(report, key)!r}")
    for key in _DECIMAL_KEYS:
        if key in expect:
            want_text, got_value = expect[key], getattr(report, key)
            want_value = None if want_text is None else Decimal(want_text)
            if want_value != got_value:
                problems.append(f"{key}: expected {want_text!r}, got {None if got_value is None else str(got_value)!r}")
    for name, value in expect.get("effective", {}).items():
        if report.effective.get(name, _ABSENT) != value:
            problems.append(f"effective.{name}: expected {value!r}, got {report.effective.get(name, '(absent)')!r}")
    return problems


_ABSENT = object()


def _pairs(findings: Sequence[Finding]) -> list[tuple[str | None, str]]:
    return [(f.param, f.code) for f in findings]


def vectors_document(directory: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """All vectors as one JSON document, with the format tag, the version and the defaults."""
    return {
        "format": FORMAT,
        "imagepricing_version": __version__,
        "defaults": dict(DEFAULTS),
        "vectors": load_vectors(directory),
    }


def export_vectors(out: str | os.PathLike[str] | TextIO | None = None) -> None:
    """Write every vector as one JSON file to `out` (a path, an open text file, or "-" / None for
    standard output). Non-ASCII characters are escaped so that look-alike characters (full-width
    digits, Cyrillic letters) stay visible in any editor."""
    text = json.dumps(vectors_document(), indent=1, ensure_ascii=True) + "\n"
    if out is None or out == "-":
        sys.stdout.write(text)
    elif isinstance(out, (str, os.PathLike)):
        Path(out).write_text(text, encoding="utf-8")
    else:
        out.write(text)
