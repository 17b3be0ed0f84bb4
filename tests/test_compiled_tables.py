"""The compiled form of the shipped tables that a wheel carries (imagepricing/_compiled_tables.py,
hatch_build.py, docs/startup.md).

A catalog loaded from the packaged form must equal a freshly validated one in every field (the
derived ones too, which attrs' == skips), over the shipped tables and edited copies; any change to
the tables or to the code that compiles them misses it (the digest), and the tables are validated;
a bad table still fails with file and path; a damaged or forged file is never used; without a
packaged form (an editable install, a checkout) every process validates, and nothing is written.

The packaged form is written here as hatch_build.py writes it, next to a copy of the compiling
modules (in-process tests: `_compiled_tables.__file__` points at the copy) or of the whole package
laid out as a wheel installs it (fresh-process tests). .ci/extras/startup.sh checks a real wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import pytest

from imagepricing import _compiled_tables, catalog
from imagepricing._compile_tables import compile_tables
from imagepricing.catalog import Catalog, load_catalog, shipped_data_dir
from imagepricing.errors import CatalogError


def assert_same(fresh: Any, cached: Any, path: str = "catalog") -> None:
    """Equal value and equal type at every node, every stored field included (the derived ones that
    `==` skips too)."""
    assert type(fresh) is type(cached), f"{path}: {type(fresh).__name__} != {type(cached).__name__}"
    if attrs.has(type(fresh)):
        stored = _stored_fields(type(fresh))
        arguments = {f.name for f in attrs.fields(type(fresh)) if f.init}
        assert arguments <= set(stored), f"{path}: an argument is not stored"
        for name in stored:
            assert_same(getattr(fresh, name), getattr(cached, name), f"{path}.{name}")
    elif isinstance(fresh, (dict, MappingProxyType)):
        assert list(fresh) == list(cached), f"{path}: keys or their order differ"
        for key in fresh:
            assert_same(fresh[key], cached[key], f"{path}[{key!r}]")
    elif isinstance(fresh, tuple):
        assert len(fresh) == len(cached), f"{path}: lengths differ"
        for i, (a, b) in enumerate(zip(fresh, cached, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(fresh, Decimal):
        # Equal is not enough: 0.20 and 0.2 are equal but print differently.
        assert fresh.as_tuple() == cached.as_tuple(), f"{path}: {fresh!r} != {cached!r}"
    else:
        assert fresh == cached, f"{path}: {fresh!r} != {cached!r}"


# A catalog's caches of the views of its eras (filled on use, and its own root): not data.
_CACHES = {"__weakref__", "_root", "_views", "_last_on"}


def _stored_fields(cls: type) -> list[str]:
    """Every slot of `cls` and its bases (what an instance stores), weak reference slot aside."""
    names = [name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ()) if name not in _CACHES]
    return sorted(set(names))


def _round_trip(directory: Path) -> tuple[Catalog, Catalog]:
    fresh = compile_tables(directory)
    key = _compiled_tables.tables_digest(directory)
    return fresh, _compiled_tables.decode(_compiled_tables.encode(fresh, key), key, str(directory))


def _ship(package: Path, tables: Path) -> Path:
    """Write the compiled form of `tables` into `package` as hatch_build.py writes it into a wheel."""
    validated = compile_tables(tables)
    key = _compiled_tables.tables_digest(tables)
    packaged = package / _compiled_tables.PACKAGED_NAME
    packaged.write_text(_compiled_tables.encode(validated, key), "utf-8")
    return packaged


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(shipped_data_dir(), copy)
    return copy


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the modules the digest reads; `_compiled_tables` looks for its packaged form there."""
    where = tmp_path / "package"
    where.mkdir()
    for name in _compiled_tables._COMPILER_MODULES:
        shutil.copy(Path(_compiled_tables.__file__).parent / name, where / name)
    monkeypatch.setattr(_compiled_tables, "__file__", str(where / "_compiled_tables.py"))
    return where


