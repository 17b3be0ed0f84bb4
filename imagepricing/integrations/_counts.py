"""Exact counters kept by one process in a memory-mapped file that other processes read.

The store behind the server's metrics when it runs several workers (`serve --workers N`). Each
worker owns one file, `<pid>.counts`, in a directory the workers share; any worker reads every file
in the directory and adds them up. A key is a tuple of label values; its value is a count and,
optionally, an exact `Decimal` amount (the predicted spend).

Why not prometheus_client's multiprocess mode, which keeps counters the same way (one memory-mapped
file per process): its values are floats, so an amount of money is not exact; a check's count and
its spend would be two separate writes, so a worker killed between them leaves them disagreeing;
and it extends its files sparsely, so on a full filesystem the first write to a new page kills the
worker with SIGBUS (seen on a full tmpfs). Here:

- **Exact.** A value is written as text, `"<count> <amount>"`, the amount a `Decimal` summed in a
  context that traps Inexact.
- **One commit per add.** Each key has two copies of its value and a selector byte. An add writes
  the new value into the copy not selected, then flips the selector: one single-byte store. A
  process killed at any instruction leaves the old value or the new one, never half of one, and a
  count and an amount kept under one key always agree. A new key's slot is written whole, its
  header last; until the header is complete the slot does not exist for readers.
- **Space reserved up front.** The file is allocated with `posix_fallocate` before it is mapped,
  and grown the same way: a full filesystem is an `OSError` (ENOSPC) when the file is made or
  grown, never a SIGBUS on a write to the map.
- **Readers never block writers.** A reader maps the file read-only and checks each copy against
  its CRC-32; a copy being rewritten under it (possible only if two adds land during one read of
  a few dozen bytes) is read again.

The values of a killed process stay in its file and keep counting: that is the point. A process
that reuses a dead process's pid takes over its file and adds to it.

Layout (little-endian): a slot is a 16-byte header (`IPC1`, key length, value width, CRC-32 of
those and the key), the key (a JSON array of strings, padded to 8 bytes), the selector (8 bytes,
0 or 1), and two copies of the value, each a CRC-32, a length and `width` bytes of text, padded
to 8. Slots follow each other from offset 0; the first header that is not valid ends the file. A
key whose text outgrows its width gets a wider slot further on: the last slot of a key wins.
"""

from __future__ import annotations

import decimal
import json
import mmap
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

__all__ = ["SUFFIX", "CountsFile", "Key", "Value", "add_values", "read_directory", "read_file"]

Key = tuple[str, ...]
Value = tuple[int, Decimal | None]  # a count, and an amount once one has been added

SUFFIX = ".counts"
_MAGIC = b"IPC1"
_HEAD = struct.Struct("<4sHHI4x")  # magic, key bytes, value width, CRC-32 of (key bytes, width, key)
_SIZES = struct.Struct("<HH")
_COPY = struct.Struct("<II")  # CRC-32 of the text, its length
_SELECTOR = 8
_WIDTH = 56  # "<count> <amount>" fits a count of 20 digits and an amount of 35 characters
_GROW = 64 * 1024
_RETRIES = 1000

EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Overflow, decimal.DivisionByZero],
)


def _padded(size: int) -> int:
    return (size + 7) & ~7


def slot_size(key_bytes: int, width: int = _WIDTH) -> int:
    """Bytes a slot takes for a key of `key_bytes` (JSON) and a value of `width` characters."""
    return _HEAD.size + _padded(key_bytes) + _SELECTOR + 2 * _padded(_COPY.size + width)


def _text(count: int, amount: Decimal | None) -> bytes:
    return (f"{count}" if amount is None else f"{count} {amount}").encode("ascii")


def _value(text: bytes) -> Value:
    count, _, amount = text.decode("ascii").partition(" ")
    return int(count), (Decimal(amount) if amount else None)


def _plus(total: Decimal | None, amount: Decimal | None) -> Decimal | None:
    if amount is None:
        return total
    return amount if total is None else EXACT.add(total, amount)


def add_values(into: dict[Key, Value], values: Iterable[tuple[Key, Value]]) -> None:
    """Add `values` into `into`, counts and amounts exactly."""
    for key, (count, amount) in values:
        before = into.get(key)
        into[key] = (count, amount) if before is None else (before[0] + count, _plus(before[1], amount))


class _Slot:
    """Where a key's value lives in the file (`selector` and the two copies), and the value itself."""

    __slots__ = ("amount", "copies", "count", "selector", "selector_at", "width")

    def __init__(self, offset: int, key_length: int, width: int, selector: int) -> None:
        self.selector_at = offset + _HEAD.size + _padded(key_length)
        copy = _padded(_COPY.size + width)
        self.copies = (self.selector_at + _SELECTOR, self.selector_at + _SELECTOR + copy)
        self.width = width
        self.selector = selector
        self.count = 0
        self.amount: Decimal | None = None


