"""The catalog: every data table, loaded once, cross-checked, and frozen.

`load_catalog()` reads the shipped tables; `load_catalog(path)` reads a directory laid out the
same way (`parameters.toml`, `models.toml`, `sizes.toml`, `prices/<provider>.toml`). Loading is
all-or-nothing: every problem in every file is collected (file name and path inside it) and
raised as one `CatalogError`; nothing half-loaded is ever returned or cached.

A `Catalog` is immutable. `with_price` and `with_price_book` return new catalogs, so one catalog
can be shared by any number of threads.

>>> catalog = load_catalog()
>>> sorted(catalog.providers)
['acedata', 'openai', 'xhuoapi']
>>> catalog.with_price("xhuoapi", "gpt-image-2", "0.20").price_books["xhuoapi"].overrides["gpt-image-2"]
Decimal('0.20')
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from imagepricing import _compiled_tables
from imagepricing.capabilities import (
    Advice,
    Capability,
    Catalog,
    Change,
    Era,
    Model,
    Parameter,
    ParamSpec,
)
from imagepricing.errors import CatalogError
from imagepricing.pricing import PriceBook
from imagepricing.sources import Source

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "Advice",
    "Capability",
    "Catalog",
    "Change",
    "Era",
    "Model",
    "ParamSpec",
    "Parameter",
    "default_catalog",
    "default_sources",
    "load_catalog",
    "load_price_book",
    "shipped_data_dir",
]


def shipped_data_dir() -> Path:
    """Where the shipped tables are: inside the installed package (wheel), or the checkout's
    top-level `data/` (editable install or a plain checkout)."""

    # pathlib costs start-up (it imports urllib.parse), and loading the compiled tables needs none.
    from pathlib import Path  # noqa: PLC0415

    return Path(_shipped_tables())


def _shipped_tables() -> str:
    """`shipped_data_dir()` as a string: os.path, as pathlib costs start-up and load needs none."""
    here = os.path.dirname(os.path.realpath(__file__))
    packaged = os.path.join(here, "data")
    if os.path.isfile(os.path.join(packaged, "models.toml")):
        return packaged
    parent = os.path.dirname(here)
    checkout = os.path.join(parent, "data")
    if os.path.isfile(os.path.join(parent, "pyproject.toml")) and os.path.isfile(os.path.join(checkout, "models.toml")):
        return checkout
    raise CatalogError([f"the shipped data tables are missing: looked in {packaged} and {checkout}"])


@functools.cache
def default_catalog() -> Catalog:
    """The shipped tables, loaded once per process (the result is immutable, so sharing is safe)."""
    # functools.cache does not stop several threads that miss at first use from each loading
    # (and returning) their own catalog; the lock makes the first load the only one.
    with _DEFAULT_LOCK:
        return _load_default_once()


_DEFAULT_LOCK = threading.Lock()


@functools.cache
def _load_default_once() -> Catalog:
    return load_catalog()


def default_sources() -> Mapping[str, Source]:
    """The shipped registry of sources (data/sources.toml), as the shipped catalog holds it."""
    return default_catalog().sources


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Load and cross-check a directory of tables; raise CatalogError listing every problem.

    The shipped tables (no `path`) load from the compiled form a wheel carries
    (imagepricing/_compiled_catalog.json, built and validated by hatch_build.py) when its digest
    matches the installed tables and the code that compiles them. Otherwise (an editable install,
    a plain checkout, tables or code edited after install) they are validated, in every process:
    nothing is written anywhere (docs/startup.md). A `path` of your own is validated on every call.
    """
    if path is not None:
        return _validated(path)
    shipped = _shipped_tables()
    compiled = _compiled_tables.load(shipped)
    if compiled is not None:
        return compiled
    return _validated(shipped)


def _validated(path: str | os.PathLike[str]) -> Catalog:
    # Imported here, not above: validation needs tomllib and cattrs, which a process that loads
    # the compiled tables never imports (docs/startup.md).
    from imagepricing._compile_tables import compile_tables  # noqa: PLC0415

    return compile_tables(path)


def load_price_book(path: str | os.PathLike[str], catalog: Catalog | None = None) -> PriceBook:
    """Load one user price book (same format as data/prices/*.toml), checked against `catalog`."""
    from imagepricing._compile_tables import compile_price_book  # noqa: PLC0415 - as in _validated

    return compile_price_book(path, catalog or default_catalog())
