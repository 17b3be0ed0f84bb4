"""The server's counters store (`imagepricing.integrations._counts`): exact, one commit per add, and
readable while it is written; a process killed by SIGKILL at any instruction leaves every key's
count and amount in agreement."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagepricing.integrations._counts import CountsFile, Key, Value, add_values, read_directory, read_file

CHECK = ("checks", "generations", "ok", "acedata", "nano-banana", "credits")


def test_counts_and_amounts_are_exact_and_shared_through_the_directory(tmp_path: Path) -> None:
    first = CountsFile(tmp_path / "1.counts")
    second = CountsFile(tmp_path / "2.counts")
    for _ in range(1000):
        first.add(CHECK, Decimal("0.1"))
        second.add(CHECK, Decimal("0.2"))
    second.add(("bad_requests", "invalid_json"))
    assert read_directory(tmp_path) == {CHECK: (2000, Decimal("300.0")), ("bad_requests", "invalid_json"): (1, None)}
    assert first.values() == read_file(tmp_path / "1.counts")


def test_a_reused_pid_takes_over_the_dead_process_file(tmp_path: Path) -> None:
    dead = CountsFile(tmp_path / "7.counts")
    dead.add(CHECK, Decimal("0.14"))
    dead.close()
    again = CountsFile(tmp_path / "7.counts")
    again.add(CHECK, Decimal("0.14"))
    assert read_directory(tmp_path) == {CHECK: (2, Decimal("0.28"))}


def test_a_value_that_outgrows_its_slot_moves_to_a_wider_one(tmp_path: Path) -> None:
    counts = CountsFile(tmp_path / "1.counts")
    long = Decimal("0." + "3" * 80)
    counts.add(CHECK, Decimal("1"))
    counts.add(CHECK, long)
    counts.add(CHECK, long)
    expected = {CHECK: (3, Decimal("1." + "6" * 80))}
    assert counts.values() == expected
    assert read_file(tmp_path / "1.counts") == expected


def test_a_half_written_slot_ends_the_file_and_is_overwritten_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "1.counts"
    counts = CountsFile(path)
    counts.add(CHECK, Decimal("0.14"))
    end = len(path.read_bytes().rstrip(b"\0"))
    counts.close()
    with path.open("r+b") as file:  # a header cut short, as by a SIGKILL while it was written
        file.seek((end + 7) // 8 * 8)
        file.write(b"IPC1\x10\x00")
    assert read_file(path) == {CHECK: (1, Decimal("0.14"))}
    again = CountsFile(path)
    again.add(("bad_requests", "body_too_large"))
    assert read_file(path) == {CHECK: (1, Decimal("0.14")), ("bad_requests", "body_too_large"): (1, None)}


def test_a_corrupt_copy_is_read_again_then_reported(tmp_path: Path) -> None:
    path = tmp_path / "1.counts"
    counts = CountsFile(path)
    counts.add(CHECK, Decimal("0.14"))
    counts.close()
    data = bytearray(path.read_bytes())
    at = data.index(b"1 0.14")
    data[at] = ord("9")  # the selected copy no longer matches its CRC
    path.write_bytes(bytes(data))
    with pytest.raises(OSError, match="corrupt"):
        read_file(path)


class _Recorder:
    """Stands in for a CountsFile's map and records every store made to it."""

    def __init__(self, view: Any) -> None:
        self.view = view
        self.stores: list[tuple[int, bytes]] = []

    def __len__(self) -> int:
        return len(self.view)

    def __getitem__(self, index: Any) -> Any:
        return self.view[index]

    def __setitem__(self, index: int | slice, value: int | bytes) -> None:
        start = index if isinstance(index, int) else index.indices(len(self.view))[0]
        data = bytes([value]) if isinstance(value, int) else bytes(value)
        self.stores.append((start, data))
        self.view[index] = value


def _every_prefix(before: bytes, stores: list[tuple[int, bytes]]) -> list[bytes]:
    """The file as a process killed at any point of these stores leaves it (each store cut at any byte)."""
    states = []
    image = bytearray(before)
    for start, data in stores:
        for cut in range(len(data) + 1):
            state = bytearray(image)
            state[start : start + cut] = data[:cut]
            states.append(bytes(state))
        image[start : start + len(data)] = data
    return states


@pytest.mark.parametrize("existing", [True, False], ids=["existing-key", "new-key"])
def test_killed_at_any_byte_of_an_add_the_file_holds_the_old_value_or_the_new(tmp_path: Path, existing: bool) -> None:
    path = tmp_path / "1.counts"
    counts = CountsFile(path)
    other = ("rejections", "too_long")
    counts.add(other)
    if existing:
        counts.add(CHECK, Decimal("0.14"))
    old = read_file(path)
    before = path.read_bytes()
    recorder = _Recorder(counts._map)
    counts._map = recorder  # type: ignore[assignment]
    counts.add(CHECK, Decimal("0.14"))
    new = read_file(path)
    assert new != old
    assert recorder.stores
    for state in _every_prefix(before, recorder.stores):
        (tmp_path / "state.counts").write_bytes(state)
        assert read_file(tmp_path / "state.counts") in (old, new)


_KEYS = st.tuples(st.sampled_from(["checks", "rejections"]), st.sampled_from(["a", "b", "c"]))
_AMOUNTS = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False))


@settings(max_examples=50, deadline=None)
@given(adds=st.lists(st.tuples(st.integers(0, 2), _KEYS, _AMOUNTS), max_size=60))
def test_any_sequence_of_adds_reads_back_exactly(adds: list[tuple[int, Key, Decimal | None]]) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        files = [CountsFile(directory / f"{i}.counts", capacity=512) for i in range(3)]
        expected: dict[Key, Value] = {}
        for which, key, amount in adds:
            files[which].add(key, amount)
            add_values(expected, [(key, (1, amount))])
        assert read_directory(directory) == expected
        for file in files:
            file.close()


_ADDER = """
import sys
from decimal import Decimal
from pathlib import Path
from imagepricing.integrations._counts import CountsFile
counts = CountsFile(Path(sys.argv[1]))
keys = [("checks", str(i)) for i in range(40)]
print("ready", flush=True)
i = 0
while True:
    counts.add(keys[i % 40], Decimal("0.14"))
    i += 1
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_at_any_moment_leaves_counts_and_amounts_in_agreement(tmp_path: Path) -> None:
    # A process adds (count 1, 0.14) under 40 keys as fast as it can, and is killed at an arbitrary
    # instruction. Whatever it left, every key's amount is exactly 0.14 times its count.
    for attempt in range(5):
        path = tmp_path / f"{attempt}.counts"
        adder = subprocess.Popen([sys.executable, "-c", _ADDER, str(path)], stdout=subprocess.PIPE)
        assert adder.stdout is not None
        assert adder.stdout.readline() == b"ready\n"
        time.sleep(0.05 + 0.037 * attempt)
        os.kill(adder.pid, signal.SIGKILL)
        adder.wait()
        adder.stdout.close()
        values = read_file(path)
        assert values, "nothing was written"
        for count, amount in values.values():
            assert amount == Decimal("0.14") * count
        # Another process with the same pid would take the file over and go on counting.
        again = CountsFile(path)
        again.add(("checks", "0"), Decimal("0.14"))
        count, _ = values[("checks", "0")]
        assert read_file(path)[("checks", "0")] == (count + 1, Decimal("0.14") * (count + 1))
        again.close()
