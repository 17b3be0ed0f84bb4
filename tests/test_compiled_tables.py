"""The compiled form of the shipped tables (imagepricing/_compiled_tables.py, docs/startup.md).

A catalog loaded from its compiled form must equal a freshly validated one in every field (the
derived ones too, which attrs' == skips), over the shipped tables and edited copies; any change to
the tables misses the cache; a bad table still fails with file and path; a file that is damaged,
forged or writable by others is never used.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
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


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(shipped_data_dir(), copy)
    return copy


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("IMAGEPRICING_CACHE_DIR", str(where))
    return where


@pytest.fixture
def shipped_copy(data_copy: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """load_catalog() reads `data_copy` as the shipped tables, with a cache of its own."""
    # load_catalog() locates the shipped tables as a string (no pathlib on the start-up path).
    monkeypatch.setattr(catalog, "_shipped_tables", lambda: str(data_copy))
    monkeypatch.setattr(catalog, "shipped_data_dir", lambda: data_copy)
    return data_copy


def _cached_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("catalog-*.json"))


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

    def test_through_the_cache(self, shipped_copy: Path, cache: Path) -> None:
        first = load_catalog()
        assert len(_cached_files(cache)) == 1
        second = load_catalog()
        assert_same(first, second)
        assert_same(compile_tables(shipped_copy), second)

    def test_the_comparison_sees_a_difference(self) -> None:
        fresh, _ = _round_trip(shipped_data_dir())
        book = fresh.price_books["openai"]
        entry = book.entries[0]
        assert entry.amount is not None
        changed = attrs.evolve(entry, amount=Decimal(f"{entry.amount}0"))  # equal value, other digits
        other = attrs.evolve(fresh, price_books={**fresh.price_books, "openai": attrs.evolve(book, entries=(changed,))})
        with pytest.raises(AssertionError):
            assert_same(fresh, other)


class TestInvalidation:
    @pytest.mark.parametrize("edit", list(EDITS))
    def test_any_edit_misses_and_loads_the_edit(self, shipped_copy: Path, cache: Path, edit: str) -> None:
        load_catalog()
        EDITS[edit](shipped_copy)
        assert _compiled_tables.load(shipped_copy) is None
        assert_same(compile_tables(shipped_copy), load_catalog())
        assert len(_cached_files(cache)) == 2

    @pytest.mark.parametrize(
        "extra", ["notes.toml", "prices/extra.TOML", "prices/openai.toml.bak", "models.TOML", "prices/sub"]
    )
    def test_a_new_file_misses(self, shipped_copy: Path, extra: str) -> None:
        key = _compiled_tables.tables_digest(shipped_copy)
        target = shipped_copy / extra
        if extra.endswith("sub"):
            target.mkdir()
        else:
            target.write_text("", encoding="utf-8")
        assert _compiled_tables.tables_digest(shipped_copy) != key

    def test_a_bad_table_fails_with_file_and_path_after_a_good_load(self, shipped_copy: Path) -> None:
        load_catalog()
        _replace(shipped_copy / "prices" / "openai.toml", 'amount = "', 'amount = "x')
        with pytest.raises(CatalogError) as raised:
            load_catalog()
        assert any(p.startswith("prices/openai.toml: $.prices[") and ".amount" in p for p in raised.value.problems)

    def test_the_code_that_compiles_is_part_of_the_key(
        self, data_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        key = _compiled_tables.tables_digest(data_copy)
        package = tmp_path / "package"
        package.mkdir()
        for name in _compiled_tables._COMPILER_MODULES:
            shutil.copy(Path(_compiled_tables.__file__).parent / name, package / name)
        monkeypatch.setattr(_compiled_tables, "__file__", str(package / "_compiled_tables.py"))
        assert _compiled_tables.tables_digest(data_copy) == key
        with (package / "sizes.py").open("a", encoding="utf-8") as out:
            out.write("\n# a change to how sizes compile\n")
        assert _compiled_tables.tables_digest(data_copy) != key


class TestNeverTrusted:
    def _stored(self, shipped_copy: Path, cache: Path) -> Path:
        load_catalog()
        (path,) = _cached_files(cache)
        return path

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
    def test_a_damaged_or_forged_file_is_ignored(self, shipped_copy: Path, cache: Path, damage: str) -> None:
        path = self._stored(shipped_copy, cache)
        text = path.read_text(encoding="utf-8")
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
        assert text != path.read_text(encoding="utf-8"), "the damage was not done"
        path.write_text(text, encoding="utf-8")
        assert _compiled_tables.load(shipped_copy) is None
        assert_same(compile_tables(shipped_copy), load_catalog())

    def test_a_forged_price_in_a_group_writable_file_is_not_read(self, shipped_copy: Path, cache: Path) -> None:
        path = self._stored(shipped_copy, cache)
        path.chmod(0o664)
        assert _compiled_tables.load(shipped_copy) is None

    def test_a_group_writable_directory_is_not_trusted(self, shipped_copy: Path, cache: Path) -> None:
        self._stored(shipped_copy, cache)
        cache.chmod(0o777)
        assert _compiled_tables.load(shipped_copy) is None
        cache.chmod(0o700)
        assert _compiled_tables.load(shipped_copy) is not None

    def test_a_symlink_is_not_followed(self, shipped_copy: Path, cache: Path, tmp_path: Path) -> None:
        path = self._stored(shipped_copy, cache)
        elsewhere = tmp_path / "elsewhere.json"
        path.rename(elsewhere)
        path.symlink_to(elsewhere)
        assert _compiled_tables.load(shipped_copy) is None

    def test_written_for_the_owner_only_and_whole(self, shipped_copy: Path, cache: Path) -> None:
        path = self._stored(shipped_copy, cache)
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
        assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary file left behind
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["key"] == _compiled_tables.tables_digest(shipped_copy)


class TestCacheDirectory:
    def test_empty_turns_it_off(self, shipped_copy: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("IMAGEPRICING_CACHE_DIR", "")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert _compiled_tables.cache_dir() is None
        load_catalog()
        assert not (tmp_path / "xdg").exists()

    def test_xdg_cache_home(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.delenv("IMAGEPRICING_CACHE_DIR")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        assert _compiled_tables.cache_dir() == str(tmp_path / "imagepricing")

    def test_an_unwritable_cache_costs_only_time(
        self, shipped_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("", encoding="utf-8")
        monkeypatch.setenv("IMAGEPRICING_CACHE_DIR", str(blocker / "cache"))  # cannot be created
        assert_same(compile_tables(shipped_copy), load_catalog())

    def test_old_compiled_forms_are_pruned(self, shipped_copy: Path, cache: Path) -> None:
        cache.mkdir(mode=0o700)
        for i in range(_compiled_tables.KEEP + 3):
            old = cache / f"catalog-{i:064x}.json"
            old.write_text("{}", encoding="utf-8")
            os.utime(old, ns=(i * 10**9, i * 10**9))
        load_catalog()
        kept = _cached_files(cache)
        assert len(kept) == _compiled_tables.KEEP
        assert cache / f"catalog-{_compiled_tables.tables_digest(shipped_copy)}.json" in kept
        assert cache / f"catalog-{0:064x}.json" not in kept  # the oldest went first

    def test_a_path_of_your_own_is_validated_each_time(self, data_copy: Path, cache: Path) -> None:
        load_catalog(data_copy)
        assert not cache.exists()


def test_a_fresh_process_loads_without_the_validators(tmp_path: Path) -> None:
    """The point of the compiled form: tomllib, cattrs and the table shapes stay unimported."""
    code = (
        "import sys, imagepricing; c = imagepricing.load_catalog();"
        " print(sorted(m for m in ('cattrs', 'tomllib', 'imagepricing._table_shapes') if m in sys.modules));"
        " print(sorted(c.providers))"
    )
    env = {**os.environ, "IMAGEPRICING_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert runs[0].splitlines()[0] == "['cattrs', 'imagepricing._table_shapes', 'tomllib']"  # the first validates
    assert runs[1].splitlines() == ["[]", "['acedata', 'openai', 'xhuoapi']"]


def test_the_source_registry_comes_from_the_compiled_catalog(tmp_path: Path) -> None:
    """Rendering a citation on a first check must not bring tomllib and cattrs back."""
    code = (
        "import sys; from imagepricing.catalog import default_sources; s = default_sources();"
        " print(sorted(m for m in ('cattrs', 'tomllib') if m in sys.modules)); print(len(s) > 0)"
    )
    env = {**os.environ, "IMAGEPRICING_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", "import imagepricing; imagepricing.load_catalog()"], env=env, check=True)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "True"]
    fresh = compile_tables(shipped_data_dir()).sources
    from imagepricing.catalog import default_sources

    assert dict(default_sources()) == dict(fresh)


class TestPackagedForm:
    """A wheel carries the compiled form of its tables (hatch_build.py); used only when it matches."""

    @pytest.fixture
    def package(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        where = tmp_path / "package"
        where.mkdir()
        for name in _compiled_tables._COMPILER_MODULES:
            shutil.copy(Path(_compiled_tables.__file__).parent / name, where / name)
        monkeypatch.setattr(_compiled_tables, "__file__", str(where / "_compiled_tables.py"))
        return where

    def _ship(self, package: Path, tables: Path) -> None:
        validated = compile_tables(tables)
        key = _compiled_tables.tables_digest(tables)
        (package / _compiled_tables.PACKAGED_NAME).write_text(_compiled_tables.encode(validated, key), "utf-8")

    def test_used_without_a_user_cache(
        self, package: Path, shipped_copy: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._ship(package, shipped_copy)
        monkeypatch.setenv("IMAGEPRICING_CACHE_DIR", "")
        loaded = _compiled_tables.load(shipped_copy)
        assert loaded is not None
        assert_same(compile_tables(shipped_copy), loaded)

    def test_tables_edited_after_install_are_validated(self, package: Path, shipped_copy: Path, cache: Path) -> None:
        self._ship(package, shipped_copy)
        EDITS["a price"](shipped_copy)
        assert _compiled_tables.load(shipped_copy) is None
        assert_same(compile_tables(shipped_copy), load_catalog())
        assert len(_cached_files(cache)) == 1  # the edit is cached per user, the packaged form untouched


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
