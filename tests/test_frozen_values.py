"""The frozen values (imagepricing/frozen.py, issue 11 item 3): the plain slotted classes that
replaced attrs on the start-up path behave as the attrs classes did.

Each class is compared with an attrs class made here with the same fields, defaults, and
`eq`/`repr` settings (what the class was before): the same repr text, the same equality, a hash
that follows equality. And each is frozen, replaceable, picklable and weakly referenceable.
"""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import subprocess
import sys
import weakref
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imagepricing
from imagepricing.catalog import Advice, Capability, KnownParameter, Model, Parameter, ParamSpec
from imagepricing.findings import CodeInfo, Finding
from imagepricing.frozen import Frozen, FrozenInstanceError, replace
from imagepricing.pricing import PriceBook, PriceEntry, Quote
from imagepricing.report import Report
from imagepricing.sizes import AspectMap, Constraints, Size, SizeRule, Tiering
from imagepricing.sources import Citation, Source
from imagepricing.urls import UrlProblem

# Classes whose constructor stores its arguments as given (no converter, nothing derived).
STORING: list[type[Frozen]] = [
    Advice,
    AspectMap,
    Citation,
    CodeInfo,
    Finding,
    KnownParameter,
    Model,
    ParamSpec,
    Parameter,
    Quote,
    Report,
    Size,
    SizeRule,
    Source,
    Tiering,
    UrlProblem,
]
# The defaults each constructor has (what attrs had), by class and field.
DEFAULTS: dict[type[Frozen], dict[str, object]] = {
    Finding: {"source": "", "path": "$"},
    Report: {"price_per": None, "usd_equivalent": None, "usd_rate": None, "usd_rate_source": None},
    Size: {"oversize_digits": (None, None)},
    SizeRule: {
        "allowed": None,
        "allowed_order": (),
        "constraints": None,
        "aspect_map": None,
        "tiering": None,
        "documented": None,
    },
    Source: {"url": None, "version": None, "note": None},
    Quote: {"caveat": None, "usd_rate": None, "usd_source": None, "usd_equivalent": None},
    Constraints: {"disputed": frozenset(), "disputed_note": None, "disputed_source": None},
    Parameter: {"default_on": MappingProxyType({})},
    ParamSpec: {
        name: frozenset() if name == "disputed_values" else None
        for name in ParamSpec._fields[ParamSpec._fields.index("values") :]
    },
}
# Hashable values of several types, so that equal-but-different values (1 and True, 0 and 0.0)
# and unequal ones are drawn.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.text(max_size=3),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10, min_value=-10),
    st.tuples(st.text(max_size=2)),
    st.frozensets(st.text(max_size=2), max_size=2),
)


def _attrs_twin(cls: type[Frozen]) -> type:
    """The attrs class `cls` was: the same fields, defaults, and which fields eq and repr use."""
    defaults = DEFAULTS.get(cls, {})
    fields = {
        name: (
            attrs.field(eq=name in cls._compared, repr=name in cls._compared, default=defaults[name])
            if name in defaults
            else attrs.field(eq=name in cls._compared, repr=name in cls._compared)
        )
        for name in cls._fields
    }
    return attrs.make_class(cls.__name__, fields, frozen=True, slots=True)


TWINS = {cls: _attrs_twin(cls) for cls in STORING}


def _stored(cls: type) -> set[str]:
    """Every field an instance of `cls` stores: the slots of the class and of its bases."""
    return {name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ()) if name != "__weakref__"}


@st.composite
def arguments(draw: st.DrawFn, cls: type[Frozen]) -> tuple[Any, ...]:
    return tuple(draw(VALUES) for _ in cls._fields)


