"""The shape of the data tables, and the one strict converter that reads them (validation only).

These classes mirror the TOML files key for key; `catalog.py` turns them into the compiled,
cross-checked `Catalog`. cattrs' default hooks coerce (`"no"` -> True, `2.9` -> 2, `"abc"` ->
`["a", "b", "c"]`), which would let a hand-edit mistake load silently, so every leaf type gets a
hook here that accepts exactly one TOML type and nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.v import format_exception

from imagepricing._tables import ENDPOINTS, Endpoint

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "ModelsFile",
    "ParametersFile",
    "PriceBookFile",
    "SizesFile",
    "SourcesFile",
    "structure_table",
]

ParamKind = Literal["model", "text", "images", "image", "integer", "size", "choice", "url", "boolean"]


@attrs.frozen
class ParameterTable:
    kind: ParamKind
    endpoints: tuple[Endpoint, ...]
    source: str
    required: bool = False
    min: int | None = None
    max: int | None = None
    handled_by: Literal["model", "platform"] = "model"
    # For `model` only: the model the platform uses when a request names none, per endpoint where
    # the platform's schema makes model optional.
    default_on: dict[Endpoint, str] = attrs.field(factory=dict)


@attrs.frozen
class KnownParameterTable:
    endpoints: tuple[Endpoint, ...]
    note: str
    source: str


@attrs.frozen
class ParametersFile:
    schema_version: Literal[1]
    parameters: dict[str, ParameterTable]
    known_parameters: dict[str, KnownParameterTable] = attrs.field(factory=dict)


@attrs.frozen
class ParamSpecTable:
    source: str
    values: tuple[str, ...] | None = None
    default: str | None = None
    max: int | None = None
    honoured_max: int | None = None
    max_chars: int | None = None
    max_items: int | None = None
    sizes: str | None = None
    constraints: str | None = None
    aspect_map: str | None = None
    tiers: str | None = None
    overridden_to: str | None = None
    reason: str | None = None
    disputed_values: tuple[str, ...] | None = None
    disputed_max_items: int | None = None
    disputed_above: int | None = None
    documented: str | None = None
    disputed_note: str | None = None
    disputed_source: str | None = None
    # A dated fact (see models.toml): the days it is in force, what changed on effective_from, and
    # `dropped = true` for a window in which the model does not take the parameter at all.
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    change: str | None = None
    dropped: bool = False


# One fact, or a list of dated facts in date order (models.toml).
ParamEntry = ParamSpecTable | tuple[ParamSpecTable, ...]


@attrs.frozen
class DisputeTable:
    note: str
    source: str


@attrs.frozen
class EndpointTable:
    dropped_reason: str | None = None
    source: str | None = None
    params: dict[str, ParamEntry] = attrs.field(factory=dict)
    # Served by the model in some sources and not in others: accepted with a warning.
    disputed: DisputeTable | None = None


@attrs.frozen
class AdviceTable:
    note: str
    source: str


@attrs.frozen
class AvailabilityTable:
    """A window in which the platform's record says the model is not (yet, or any longer) served."""

    status: Literal["not_yet_available", "retired"]
    note: str
    source: str
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    endpoints: tuple[Endpoint, ...] = ("generations", "edits")


@attrs.frozen
class ModelTable:
    family: str
    source: str
    inherits: str | None = None
    endpoints: dict[Endpoint, EndpointTable] = attrs.field(factory=dict)
    slow: AdviceTable | None = None
    availability: tuple[AvailabilityTable, ...] = ()


@attrs.frozen
class ModelsFile:
    schema_version: Literal[1]
    models: dict[str, ModelTable]


@attrs.frozen
class SizeSetTable:
    sizes: tuple[str, ...]
    source: str


@attrs.frozen
class ConstraintTable:
    source: str
    multiple_of: int | None = None
    max_side: int | None = None
    max_pixels: int | None = None
    min_pixels: int | None = None
    max_aspect_ratio: int | None = None
    exempt: tuple[str, ...] = ()
    presets: tuple[str, ...] = ()
    limits_source: str | None = None
    disputed: tuple[str, ...] = ()
    disputed_note: str | None = None
    disputed_source: str | None = None


@attrs.frozen
class TieringTable:
    auto_tier: str
    fallback_tier: str
    tiers: dict[str, tuple[str, ...]]
    source: str
    returned_as: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class AspectMapTable:
    fallback: str
    sizes: dict[str, str]
    source: str


@attrs.frozen
class SizesFile:
    schema_version: Literal[1]
    size_sets: dict[str, SizeSetTable]
    constraints: dict[str, ConstraintTable] = attrs.field(factory=dict)
    tierings: dict[str, TieringTable] = attrs.field(factory=dict)
    aspect_maps: dict[str, AspectMapTable] = attrs.field(factory=dict)


@attrs.frozen
class PriceEntryTable:
    model: str
    source: str
    amount: Decimal | None = None
    per: Literal["image", "request"] = "image"
    endpoint: Endpoint | None = None
    quality: str | None = None
    size: str | None = None
    tier: str | None = None
    tier_multipliers: dict[str, Decimal] = attrs.field(factory=dict)
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    basis: Literal["charged", "published"] = "charged"
    note: str | None = None
    # The sources disagree on this price: quotes that use it carry a `price_uncertain` warning.
    uncertain: str | None = None


@attrs.frozen
class FollowsTable:
    """From `effective_from`, the book's provider sells at another provider's prices."""

    provider: str
    effective_from: dt.date
    note: str
    source: str


@attrs.frozen
class UsdRateTable:
    """US dollars per unit of the book's currency, as a reference (not what a package costs)."""

    amount: Decimal
    source: str
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    note: str | None = None


