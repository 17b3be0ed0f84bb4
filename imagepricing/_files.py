"""Files the command line writes, whole or not at all.

`replacing(path)` gives a temporary file beside `path` to write; only when the block completes is
the file flushed to disk and renamed over `path` (`os.replace`, atomic on POSIX and Windows within
one directory). Interrupted (Ctrl-C, SIGTERM), killed (SIGKILL: a `.imagepricing-*.tmp` file may
remain, never `path`) or out of space, `path` is the previous file or absent: never half of one.
The new file gets the mode the previous one had, else the mode a plain `open` would give it (the
temporary file itself is private, 0600, while it is written).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

__all__ = ["replacing"]


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[str]:
    """The name of a temporary file beside `path` (created, empty) to write in the block; renamed
    over `path` when the block completes, removed when it raises."""
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(prefix=".imagepricing-", suffix=".tmp", dir=directory)
    os.close(handle)
    try:
        yield temporary
        _flush_to_disk(temporary)
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _flush_to_disk(name: str) -> None:
    """What was written reaches the disk before the rename: a crash after it leaves the new file whole."""
    descriptor = os.open(name, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _mode_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
