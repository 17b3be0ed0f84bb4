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

import bisect
import datetime as dt
import functools
import os
import re
import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from imagepricing import _compiled_tables
from imagepricing._tables import ENDPOINTS
from imagepricing.errors import CatalogError
from imagepricing.pricing import Follows, PriceBook, PriceEntry, UsdRate
from imagepricing.sizes import (
    AUTO_SIZES,
    LIMIT_CODES,
    AspectMap,
    Constraints,
    Size,
    SizeRule,
    Tiering,
    constraint_problems,
    parse_size,
)
from imagepricing.sources import Source, citation_problems, load_sources_file, render_citation

_T = TypeVar("_T")

if TYPE_CHECKING:
    # Validation only: tomllib, cattrs and these shapes load when tables are (re)validated, not
    # when the compiled form of the shipped tables is used (see load_catalog).
    from imagepricing._table_shapes import (
        AvailabilityTable,
        ConstraintTable,
        EndpointTable,
        ModelsFile,
        ModelTable,
        ParamEntry,
        ParametersFile,
        ParamSpecTable,
        PriceBookFile,
        SizesFile,
    )

__all__ = [
    "Advice",
    "Capability",
    "Catalog",
    "Model",
    "ParamSpec",
    "Parameter",
    "default_catalog",
    "load_catalog",
    "load_price_book",
    "shipped_data_dir",
]

_TABLE_FILES = ("parameters.toml", "models.toml", "sizes.toml")
_SOURCES_FILE = "sources.toml"
# The keys of a table that hold a citation of sources.toml.
_SOURCE_KEYS = frozenset({"source", "limits_source", "disputed_source"})
# Patterns of table validation are plain strings, compiled (and cached by `re`) on first use:
# a process that loads the compiled tables never compiles them.
_RATIO = re.compile(r"[1-9][0-9]*:[1-9][0-9]*")
# A host as written in a price book: lowercase ASCII labels, no port, no trailing dot.
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")
_AS_WRITTEN = " (ASCII digits, lowercase x, positive sides, no leading zeros)"


_set = object.__setattr__
_NO_MAPPING: Mapping[str, Any] = MappingProxyType({})


@attrs.frozen(weakref_slot=True)
class Parameter:
    """A request parameter as the platform defines it (parameters.toml)."""

    name: str
    kind: str
    endpoints: frozenset[str]
    required: bool
    min: int | None
    max: int | None
    platform: bool
    source: str
    # model only: endpoint -> the model the platform uses when a request names none.
    default_on: Mapping[str, str] = _NO_MAPPING


@attrs.frozen(weakref_slot=True)
class ParamSpec:
    """What one model allows for one parameter on one endpoint (models.toml), merged with the
    platform's definition of the parameter."""

    name: str
    kind: str
    source: str
    values: tuple[str, ...] | None = None
    default: str | None = None
    min: int | None = None
    max: int | None = None
    model_max: int | None = None
    honoured_max: int | None = None
    max_chars: int | None = None
    max_items: int | None = None
    size: SizeRule | None = None
    overridden_to: str | None = None
    reason: str | None = None
    # Values (or an image count up to disputed_max_items) that some cited sources accept and others
    # do not: accepted with a `sources_disagree` warning carrying disputed_note and disputed_source.
    disputed_values: frozenset[str] = frozenset()
    disputed_max_items: int | None = None
    # An integer above this is accepted and used, but the sources disagree on what upstream does
    # with it (n on nano-banana after 2026-07-18): a `sources_disagree` warning.
    disputed_above: int | None = None
    disputed_note: str | None = None
    disputed_source: str | None = None
    # The source of the platform's own range (parameters.toml), cited by out_of_range: the model's
    # entry may describe a different fact (n is silently downgraded on gpt-image-2).
    range_source: str | None = None


@attrs.frozen(weakref_slot=True)
class KnownParameter:
    """A parameter of OpenAI's images API that the platform does not document (parameters.toml)."""

    name: str
    endpoints: frozenset[str]
    note: str
    source: str


@attrs.frozen(weakref_slot=True)
class Advice:
    note: str
    source: str


def _defaults_of(params: Mapping[str, ParamSpec]) -> tuple[tuple[str, str, object], ...]:
    """What upstream uses when a parameter is omitted, as (request parameter, effective key,
    value) in parameter order (an omitted nano-banana `size` shows as `aspect_ratio`)."""
    defaults: list[tuple[str, str, object]] = []
    for name, spec in params.items():
        if spec.size is not None:
            if spec.size.aspect_map is not None:
                defaults.append((name, "aspect_ratio", spec.size.aspect_map.fallback))
            else:
                defaults.append((name, "size", spec.size.default))
        elif spec.default is not None:
            defaults.append((name, name, spec.default))
    return tuple(defaults)


@attrs.frozen(weakref_slot=True)
class Capability:
    """What one model does on one endpoint: the parameters it honours, and why it drops the rest."""

    model: str
    endpoint: str
    params: Mapping[str, ParamSpec]
    dropped_reason: str
    source: str
    slow: Advice | None
    # (note, source) where the sources disagree on whether the model serves the endpoint at all
    # (dall-e-3 on edits): served, with a `sources_disagree` warning and no price.
    dispute: tuple[str, str] | None = None
    # (code, note, source) of each warning every request to it carries in this era: the model is
    # not yet, or no longer, recorded as served (models.toml `availability`).
    notices: tuple[tuple[str, str, str], ...] = ()
    # Derived from `params` so that `check` does not rescan them on every call: the defaults
    # upstream uses (_defaults_of) and the size rule. Not compared.
    defaults: tuple[tuple[str, str, object], ...] = attrs.field(init=False, eq=False, repr=False)
    size_rule: SizeRule | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        size = self.params.get("size")
        _set(self, "defaults", _defaults_of(self.params))
        _set(self, "size_rule", size.size if size is not None else None)


@attrs.frozen(weakref_slot=True)
class Model:
    id: str
    family: str
    source: str
    endpoints: Mapping[str, Capability]

    @property
    def disputed_endpoints(self) -> Mapping[str, tuple[str, str]]:
        """endpoint -> (note, source) where the sources disagree on whether the model serves it."""
        return {e: c.dispute for e, c in self.endpoints.items() if c.dispute is not None}