@attrs.frozen
class PriceBookFile:
    schema_version: Literal[1]
    provider: str
    name: str
    currency: str
    source: str
    # The API hosts that sell at these prices, so a URL in a log or an SDK's base_url names the
    # provider (imagepricing.routes). Lowercase DNS names; one provider per host.
    hosts: tuple[str, ...] = ()
    prices: tuple[PriceEntryTable, ...] = ()
    follows: FollowsTable | None = None
    usd_rates: tuple[UsdRateTable, ...] = ()


@attrs.frozen
class SourceTable:
    title: str
    publisher: str
    read: dt.date
    url: str | None = None
    version: str | None = None
    note: str | None = None


@attrs.frozen
class SourcesFile:
    schema_version: Literal[1]
    sources: dict[str, SourceTable]
    # The day the sources were last reviewed for the tables: a check dated later carries a
    # `tables_may_be_stale` warning. None (a user's own tables) means no such warning.
    reviewed: dt.date | None = None


_T = TypeVar("_T")


class _TableValueError(ValueError):
    """A leaf value of the wrong type or form; its text is the whole finding."""


# A price is written as a plain non-negative decimal string ("0.14"), never a float (which TOML
# would round through binary) and never with an exponent, sign or whitespace.
_DECIMAL_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _strict_str(value: Any, _: type) -> str:
    if type(value) is not str:
        raise _TableValueError(f"expected a string, got {_describe(value)}")
    return value


def _strict_int(value: Any, _: type) -> int:
    # bool is a subclass of int: `true` must not pass as 1.
    if type(value) is not int:
        raise _TableValueError(f"expected an integer, got {_describe(value)}")
    if value < 0:
        raise _TableValueError(f"expected a non-negative integer, got {value}")
    return value


def _strict_bool(value: Any, _: type) -> bool:
    if type(value) is not bool:
        raise _TableValueError(f"expected true or false, got {_describe(value)}")
    return value


def _strict_decimal(value: Any, _: type) -> Decimal:
    if type(value) is not str:
        raise _TableValueError(
            f'expected a decimal string such as "0.14" (prices are never floats), got {_describe(value)}'
        )
    if not _DECIMAL_TEXT.fullmatch(value):
        raise _TableValueError(f'expected a non-negative decimal string such as "0.14", got {value!r}')
    return Decimal(value)


def _strict_date(value: Any, _: type) -> dt.date:
    # TOML local dates load as datetime.date; a datetime (a date subclass) is a different fact.
    if type(value) is not dt.date:
        raise _TableValueError(f"expected a TOML date such as 2026-05-05, got {_describe(value)}")
    return value


def _strict_str_tuple(value: Any, _: type) -> tuple[str, ...]:
    # The default hook would turn "abc" into ("a", "b", "c").
    if type(value) is not list:
        raise _TableValueError(f"expected an array of strings, got {_describe(value)}")
    problems = [i for i, item in enumerate(value) if type(item) is not str]
    if problems:
        raise _TableValueError(f"expected an array of strings; item {problems[0]} is {_describe(value[problems[0]])}")
    return tuple(value)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(Decimal, _strict_decimal)
    converter.register_structure_hook(dt.date, _strict_date)
    converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _strict_str_tuple)

    # Generating a mapping hook compiles code; do it once per mapping type, not once per table.
    mapping_hooks: dict[Any, Any] = {}

    def strict_dict(value: Any, typ: Any) -> Any:
        if type(value) is not dict:
            raise _TableValueError(f"expected a table, got {_describe(value)}")
        hook = mapping_hooks.get(typ)
        if hook is None:
            hook = mapping_hooks[typ] = converter.gen_structure_mapping(typ)
        return hook(value, typ)

    converter.register_structure_hook_func(lambda t: getattr(t, "__origin__", None) is dict, strict_dict)

    def param_entry(value: Any, _: Any) -> Any:
        # One fact (a table) or dated facts (an array of tables); anything else names both forms.
        if type(value) is dict:
            return converter.structure(value, ParamSpecTable)
        if type(value) is list:
            if not value:
                raise _TableValueError("expected a table or a non-empty array of dated tables, got an empty array")
            return converter.structure(value, tuple[ParamSpecTable, ...])
        raise _TableValueError(f"expected a table or an array of dated tables, got {_describe(value)}")

    converter.register_structure_hook_func(lambda t: t == ParamEntry, param_entry)
    return converter


_CONVERTER = _make_converter()


def _format(exc: BaseException, typ: type | None) -> str:
    if isinstance(exc, _TableValueError):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required key missing"
    if typ is not None and get_origin(typ) in (Union, UnionType):
        # An optional choice (`endpoint = "generation"`): name the choices, not "unknown error".
        typ = next((arg for arg in get_args(typ) if get_origin(arg) is Literal), typ)
    if typ is not None and getattr(typ, "__origin__", None) is Literal:
        allowed = ", ".join(repr(a) for a in getattr(typ, "__args__", ()))
        return f"expected one of {allowed}"
    return format_exception(exc, typ)


def structure_table(data: Any, cls: type[_T], file_name: str) -> tuple[_T | None, list[str]]:
    """Structure one parsed TOML document; return the value, or None and every problem found."""
    try:
        return _CONVERTER.structure(data, cls), []
    except Exception as exc:  # cattrs groups every leaf error; we report them all, never raise.
        problems = cattrs.transform_error(exc, path="$", format_exception=_format)
        return None, [f"{file_name}: {_at_path(p)}" for p in problems]


def _at_path(problem: str) -> str:
    # cattrs says "message @ $.path"; we lead with the path, which is what a person looks for.
    message, sep, path = problem.rpartition(" @ ")
    return f"{path}: {message}" if sep else problem
