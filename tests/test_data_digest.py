"""The shipped data is pinned by a digest (issue 5, part 4), so that every change to a table (a
price, a model, a size, even a comment) is a visible, deliberate edit of this file too.

The digest is a SHA-256 over every file under the shipped data directory, in the order of their
sorted relative POSIX paths; for each file it hashes the path, its length and its bytes exactly
as stored (no newline or encoding normalisation: a CRLF or a BOM is a change).

To update it after a deliberate data change: run this test, check that the files it lists as
changed are the ones you meant to change, and paste the new digest it prints into
`SHIPPED_DATA_SHA256` below, in the same commit as the data change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from imagepricing.catalog import shipped_data_dir

# Re-pinned in issue 20 (the platform's dated changes since the seeds: models.toml, parameters.toml,
# sizes.toml, sources.toml and the acedata and xhuoapi price books). Re-pin it in the same commit as
# any deliberate data change; see the docstring.
SHIPPED_DATA_SHA256 = "b7c0f258ac4c10dffa303c97431eeea6536cfc09ebf4cfbdb6f6377c29a8c787"


def data_files(directory: Path) -> list[tuple[str, bytes]]:
    files = [(path.relative_to(directory).as_posix(), path) for path in directory.rglob("*") if path.is_file()]
    return [(rel, path.read_bytes()) for rel, path in sorted(files)]


def digest(files: list[tuple[str, bytes]]) -> str:
    sha = hashlib.sha256()
    for rel, data in files:
        name = rel.encode("utf-8")
        sha.update(len(name).to_bytes(8, "big") + name + len(data).to_bytes(8, "big") + data)
    return sha.hexdigest()


def test_shipped_data_matches_the_pinned_digest() -> None:
    files = data_files(shipped_data_dir())
    actual = digest(files)
    listing = "\n".join(
        f"  {hashlib.sha256(data).hexdigest()[:16]}  {len(data):>7} bytes  {rel}" for rel, data in files
    )
    assert actual == SHIPPED_DATA_SHA256, (
        "The shipped data tables changed.\n"
        "If the change is deliberate, set SHIPPED_DATA_SHA256 in tests/test_data_digest.py to\n"
        f"  {actual}\n"
        "in the same commit as the data change (see this file's docstring). The files hashed:\n"
        f"{listing}"
    )


def test_the_digest_covers_every_table() -> None:
    names = {rel for rel, _ in data_files(shipped_data_dir())}
    assert {"parameters.toml", "models.toml", "sizes.toml"} <= names
    assert any(name.startswith("prices/") and name.endswith(".toml") for name in names)


def test_the_digest_sees_any_change(tmp_path: Path) -> None:
    files = data_files(shipped_data_dir())
    base = digest(files)
    rel, data = files[0]
    variants = [
        [(rel, data + b" "), *files[1:]],  # one more byte
        [(rel, data.replace(b"\n", b"\r\n", 1)), *files[1:]],  # a line ending
        [(rel + "~", data), *files[1:]],  # a renamed file
        files[1:],  # a removed file
        [*files, ("prices/new.toml", b"")],  # an added (even empty) file
        [(files[0][0], files[1][1]), (files[1][0], files[0][1]), *files[2:]],  # swapped contents
    ]
    assert len({base, *(digest(v) for v in variants)}) == len(variants) + 1
