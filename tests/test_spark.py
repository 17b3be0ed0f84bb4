"""The Spark recipe of docs/scale.md, run for real on PySpark `local[2]` (issue 15).

Marked `spark`: it needs pyspark and Java 17, and runs in its own environment
(`.ci/extras/spark.sh`), because PySpark pins pandas below 3, which clashes with the project's
warnings-as-errors setting. Skipped where pyspark is not installed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from imagepricing.estimation import INVALID_MODEL, UNKNOWN_MODEL, Estimate, estimate_files

pytestmark = pytest.mark.spark

pyspark = pytest.importorskip("pyspark")
arrow = pytest.importorskip("imagepricing.arrow")

DAY = dt.date(2026, 5, 1)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    # Python workers must run this environment's interpreter (where imagepricing and its
    # dependencies are installed), not whichever python3 comes first on PATH.
    before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable

    session = (
        SparkSession.builder.master("local[2]")
        .appName("imagepricing-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        if before is None:
            del os.environ["PYSPARK_PYTHON"]
        else:
            os.environ["PYSPARK_PYTHON"] = before


def _write_logs(folder: Path) -> list[str]:
    rng = random.Random(15)
    models = ("nano-banana", "nano-banana-pro", "gpt-image-2", "gpt-image-1", "dall-e-3", "dall-e-2", "gpt-image-3")
    files = []
    for part in range(3):
        lines = []
        for index in range(3_000):
            if rng.random() < 0.02:
                lines.append(rng.choice(("not json", "", "[1]", '{"model": 1')))
                continue
            request: dict[str, Any] = {"model": rng.choice(models), "prompt": "a fox " * rng.randint(1, 50)}
            if request["model"] == "dall-e-2":
                request["n"] = rng.choice((1, 2, 3, 2.0))
            if request["model"] == "gpt-image-2":
                request["size"] = rng.choice(("1024x1024", "2048x2048", "1000x1000"))
            body = {
                "time": f"2026-06-0{rng.randint(1, 3)}T12:00:00Z",
                "provider": rng.choice(("acedata", "xhuoapi", "openai")),
                "request": request,
                "id": index,
            }
            lines.append(json.dumps(body))
        path = folder / f"part-{part}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(str(path))
    return files


def test_map_in_arrow_and_a_group_by_on_decimals_equal_estimate(spark: Any, tmp_path: Path) -> None:
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    files = _write_logs(tmp_path)
    # The recipe of docs/scale.md.
    lines = spark.read.text(str(tmp_path / "*.jsonl"), lineSep="\n")
    priced = lines.mapInArrow(
        lambda batches: arrow.price_batches(batches, "value", as_of=DAY), from_arrow_schema(arrow.SCHEMA)
    )
    rows = (
        priced.groupBy("status", "model", "currency")
        .agg(F.count("*").alias("lines"), F.sum("images").alias("images"), F.sum("cost").alias("cost"))
        .collect()
    )
    expected = estimate_files(files, as_of=DAY, group_by="model")
    groups = {group.labels["model"]: group for group in expected.groups}
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["status"] == "unreadable":
            assert row["lines"] == expected.unreadable
            continue
        if row["status"] == "blank":
            assert row["lines"] == expected.blank
            continue
        # Rows hold no model text for a model the catalog doesn't know; estimate groups those apart.
        label = row["model"] or (UNKNOWN_MODEL if row["status"] == "unknown_model" else INVALID_MODEL)
        sums = seen.setdefault(label, {"requests": 0, "images": 0, "cost": {}})
        sums["requests"] += row["lines"]
        sums["images"] += row["images"] if row["status"] in ("priced", "unknown_price") else 0
        if row["cost"] is not None:
            assert isinstance(row["cost"], Decimal)
            sums["cost"][row["currency"]] = sums["cost"].get(row["currency"], Decimal(0)) + row["cost"]
    assert set(seen) == set(groups)
    for model, sums in seen.items():
        group = groups[model]
        assert (sums["requests"], sums["images"], sums["cost"]) == (group.requests, group.images, dict(group.cost))
    assert expected.totals.cost  # something was priced, in exact decimals


def test_partial_totals_per_partition_merge_to_estimate(spark: Any, tmp_path: Path) -> None:
    """The other route: each partition adds its rows up (`totals`), the driver merges exactly."""
    files = _write_logs(tmp_path)

    def partial(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for batch in batches:
            result = arrow.totals(arrow.price_batch(batch, "value", as_of=DAY), as_of=DAY, group_by=("model", "day"))
            yield pa.record_batch({"estimate": [json.dumps(result.to_dict())]})

    parts = spark.read.text(files, lineSep="\n").mapInArrow(partial, "estimate string").toLocalIterator()
    estimates = [Estimate.from_dict(json.loads(row["estimate"])) for row in parts]
    merged = estimates[0].merge(*estimates[1:])
    expected = estimate_files(files, as_of=DAY, group_by=("model", "day"))
    assert merged.groups == expected.groups
    assert merged.totals == expected.totals
    assert (merged.lines_read, merged.unreadable, merged.blank) == (
        expected.lines_read,
        expected.unreadable,
        expected.blank,
    )
