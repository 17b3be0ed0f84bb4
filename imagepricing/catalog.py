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
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from imagepricing._compiled_tables import load as load_compiled
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
    "assemble_catalog",
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
    compiled = load_compiled(shipped)
    if compiled is not None:
        return compiled
    return _validated(shipped)


def _validated(path: str | os.PathLike[str]) -> Catalog:
    # Imported here, not above: validation needs tomllib and cattrs, which a process that loads
    # the compiled tables never imports (docs/startup.md).
    from imagepricing._compile_tables import compile_tables  # noqa: PLC0415

    return compile_tables(path)


def assemble_catalog(
    data: str | os.PathLike[str] | None = None,
    price_books: Iterable[str | os.PathLike[str]] = (),
    prices: Iterable[tuple[str, str, Decimal | str | int]] = (),
    *,
    provider: str | None = None,
) -> Catalog:
    """The shipped tables, or those of the directory `data`, with the price books in the files
    `price_books` added and `prices` ((provider, model, amount), as `Catalog.with_price`) set, in
    that order: what the command line's --data, --prices and --price, and the service's
    configuration, name. `provider`, when given, must be one of the catalog's. CatalogError for a
    bad table or book; ValueError naming the price for a bad one, or naming an unknown provider.

    >>> assemble_catalog(prices=[("xhuoapi", "gpt-image-2", "0.20")]).price_books["xhuoapi"].overrides
    mappingproxy({'gpt-image-2': Decimal('0.20')})
    """
    catalog = load_catalog(data) if data is not None else default_catalog()
    for path in price_books:
        catalog = catalog.with_price_book(load_price_book(path, catalog))
    for owner, model, amount in prices:
        try:
            catalog = catalog.with_price(owner, model, amount)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"price {owner}:{model}={amount}: {exc}") from None
    if provider is not None and provider not in catalog.price_books:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(catalog.price_books)}")
    return catalog


def load_price_book(path: str | os.PathLike[str], catalog: Catalog | None = None) -> PriceBook:
    """Load one user price book (same format as data/prices/*.toml), checked against `catalog`."""
    from imagepricing._compile_tables import compile_price_book  # noqa: PLC0415 - as in _validated

    return compile_price_book(path, catalog or default_catalog())