class TestLikeAttrs:
    """Each class against its attrs twin, on the same drawn arguments."""

    @pytest.mark.parametrize("cls", STORING, ids=lambda cls: cls.__name__)
    @given(data=st.data())
    def test_repr_equality_and_hash(self, cls: type[Frozen], data: st.DataObject) -> None:
        first, second = data.draw(arguments(cls)), data.draw(arguments(cls))
        twin = TWINS[cls]
        ours = [cls(*first), cls(*second), cls(*first)]
        theirs = [twin(*first), twin(*second), twin(*first)]
        assert [repr(value) for value in ours] == [repr(value) for value in theirs]
        assert (ours[0] == ours[1]) == (theirs[0] == theirs[1])
        assert (ours[0] != ours[1]) == (theirs[0] != theirs[1])
        assert ours[0] == ours[2]
        assert hash(ours[0]) == hash(ours[2])
        if ours[0] == ours[1]:
            assert hash(ours[0]) == hash(ours[1])

    @pytest.mark.parametrize("cls", STORING, ids=lambda cls: cls.__name__)
    def test_the_same_defaults(self, cls: type[Frozen]) -> None:
        required = [name for name in cls._fields if name not in DEFAULTS.get(cls, {})]
        given_values = {name: f"<{name}>" for name in required}
        ours, theirs = cls(**given_values), TWINS[cls](**given_values)
        for name in cls._fields:
            assert getattr(ours, name) == getattr(theirs, name), name
        assert repr(ours) == repr(theirs)

    @pytest.mark.parametrize("cls", STORING, ids=lambda cls: cls.__name__)
    def test_positional_and_keyword_arguments(self, cls: type[Frozen]) -> None:
        build: Any = cls
        values = [f"<{name}>" for name in cls._fields]
        assert build(*values) == build(**dict(zip(cls._fields, values, strict=True)))
        with pytest.raises(TypeError):
            build(*values, "one too many")
        with pytest.raises(TypeError):
            build(**dict(zip(cls._fields, values, strict=True)), not_a_field=1)

    def test_a_missing_argument_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            Finding("code", "param")  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            Report(endpoint="generations")  # type: ignore[call-arg]

    def test_not_equal_to_another_class_with_the_same_fields(self) -> None:
        # Advice and Citation both have two fields; equal values are still different things.
        assert Advice("a", "b") != Citation("a", "b")  # type: ignore[arg-type]
        assert Advice("a", "b") != ("a", "b")
        assert Advice("a", "b").__eq__(("a", "b")) is NotImplemented

    def test_unhashable_fields_make_an_unhashable_value(self) -> None:
        # As with attrs: a value holding a mapping cannot be hashed; comparing it still works.
        tiering = Tiering("t", "a", "b", MappingProxyType({}), MappingProxyType({}), "s")
        with pytest.raises(TypeError):
            hash(tiering)
        assert tiering == Tiering("t", "a", "b", MappingProxyType({}), MappingProxyType({}), "s")


class TestUncomparedFields:
    def test_size_ignores_its_oversize_digits(self) -> None:
        plain, oversize = Size(10**9, 16), Size(10**9, 16, ("1" * 40, None))
        assert plain == oversize
        assert hash(plain) == hash(oversize)
        assert repr(oversize) == "Size(width=1000000000, height=16)"

    def test_derived_fields_are_recomputed_not_compared(self) -> None:
        entry = PriceEntry("m", Decimal("0.2"))
        book = PriceBook("p", "P", "USD", "s", (entry,))
        assert book.entries_for("m") == (entry,)
        other = replace(book, entries=(PriceEntry("n", Decimal("0.3")),))
        assert other.entries_for("m") == ()
        assert other.entries_for("n") != ()
        assert "_by_model" not in repr(book)
        spec = ParamSpec("quality", "choice", "s", values=("low",), default="low")
        capability = Capability("m", "generations", MappingProxyType({"quality": spec}), "r", "s", None)
        assert capability.defaults == (("quality", "quality", "low"),)
        assert replace(capability, params=MappingProxyType({})).defaults == ()


class TestConverters:
    def test_price_maps_are_read_only_copies(self) -> None:
        multipliers = {"other": Decimal("1.5")}
        entry = PriceEntry("m", tier_multipliers=multipliers)
        multipliers["other"] = Decimal(9)
        assert entry.tier_multipliers == {"other": Decimal("1.5")}
        assert type(entry.tier_multipliers) is MappingProxyType
        assert PriceEntry("m").tier_multipliers == {}
        overrides = {"m": Decimal(1)}
        book = PriceBook("p", "P", "USD", "s", (), overrides)
        overrides["m"] = Decimal(2)
        assert book.overrides == {"m": Decimal(1)}
        assert type(PriceBook("p", "P", "USD", "s", ()).overrides) is MappingProxyType