@pytest.fixture
def shipped_copy(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """load_catalog() reads `data_copy` as the shipped tables."""
    # load_catalog() locates the shipped tables with _shipped_tables(), as a string.
    monkeypatch.setattr(catalog, "_shipped_tables", lambda: str(data_copy))
    monkeypatch.setattr(catalog, "shipped_data_dir", lambda: data_copy)
    return data_copy


@pytest.fixture
def packaged(package: Path, shipped_copy: Path) -> Path:
    """The packaged compiled form of `shipped_copy`, next to `package`."""
    return _ship(package, shipped_copy)


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The directories load_catalog() validates, in order (every call that did not use the packaged form)."""
    done: list[str] = []
    validate = catalog._validated

    def counted(path: str | os.PathLike[str]) -> Catalog:
        done.append(os.fspath(path))
        return validate(path)

    monkeypatch.setattr(catalog, "_validated", counted)
    return done


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# Edits that keep the tables valid, each changing what the catalog holds.
EDITS: dict[str, Callable[[Path], None]] = {
    "a price": lambda d: _replace(d / "prices" / "openai.toml", 'amount = "', 'amount = "1'),
    "a size set": lambda d: _replace(d / "sizes.toml", '"2048x1152", "1152x2048"', '"2048x1152"'),
    "a price book removed": lambda d: (d / "prices" / "openai.toml").unlink(),
    "a source's title": lambda d: _replace(d / "sources.toml", 'title = "', 'title = "Edited: '),
}


class TestSameAsValidated:
    def test_the_shipped_tables(self) -> None:
        fresh, cached = _round_trip(shipped_data_dir())
        assert_same(fresh, cached)
        assert fresh == cached

    @pytest.mark.parametrize("edit", list(EDITS))
    def test_edited_copies(self, data_copy: Path, edit: str) -> None:
        before = compile_tables(data_copy)
        EDITS[edit](data_copy)
        fresh, cached = _round_trip(data_copy)
        assert fresh != before  # the edit changed the catalog, so the comparison is not vacuous
        assert_same(fresh, cached)

    def test_through_the_packaged_form(self, packaged: Path, shipped_copy: Path, validations: list[str]) -> None:
        loaded = load_catalog()
        assert validations == []  # not validated: it came from the packaged form
        assert loaded.source_dir == str(shipped_copy)
        assert_same(compile_tables(shipped_copy), loaded)

    def test_the_comparison_sees_a_difference(self) -> None:
        fresh, _ = _round_trip(shipped_data_dir())
        book = fresh.price_books["openai"]
        entry = book.entries[0]
        assert entry.amount is not None
        changed = attrs.evolve(entry, amount=Decimal(f"{entry.amount}0"))  # equal value, other digits
        other = attrs.evolve(fresh, price_books={**fresh.price_books, "openai": attrs.evolve(book, entries=(changed,))})
        with pytest.raises(AssertionError):
            assert_same(fresh, other)


class TestWithoutAPackagedForm:
    """An editable install or a plain checkout: the tables are validated in every process, and
    nothing is written anywhere."""

    def test_every_load_validates_and_writes_nothing(
        self,
        package: Path,
        shipped_copy: Path,
        validations: list[str],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        home = tmp_path / "home"
        home.mkdir()
        # tests/conftest.py points the retired IMAGEPRICING_CACHE_DIR elsewhere: drop it, so that
        # anything written to a cache would land under this HOME.
        monkeypatch.delenv("IMAGEPRICING_CACHE_DIR", raising=False)
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        files = sorted(package.iterdir())
        assert _compiled_tables.load(shipped_copy) is None
        first, second = load_catalog(), load_catalog()
        assert validations == [str(shipped_copy)] * 2
        assert_same(first, second)
        assert sorted(package.iterdir()) == files
        assert list(home.iterdir()) == []

    def test_a_path_of_your_own_is_validated_even_with_a_packaged_form(
        self, packaged: Path, shipped_copy: Path, validations: list[str]
    ) -> None:
        assert _compiled_tables.load(shipped_copy) is not None  # the packaged form matches these tables
        load_catalog(shipped_copy)
        assert validations == [str(shipped_copy)]


class TestInvalidation:
    @pytest.mark.parametrize("edit", list(EDITS))
    def test_any_edit_misses_and_loads_the_edit(
        self, packaged: Path, shipped_copy: Path, validations: list[str], edit: str
    ) -> None:
        shipped = packaged.read_bytes()
        before = load_catalog()
        assert validations == []
        EDITS[edit](shipped_copy)
        assert _compiled_tables.load(shipped_copy) is None
        after = load_catalog()
        assert validations == [str(shipped_copy)]
        assert after != before
        assert_same(compile_tables(shipped_copy), after)
        assert packaged.read_bytes() == shipped  # the packaged form is never rewritten

    @pytest.mark.parametrize(
        "extra", ["notes.toml", "prices/extra.TOML", "prices/openai.toml.bak", "models.TOML", "prices/sub"]
    )
    def test_a_new_file_misses(self, packaged: Path, shipped_copy: Path, extra: str) -> None:
        key = _compiled_tables.tables_digest(shipped_copy)
        assert _compiled_tables.load(shipped_copy) is not None
        target = shipped_copy / extra
        if extra.endswith("sub"):
            target.mkdir()
        else:
            target.write_text("", encoding="utf-8")
        assert _compiled_tables.tables_digest(shipped_copy) != key
        assert _compiled_tables.load(shipped_copy) is None

    def test_a_bad_table_fails_with_file_and_path_after_a_good_load(self, packaged: Path, shipped_copy: Path) -> None:
        load_catalog()
        _replace(shipped_copy / "prices" / "openai.toml", 'amount = "', 'amount = "x')
        with pytest.raises(CatalogError) as raised:
            load_catalog()
        assert any(p.startswith("prices/openai.toml: $.prices[") and ".amount" in p for p in raised.value.problems)

    @pytest.mark.parametrize("module", _compiled_tables._COMPILER_MODULES)
    def test_the_code_that_compiles_is_part_of_the_key(
        self, package: Path, packaged: Path, shipped_copy: Path, module: str
    ) -> None:
        key = _compiled_tables.tables_digest(shipped_copy)
        assert _compiled_tables.load(shipped_copy) is not None
        with (package / module).open("a", encoding="utf-8") as out:
            out.write("\n# a change to how the tables compile\n")
        assert _compiled_tables.tables_digest(shipped_copy) != key
        assert _compiled_tables.load(shipped_copy) is None


class TestDamagedOrForged:
    @pytest.mark.parametrize(
        "damage",
        [
            "truncated",
            "not json",
            "other key",
            "unknown class",
            "a list for a class",
            "a number for a decimal",
            "a tag with more keys",
            "extra field",
        ],
    )
    def test_a_damaged_or_forged_file_is_ignored(
        self, packaged: Path, shipped_copy: Path, validations: list[str], damage: str
    ) -> None:
        assert _compiled_tables.load(shipped_copy) is not None  # undamaged, it is used
        text = packaged.read_text(encoding="utf-8")
        if damage == "truncated":
            text = text[: len(text) // 2]
        elif damage == "not json":
            text = "\x80garbage"
        elif damage == "other key":
            text = text.replace('"key":"', '"key":"0', 1)
        elif damage == "unknown class":
            text = text.replace('{"$":"Source"', '{"$":"subprocess.Popen"', 1)
        elif damage == "a list for a class":
            text = text.replace('{"$":"Source","v":{', '{"$":"Source","v":[{', 1).replace("}}", "}]}", 1)
        elif damage == "a number for a decimal":
            text = re.sub(r'\{"\$":"decimal","v":"[0-9.]+"\}', '{"$":"decimal","v":1}', text, count=1)
        elif damage == "a tag with more keys":
            text = text.replace('{"$":"tuple","v":', '{"$":"tuple","w":0,"v":', 1)
        elif damage == "extra field":
            text = text.replace('{"$":"Source","v":{', '{"$":"Source","v":{"injected":1,', 1)
        assert text != packaged.read_text(encoding="utf-8"), "the damage was not done"
        packaged.write_text(text, encoding="utf-8")
        assert _compiled_tables.load(shipped_copy) is None
        assert_same(compile_tables(shipped_copy), load_catalog())
        assert validations == [str(shipped_copy)]

    def test_a_directory_in_its_place_is_ignored(self, package: Path, shipped_copy: Path) -> None:
        (package / _compiled_tables.PACKAGED_NAME).mkdir()
        assert _compiled_tables.load(shipped_copy) is None


# --- Fresh processes: the package copied as a wheel lays it out (imagepricing/, its tables in
# imagepricing/data/), first on PYTHONPATH, with HOME and XDG_CACHE_HOME in an empty directory.

_PROBE = """
import sys, imagepricing
c = imagepricing.load_catalog()
print(imagepricing.__file__)
print(sorted(m for m in ('cattrs', 'tomllib', 'imagepricing._table_shapes') if m in sys.modules))
print(sorted(c.providers), c.price_books['openai'].entries[0].amount)
"""
_VALIDATORS = "['cattrs', 'imagepricing._table_shapes', 'tomllib']"


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A directory holding a copy of the package with its tables and its packaged compiled form."""
    site = tmp_path / "site"
    target = site / "imagepricing"
    shutil.copytree(
        Path(catalog.__file__).parent,
        target,
        ignore=shutil.ignore_patterns("__pycache__", _compiled_tables.PACKAGED_NAME),
    )
    shutil.copytree(shipped_data_dir(), target / "data")
    _ship(target, target / "data")
    return site


def _run(site: Path, code: str, tmp_path: Path) -> list[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    # As in TestWithoutAPackagedForm: without the retired IMAGEPRICING_CACHE_DIR of tests/conftest.py.
    env = {k: v for k, v in os.environ.items() if k not in ("IMAGEPRICING_CACHE_DIR", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=home, capture_output=True, text=True, check=True, timeout=120
    )
    assert list(home.iterdir()) == [], "a process wrote under HOME"
    return done.stdout.splitlines()


def test_a_fresh_process_loads_without_the_validators(installed: Path, tmp_path: Path) -> None:
    """The point of the packaged form: tomllib, cattrs and the table shapes stay unimported."""
    tables = installed / "imagepricing" / "data"
    first = _run(installed, _PROBE, tmp_path)
    assert first[0] == str(installed / "imagepricing" / "__init__.py")
    assert first[1:] == ["[]", "['acedata', 'openai', 'xhuoapi'] 0.011"]
    # The probe sees the validators when they are imported: after an edit, every process validates.
    EDITS["a price"](tables)
    for _ in range(2):
        assert _run(installed, _PROBE, tmp_path)[1:] == [_VALIDATORS, "['acedata', 'openai', 'xhuoapi'] 10.011"]


def test_without_a_packaged_form_every_process_validates(installed: Path, tmp_path: Path) -> None:
    """An editable install or a checkout: no compiled form, nothing written, validated each time."""
    (installed / "imagepricing" / _compiled_tables.PACKAGED_NAME).unlink()
    for _ in range(2):
        assert _run(installed, _PROBE, tmp_path)[1] == _VALIDATORS
    assert sorted(p.name for p in (installed / "imagepricing").glob("*.json")) == []


def test_the_source_registry_comes_from_the_compiled_catalog(installed: Path, tmp_path: Path) -> None:
    """Rendering a citation on a first check must not bring tomllib and cattrs back."""
    code = (
        "import sys; from imagepricing.catalog import default_sources; s = default_sources();"
        " print(sorted(m for m in ('cattrs', 'tomllib') if m in sys.modules));"
        " print(sorted((k, v.title) for k, v in s.items()))"
    )
    fresh = sorted((k, v.title) for k, v in compile_tables(shipped_data_dir()).sources.items())
    assert fresh
    assert _run(installed, code, tmp_path) == ["[]", str(fresh)]
    (installed / "imagepricing" / _compiled_tables.PACKAGED_NAME).unlink()  # the probe can see them
    assert _run(installed, code, tmp_path) == ["['cattrs', 'tomllib']", str(fresh)]


class TestSharing:
    def test_equal_objects_are_written_once_and_shared(self) -> None:
        fresh, cached = _round_trip(shipped_data_dir())
        text = _compiled_tables.encode(fresh, "k")
        assert '{"$":"ref","v":' in text
        specs = [spec for m in cached.models.values() for c in m.endpoints.values() for spec in c.params.values()]
        assert len({id(s) for s in specs}) < len(specs)  # some are one object
        assert_same(fresh, cached)

    @pytest.mark.parametrize("target", ["-1", "999999", '"0"'])
    def test_a_reference_to_nothing_is_refused(self, target: str) -> None:
        fresh, _ = _round_trip(shipped_data_dir())
        text = _compiled_tables.encode(fresh, "k")
        forged = re.sub(r'\{"\$":"ref","v":[0-9]+\}', f'{{"$":"ref","v":{target}}}', text, count=1)
        assert forged != text
        with pytest.raises(ValueError, match="reference"):
            _compiled_tables.decode(forged, "k", "somewhere")
