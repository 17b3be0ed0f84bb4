"""The catalog's values: what the platform accepts and serves, era by era, and its price books.

These are the values `check` reads; `imagepricing.catalog` loads and cross-checks them from the
tables (data/*.toml), and `_compiled_tables` writes and reads their compiled form. A `Catalog` is
immutable: `with_price` and `with_price_book` return new catalogs, so one catalog can be shared by
any number of threads; `on(day)` is the platform as it was on that day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from imagepricing._tables import ENDPOINTS
from imagepricing.findings import CODES, declare
from imagepricing.pricing import PriceBook
from imagepricing.sizes import AspectMap, Constraints, SizeRule, Tiering
from imagepricing.sources import Source, render_citation

__all__ = [
    "MAX_PRICE_DIGITS",
    "Advice",
    "Capability",
    "Catalog",
    "Change",
    "Era",
    "KnownParameter",
    "Model",
    "ParamSpec",
    "Parameter",
]


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


# The warning of each availability status of models.toml (`Capability.notices`).
AVAILABILITY_CODES: Mapping[str, str] = MappingProxyType(
    {
        "not_yet_available": declare(
            "model_not_yet_available",
            "warning",
            "The platform's record first shows the model served after the date asked; the request may have been"
            " refused then (not certain, so not an error).",
            "acedata-roadmap: dated changes of the platform's models",
        ),
        "retired": declare(
            "model_retired",
            "warning",
            "The platform's record says the model is no longer supported on the date asked, while other sources"
            " still list it; the request may be refused.",
            "acedata-roadmap: 2026-07-27 DALL-E 2 no longer supported",
        ),
    }
)


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

    >>> from imagepricing import default_catalog
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
    # Citations rendered so far against `sources` (shared by the views of every era).
    _cited: dict[str, str] = attrs.field(init=False, eq=False, repr=False)

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
        _set(self, "_cited", {})

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

    def cite(self, citation: str) -> str:
        """`citation` (ids of this catalog's sources.toml, each with its detail) rendered as a
        reference a person can follow: publisher, title and address.

        >>> from imagepricing import default_catalog
        >>> print(default_catalog().cite("rfc8259: section 4"))  # doctest: +NORMALIZE_WHITESPACE
        IETF, "RFC 8259: The JavaScript Object Notation (JSON) Data Interchange Format"
        <https://www.rfc-editor.org/rfc/rfc8259>: section 4

        """
        cited = self._cited
        found = cited.get(citation)
        if found is None:
            found = cited.setdefault(citation, render_citation(citation, self.sources))
        return found

    def code_source(self, code: str) -> str:
        """The source of finding code `code` (imagepricing.findings.CODES), rendered by `cite`."""
        return self.cite(CODES[code].source)

    @property
    def era(self) -> Era:
        """The era this catalog describes (the last one, unless it came from `on`)."""
        return self.eras[self._era_index()]

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self.price_books)

    def provider_for_host(self, host: str) -> str | None:
        """The provider whose price book lists `host` (case-insensitive, port and trailing dot ignored).

        >>> from imagepricing import default_catalog
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
            raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(self.price_books)}")
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
    _set(view, "_cited", root._cited)
    return view


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