class TestFrozen:
    @pytest.mark.parametrize("cls", STORING, ids=lambda cls: cls.__name__)
    def test_no_field_can_be_assigned_or_deleted(self, cls: type[Frozen]) -> None:
        value = cls(*[f"<{name}>" for name in cls._fields])
        for name in cls._fields:
            with pytest.raises(FrozenInstanceError, match=f"{cls.__name__} is frozen"):
                setattr(value, name, "changed")
            with pytest.raises(AttributeError):
                delattr(value, name)
            assert getattr(value, name) == f"<{name}>"
        with pytest.raises(AttributeError):
            value.not_a_field = 1
        assert not hasattr(value, "__dict__")
        assert _stored(cls) >= set(cls._fields)

    def test_the_error_is_an_attribute_error(self) -> None:
        assert issubclass(FrozenInstanceError, AttributeError)
        assert imagepricing.FrozenInstanceError is FrozenInstanceError

    def test_the_shipped_catalog_and_a_report(self) -> None:
        catalog = imagepricing.load_catalog()
        report = imagepricing.check({"model": "dall-e-3", "prompt": "p", "n": 2})
        for value, name in ((catalog, "models"), (report, "cost"), (report.errors[0], "message")):
            with pytest.raises(FrozenInstanceError):
                setattr(value, name, None)
        with pytest.raises(FrozenInstanceError):
            del report.cost


class TestReplace:
    def test_replace_changes_only_what_is_named(self) -> None:
        finding = Finding("out_of_range", "n", "message", path="$.n")
        changed = replace(finding, message="other")
        assert changed == Finding("out_of_range", "n", "other", path="$.n")
        assert finding.message == "message"
        assert replace(finding) == finding
        assert replace(finding) is not finding

    def test_an_unknown_field_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="no field 'colour'"):
            replace(Finding("c", None, "m"), colour="red")

    def test_with_price_still_works(self) -> None:
        catalog = imagepricing.load_catalog()
        derived = catalog.with_price("xhuoapi", "gpt-image-2", "0.20")
        assert derived.price_books["xhuoapi"].overrides["gpt-image-2"] == Decimal("0.20")
        assert derived.models is catalog.models
        assert replace(derived, price_books=catalog.price_books) == catalog

    @pytest.mark.skipif(sys.version_info < (3, 13), reason="copy.replace is new in Python 3.13")
    def test_copy_replace(self) -> None:
        finding = Finding("c", None, "m")
        assert copy.replace(finding, message="n") == Finding("c", None, "n")  # type: ignore[attr-defined]


class TestSubclasses:
    """A subclass (even one with a __dict__) builds and behaves like its base."""

    @pytest.mark.parametrize("cls", [Finding, Quote, Report, Source, Size], ids=lambda cls: cls.__name__)
    def test_a_subclass(self, cls: type[Frozen]) -> None:
        sub: Any = type(f"My{cls.__name__}", (cls,), {})
        values = [f"<{name}>" for name in cls._fields]
        made = sub(*values)
        assert type(made) is sub
        assert [getattr(made, name) for name in cls._fields] == values
        assert repr(made) == repr(cls(*values)).replace(cls.__name__, sub.__name__, 1)
        assert made == sub(*values)
        assert made != cls(*values)  # another class, as with attrs
        with pytest.raises(FrozenInstanceError):
            setattr(made, cls._fields[0], None)
        assert type(replace(made)) is sub


class TestProtocols:
    def test_pickle_and_copy_rebuild_through_the_constructor(self) -> None:
        values: list[Frozen] = [
            Finding("c", "p", "m", "s", "$.p"),
            Size(10**9, 16, ("1" * 40, None)),
            Quote("USD", Decimal("0.2"), Decimal(1), Decimal("0.2"), "image", "s", None),
            Source("id", "Title", "Publisher", dt.date(2026, 1, 1), "https://example.org/"),
        ]
        for value in values:
            for clone in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
                assert clone == value
                assert type(clone) is type(value)
                for name in _stored(type(value)):
                    assert getattr(clone, name) == getattr(value, name)

    def test_a_mapping_field_cannot_be_pickled(self) -> None:
        # As with attrs: a mappingproxy cannot be pickled, so neither can a value holding one.
        with pytest.raises(TypeError, match="mappingproxy"):
            pickle.dumps(PriceEntry("m"))

    def test_weak_references(self) -> None:
        catalog = imagepricing.load_catalog()
        assert weakref.ref(catalog)() is catalog
        finding = Finding("c", None, "m")
        assert weakref.ref(finding)() is finding

    def test_pattern_matching(self) -> None:
        match Finding("out_of_range", "n", "m"):
            case Finding(code, param):
                assert (code, param) == ("out_of_range", "n")
            case _:
                pytest.fail("no match")


