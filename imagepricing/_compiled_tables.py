"""The compiled form of the shipped tables: a validated catalog as plain JSON, built into the wheel
(imagepricing/_compiled_catalog.json, written by hatch_build.py), so that an installed package
starts without tomllib, cattrs and the cross-checks (docs/startup.md).

Why JSON: it is plain data, never code. Unpickling a file is running whatever it says; decoding this
JSON can only build the catalog's own classes (a fixed list) from strings, numbers and lists. A
file that fails to decode, names another digest or is not exactly what `encode` writes is ignored,
and the tables are validated instead.

Why a key: the file is keyed by everything the compiled catalog depends on: every file name in
the table directory and in prices/, the bytes of every table, and the source of the modules that
compile them (`_COMPILER_MODULES`), as their length and two checksums (CRC-32 and Adler-32 of the
whole). Tables or compiling code edited after install miss it, and the tables are validated
afresh: a bad table still fails with the file and the path. It detects edits; it is no seal, and
needs none: whoever can write the installed tables can write the code beside them. (A checksum
from zlib, not a hash from hashlib: hashlib loads OpenSSL, a few milliseconds of every start.)

Why only the form built into the wheel: it pays for itself and costs almost nothing. Validating
the shipped tables costs about 60 to 70 ms in every process; loading the compiled form about 4 ms
(0.5 ms of it the digest). The form is written once, at build time, by the code that validates,
and is trusted as the code beside it is; every real install is a wheel (`pip install .` from an
sdist builds one), so every real install has it from its very first process. A per-user cache
(written on first load, with owner and mode checks, symlink refusal, atomic writes and pruning)
would serve only editable installs and plain checkouts, that is developers and tests, at the price
of a subsystem that writes to the user's home: it is gone, and an editable install or a checkout
validates the tables in each process. One run of `benchmarks/bench_startup.py --runs 21` (medians
of 21 fresh processes; Python 3.11.7; time inside the process): `import imagepricing;
load_catalog()` 60.5 ms through the packaged form against 121.3 ms validated (a checkout);
`import imagepricing` alone 58.2 ms; `import attrs` alone 28.3 ms; a whole `python -c pass`
process 12.6 ms.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zlib
from collections.abc import Callable
from decimal import Decimal
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

__all__ = ["PACKAGED_NAME", "decode", "encode", "load", "tables_digest"]

# Bump when the encoding changes; part of the digest, so old files are simply never matched.
FORMAT = 2
# The modules whose code decides what a compiled catalog holds (besides the tables themselves),
# read as files: they need not be imported to be keyed, so a load and a store compute one digest.
_COMPILER_MODULES = (
    "catalog.py",
    "capabilities.py",
    "_compile_models.py",
    "_compile_books.py",
    "_compile_tables.py",
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


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as stream:
        return stream.read()


def tables_digest(directory: str | os.PathLike[str]) -> str:
    """The key of what a compiled catalog of `directory` depends on (see the module docstring):
    the length, CRC-32 and Adler-32 of one stream of every name and byte read, in a fixed order."""
    pieces: list[bytes] = [f"imagepricing compiled tables, format {FORMAT}\n".encode()]
    package = os.path.dirname(__file__)
    for module_file in _COMPILER_MODULES:
        source = _read_bytes(os.path.join(package, module_file))
        pieces += (f"module {module_file} {len(source)}\n".encode(), source)
    top = os.fspath(directory)
    for folder, label in ((top, ""), (os.path.join(top, "prices"), "prices/")):
        if not os.path.isdir(folder):
            pieces.append(f"no folder {label}\n".encode())
            continue
        for name in sorted(os.listdir(folder)):
            entry = os.path.join(folder, name)
            # Every name counts: an extra or misnamed file is a problem validation must report.
            pieces.append(f"entry {label}{name} dir={os.path.isdir(entry)}\n".encode())
            if os.path.isfile(entry) and name.lower().endswith(".toml"):
                content = _read_bytes(entry)
                pieces += (f"{len(content)}\n".encode(), content)
    stream = b"".join(pieces)
    return f"{len(stream):x}-{zlib.crc32(stream):08x}-{zlib.adler32(stream):08x}"


def load(directory: str | os.PathLike[str]) -> Catalog | None:
    """The packaged compiled catalog of `directory`, or None: no packaged form (an editable install
    or a checkout), a packaged form of other tables or code (another digest), or any doubt about
    the file. None means: validate the tables."""
    try:
        packaged = os.path.join(os.path.dirname(__file__), PACKAGED_NAME)
        if not os.path.isfile(packaged):
            return None  # no digest to compute: the tables are validated anyway
        return decode(_read_bytes(packaged).decode("utf-8"), tables_digest(directory), os.fspath(directory))
    except Exception:  # any doubt about the file means: validate the tables instead
        return None


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
