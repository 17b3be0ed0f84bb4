"""Frozen values: the plain slotted classes the catalog, the reports and the findings are made of.

These classes were attrs classes. `import attrs` alone took about half of the start-up budget
(it imports `inspect`, `typing` and more), and creating each attrs class runs generated code; so
every class on the path of `import imagepricing; load_catalog(); check(...)` is a plain class with
`__slots__`, written out by hand, on this one base (docs/startup.md). What they keep from attrs:

- **Immutable.** Assigning or deleting an attribute raises `FrozenInstanceError`, a subclass of
  `AttributeError` (as attrs' own `FrozenInstanceError` is).
- **Value equality and hash.** Two values are equal when they are of the same class and their
  compared fields are equal; the hash follows equality (a value holding a dict or mappingproxy is
  unhashable, as before). Derived fields (computed by the constructor) are not compared.
- **The same repr**: `ClassName(field=value, ...)`, the compared fields in order.
- **The same constructors**: the same arguments, positional or keyword, and defaults.
- **Replace.** `replace(value, **changes)` (and, on Python 3.13, `copy.replace(value, ...)`
  through `__replace__`) builds a new value with some fields changed, through the constructor, so
  derived fields are recomputed: the replacement for `attrs.evolve`.
- **Pickle and copy**, through the constructor.

What they lose: `attrs.fields`, `attrs.evolve`, `attrs.asdict` and `attrs.has` no longer apply to
them. `Class._fields` lists the constructor's arguments in order (as a namedtuple's does), and
`__slots__` (with the base's) every stored field, derived ones included.

>>> from imagepricing.findings import Finding
>>> finding = Finding("out_of_range", "n", "n must be from 1 to 10; got 11.", path="$.n")
>>> finding
Finding(code='out_of_range', param='n', message='n must be from 1 to 10; got 11.', source='', path='$.n')
>>> replace(finding, path="$.m").path, finding.path
('$.m', '$.n')
>>> finding.path = "$.m"
Traceback (most recent call last):
...
imagepricing.frozen.FrozenInstanceError: Finding is frozen: cannot assign to 'path'
"""

from __future__ import annotations

from operator import attrgetter

# typing.TYPE_CHECKING without importing typing, which costs milliseconds of start-up; mypy reads
# the name the same way. Annotations are never evaluated (`from __future__ import annotations`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, NoReturn, Self, TypeVar

    from typing_extensions import dataclass_transform

    _T = TypeVar("_T", bound="Frozen")
else:

    def dataclass_transform(**_: object) -> Callable[[type], type]:
        return lambda cls: cls


__all__ = ["TYPE_CHECKING", "Frozen", "FrozenInstanceError", "build", "replace"]


class FrozenInstanceError(AttributeError):
    """An attempt to assign to or delete an attribute of a frozen imagepricing value."""


# For type checkers only (PEP 681): the subclasses are frozen dataclass-like classes, so mypy
# reports an assignment to a field, as it did with attrs. Each class writes its own constructor.
@dataclass_transform(frozen_default=True)
class Frozen:
    """The base of every frozen value. A subclass declares `__slots__` (every stored field, and
    "__weakref__"), `_fields` (the constructor's arguments, in order) and `_compared` (the fields
    that equality, the hash and the repr use, in order), and writes its constructor, setting each
    field with `object.__setattr__`.

    Classes built on every `check` that the memo does not answer (Report, Finding, Quote) are
    built faster than that (1.2x to 2x attrs' frozen init, benchmarks/bench_values.py): their
    slots live in a plain base class, and a second subclass of it, without the frozen
    `__setattr__`, is what `__new__` fills with plain stores before setting the finished object's
    class (the layouts are the same, so Python allows it). A subclass of theirs is built with
    `build`, the ordinary way.
    """

    # No slots of its own, so that a class can also inherit its slots from a plain base (see
    # `Finding`). Every subclass lists "__weakref__" in its slots: attrs' slotted classes allowed
    # weak references, and the engine's memo holds its catalog weakly.
    __slots__ = ()

    _fields: ClassVar[tuple[str, ...]] = ()
    _compared: ClassVar[tuple[str, ...]] = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _values: ClassVar[attrgetter[Any]]  # not a function, so never bound: _values(instance)

    def __init_subclass__(cls, *, init: bool = True) -> None:
        # `init` is for type checkers only: `init=False` where `__new__` builds the value, so that
        # they read its signature rather than make one up from the annotations.
        super().__init_subclass__()
        # One C call gathers the compared fields (a tuple, or the value itself for one field).
        cls._values = attrgetter(*cls._compared)
        type.__setattr__(cls, "__match_args__", cls._fields)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenInstanceError(f"{type(self).__name__} is frozen: cannot assign to {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        values = self._values
        return bool(values(self) == values(other))

    def __hash__(self) -> int:
        return hash((self.__class__, self._values(self)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._compared)
        return f"{type(self).__qualname__}({shown})"

    def __reduce__(self) -> tuple[type[Self], tuple[object, ...]]:
        return (type(self), tuple(getattr(self, name) for name in self._fields))

    def __replace__(self, /, **changes: Any) -> Self:
        """A copy with `changes` applied, built by the constructor (`copy.replace` on 3.13)."""
        unknown = [name for name in changes if name not in self._fields]
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {unknown[0]!r}; fields: {', '.join(self._fields)}")
        arguments = {name: getattr(self, name) for name in self._fields}
        arguments.update(changes)
        return type(self)(**arguments)


def build(cls: type[_T], fields: tuple[str, ...], values: tuple[object, ...]) -> _T:
    """An instance of `cls` with `fields` set to `values`: how the classes that build by swapping
    their class (see Frozen) build an instance of a subclass, whose layout may differ."""
    value = object.__new__(cls)
    for name, item in zip(fields, values, strict=True):
        object.__setattr__(value, name, item)
    return value


def replace(value: _T, /, **changes: Any) -> _T:
    """`value` with `changes` applied (`attrs.evolve` for these classes; `copy.replace` on 3.13)."""
    return value.__replace__(**changes)