@attrs.frozen(weakref_slot=True)
class Era:
    """The models as the platform served them from `start` (None: before every recorded change)
    until `until` (exclusive; None: still so)."""

    start: dt.date | None
    until: dt.date | None
    models: Mapping[str, Model]


@attrs.frozen(weakref_slot=True)
class Change:
    """One dated change of what the platform accepts, drops, serves or charges, with its source
    (`imagepricing changes`, imagepricing.timeline)."""

    day: dt.date
    kind: str
    subject: str
    models: tuple[str, ...]
    endpoints: tuple[str, ...]
    summary: str
    source: str


@attrs.frozen(weakref_slot=True)
class Catalog:
    """Every table, compiled. Build one with `load_catalog`; never mutate it (you cannot).

    A catalog is the platform as its latest recorded era describes it (`models`); `on(day)` is the
    platform as it was on `day`: the same tables with the models of that day's era (dated facts in
    models.toml). Prices are dated separately (each quote picks the entries in force on its day).

    >>> catalog = default_catalog()
    >>> seeds_week = catalog.on(dt.date(2026, 5, 1))
    >>> seeds_week.models["gpt-image-2"].endpoints["generations"].params["n"].honoured_max
    1
    >>> catalog.on(dt.date(2026, 8, 1)).models["gpt-image-2"].endpoints["generations"].params["n"].honoured_max is None
    True
    """

    parameters: Mapping[str, Parameter]
    models: Mapping[str, Model]
    size_sets: Mapping[str, tuple[str, ...]]
    constraints: Mapping[str, Constraints]
    tierings: Mapping[str, Tiering]
    aspect_maps: Mapping[str, AspectMap]
    price_books: Mapping[str, PriceBook]
    source_dir: str
    # The registry every `source` in the tables cites (sources.toml); the sources of the compiled
    # tables are already rendered as references a person can follow.
    sources: Mapping[str, Source]
    # Derived at load: the platform's own parameters (kept for every model), and the required
    # parameters of each endpoint other than `model`.
    platform_specs: Mapping[str, ParamSpec]
    required: Mapping[str, tuple[str, ...]]
    known_parameters: Mapping[str, KnownParameter] = _NO_MAPPING
    # The models era by era, oldest first (the last era's models are `models`); the rule changes
    # that cut them; the day the tables' sources were last reviewed (a check dated after it warns
    # `tables_may_be_stale`; None for tables that do not say); and the model the platform uses on
    # an endpoint where a request may name none (the platform's edits schema: dall-e-3).
    eras: tuple[Era, ...] = ()
    changes: tuple[Change, ...] = ()
    reviewed: dt.date | None = None
    default_models: Mapping[str, str] = _NO_MAPPING
    # Derived, not compared: the catalog whose eras these are (itself, or the catalog a view of an
    # earlier era was made from), the era start dates for bisect, the views made so far, and the
    # last (day, view) asked, which a stream of checks of one day finds first.
    _root: Catalog = attrs.field(init=False, eq=False, repr=False)
    _starts: tuple[dt.date, ...] = attrs.field(init=False, eq=False, repr=False)
    _views: dict[int, Catalog] = attrs.field(init=False, eq=False, repr=False)
    _last_on: tuple[dt.date | None, Catalog] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        eras = self.eras
        if not eras:
            eras = (Era(None, None, self.models),)
            _set(self, "eras", eras)
        elif eras[-1].models is not self.models:
            raise ValueError("a catalog's models are those of its last era; use on(day) for another era")
        _set(self, "_root", self)
        _set(self, "_starts", tuple(era.start for era in eras[1:] if era.start is not None))
        _set(self, "_views", {})
        _set(self, "_last_on", (None, self))

    def on(self, day: dt.date) -> Catalog:
        """The platform as it was on `day`: this catalog's tables and prices, with the models of the
        era `day` falls in (the same catalog object for the same era, so memos and compiled
        checkers are shared by every check of that era)."""
        root = self._root
        last = root._last_on
        if last[0] == day:
            return last[1]
        view = _view(root, bisect.bisect_right(root._starts, day))
        _set(root, "_last_on", (day, view))
        return view

    def __reduce__(self) -> tuple[Any, tuple[object, ...]]:
        # A catalog is rebuilt from its tables (the caches are not data); a view of an earlier era
        # as its catalog seen on that era.
        if self._root is self:
            return (Catalog, tuple(getattr(self, field.name) for field in attrs.fields(Catalog) if field.init))
        return (_view, (self._root, self._era_index()))

    def _replaced(self, **changes: Any) -> Catalog:
        """A copy with `changes` applied: a view of an earlier era is its catalog on a day, so the
        whole catalog (every era) is copied and then seen on the view's era again."""
        root = self._root
        replaced = attrs.evolve(root, **changes)
        return replaced if root is self else _view(replaced, self._era_index())

    def _era_index(self) -> int:
        return next(i for i, era in enumerate(self.eras) if era.models is self.models)

    @property
    def era(self) -> Era:
        """The era this catalog describes (the last one, unless it came from `on`)."""
        return self.eras[self._era_index()]

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self.price_books)

    def provider_for_host(self, host: str) -> str | None:
        """The provider whose price book lists `host` (case-insensitive, port and trailing dot ignored).

        >>> default_catalog().provider_for_host("API.XHuoAPI.ai:443")
        'xhuoapi'
        """
        name = host.rpartition("@")[2]
        if name.startswith("["):
            return None  # an IPv6 literal is no provider's host
        name = name.partition(":")[0].rstrip(".").lower()
        for provider, book in self.price_books.items():
            if name in book.hosts:
                return provider
        return None

    def capability(self, model: str, endpoint: str) -> Capability:
        """What `model` does on `endpoint`; ValueError naming the choices when it serves none."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
        found = self.models.get(model)
        if found is None:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(self.models)}")
        capability = found.endpoints.get(endpoint)
        if capability is None:
            raise ValueError(f"{model} does not serve the {endpoint} endpoint")
        return capability

    def with_price(self, provider: str, model: str, amount: Decimal | str | int) -> Catalog:
        """A new catalog in which `model` costs `amount` (in the book's currency) at `provider`.

        `amount` is the base price per image (or per request, where the book prices the model per
        request); tier multipliers of the book still apply. Floats are refused: money is exact.
        """
        if provider not in self.price_books:
            raise ValueError(f"unknown provider {provider!r}; known: {', '.join(self.price_books)}")
        if model not in self.models:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(self.models)}")
        value = _exact_amount(amount)
        books = dict(self.price_books)
        books[provider] = books[provider].with_override(model, value)
        return self._replaced(price_books=MappingProxyType(books))

    def with_price_book(self, book: PriceBook) -> Catalog:
        """A new catalog with `book` added, or replacing the book of the same provider."""
        books = dict(self.price_books)
        books[book.provider] = book
        return self._replaced(price_books=MappingProxyType(books))


def _view(root: Catalog, index: int) -> Catalog:
    """`root` seen in its era number `index`: itself for the last era, else the one view of that
    era, made on first use (so every check of an era shares one memo and compiled checkers)."""
    if index == len(root.eras) - 1:
        return root
    views: dict[int, Catalog] = root._views
    found = views.get(index)
    if found is None:
        found = views.setdefault(index, _new_view(root, root.eras[index]))
    return found


def _new_view(root: Catalog, era: Era) -> Catalog:
    """A catalog of `root`'s tables with the models of one of its earlier eras."""
    view = object.__new__(Catalog)
    for field in attrs.fields(Catalog):
        if field.init:
            _set(view, field.name, getattr(root, field.name))
    _set(view, "models", era.models)
    _set(view, "_root", root)
    _set(view, "_starts", root._starts)
    _set(view, "_views", root._views)
    _set(view, "_last_on", (None, view))
    return view


# What a model id or a choice value may be written with: ASCII letters and digits, with . _ : / + -
# inside. A request matches these names exactly, so a trailing space, a zero-width character, a
# Cyrillic or full-width look-alike or an empty string would make a value no request can ever
# match (or a model no request can name) while the table loads without complaint.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._:/+-]*[A-Za-z0-9])?")


def _check_name(text: str, where: str, what: str, problems: list[str]) -> bool:
    """Whether `text` is a plain name; otherwise adds a problem saying what is wrong with it."""
    if _NAME.fullmatch(text):
        return True
    if not text:
        reason = "is empty"
    elif text != text.strip() or text != "".join(text.split()):
        reason = "contains whitespace (a trailing, leading or inner space, tab or newline)"
    elif not text.isascii():
        import unicodedata  # noqa: PLC0415 - a bad table only

        odd = next(ch for ch in text if not ch.isascii())
        reason = (
            f"contains the non-ASCII character U+{ord(odd):04X} {unicodedata.name(odd, '(unnamed)')}"
            " (a look-alike, invisible or full-width character)"
        )
    else:
        reason = "must be ASCII letters and digits, with . _ : / + - only between them"
    problems.append(f"{where}: {what} {reason}; requests compare names exactly, so it could never match")
    return False


# A price has at most this many digits, so that writing it in plain notation (to_dict, the CLI) stays
# bounded: Decimal("1E-999999999") is one short object but a billion characters once written out.
MAX_PRICE_DIGITS = 1000


def _exact_amount(amount: object) -> Decimal:
    """A user price, on the same terms whatever its type: plain non-negative decimal notation.

    A `Decimal` must be one a valid string could have produced: finite, without a sign (so not
    -0), and with an exponent of at most 0 (`Decimal("1E+5")` is refused as "1E+5" is; the same
    value written `Decimal("100000")` is fine). An int is taken as is when non-negative.
    """
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, str, int)):
        raise TypeError(f"a price must be a Decimal, a decimal string or an int, not {type(amount).__name__}")
    if isinstance(amount, str):
        if len(amount) > MAX_PRICE_DIGITS + 1 or not _PLAIN_DECIMAL.fullmatch(amount):
            raise ValueError(
                f'a price must be a non-negative decimal string such as "0.20" of at most {MAX_PRICE_DIGITS}'
                f" digits, not {_shown(amount)}"
            )
        value = Decimal(amount)
    else:
        value = Decimal(amount)
        if not value.is_finite() or value.is_signed():
            raise ValueError(f"a price must be finite and non-negative, not {_shown(amount)}")
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        if exponent > 0:
            raise ValueError(
                f"a price must be written in plain notation (e.g. Decimal('100000')), not {_shown(amount)}"
            )
    shape = value.as_tuple()
    exponent = shape.exponent
    assert isinstance(exponent, int)  # finite
    if max(len(shape.digits), 1 - exponent) > MAX_PRICE_DIGITS:
        raise ValueError(f"a price must have at most {MAX_PRICE_DIGITS} digits, not {_shown(amount)}")
    return value


