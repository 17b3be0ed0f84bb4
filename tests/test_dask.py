"""Estimates on a real Dask cluster (issue 15): a `LocalCluster` of two worker processes, started
and stopped here, prices a glob of log files and must equal `imagepricing estimate` exactly."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagepricing.cli import main
from imagepricing.estimation import LogReadError, estimate_files

distributed = pytest.importorskip("distributed")
cluster_dask = pytest.importorskip("imagepricing.integrations.dask")

DAY = dt.date(2026, 5, 1)
_MODELS = ("nano-banana", "nano-banana-2", "nano-banana-pro", "gpt-image-2", "gpt-image-1", "dall-e-3", "dall-e-2")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _log(rng: random.Random, count: int) -> bytes:
    lines = []
    for index in range(count):
        roll = rng.random()
        if roll < 0.02:
            lines.append(rng.choice((b"not json", b'{"model": "x"', b"[1]", b"", b"  ", b'{"model": "\xff"}')))
            continue
        request: dict[str, Any] = {"model": rng.choice(_MODELS), "prompt": "p" * rng.randint(1, 300)}
        if roll < 0.1:
            request["model"] = rng.choice(("gpt-image-3", "GPT-Image-2"))
        elif request["model"] == "gpt-image-2":
            request["size"] = rng.choice(("1024x1024", "2048x2048", "3840x2160", "1000x1000"))
        elif request["model"] == "dall-e-2":
            request["n"] = rng.choice((1, 2, 3, 2.0, True))
        body: dict[str, Any] = {
            "time": f"2026-06-0{rng.randint(1, 3)}T{rng.randint(0, 23):02d}:00:00Z",
            "provider": rng.choice(("acedata", "xhuoapi", "openai")),
            "request": request,
            "id": index,
        }
        lines.append(json.dumps(body).encode() + (b"\r" if rng.random() < 0.05 else b""))
    return b"\n".join(lines) + b"\n"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("logs")
    rng = random.Random(15)
    for hour in range(5):
        data = _log(rng, 2_000)
        if hour % 2:
            (folder / f"2026-05-01T{hour:02d}.jsonl.gz").write_bytes(gzip.compress(data))
        else:
            (folder / f"2026-05-01T{hour:02d}.jsonl").write_bytes(data)
    (folder / "2026-05-01T05.jsonl").write_bytes(b"\xef\xbb\xbf" + _log(rng, 10))  # a byte order mark
    (folder / "2026-05-01T06.jsonl").write_bytes(b"")
    return folder


def test_the_cluster_estimate_equals_the_command_line_field_for_field(client: Any, logs: Path, tmp_path: Path) -> None:
    pattern = str(logs / "2026-05-01T*.jsonl*")
    files = sorted(str(path) for path in logs.iterdir())
    for group_by in (("model",), ("provider", "day", "tier", "endpoint", "model")):
        result = cluster_dask.estimate_on_cluster(client, pattern, group_by=group_by, as_of=DAY)
        expected = estimate_files(files, group_by=group_by, as_of=DAY)
        assert result == expected
        assert result.to_dict() == expected.to_dict()
        assert result.unreadable > 0
        assert result.blank > 0
        assert set(result.totals.cost) == {"credits", "USD"}
    out = tmp_path / "cli.json"
    options = ["--as-of", DAY.isoformat(), "--format", "json", "-o", str(out), "--group-by", "day,provider"]
    assert main(["estimate", *files, *options]) == 0
    on_cluster = cluster_dask.estimate_on_cluster(client, pattern, group_by=("day", "provider"), as_of=DAY)
    assert on_cluster.to_dict() == json.loads(out.read_text(encoding="utf-8"))


def test_a_list_of_paths_keeps_its_order(client: Any, logs: Path) -> None:
    files = sorted(str(path) for path in logs.iterdir())[::-1]
    result = cluster_dask.estimate_on_cluster(client, files, as_of=DAY, provider="openai")
    assert result.sources == tuple(files)
    assert result == estimate_files(files, as_of=DAY, provider="openai")


def test_tables_of_your_own_reach_the_workers(client: Any, logs: Path, tmp_path: Path) -> None:
    import shutil

    from imagepricing.catalog import load_catalog, shipped_data_dir

    data = tmp_path / "data"
    shutil.copytree(shipped_data_dir(), data)
    book = data / "prices" / "openai.toml"
    text = book.read_text(encoding="utf-8")
    assert 'size = "1024x1024"\namount = "0.02"\n' in text
    book.write_text(text.replace('size = "1024x1024"\namount = "0.02"\n', 'size = "1024x1024"\namount = "0.75"\n'))
    files = sorted(str(path) for path in logs.glob("*.jsonl"))
    result = cluster_dask.estimate_on_cluster(client, files, as_of=DAY, data=data, group_by="provider")
    expected = estimate_files(files, as_of=DAY, catalog=load_catalog(data), group_by="provider")
    assert result == expected
    assert result.totals.cost != estimate_files(files, as_of=DAY).totals.cost
    with pytest.raises(Exception, match="not a directory of data tables"):
        cluster_dask.estimate_on_cluster(client, files, data=tmp_path / "missing")


def test_the_window_fields_and_group_cap_reach_the_workers(client: Any, logs: Path, tmp_path: Path) -> None:
    files = sorted(str(path) for path in logs.iterdir())
    since, until = dt.datetime(2026, 6, 1, 6, tzinfo=dt.UTC), dt.date(2026, 6, 2)
    result = cluster_dask.estimate_on_cluster(
        client, files, as_of=DAY, since=since, until=until, group_by=("hour", "model"), max_groups=7
    )
    expected = estimate_files(files, as_of=DAY, since=since, until=until, group_by=("hour", "model"), max_groups=7)
    assert result == expected
    assert 0 < result.outside_window < result.lines_read
    assert result.to_dict()["window"] == expected.to_dict()["window"]
    # Envelopes whose keys are named otherwise: renamed on every worker as on the command line.
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for name in files:
        text = Path(name).read_bytes().replace(b'"time":', b'"ts":').replace(b'"request":', b'"body":')
        (renamed / Path(name).name).write_bytes(
            text
            if not name.endswith(".gz")
            else gzip.compress(
                gzip.decompress(Path(name).read_bytes())
                .replace(b'"time":', b'"ts":')
                .replace(b'"request":', b'"body":')
            )
        )
    moved = sorted(str(path) for path in renamed.iterdir())
    fields = {"time": "ts", "request": "body"}
    on_cluster = cluster_dask.estimate_on_cluster(client, moved, as_of=DAY, fields=fields, group_by="day")
    assert on_cluster.to_dict()["totals"] == estimate_files(files, as_of=DAY, group_by="day").to_dict()["totals"]
    assert on_cluster == estimate_files(moved, as_of=DAY, fields=fields, group_by="day")


def test_failures_are_clear_and_come_before_any_work(client: Any, logs: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no log file matches"):
        cluster_dask.estimate_on_cluster(client, str(tmp_path / "nothing-*.jsonl"))
    with pytest.raises(ValueError, match="unknown provider"):
        cluster_dask.estimate_on_cluster(client, str(logs / "*.jsonl"), provider="nobody")
    with pytest.raises(ValueError, match="cannot group by"):
        cluster_dask.estimate_on_cluster(client, str(logs / "*.jsonl"), group_by="colour")
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(_log(random.Random(1), 500))[:-40])
    with pytest.raises(LogReadError, match=r"broken\.jsonl\.gz"):
        cluster_dask.estimate_on_cluster(client, [str(logs / "2026-05-01T00.jsonl"), str(broken)], as_of=DAY)


def test_without_distributed_the_import_error_says_what_to_install() -> None:
    import subprocess
    import sys

    code = "import sys; sys.modules['distributed'] = None; import imagepricing.integrations.dask"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 1
    assert "pip install 'imagepricing[dask]'" in run.stderr
