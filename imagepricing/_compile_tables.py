"""Validation: a directory of data tables read, checked and compiled into a `Catalog`.

Every problem in every file is collected (file name and path inside it) and raised as one
`CatalogError`: nothing half-loaded is ever returned. This is the only module that reads TOML and
structures it (tomllib, cattrs through `_table_shapes`); `imagepricing.catalog` imports it only
when tables are validated, so a process that loads the compiled form never pays for either.
The models' dated facts are compiled by `_compile_models`, the price books by `_compile_books`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from imagepricing._compile_books import check_follows, compile_book
from imagepricing._compile_models import compile_models, models_in_eras, platform_spec
from imagepricing._table_shapes import (
    ConstraintTable,
    ModelsFile,
    ParametersFile,
    PriceBookFile,
    SizesFile,
    SourcesFile,
    structure_table,
)
from imagepricing._tables import ENDPOINTS
from imagepricing.capabilities import Catalog, KnownParameter, Parameter
from imagepricing.errors import CatalogError
from imagepricing.pricing import PriceBook
from imagepricing.sizes import (
    AS_WRITTEN,
    LIMIT_CODES,
    AspectMap,
    Constraints,
    Tiering,
    constraint_problems,
    parse_size,
    table_size,
)
from imagepricing.sources import SOURCE_ID, Source, citation_problems, render_citation

__all__ = ["compile_price_book", "compile_tables"]

_T = TypeVar("_T")

_TABLE_FILES = ("parameters.toml", "models.toml", "sizes.toml")
_SOURCES_FILE = "sources.toml"
# The keys of a table that hold a citation of sources.toml.
_SOURCE_KEYS = frozenset({"source", "limits_source", "disputed_source"})
_RATIO = re.compile(r"[1-9][0-9]*:[1-9][0-9]*")


def compile_tables(path: str | os.PathLike[str]) -> Catalog:
    """The catalog of a directory of tables, every table validated and cross-checked; CatalogError
    listing every problem (file and path) otherwise."""
    directory = Path(path)

    problems: list[str] = []
    if not directory.is_dir():
        raise CatalogError([f"{directory}: not a directory of data tables"])

    sources, reviewed = _load_sources(directory / _SOURCES_FILE, problems)
    if sources is None:
        raise CatalogError(problems)
    docs: dict[str, Any] = {}
    for name in _TABLE_FILES:
        docs[name] = _read_toml(directory / name, name, problems)
    known_files = {*_TABLE_FILES, _SOURCES_FILE}
    for extra in sorted(p.name for p in directory.glob("*.toml") if p.name not in known_files):
        problems.append(f"{extra}: unexpected table (expected only {', '.join(_TABLE_FILES)} and prices/*.toml)")
    problems.extend(_misnamed_files(directory))
    price_paths = sorted((directory / "prices").glob("*.toml"))
    if not price_paths:
        problems.append(f"prices/: no price book found in {directory / 'prices'}")

    params_file = _structure(docs["parameters.toml"], ParametersFile, "parameters.toml", problems, sources)
    models_file = _structure(docs["models.toml"], ModelsFile, "models.toml", problems, sources)
    sizes_file = _structure(docs["sizes.toml"], SizesFile, "sizes.toml", problems, sources)
    book_files: list[tuple[str, PriceBookFile]] = []
    for price_path in price_paths:
        label = f"prices/{price_path.name}"
        doc = _read_toml(price_path, label, problems)
        book = _structure(doc, PriceBookFile, label, problems, sources)
        if book is not None:
            if book.provider != price_path.stem:
                problems.append(f"{label}: $.provider: {book.provider!r} must match the file name {price_path.stem!r}")
            book_files.append((label, book))

    # Each table gets its own checks whenever it parsed, so one broken file does not hide the
    # problems of the others; the cross-table checks need every table they read.
    parameters = _compile_parameters(params_file, problems) if params_file is not None else None
    compiled_sizes = _compile_sizes(sizes_file, problems) if sizes_file is not None else None
    if parameters is None or compiled_sizes is None or models_file is None:
        raise CatalogError(problems)
    size_sets, constraints, tierings, aspect_maps = compiled_sizes
    eras, changes = compile_models(models_file, parameters, size_sets, constraints, tierings, aspect_maps, problems)
    in_eras = models_in_eras(eras)
    books = {book.provider: compile_book(label, book, in_eras, problems) for label, book in book_files}
    check_follows(books, book_files, {path.stem for path in price_paths}, problems)
    host_owner: dict[str, str] = {}
    for label, book in book_files:
        for i, host in enumerate(book.hosts):
            owner = host_owner.setdefault(host, book.provider)
            if owner != book.provider:
                problems.append(f"{label}: $.hosts[{i}]: {host!r} is already the host of provider {owner!r}")
    assert params_file is not None  # compiled above, or the load stopped
    known_parameters = _known_parameters(params_file, parameters, problems)
    if problems:
        raise CatalogError(problems)
    platform_specs = {name: platform_spec(p) for name, p in parameters.items() if p.platform}
    default_models: dict[str, str] = {**parameters["model"].default_on}
    for endpoint, default in default_models.items():
        if default not in eras[-1].models or endpoint not in eras[-1].models[default].endpoints:
            problems.append(
                f"parameters.toml: $.parameters.model.default_on.{endpoint}: {default!r} is no model serving {endpoint}"
            )
    if problems:
        raise CatalogError(problems)
    required: dict[str, tuple[str, ...]] = {
        endpoint: tuple(
            n for n, p in parameters.items() if p.required and p.kind != "model" and endpoint in p.endpoints
        )
        for endpoint in ENDPOINTS
    }
    return Catalog(
        parameters=MappingProxyType(parameters),
        models=eras[-1].models,
        size_sets=MappingProxyType(size_sets),
        constraints=MappingProxyType(constraints),
        tierings=MappingProxyType(tierings),
        aspect_maps=MappingProxyType(aspect_maps),
        price_books=MappingProxyType(books),
        source_dir=str(directory),
        sources=sources,
        platform_specs=MappingProxyType(platform_specs),
        required=MappingProxyType(required),
        known_parameters=MappingProxyType(known_parameters),
        eras=eras,
        changes=changes,
        reviewed=reviewed,
        default_models=MappingProxyType(default_models),
    )


def _misnamed_files(directory: Path) -> list[str]:
    """Files that look like tables but would be skipped: a price book saved as `.TOML` or
    `.toml.bak` would make its provider silently disappear. Hidden files (editor swap files) are
    not tables."""
    found: list[str] = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() == ".toml" and path.suffix != ".toml":
            found.append(f"{path.name}: not read: a table's file name must end in .toml (lower case)")
    prices = directory / "prices"
    if prices.is_dir():
        for path in sorted(prices.iterdir()):
            if not path.name.startswith(".") and path.is_file() and not path.name.endswith(".toml"):
                found.append(
                    f"prices/{path.name}: not read: a price book must be named <provider>.toml"
                    " (lower-case .toml); rename it or move it out of prices/"
                )
    return found


def _known_parameters(
    table: ParametersFile, parameters: Mapping[str, Parameter], problems: list[str]
) -> dict[str, KnownParameter]:
    known: dict[str, KnownParameter] = {}
    for name, row in table.known_parameters.items():
        if name in parameters:
            problems.append(f"parameters.toml: $.known_parameters.{name}: already a parameter of the platform")
        known[name] = KnownParameter(name, frozenset(row.endpoints), row.note, row.source)
    return known


def _read_toml(path: Path, label: str, problems: list[str]) -> Any:

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        problems.append(f"{label}: file missing ({path})")
    except tomllib.TOMLDecodeError as exc:
        # tomllib names the line and column; duplicate keys (e.g. a model defined twice) land here.
        problems.append(f"{label}: not valid TOML: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{label}: cannot be read: {exc}")
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        problems.append(f"{label}: cannot be read: arrays or inline tables nested too deeply")
    return None


def _structure(
    doc: Any, cls: type[_T], label: str, problems: list[str], sources: Mapping[str, Source], *, strict: bool = True
) -> _T | None:
    if doc is None:
        return None
    _cite_sources(doc, label, problems, sources, strict=strict)

    value, found = structure_table(doc, cls, label)
    problems.extend(found)
    return value


def _compile_parameters(table: ParametersFile, problems: list[str]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for name, row in table.parameters.items():
        where = f"parameters.toml: $.parameters.{name}"
        if row.kind == "integer" and (row.min is None or row.max is None):
            problems.append(f"{where}: an integer parameter needs min and max")
        if row.kind != "integer" and (row.min is not None or row.max is not None):
            problems.append(f"{where}: min/max apply only to integer parameters")
        if row.min is not None and row.max is not None and row.min > row.max:
            problems.append(f"{where}: min {row.min} is above max {row.max}")
        if not row.endpoints:
            problems.append(f"{where}.endpoints: empty")
        if row.default_on and row.kind != "model":
            problems.append(f"{where}.default_on: only the model parameter has a default model")
        for endpoint in row.default_on:
            if endpoint not in row.endpoints:
                problems.append(f"{where}.default_on.{endpoint}: not an endpoint of the parameter")
        out[name] = Parameter(
            name=name,
            kind=row.kind,
            endpoints=frozenset(row.endpoints),
            required=row.required,
            min=row.min,
            max=row.max,
            platform=row.handled_by == "platform",
            source=row.source,
            default_on=MappingProxyType({str(endpoint): model for endpoint, model in row.default_on.items()}),
        )
    if "model" not in out or out["model"].kind != "model":
        problems.append('parameters.toml: $.parameters.model: the model parameter (kind = "model") is required')
    return out


def _compile_sizes(
    table: SizesFile, problems: list[str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, Constraints], dict[str, Tiering], dict[str, AspectMap]]:
    size_sets: dict[str, tuple[str, ...]] = {}
    for name, row in table.size_sets.items():
        where = f"sizes.toml: $.size_sets.{name}"
        if not row.sizes:
            problems.append(f"{where}.sizes: empty")
        for i, size in enumerate(row.sizes):
            if table_size(size) is None:
                problems.append(f"{where}.sizes[{i}]: {size!r} is not WIDTHxHEIGHT{AS_WRITTEN}")
        if len(set(row.sizes)) != len(row.sizes):
            problems.append(f"{where}.sizes: lists a size twice")
        size_sets[name] = row.sizes

    def known_sets(names: Iterable[str], where: str) -> list[str]:
        found: list[str] = []
        for name in names:
            if name in size_sets:
                found.extend(size_sets[name])
            else:
                problems.append(f"{where}: names size set {name!r}, which sizes.toml does not define")
        return found

    constraints: dict[str, Constraints] = {}
    for name, limits_row in table.constraints.items():
        where = f"sizes.toml: $.constraints.{name}"
        compiled = _compile_constraints(name, limits_row, known_sets(limits_row.exempt, f"{where}.exempt"))
        constraints[name] = compiled
        for i, limit in enumerate(limits_row.disputed):
            if limit not in LIMIT_CODES:
                problems.append(f"{where}.disputed[{i}]: {limit!r} is not a limit ({', '.join(LIMIT_CODES)})")
            elif getattr(limits_row, limit) is None:
                problems.append(f"{where}.disputed[{i}]: {limit!r} is not set, so it cannot be disputed")
        if bool(limits_row.disputed) != (limits_row.disputed_note is not None) or bool(limits_row.disputed) != (
            limits_row.disputed_source is not None
        ):
            problems.append(f"{where}: disputed, disputed_note and disputed_source go together")
        if compiled.multiple_of == 0:
            problems.append(f"{where}.multiple_of: must be positive")
            continue
        for size_text in known_sets(limits_row.presets, f"{where}.presets"):
            preset = parse_size(size_text)
            if preset is not None and constraint_problems(preset, compiled) and size_text not in compiled.exempt:
                problems.append(f"{where}.presets: preset {size_text} breaks the constraints it is listed under")

    tierings: dict[str, Tiering] = {}
    for name, tiering_row in table.tierings.items():
        where = f"sizes.toml: $.tierings.{name}"
        tier_of_size: dict[str, str] = {}
        for tier, set_names in tiering_row.tiers.items():
            for size_text in known_sets(set_names, f"{where}.tiers.{tier}"):
                if tier_of_size.setdefault(size_text, tier) != tier:
                    problems.append(f"{where}.tiers: {size_text} is in two tiers")
        if tiering_row.fallback_tier in tiering_row.tiers:
            problems.append(f"{where}.fallback_tier: {tiering_row.fallback_tier!r} must not also list sizes")
        if tiering_row.auto_tier not in tiering_row.tiers and tiering_row.auto_tier != tiering_row.fallback_tier:
            problems.append(
                f"{where}.auto_tier: {tiering_row.auto_tier!r} is neither a listed tier nor the fallback tier"
            )
        for asked, returned in tiering_row.returned_as.items():
            for text in (asked, returned):
                if table_size(text) is None:
                    problems.append(f"{where}.returned_as: {text!r} is not WIDTHxHEIGHT{AS_WRITTEN}")
            # The advice says "same price": the size returned must bill at the tier of the size asked.
            asked_tier = tier_of_size.get(asked, tiering_row.fallback_tier)
            if asked_tier != tier_of_size.get(returned, tiering_row.fallback_tier):
                problems.append(f"{where}.returned_as.{asked}: {returned} is not in the {asked_tier} tier of {asked}")
        tierings[name] = Tiering(
            name=name,
            auto_tier=tiering_row.auto_tier,
            fallback_tier=tiering_row.fallback_tier,
            tier_of_size=MappingProxyType(tier_of_size),
            returned_as=MappingProxyType(dict(tiering_row.returned_as)),
            source=tiering_row.source,
        )

    aspect_maps: dict[str, AspectMap] = {}
    for name, amap in table.aspect_maps.items():
        where = f"sizes.toml: $.aspect_maps.{name}"
        for size_text, ratio in amap.sizes.items():
            if table_size(size_text) is None:
                problems.append(f"{where}.sizes: {size_text!r} is not WIDTHxHEIGHT{AS_WRITTEN}")
            if not _RATIO.fullmatch(ratio):
                problems.append(f"{where}.sizes.{size_text}: {ratio!r} is not an aspect ratio such as 16:9")
        if not _RATIO.fullmatch(amap.fallback):
            problems.append(f"{where}.fallback: {amap.fallback!r} is not an aspect ratio such as 1:1")
        aspect_maps[name] = AspectMap(name, amap.fallback, MappingProxyType(dict(amap.sizes)), amap.source)
    return size_sets, constraints, tierings, aspect_maps


def _cite_sources(
    doc: Any, label: str, problems: list[str], sources: Mapping[str, Source], *, strict: bool = True
) -> None:
    """Every fact carries its source, a citation of the registry (sources.toml): a blank source or
    an unknown source id is reported with the file and the path. Each citation is then rendered in
    place as a reference a person can follow, so every compiled table carries readable sources."""
    stack: list[tuple[str, Any]] = [("$", doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in _SOURCE_KEYS or not isinstance(value, str):
                    stack.append((f"{path}.{key}", value))
                elif not value.strip():
                    problems.append(f"{label}: {path}.{key}: blank; every fact needs a source")
                else:
                    found = citation_problems(value, sources)
                    if strict:
                        problems.extend(f"{label}: {path}.{key}: {problem}" for problem in found)
                    if not found:
                        node[key] = render_citation(value, sources)
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node))


def _compile_constraints(name: str, row: ConstraintTable, exempt: list[str]) -> Constraints:
    return Constraints(
        name=name,
        multiple_of=row.multiple_of,
        max_side=row.max_side,
        max_pixels=row.max_pixels,
        min_pixels=row.min_pixels,
        max_aspect_ratio=row.max_aspect_ratio,
        exempt=frozenset(exempt),
        presets=row.presets,
        source=row.source,
        limits_source=row.limits_source or row.source,
        disputed=frozenset(row.disputed),
        disputed_note=row.disputed_note,
        disputed_source=row.disputed_source,
    )


def compile_price_book(book_path: str | os.PathLike[str], catalog: Catalog) -> PriceBook:
    """One user price book (same format as data/prices/*.toml), checked against `catalog`."""
    path = Path(book_path)
    problems: list[str] = []
    label = str(path)
    doc = _read_toml(path, label, problems)
    # A user's own book may cite its own evidence ("my invoice of 2026-05"): a source that is not a
    # citation of the registry is kept as written; one that is, is rendered like the shipped ones.
    book_file = _structure(doc, PriceBookFile, label, problems, catalog.sources, strict=False)
    if book_file is None:
        raise CatalogError(problems)
    book = compile_book(label, book_file, models_in_eras(catalog.eras), problems)
    if book.follows is not None:
        followed = catalog.price_books.get(book.follows.provider)
        if followed is None or followed.follows is not None or followed.currency != book.currency:
            problems.append(
                f"{label}: $.follows.provider: {book.follows.provider!r} is no book of the catalog to follow"
            )
    if problems:
        raise CatalogError(problems)
    return book


def _load_sources(
    path: Path, problems: list[str], label: str = "sources.toml"
) -> tuple[Mapping[str, Source] | None, dt.date | None]:
    """Read one sources.toml: the registry and the day its sources were last reviewed (None when
    the file does not say); append every problem (file and path) to `problems`."""
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