class TestStartUpImports:
    """What a process that only checks requests imports: none of the validation machinery."""

    # Modules that a process loading the compiled tables and checking a request must not import:
    # attrs and cattrs (with inspect, which attrs brings), tomllib, typing, pathlib, hashlib, the
    # table shapes, and the modules of URLs and estimates that load on first use.
    NOT_IMPORTED = (
        "attr",
        "attrs",
        "cattrs",
        "tomllib",
        "typing",
        "inspect",
        "pathlib",
        "hashlib",
        "imagepricing._table_shapes",
        "imagepricing.urls",
        "imagepricing.estimation",
        "imagepricing.spend",
        "imagepricing._log_reading",
    )
    PROGRAM = (
        "import sys\n"
        "import imagepricing\n"
        "imagepricing.load_catalog()\n"
        "imagepricing.check({'model': 'gpt-image-2', 'prompt': 'a fox', 'size': '1024x1024'}).to_dict()\n"
        "imagepricing.check({'model': 'dall-e-3', 'prompt': 'a fox', 'n': 2, 'style': 'odd'}).to_dict()\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )

    def _imported(self, cache: Path) -> set[str]:
        env = {"IMAGEPRICING_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "PYTHONSAFEPATH": "1"}
        done = subprocess.run(
            [sys.executable, "-c", self.PROGRAM], env=env, cwd=cache, capture_output=True, text=True, check=True
        )
        return set(done.stdout.split())

    def _found(self, imported: set[str]) -> list[str]:
        return sorted(
            name for name in imported if any(name == top or name.startswith(f"{top}.") for top in self.NOT_IMPORTED)
        )

    def test_a_process_that_checks_requests(self, tmp_path: Path) -> None:
        cache = tmp_path / "cache"
        cache.mkdir(mode=0o700)
        # The first process finds no compiled form: it validates the tables (and so imports
        # tomllib and cattrs, which shows that this check sees them), then writes one.
        first = self._imported(cache)
        assert {"tomllib", "cattrs", "imagepricing._table_shapes"} <= set(self._found(first))
        # Every later process loads the compiled form.
        later = self._imported(cache)
        assert "imagepricing.engine" in later
        assert self._found(later) == []

    def test_loading_and_a_clean_check_import_neither_re_nor_json(self, tmp_path: Path) -> None:
        """`re` and `json` (with enum, which re brings) are a fifth of import + load: the compiled form
        is read by json's own C scanner, patterns compile on first use (imagepricing._lazy_re), and
        a size is parsed without one, so a check raising no finding needs neither. A finding that
        describes a value does (and the test shows this check sees them)."""
        cache = tmp_path / "cache"
        cache.mkdir(mode=0o700)
        program = (
            "import sys\n"
            "import imagepricing\n"
            "imagepricing.load_catalog()\n"
            "loaded = {'re', 'json', 'enum'} & set(sys.modules)\n"
            "report = imagepricing.check({'model': 'gpt-image-2', 'prompt': 'a fox', 'size': '1280x720'})\n"
            "checked = {'re', 'json', 'enum'} & set(sys.modules)\n"
            "imagepricing.check({'model': 'gpt-image-2', 'prompt': 'a fox', 'size': '12 80x720'})\n"
            "found = {'re', 'enum'} <= set(sys.modules)\n"
            "print(sorted(loaded), sorted(checked), report.ok, found)\n"
        )
        env = {"IMAGEPRICING_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "PYTHONSAFEPATH": "1"}
        runs = [
            subprocess.run(
                [sys.executable, "-c", program], env=env, cwd=cache, capture_output=True, text=True, check=True
            ).stdout.strip()
            for _ in range(2)
        ]
        assert runs[1] == "[] [] True True"  # the second loads the compiled form the first wrote