_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _shown(amount: object) -> str:
    text = repr(amount)
    return text if len(text) <= 60 else f"{text[:57]}..."


# ---------------------------------------------------------------------------------- loading


def shipped_data_dir() -> Path:
    """Where the shipped tables are: inside the installed package (wheel), or the checkout's
    top-level `data/` (editable install or a plain checkout)."""
    from pathlib import Path  # noqa: PLC0415 - see _shipped_tables

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


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Load and cross-check a directory of tables; raise CatalogError listing every problem.

    The shipped tables (no `path`) are validated once and then loaded from their compiled form,
    a JSON file in the user's cache directory keyed by a digest of every table file and of the
    code that compiles them: any change to either validates afresh (docs/startup.md). A `path`
    of your own is validated on every call.
    """
    # pathlib is imported only where tables are validated (it costs start-up; docs/startup.md).
    if path is not None:
        from pathlib import Path  # noqa: PLC0415

        return _validated_catalog(Path(path))
    shipped = _shipped_tables()
    cached = _compiled_tables.load(shipped)
    if cached is not None:
        return cached
    from pathlib import Path  # noqa: PLC0415

    catalog = _validated_catalog(Path(shipped))
    _compiled_tables.store(shipped, catalog)
    return catalog


def _validated_catalog(directory: Path) -> Catalog:
    from imagepricing._table_shapes import ModelsFile, ParametersFile, PriceBookFile, SizesFile  # noqa: PLC0415

    problems: list[str] = []
    if not directory.is_dir():
        raise CatalogError([f"{directory}: not a directory of data tables"])

    sources, reviewed = load_sources_file(directory / _SOURCES_FILE, problems)
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
    eras, changes = _compile_models(models_file, parameters, size_sets, constraints, tierings, aspect_maps, problems)
    in_eras = _models_in_eras(eras)
    books = {book.provider: _compile_book(label, book, in_eras, problems) for label, book in book_files}
    _check_follows(books, book_files, {path.stem for path in price_paths}, problems)
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
    platform_specs = {name: _platform_spec(p) for name, p in parameters.items() if p.platform}
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


def _models_in_eras(eras: tuple[Era, ...]) -> dict[str, tuple[Model, ...]]:
    """Each model id with its Model in every era (what a price book is checked against: a price
    may apply in any era)."""
    found: dict[str, list[Model]] = {}
    for era in eras:
        for model_id, model in era.models.items():
            found.setdefault(model_id, []).append(model)
    return {model_id: tuple(models) for model_id, models in found.items()}


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


def _platform_spec(param: Parameter) -> ParamSpec:
    return ParamSpec(
        name=param.name, kind=param.kind, source=param.source, min=param.min, max=param.max, range_source=param.source
    )


def _known_parameters(
    table: ParametersFile, parameters: Mapping[str, Parameter], problems: list[str]
) -> dict[str, KnownParameter]:
    known: dict[str, KnownParameter] = {}
    for name, row in table.known_parameters.items():
        if name in parameters:
            problems.append(f"parameters.toml: $.known_parameters.{name}: already a parameter of the platform")
        known[name] = KnownParameter(name, frozenset(row.endpoints), row.note, row.source)
    return known


def load_price_book(path: str | os.PathLike[str], catalog: Catalog | None = None) -> PriceBook:
    """Load one user price book (same format as data/prices/*.toml), checked against `catalog`."""
    from pathlib import Path  # noqa: PLC0415 - validation only

    from imagepricing._table_shapes import PriceBookFile  # noqa: PLC0415 - validation only

    catalog = catalog or default_catalog()
    problems: list[str] = []
    label = str(path)
    doc = _read_toml(Path(path), label, problems)
    # A user's own book may cite its own evidence ("my invoice of 2026-05"): a source that is not a
    # citation of the registry is kept as written; one that is, is rendered like the shipped ones.
    book_file = _structure(doc, PriceBookFile, label, problems, catalog.sources, strict=False)
    if book_file is None:
        raise CatalogError(problems)
    book = _compile_book(label, book_file, _models_in_eras(catalog.eras), problems)
    if book.follows is not None:
        followed = catalog.price_books.get(book.follows.provider)
        if followed is None or followed.follows is not None or followed.currency != book.currency:
            problems.append(
                f"{label}: $.follows.provider: {book.follows.provider!r} is no book of the catalog to follow"
            )
    if problems:
        raise CatalogError(problems)
    return book


def _read_toml(path: Path, label: str, problems: list[str]) -> Any:
    import tomllib  # noqa: PLC0415 - validation only

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
    from imagepricing._table_shapes import structure_table  # noqa: PLC0415 - validation only

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
            if _table_size(size) is None:
                problems.append(f"{where}.sizes[{i}]: {size!r} is not WIDTHxHEIGHT{_AS_WRITTEN}")
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
                if _table_size(text) is None:
                    problems.append(f"{where}.returned_as: {text!r} is not WIDTHxHEIGHT{_AS_WRITTEN}")
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
            if _table_size(size_text) is None:
                problems.append(f"{where}.sizes: {size_text!r} is not WIDTHxHEIGHT{_AS_WRITTEN}")
            if not _RATIO.fullmatch(ratio):
                problems.append(f"{where}.sizes.{size_text}: {ratio!r} is not an aspect ratio such as 16:9")
        if not _RATIO.fullmatch(amap.fallback):
            problems.append(f"{where}.fallback: {amap.fallback!r} is not an aspect ratio such as 1:1")
        aspect_maps[name] = AspectMap(name, amap.fallback, MappingProxyType(dict(amap.sizes)), amap.source)
    return size_sets, constraints, tierings, aspect_maps


def _table_size(text: str) -> Size | None:
    """A size as a table must write it: strict WIDTHxHEIGHT, canonical and positive. Requests are
    matched against table sizes as written, so "01024x1024" or "0x256" would never match."""
    size = parse_size(text)
    if size is None or size.text != text or size.width == 0 or size.height == 0:
        return None
    return size


def _accepts_size(model: Model, endpoint: str | None, text: str) -> bool:
    """Whether `model` accepts size `text` on `endpoint` (on any endpoint when None)."""
    for name, capability in model.endpoints.items():
        spec = capability.params.get("size")
        if (endpoint is not None and name != endpoint) or spec is None or spec.size is None:
            continue
        rule = spec.size
        if rule.aspect_map is not None or (rule.allowed is not None and text in rule.allowed):
            return True
        limits = rule.constraints
        size = parse_size(text)
        if (
            limits is not None
            and size is not None
            and (text in limits.exempt or limits.multiple_of == 0 or not constraint_problems(size, limits))
        ):
            return True
    return False


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


# Which keys of a parameter entry fit which kind of parameter (see models.toml's header).
_KEYS_BY_KIND: dict[str, frozenset[str]] = {
    "choice": frozenset({"values", "default", "disputed_values"}),
    "integer": frozenset({"max", "honoured_max", "disputed_above"}),
    "text": frozenset({"max_chars"}),
    "images": frozenset({"max_items", "disputed_max_items"}),
    "image": frozenset(),
    "size": frozenset({"sizes", "constraints", "aspect_map", "default", "tiers", "documented"}),
    "url": frozenset(),
    "boolean": frozenset(),
    "model": frozenset(),
}
_SPEC_KEYS = (
    "values",
    "default",
    "max",
    "honoured_max",
    "max_chars",
    "max_items",
    "sizes",
    "constraints",
    "aspect_map",
    "tiers",
    "disputed_values",
    "disputed_max_items",
    "disputed_above",
    "documented",
)


def _resolve_endpoints(
    model_id: str, models: Mapping[str, ModelTable], problems: list[str]
) -> dict[str, EndpointTable]:
    """A model's endpoint tables with `inherits` applied (the child's parameters win)."""
    from imagepricing._table_shapes import EndpointTable  # noqa: PLC0415 - validation only

    chain = [model_id]
    row = models[model_id]
    while row.inherits is not None:
        if row.inherits not in models:
            problems.append(f"models.toml: $.models.{chain[-1]}.inherits: unknown model {row.inherits!r}")
            break
        if row.inherits in chain:
            problems.append(f"models.toml: $.models.{model_id}.inherits: cycle {' -> '.join([*chain, row.inherits])}")
            break
        chain.append(row.inherits)
        row = models[row.inherits]
    merged: dict[str, EndpointTable] = {}
    for ancestor in reversed(chain):
        for endpoint, table in models[ancestor].endpoints.items():
            base = merged.get(endpoint)
            if base is None:
                merged[endpoint] = table
                continue
            merged[endpoint] = EndpointTable(
                dropped_reason=table.dropped_reason or base.dropped_reason,
                source=table.source or base.source,
                params={**base.params, **table.params},
                disputed=table.disputed or base.disputed,
            )
    return merged


# The finding code of each availability status (models.toml `availability`).
_AVAILABILITY_CODES = {"not_yet_available": "model_not_yet_available", "retired": "model_retired"}


def _dated_problems(start: dt.date | None, until: dt.date | None, where: str, problems: list[str]) -> None:
    if start is not None and until is not None and start >= until:
        problems.append(f"{where}.effective_until: must be after effective_from")


def _variants(entry: ParamEntry, where: str, problems: list[str]) -> tuple[ParamSpecTable, ...]:
    """The dated facts of one parameter entry, checked: one undated table, or tables in date order
    that follow each other without a gap (the first open at the start, the last open at the end),
    each after the first saying what changed."""
    if not isinstance(entry, tuple):
        if entry.effective_from is not None or entry.effective_until is not None or entry.change is not None:
            problems.append(f"{where}: a single fact is in force for all time; write dated facts as an array")
        if entry.dropped:
            problems.append(f"{where}.dropped: a parameter dropped for all time is simply not listed")
        return (entry,)
    for i, variant in enumerate(entry):
        at = f"{where}[{i}]"
        _dated_problems(variant.effective_from, variant.effective_until, at, problems)
        if i == 0 and variant.effective_from is not None:
            problems.append(f"{at}.effective_from: the first fact holds from the start of the record; omit it")
        if i > 0 and variant.effective_from is None:
            problems.append(f"{at}.effective_from: required after the first fact")
        if i == len(entry) - 1 and variant.effective_until is not None:
            problems.append(f"{at}.effective_until: the last fact is still in force; omit it (add a dated fact)")
        if i < len(entry) - 1 and variant.effective_until != entry[i + 1].effective_from:
            problems.append(f"{at}.effective_until: must be the next fact's effective_from (no gap, no overlap)")
        if i > 0 and not (variant.change or "").strip():
            problems.append(f"{at}.change: say what changed on effective_from (imagepricing changes lists it)")
    return entry


def _in_force(start: dt.date | None, until: dt.date | None, era_start: dt.date | None) -> bool:
    """Whether a fact of [start, until) holds through the era beginning `era_start` (None: the era
    before every recorded change); eras are cut at every date a fact starts or ends."""
    if era_start is None:
        return start is None
    return (start is None or start <= era_start) and (until is None or era_start < until)


def _availability(model_id: str, models: Mapping[str, ModelTable]) -> tuple[AvailabilityTable, ...]:
    """A model's availability record: its own, else the nearest ancestor's (inherits)."""
    seen: set[str] = set()
    row: ModelTable | None = models.get(model_id)
    while row is not None and model_id not in seen:
        if row.availability:
            return row.availability
        seen.add(model_id)
        model_id = row.inherits or ""
        row = models.get(model_id)
    return ()


def _compile_models(
    table: ModelsFile,
    parameters: Mapping[str, Parameter],
    size_sets: Mapping[str, tuple[str, ...]],
    constraints: Mapping[str, Constraints],
    tierings: Mapping[str, Tiering],
    aspect_maps: Mapping[str, AspectMap],
    problems: list[str],
) -> tuple[tuple[Era, ...], tuple[Change, ...]]:
    """Every model as the platform served it in each era, and the rule changes that cut the eras.

    An era is a stretch of days over which no fact of models.toml changes: the dates every dated
    fact starts or ends cut the record into eras, and each era gets its own compiled models (a
    parameter fact the same in two eras compiles once, so eras share their ParamSpecs)."""
    # model -> endpoint -> parameter -> [(variant, its compiled spec or None when dropped)]
    facts: dict[str, dict[str, dict[str, list[tuple[ParamSpecTable, ParamSpec | None]]]]] = {}
    cuts: set[dt.date] = set()
    endpoint_tables: dict[str, dict[str, EndpointTable]] = {}
    changes: dict[tuple[object, ...], tuple[list[str], list[str]]] = {}

    sources_of: dict[tuple[object, ...], list[str]] = {}

    def record(key: tuple[object, ...], source: str, model_id: str, endpoint: str) -> None:
        # One change of one fact, whichever models (by inheritance) and endpoints share it; a model
        # the record shows served only later is left out (its facts before then are inherited).
        day = key[1]
        assert isinstance(day, dt.date)
        if (
            any(
                w.status == "not_yet_available" and _in_force(w.effective_from, w.effective_until, day)
                for w in _availability(model_id, table.models)
            )
            and key[0] != "model"
        ):
            return
        models_of, endpoints_of = changes.setdefault(key, ([], []))
        if model_id not in models_of:
            models_of.append(model_id)
        if endpoint not in endpoints_of:
            endpoints_of.append(endpoint)
        cited = sources_of.setdefault(key, [])
        if source not in cited:
            cited.append(source)

    for model_id in table.models:
        if not _check_name(model_id, f"models.toml: $.models.{model_id}", "a model id", problems):
            continue
        endpoint_tables[model_id] = _resolve_endpoints(model_id, table.models, problems)
        facts[model_id] = {}
        for endpoint, ep in endpoint_tables[model_id].items():
            where = f"models.toml: $.models.{model_id}.endpoints.{endpoint}"
            by_param: dict[str, list[tuple[ParamSpecTable, ParamSpec | None]]] = {}
            for name, entry in ep.params.items():
                variants = _variants(entry, f"{where}.params.{name}", problems)
                compiled: list[tuple[ParamSpecTable, ParamSpec | None]] = []
                for i, variant in enumerate(variants):
                    at = f"{where}.params.{name}" + (f"[{i}]" if isinstance(entry, tuple) else "")
                    spec = None
                    if not variant.dropped:
                        spec = _compile_spec(
                            name,
                            endpoint,
                            variant,
                            parameters,
                            size_sets,
                            constraints,
                            tierings,
                            aspect_maps,
                            at,
                            problems,
                        )
                        if spec is None:
                            continue
                    elif parameters.get(name) is not None and parameters[name].required:
                        problems.append(f"{at}.dropped: {name!r} is required; a model cannot drop it")
                    compiled.append((variant, spec))
                    cuts.update(d for d in (variant.effective_from, variant.effective_until) if d is not None)
                    if i > 0 and variant.effective_from is not None:
                        record(
                            ("rule", variant.effective_from, name, variant.change), variant.source, model_id, endpoint
                        )
                by_param[name] = compiled
            for name, param in parameters.items():
                if endpoint not in param.endpoints:
                    continue
                if param.required and param.kind != "model" and name not in by_param:
                    problems.append(
                        f"{where}.params: the required parameter {name!r} must be listed (a model cannot drop it)"
                    )
                if param.platform and name in by_param:
                    problems.append(f"{where}.params.{name}: handled by the platform for every model; do not list it")
            facts[model_id][endpoint] = by_param
        if not endpoint_tables[model_id]:
            problems.append(f"models.toml: $.models.{model_id}.endpoints: the model serves no endpoint")
        for i, window in enumerate(_availability(model_id, table.models)):
            where = f"models.toml: $.models.{model_id}.availability[{i}]"
            _dated_problems(window.effective_from, window.effective_until, where, problems)
            if window.effective_from is None and window.effective_until is None:
                problems.append(f"{where}: give effective_from or effective_until (a window of the record)")
            for endpoint in window.endpoints:
                if endpoint not in endpoint_tables[model_id]:
                    problems.append(f"{where}.endpoints: {model_id} does not serve {endpoint}")
            cuts.update(d for d in (window.effective_from, window.effective_until) if d is not None)
            # A model recorded as not yet served until a date is served from that date; a model
            # recorded as retired from a date is retired from that date.
            if window.status == "not_yet_available" and window.effective_until is not None:
                summary = f"served from this date: {window.note}"
                record(
                    ("model", window.effective_until, "model", summary),
                    window.source,
                    model_id,
                    ",".join(window.endpoints),
                )
            if window.effective_from is not None:
                record(
                    ("model", window.effective_from, "model", window.note),
                    window.source,
                    model_id,
                    ",".join(window.endpoints),
                )

    eras: list[Era] = []
    starts: list[dt.date | None] = [None, *sorted(cuts)]
    capabilities: dict[tuple[object, ...], Capability] = {}
    for index, era_start in enumerate(starts):
        until = starts[index + 1] if index + 1 < len(starts) else None
        models: dict[str, Model] = {}
        for model_id, row in table.models.items():
            if model_id not in facts:
                continue
            windows = _availability(model_id, table.models)
            endpoints: dict[str, Capability] = {}
            for endpoint, by_param in facts[model_id].items():
                ep = endpoint_tables[model_id][endpoint]
                chosen = {
                    name: next(
                        (spec for v, spec in variants if _in_force(v.effective_from, v.effective_until, era_start)),
                        None,
                    )
                    for name, variants in by_param.items()
                }
                notices = tuple(
                    (_AVAILABILITY_CODES[w.status], w.note, w.source)
                    for w in windows
                    if endpoint in w.endpoints and _in_force(w.effective_from, w.effective_until, era_start)
                )
                key = (model_id, endpoint, tuple(id(spec) for spec in chosen.values()), notices)
                capability = capabilities.get(key)
                if capability is None:
                    specs = {name: spec for name, spec in chosen.items() if spec is not None}
                    for name, param in parameters.items():
                        if param.platform and endpoint in param.endpoints:
                            specs[name] = _platform_spec(param)
                    capability = capabilities[key] = Capability(
                        model=model_id,
                        endpoint=endpoint,
                        params=MappingProxyType(specs),
                        dropped_reason=ep.dropped_reason
                        or f"{model_id} does not take this parameter; upstream drops it",
                        source=ep.source or row.source,
                        slow=Advice(row.slow.note, row.slow.source) if row.slow else None,
                        dispute=(ep.disputed.note, ep.disputed.source) if ep.disputed is not None else None,
                        notices=notices,
                    )
                endpoints[endpoint] = capability
            models[model_id] = Model(model_id, row.family, row.source, MappingProxyType(endpoints))
        eras.append(Era(era_start, until, MappingProxyType(models)))
    listed = tuple(
        Change(
            day=key[1],  # type: ignore[arg-type]
            kind=str(key[0]),
            subject=str(key[2]),
            models=tuple(models_of),
            endpoints=tuple(sorted({e for joined in endpoints_of for e in joined.split(",")})),
            summary=str(key[3]),
            source="; ".join(sources_of[key]),
        )
        for key, (models_of, endpoints_of) in changes.items()
    )
    return tuple(eras), tuple(sorted(listed, key=lambda c: c.day))


def _compile_spec(
    name: str,
    endpoint: str,
    row: ParamSpecTable,
    parameters: Mapping[str, Parameter],
    size_sets: Mapping[str, tuple[str, ...]],
    constraints: Mapping[str, Constraints],
    tierings: Mapping[str, Tiering],
    aspect_maps: Mapping[str, AspectMap],
    where: str,
    problems: list[str],
) -> ParamSpec | None:
    param = parameters.get(name)
    if param is None:
        problems.append(f"{where}: {name!r} is not a parameter defined in parameters.toml")
        return None
    if endpoint not in param.endpoints:
        problems.append(f"{where}: {name!r} is not a parameter of the {endpoint} endpoint")
        return None
    if param.kind == "model":
        problems.append(f"{where}: 'model' is implied and must not be listed")
        return None
    allowed = _KEYS_BY_KIND[param.kind]
    for key in _SPEC_KEYS:
        if getattr(row, key) is not None and key not in allowed:
            problems.append(f"{where}.{key}: does not apply to a {param.kind} parameter")
    if (row.overridden_to is None) != (row.reason is None) and row.honoured_max is None:
        problems.append(f"{where}: overridden_to and reason go together")
    for key in ("max", "honoured_max"):
        limit = getattr(row, key)
        if (
            limit is not None
            and param.min is not None
            and param.max is not None
            and not param.min <= limit <= param.max
        ):
            problems.append(f"{where}.{key}: {limit} is outside the parameter's range {param.min}-{param.max}")
    for key in ("max_chars", "max_items"):
        if getattr(row, key) == 0:
            problems.append(f"{where}.{key}: 0 would refuse every value; must be positive")
    if param.kind == "choice" and row.values is not None:
        if not row.values and not row.disputed_values:
            problems.append(f"{where}.values: empty (and no disputed_values)")
        if len(set(row.values)) != len(row.values):
            problems.append(f"{where}.values: lists a value twice")
        elif len({value.casefold() for value in row.values}) != len(row.values):
            problems.append(f"{where}.values: lists a value twice in different case; requests compare exactly")
        for i, value in enumerate(row.values):
            _check_name(value, f"{where}.values[{i}]", "a choice value", problems)
        if row.default is not None and row.default not in row.values:
            problems.append(f"{where}.default: {row.default!r} is not one of the values")
    disputed = any(
        getattr(row, key) is not None
        for key in ("disputed_values", "disputed_max_items", "disputed_above", "documented")
    )
    if disputed != (row.disputed_note is not None) or disputed != (row.disputed_source is not None):
        problems.append(
            f"{where}: disputed_values (or disputed_max_items, disputed_above, documented), disputed_note and"
            " disputed_source go together"
        )
    if row.disputed_max_items is not None and (row.max_items is None or row.disputed_max_items <= row.max_items):
        problems.append(f"{where}.disputed_max_items: must be above max_items")
    if param.kind == "choice" and row.values is None and row.overridden_to is None:
        problems.append(f"{where}: a choice parameter needs values (or overridden_to)")
    size_rule = (
        _compile_size_rule(row, size_sets, constraints, tierings, aspect_maps, where, problems)
        if param.kind == "size"
        else None
    )
    return ParamSpec(
        name=name,
        kind=param.kind,
        source=row.source,
        values=row.values,
        default=row.default,
        min=param.min,
        max=param.max,
        model_max=row.max,
        honoured_max=row.honoured_max,
        max_chars=row.max_chars,
        max_items=row.max_items,
        size=size_rule,
        overridden_to=row.overridden_to,
        reason=row.reason,
        disputed_values=frozenset(row.disputed_values or ()),
        disputed_max_items=row.disputed_max_items,
        disputed_above=row.disputed_above,
        disputed_note=row.disputed_note,
        disputed_source=row.disputed_source,
        range_source=param.source,
    )


def _compile_size_rule(
    row: ParamSpecTable,
    size_sets: Mapping[str, tuple[str, ...]],
    constraints: Mapping[str, Constraints],
    tierings: Mapping[str, Tiering],
    aspect_maps: Mapping[str, AspectMap],
    where: str,
    problems: list[str],
) -> SizeRule | None:
    chosen = [key for key in ("sizes", "constraints", "aspect_map") if getattr(row, key) is not None]
    if len(chosen) != 1:
        problems.append(
            f"{where}: a size entry needs exactly one of sizes, constraints, aspect_map (has {chosen or 'none'})"
        )
        return None
    tiering = None
    if row.tiers is not None:
        tiering = tierings.get(row.tiers)
        if tiering is None:
            problems.append(f"{where}.tiers: unknown tiering {row.tiers!r}")
    default = row.default if row.default is not None else "auto"
    if row.sizes is not None:
        allowed = size_sets.get(row.sizes)
        if allowed is None:
            problems.append(f"{where}.sizes: unknown size set {row.sizes!r}")
            return None
        if default not in allowed and default not in AUTO_SIZES:
            problems.append(f"{where}.default: {default!r} is not in size set {row.sizes!r}")
        return SizeRule(default=default, allowed=frozenset(allowed), allowed_order=allowed, tiering=tiering)
    documented: frozenset[str] | None = None
    if row.documented is not None:
        listed = size_sets.get(row.documented)
        if listed is None:
            problems.append(f"{where}.documented: unknown size set {row.documented!r}")
        elif row.constraints is None:
            problems.append(f"{where}.documented: applies only to a free-form size (constraints)")
        else:
            documented = frozenset(listed)
    if row.constraints is not None:
        limits = constraints.get(row.constraints)
        if limits is None:
            problems.append(f"{where}.constraints: unknown constraint set {row.constraints!r}")
            return None
        size = parse_size(default)
        if (
            default not in AUTO_SIZES
            and default not in limits.exempt
            and limits.multiple_of != 0  # 0 is reported with the constraint set, and would divide by zero
            and (size is None or constraint_problems(size, limits))
        ):
            problems.append(f"{where}.default: {default!r} is not a size constraint set {row.constraints!r} accepts")
        return SizeRule(default=default, constraints=limits, tiering=tiering, documented=documented)
    assert row.aspect_map is not None
    if row.default is not None:
        # An aspect map falls back to its own ratio; a size default would be silently unused.
        problems.append(f"{where}.default: does not apply with aspect_map (its fallback ratio is the default)")
    amap = aspect_maps.get(row.aspect_map)
    if amap is None:
        problems.append(f"{where}.aspect_map: unknown aspect map {row.aspect_map!r}")
        return None
    return SizeRule(default=default, aspect_map=amap, tiering=tiering)


def _compile_book(
    label: str,
    book: PriceBookFile,
    models: Mapping[str, tuple[Model, ...]],
    problems: list[str],
) -> PriceBook:
    """One price book, checked against every era of the models (a price may apply in any)."""
    entries: list[PriceEntry] = []
    seen: dict[tuple[object, ...], list[PriceEntry]] = {}
    if not book.currency.strip():
        problems.append(f"{label}: $.currency: empty")
    for i, row in enumerate(book.prices):
        where = f"{label}: $.prices[{i}]"
        in_eras = models.get(row.model)
        if in_eras is None:
            problems.append(f"{where}.model: {row.model!r} is not a model in models.toml")
            continue
        tier_names = _tier_names(in_eras)
        if row.endpoint is not None and not any(row.endpoint in model.endpoints for model in in_eras):
            problems.append(f"{where}.endpoint: {row.model} does not serve {row.endpoint}")
        if row.size is not None and _table_size(row.size) is None:
            problems.append(f"{where}.size: {row.size!r} is not WIDTHxHEIGHT{_AS_WRITTEN}")
        elif row.size is not None and not any(_accepts_size(model, row.endpoint, row.size) for model in in_eras):
            problems.append(f"{where}.size: {row.model} accepts no size {row.size}, so the price could never apply")
        if row.tier is not None and row.tier not in tier_names:
            problems.append(
                f"{where}.tier: {row.tier!r} is not a tier of {row.model} (tiers: {', '.join(tier_names) or 'none'})"
            )
        for tier in row.tier_multipliers:
            if tier not in tier_names:
                problems.append(
                    f"{where}.tier_multipliers: {tier!r} is not a tier of {row.model}"
                    f" (tiers: {', '.join(tier_names) or 'none'})"
                )
        if row.quality is not None and row.quality not in _qualities(in_eras, row.endpoint):
            problems.append(f"{where}.quality: {row.quality!r} is not a quality {row.model} takes")
        if row.effective_from and row.effective_until and row.effective_from >= row.effective_until:
            problems.append(f"{where}.effective_until: must be after effective_from")
        if not row.source.strip():
            problems.append(f"{where}.source: every price needs a source")
        if row.uncertain is not None and row.amount is None:
            problems.append(f"{where}.uncertain: applies to a price with an amount (an unknown one says so itself)")
        entry = PriceEntry(
            model=row.model,
            amount=row.amount,
            per=row.per,
            endpoint=row.endpoint,
            quality=row.quality,
            size=row.size,
            tier=row.tier,
            tier_multipliers=row.tier_multipliers,
            effective_from=row.effective_from,
            effective_until=row.effective_until,
            basis=row.basis,
            source=row.source,
            note=row.note,
            uncertain=row.uncertain,
        )
        key = (row.model, row.basis, *entry.keys)
        for other in seen.get(key, []):
            if _overlap(entry, other):
                problems.append(
                    f"{where}: overlaps another {row.basis} entry for {row.model} with the same keys;"
                    " the price would be ambiguous"
                )
                break
        seen.setdefault(key, []).append(entry)
        entries.append(entry)
    for i, host in enumerate(book.hosts):
        if not _HOST_NAME.fullmatch(host):
            problems.append(f"{label}: $.hosts[{i}]: {host!r} is not a lowercase DNS host name")
    rates: list[UsdRate] = []
    for i, rate_row in enumerate(book.usd_rates):
        where = f"{label}: $.usd_rates[{i}]"
        rate = UsdRate(
            rate_row.amount, rate_row.effective_from, rate_row.effective_until, rate_row.source, rate_row.note
        )
        if rate_row.effective_from and rate_row.effective_until and rate_row.effective_from >= rate_row.effective_until:
            problems.append(f"{where}.effective_until: must be after effective_from")
        if any(_overlap(rate, other) for other in rates):
            problems.append(f"{where}: overlaps another rate; the equivalent would be ambiguous")
        if book.currency == "USD":
            problems.append(f"{where}: the book's currency is USD already")
        rates.append(rate)
    follows = None
    if book.follows is not None:
        row_f = book.follows
        follows = Follows(row_f.provider, row_f.effective_from, row_f.note, row_f.source)
        for i, entry in enumerate(entries):
            if entry.effective_until is None or entry.effective_until > row_f.effective_from:
                problems.append(
                    f"{label}: $.prices[{i}]: in force after {row_f.effective_from.isoformat()}, when the book"
                    f" follows {row_f.provider!r} ($.follows): end it on that day (effective_until)"
                )
        for i, rate in enumerate(rates):
            if rate.effective_until is None or rate.effective_until > row_f.effective_from:
                problems.append(f"{label}: $.usd_rates[{i}]: in force after the book follows {row_f.provider!r}")
    return PriceBook(
        provider=book.provider,
        name=book.name,
        currency=book.currency,
        source=book.source,
        entries=tuple(entries),
        hosts=book.hosts,
        follows=follows,
        usd_rates=tuple(rates),
    )


def _check_follows(
    books: Mapping[str, PriceBook], files: list[tuple[str, PriceBookFile]], present: set[str], problems: list[str]
) -> None:
    """A book follows another provider's book of the same currency, which follows none. A book
    whose file is present but did not load has its own problems reported already."""
    for provider, book in books.items():
        follows = book.follows
        if follows is None:
            continue
        label = next((lbl for lbl, f in files if f.provider == provider), provider)
        followed = books.get(follows.provider)
        if followed is None and follows.provider in present and follows.provider != provider:
            continue
        if followed is None or follows.provider == provider:
            problems.append(f"{label}: $.follows.provider: {follows.provider!r} is no other provider's book")
        elif followed.follows is not None:
            problems.append(f"{label}: $.follows.provider: {follows.provider!r} follows another book itself")
        elif followed.currency != book.currency:
            problems.append(
                f"{label}: $.follows.provider: {follows.provider!r} prices in {followed.currency}, not {book.currency}"
            )


def _tier_names(models: tuple[Model, ...]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for model in models:
        for cap in model.endpoints.values():
            size = cap.params.get("size")
            if size is not None and size.size is not None and size.size.tiering is not None:
                names.update(dict.fromkeys(size.size.tiering.tier_names))
    return tuple(names)


def _qualities(models: tuple[Model, ...], endpoint: str | None) -> set[str]:
    """The qualities the model takes, in any era, on `endpoint` (on any endpoint when None)."""
    found: set[str] = set()
    for model in models:
        for name, cap in model.endpoints.items():
            if endpoint is not None and name != endpoint:
                continue
            spec = cap.params.get("quality")
            if spec is not None and spec.values:
                found.update(spec.values)
    return found


def _overlap(a: PriceEntry | UsdRate, b: PriceEntry | UsdRate) -> bool:
    a_end, b_end = a.effective_until, b.effective_until
    a_start, b_start = a.effective_from, b.effective_from
    starts_before_b_ends = b_end is None or a_start is None or a_start < b_end
    b_starts_before_a_ends = a_end is None or b_start is None or b_start < a_end
    return starts_before_b_ends and b_starts_before_a_ends