class CountsFile:
    """This process's counters; in memory only when `path` is None (one process, nobody to share with).

    >>> counts = CountsFile(None)
    >>> counts.add(("spend", "acedata"), Decimal("0.14"))
    >>> counts.add(("spend", "acedata"), Decimal("0.07"))
    >>> counts.values()
    {('spend', 'acedata'): (2, Decimal('0.21'))}
    """

    def __init__(self, path: Path | None, capacity: int = _GROW) -> None:
        self.path = path
        self._slots: dict[Key, _Slot] = {}
        self._end = 0
        self._fd = -1
        self._map: mmap.mmap | None = None
        if path is None:
            return
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            size = os.fstat(self._fd).st_size
            self._reserve(max(_padded(capacity), size))
            # A file left by a dead process with this pid: take over its values, and clear what
            # lies past its last valid slot (a slot it was writing when it died).
            for key, slot, end in _scan(self._mapped()):
                self._slots[key] = slot
                self._end = end
            view = self._mapped()
            view[self._end :] = bytes(len(view) - self._end)
        except BaseException:
            self.close()
            raise

    def _mapped(self) -> mmap.mmap:
        assert self._map is not None
        return self._map

    def _reserve(self, size: int) -> None:
        # Every byte the map may be written at is allocated before it is mapped: without this, a
        # write to a page of a sparse file on a full filesystem kills the process with SIGBUS.
        os.posix_fallocate(self._fd, 0, size)
        if self._map is not None:
            self._map.close()
        self._map = mmap.mmap(self._fd, size)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def add(self, key: Key, amount: Decimal | None = None) -> None:
        """Count one more under `key`, adding `amount` (exact) if given; raises OSError if the file cannot grow."""
        slot = self._slots.get(key)
        if slot is None:
            count, total = 1, amount
        else:
            count, total = slot.count + 1, _plus(slot.amount, amount)
        if self.path is not None:
            text = _text(count, total)
            if slot is None or len(text) > slot.width:
                slot = self._append(key, text, max(_WIDTH, 2 * len(text)))
            else:
                self._write(slot, text)
        elif slot is None:
            slot = _Slot(0, 0, 0, 0)
        # Memory follows the file only once the file holds the new value.
        slot.count, slot.amount = count, total
        self._slots[key] = slot

    def _write(self, slot: _Slot, text: bytes) -> None:
        view = self._mapped()
        spare = 1 - slot.selector
        at = slot.copies[spare]
        view[at : at + _COPY.size + len(text)] = _COPY.pack(zlib.crc32(text), len(text)) + text
        view[slot.selector_at] = spare  # the commit: a single byte
        slot.selector = spare

    def _append(self, key: Key, text: bytes, width: int) -> _Slot:
        key_bytes = json.dumps(list(key)).encode("ascii")
        size = slot_size(len(key_bytes), width)
        if self._end + size > len(self._mapped()):
            self._reserve(max(2 * len(self._mapped()), _padded(self._end + size + _GROW)))
        view = self._mapped()
        start = self._end
        copy = _padded(_COPY.size + width)
        body = bytearray(size - _HEAD.size)
        body[: len(key_bytes)] = key_bytes
        first = _padded(len(key_bytes)) + _SELECTOR
        body[first : first + _COPY.size + len(text)] = _COPY.pack(zlib.crc32(text), len(text)) + text
        assert first + 2 * copy == len(body)
        view[start + _HEAD.size : start + size] = body
        # The header last: until it is whole (its CRC matches), readers stop before this slot.
        crc = zlib.crc32(_SIZES.pack(len(key_bytes), width) + key_bytes)
        view[start : start + _HEAD.size] = _HEAD.pack(_MAGIC, len(key_bytes), width, crc)
        self._end = start + size
        return _Slot(start, len(key_bytes), width, 0)

    def values(self) -> dict[Key, Value]:
        """This process's counters."""
        return {key: (slot.count, slot.amount) for key, slot in self._slots.items()}


def _scan(view: mmap.mmap) -> Iterator[tuple[Key, _Slot, int]]:
    """Every complete slot, in order, with the offset just past it."""
    offset = 0
    while offset + _HEAD.size <= len(view):
        magic, key_length, width, crc = _HEAD.unpack_from(view, offset)
        end = offset + slot_size(key_length, width)
        if magic != _MAGIC or end > len(view):
            return
        key_bytes = bytes(view[offset + _HEAD.size : offset + _HEAD.size + key_length])
        if zlib.crc32(_SIZES.pack(key_length, width) + key_bytes) != crc:
            return  # a header being written, or left half written by a process that died
        slot = _Slot(offset, key_length, width, 0)
        slot.selector, text = _selected(view, slot)
        slot.count, slot.amount = _value(text)
        yield tuple(json.loads(key_bytes)), slot, end
        offset = end


def _selected(view: mmap.mmap, slot: _Slot) -> tuple[int, bytes]:
    for _ in range(_RETRIES):
        selector = view[slot.selector_at]
        if selector in (0, 1):
            at = slot.copies[selector]
            crc, length = _COPY.unpack_from(view, at)
            text = bytes(view[at + _COPY.size : at + _COPY.size + min(length, slot.width)])
            if length <= slot.width and zlib.crc32(text) == crc:
                return selector, text
        # The writer rewrote this copy while it was read (two adds during one read): read again.
    raise OSError(f"a counts file is corrupt at offset {slot.selector_at}")


def read_file(path: Path) -> dict[Key, Value]:
    """The counters in one file (a process's, live or dead); empty if it vanished or is still empty."""
    try:
        with path.open("rb") as file:
            if os.fstat(file.fileno()).st_size == 0:
                return {}
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
                return {key: (slot.count, slot.amount) for key, slot, _ in _scan(view)}
    except FileNotFoundError:
        return {}


def read_directory(directory: Path) -> dict[Key, Value]:
    """Every process's counters in `directory`, added up exactly."""
    combined: dict[Key, Value] = {}
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        add_values(combined, read_file(path).items())
    return combined
