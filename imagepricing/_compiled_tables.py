"""The compiled form of the shipped tables: a validated catalog as plain JSON, so start-up skips
tomllib, cattrs and the cross-checks (issue 11; docs/startup.md).

Why a cache on first load, and why JSON:
- A cache written on first load serves wheels, editable installs and plain checkouts alike, and
  follows every edit of a table in a checkout; a form built into the wheel would serve wheels only.
- The file is keyed by a digest of everything the compiled catalog depends on: every file name in
  the table directory and in prices/, the bytes of every table, and the source of the modules that
  compile them (catalog, table shapes, sources, sizes, pricing, frozen, this module). Any change
  misses the cache, and the tables are validated afresh: a bad table still fails with the file and
  the path.
- It is plain data, never code. Unpickling a file that someone else can write is running their
  code; decoding this JSON can only build the catalog's own classes (a fixed list) from strings,
  numbers and lists. A file that fails to decode, names another digest or is not exactly what this
  module writes is ignored, and the tables are validated instead.
- It is read only when the current user owns it and the directory holding it, and neither is
  writable by group or others: the trust `~/.ssh` asks for. Whoever could forge it could edit the
  tables of a checkout, or the user's own environment, already.
- It is written atomically (a temporary file in the same directory, then `os.replace`), so a
  reader sees the old file, the new file or none, never half of one. A failure to write (a
  read-only home, a full disk) is silent: the catalog was validated, only the next start is slower.

Where: a wheel carries the compiled form of its own tables (imagepricing/_compiled_catalog.json,
written by hatch_build.py at build time; it is part of the installed package, trusted as the code
beside it, and still used only when its digest matches). Otherwise, and whenever that misses:
`$IMAGEPRICING_CACHE_DIR` if set (empty turns the cache off), else `$XDG_CACHE_HOME/imagepricing`,
else `~/.cache/imagepricing`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Callable
from decimal import Decimal
from hashlib import blake2b
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from imagepricing.capabilities import (
    Advice,
    Capability,
    Catalog,
    Change,
    Era,
    KnownParameter,
    Model,
    Parameter,
    ParamSpec,
)
from imagepricing.pricing import Follows, PriceBook, PriceEntry, UsdRate
from imagepricing.sizes import AspectMap, Constraints, SizeRule, Tiering
from imagepricing.sources import Source

__all__ = ["KEEP", "PACKAGED_NAME", "cache_dir", "decode", "encode", "load", "store", "tables_digest"]

# Bump when the encoding changes; part of the digest, so old files are simply never matched.
FORMAT = 2
# The modules whose code decides what a compiled catalog holds (besides the tables themselves),
# read as files: they need not be imported to be keyed, so a load and a store compute one digest.
_COMPILER_MODULES = (
    "catalog.py",
    "capabilities.py",
    "_compile_models.py",
    "_compile_books.py",
    "_table_shapes.py",
    "_tables.py",
    "sources.py",
    "sizes.py",
    "pricing.py",
    "_compiled_tables.py",
)
# Values never shared by reference: a decimal or a date is as short as a reference, and a dict
# is mutable.
_UNSHARED_TAGS = frozenset({"decimal", "date", "ref", "dict"})
# The compiled form a wheel carries, next to this module.
PACKAGED_NAME = "_compiled_catalog.json"
_CATALOG_FIELDS_NOT_STORED = frozenset({"source_dir"})  # where the tables are, set at each load


def cache_dir() -> str | None:
    """Where compiled catalogs are kept, or None when the cache is turned off."""
    configured = os.environ.get("IMAGEPRICING_CACHE_DIR")
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "imagepricing")


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as stream:
        return stream.read()


def tables_digest(directory: str | os.PathLike[str]) -> str:
    """The digest (BLAKE2b-256, hex) of what a compiled catalog of `directory` depends on; see the
    module docstring."""
    digest = blake2b(f"imagepricing compiled tables, format {FORMAT}\n".encode(), digest_size=32)
    package = os.path.dirname(__file__)
    for module_file in _COMPILER_MODULES:
        source = _read_bytes(os.path.join(package, module_file))
        digest.update(f"module {module_file} {len(source)}\n".encode())
        digest.update(source)
    top = os.fspath(directory)
    for folder, label in ((top, ""), (os.path.join(top, "prices"), "prices/")):
        if not os.path.isdir(folder):
            digest.update(f"no folder {label}\n".encode())
            continue
        for name in sorted(os.listdir(folder)):
            entry = os.path.join(folder, name)
            # Every name counts: an extra or misnamed file is a problem validation must report.
            digest.update(f"entry {label}{name} dir={os.path.isdir(entry)}\n".encode())
            if os.path.isfile(entry) and name.lower().endswith(".toml"):
                content = _read_bytes(entry)
                digest.update(f"{len(content)}\n".encode())
                digest.update(content)
    return digest.hexdigest()


def load(directory: str | os.PathLike[str]) -> Catalog | None:
    """The compiled catalog of `directory`, or None (no cache, a miss, or a file not to trust)."""
    try:
        packaged = os.path.join(os.path.dirname(__file__), PACKAGED_NAME)
        has_packaged = os.path.isfile(packaged)
        where = cache_dir()
        if where is None and not has_packaged:
            return None
        key = tables_digest(directory)
        if has_packaged:
            try:
                return decode(_read_bytes(packaged).decode("utf-8"), key, os.fspath(directory))
            except Exception:  # noqa: S110 - tables edited after install: try the user cache
                pass
        if where is None:
            return None
        text = _read_trusted(os.path.join(where, f"catalog-{key}.json"))
        if text is None:
            return None
        return decode(text, key, os.fspath(directory))
    except Exception:  # any doubt about the file means: validate the tables instead
        return None


def store(directory: str | os.PathLike[str], catalog: Catalog) -> None:
    """Write the compiled form of a freshly validated catalog; failures only cost the next start."""
    from pathlib import Path  # noqa: PLC0415 - only a load that validated writes

    try:
        where = cache_dir()
        if where is None:
            return
        key = tables_digest(directory)
        path = Path(where) / f"catalog-{key}.json"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted(path.parent.stat()):
            return
        import tempfile  # noqa: PLC0415 - only a load that validated writes; tempfile is slow to import

        handle, temporary = tempfile.mkstemp(prefix=".catalog-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(encode(catalog, key))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(path.parent)
    except Exception:  # noqa: S110 - a cache that cannot be written is only a slower next start
        pass


# Compiled forms kept per cache directory: one per set of tables and code in use (several
# installs, a checkout being edited); the least recently written beyond these are removed.
KEEP = 8


def _prune(directory: Path) -> None:
    found = sorted(directory.glob("catalog-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for stale in found[KEEP:]:
        stale.unlink(missing_ok=True)


def _trusted(info: os.stat_result) -> bool:
    """Owned by the current user and writable by no one else (POSIX; elsewhere, the file's ACLs)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return True
    return info.st_uid == getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_trusted(path: str) -> str | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        if not _trusted(os.stat(os.path.dirname(path))):
            return None
        handle = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or not _trusted(info):
            return None
        return stream.read().decode("utf-8")


# ------------------------------------------------------------------------------ the encoding
# Every value is JSON as is (None, str, bool, int) or a tagged object {"$": tag, "v": ...}: a
# Decimal or a date as its exact text, a tuple, frozenset, dict or mappingproxy as a list, an
# instance of one of the catalog's classes as its constructor's arguments.


def _classes() -> dict[str, type[Any]]:
    found: tuple[type[Any], ...] = (
        Advice,
        Capability,
        Change,
        Era,
        Follows,
        UsdRate,
        KnownParameter,
        Model,
        Parameter,
        ParamSpec,
        PriceBook,
        PriceEntry,
        AspectMap,
        Constraints,
        SizeRule,
        Tiering,
        Source,
    )
    return {cls.__name__: cls for cls in found}


def encode(catalog: Catalog, key: str) -> str:
    """The compiled form of `catalog`, tagged with the digest `key` of what it was built from."""
    dumps = json.dumps

    classes = _classes()
    # Each class's constructor arguments, which are also its attributes (imagepricing.frozen).
    # Each class's constructor arguments (attrs fields with init), which are also its attributes.
    fields_of: dict[str, tuple[str, ...]] = {
        name: tuple(field.name for field in attrs.fields(cls) if field.init) for name, cls in classes.items()
    }

    def plain(value: Any) -> Any:
        if value is None or type(value) in (str, bool, int):
            return value
        kind = type(value)
        if kind is Decimal:
            return {"$": "decimal", "v": str(value)}
        if kind is dt.date:
            return {"$": "date", "v": value.isoformat()}
        if kind is tuple:
            return {"$": "tuple", "v": [plain(item) for item in value]}
        if kind is frozenset:
            return {"$": "frozenset", "v": sorted(plain(item) for item in value)}
        if kind in (dict, MappingProxyType):
            tag = "dict" if kind is dict else "map"
            return {"$": tag, "v": [[plain(k), plain(v)] for k, v in value.items()]}
        name = kind.__name__
        if classes.get(name) is kind:
            return {"$": name, "v": {field: plain(getattr(value, field)) for field in fields_of[name]}}
        raise TypeError(f"the compiled form cannot hold a {kind.__name__}")

    full = {
        field.name: plain(getattr(catalog, field.name))
        for field in attrs.fields(type(catalog))
        if field.init and field.name not in _CATALOG_FIELDS_NOT_STORED
    }
    # Equal objects are written once: the first in full with an "id", later ones as a reference
    # to it. The catalog repeats many (inherited parameters, shared tierings), so the file is a
    # third the size and decodes in a third of the time; being frozen, they are safe to share.
    ids: dict[str, int] = {}

    def shared(node: Any) -> Any:
        if type(node) is list:
            return [shared(item) for item in node]
        if type(node) is not dict:
            return node
        inner = {k: shared(v) for k, v in node.items()}
        tag = node.get("$")
        if tag is None or tag in _UNSHARED_TAGS:
            return inner
        signature = dumps(node, separators=(",", ":"))
        found = ids.get(signature)
        if found is not None:
            return {"$": "ref", "v": found}
        ids[signature] = len(ids)
        return {**inner, "id": ids[signature]}

    # Children first, so that a reference always comes after the definition it names; the
    # signature is taken from the full subtree, so equal objects match whatever was shared inside.
    stored = shared(full)
    return dumps({"format": FORMAT, "key": key, "catalog": stored}, separators=(",", ":"))


def decode(text: str, key: str, source_dir: str) -> Catalog:
    """The catalog `encode` wrote; ValueError unless it was built from `key` in this format."""
    # encode() writes the format and the key first: a form of other tables is refused unread.
    if not text.startswith(f'{{"format":{FORMAT},"key":"{key}",'):
        raise ValueError("not the compiled form of these tables")
    classes = _classes()
    scalar: dict[str, Callable[[str], object]] = {"decimal": Decimal, "date": dt.date.fromisoformat}

    defined: list[Any] = []

    def rebuild(node: dict[str, Any]) -> Any:
        tag = node.get("$")
        if tag is None:
            return node  # the arguments of a class, or the document itself
        ident = node.get("id")
        if "v" not in node or len(node) != (2 if ident is None else 3):
            raise ValueError("not a tagged value")
        if tag == "ref":
            target = node["v"]
            if type(target) is not int or not 0 <= target < len(defined):
                raise ValueError("a reference to nothing defined before it")
            return defined[target]
        built = _build(tag, node["v"])
        if ident is not None:
            if ident != len(defined):
                raise ValueError("definitions out of order")
            defined.append(built)
        return built

    def _build(tag: str, value: Any) -> Any:
        if tag in scalar:
            if type(value) is not str:
                raise ValueError(f"bad {tag}")
            return scalar[tag](value)
        if tag == "tuple":
            return tuple(value)
        if tag == "frozenset":
            return frozenset(value)
        if tag == "dict":
            return dict(value)
        if tag == "map":
            return MappingProxyType(dict(value))
        cls = classes.get(tag)
        if cls is None or type(value) is not dict:
            raise ValueError(f"unknown tag {tag!r}")
        return cls(**value)

    document = json.loads(text, object_hook=rebuild)
    if type(document) is not dict or document.get("format") != FORMAT or document.get("key") != key:
        raise ValueError("not the compiled form of these tables")
    fields = document["catalog"]
    if type(fields) is not dict:
        raise ValueError("not a compiled catalog")
    return Catalog(**fields, source_dir=source_dir)
