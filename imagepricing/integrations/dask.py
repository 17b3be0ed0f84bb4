"""Estimate request logs too big for one machine on a Dask cluster (extra ``dask``).

`estimate_on_cluster` prices a glob of JSON Lines files (gzip too) on a `distributed.Client`, one
task per file, and returns the `Estimate` that ``imagepricing estimate`` gives for the same files,
equal field for field: every count, every group, every exact amount, the bad-line samples with
their file and line number, the sources in order.

    from distributed import Client
    from imagepricing.integrations.dask import estimate_on_cluster

    with Client("tcp://scheduler:8786") as client:     # or Client(LocalCluster(...))
        result = estimate_on_cluster(client, "/shared/logs/2026-06-*.jsonl.gz", group_by=("model", "day"))
    print(dict(result.totals.cost))

Decisions:

- **One task per file.** Each worker runs `estimate_files` on one file (the same reader, memo
  and exact sums as the command line), and the driver adds the per-file estimates up with
  `Estimate.merge` in file order. Files are the unit because a gzip stream cannot be split, and
  because line numbers in the bad-line samples must be those of the file. Logs kept in object
  storage come as many files (one per hour or per host), which is what spreads the work; a single
  huge file runs on one worker.
- **Files must be readable by the workers at the same path** (a shared or mounted file system).
- **Order.** A glob is expanded on the driver and sorted, as a shell sorts `logs/*.jsonl`; a list
  of paths is kept in its order. The same files in the same order give the same result as
  ``imagepricing estimate`` on them.
- **Dates.** `as_of` (the price date of lines without a time) defaults to today in UTC, fixed on
  the driver once, so every worker prices the same day.
- **What travels.** An `Estimate` holds read-only mappings, which pickle refuses; workers send
  `Estimate.to_dict()` (amounts as decimal strings, so no digit is lost) and the driver rebuilds it
  with `Estimate.from_dict`.
- **Catalog.** Workers load the shipped tables, or `data` (a directory of tables, as with
  ``--data``), once per worker process.
"""

from __future__ import annotations

import datetime as dt
import functools
import glob
import os
from collections.abc import Iterable, Mapping
from typing import Any

try:
    from distributed import Client
except ImportError as exc:  # depends on the environment
    raise ImportError("imagepricing.integrations.dask needs distributed: pip install 'imagepricing[dask]'") from exc

from imagepricing._clock import today
from imagepricing.catalog import Catalog, load_catalog
from imagepricing.estimation import MAX_GROUPS, Estimate, estimate_files
from imagepricing.pricing import PriceBasis

__all__ = ["estimate_on_cluster"]


def estimate_on_cluster(
    client: Client,
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    group_by: Iterable[str] | str = ("model",),
    endpoint: str = "generations",
    provider: str = "acedata",
    as_of: dt.date | None = None,
    price_basis: PriceBasis = "charged",
    data: str | os.PathLike[str] | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    fields: Mapping[str, str] | None = None,
    max_groups: int = MAX_GROUPS,
) -> Estimate:
    """Estimate the log files `paths` (a glob pattern, or a list of paths) on `client`'s cluster.

    Options as for `imagepricing.estimate` (`since`/`until` the time window, `fields` the
    envelope's key names, `max_groups` the group cap; each worker applies them to its files, and
    the merge checks every part has the same window). Raises FileNotFoundError when a pattern matches no
    file, `LogReadError` when a file cannot be read to the end (as the command line does), and
    ValueError for a bad option (checked on the driver before any task is sent).
    """
    if isinstance(paths, (str, os.PathLike)):
        pattern = os.fspath(paths)
        files = sorted(glob.glob(pattern))
        if not files:
            raise FileNotFoundError(f"no log file matches {pattern!r}")
    else:
        files = [os.fspath(path) for path in paths]
        if not files:
            raise ValueError("no log files given")
    group_by = (group_by,) if isinstance(group_by, str) else tuple(group_by)
    day = as_of if as_of is not None else today()
    directory = None if data is None else os.fspath(data)
    options: dict[str, Any] = {
        "group_by": group_by,
        "endpoint": endpoint,
        "provider": provider,
        "as_of": day,
        "price_basis": price_basis,
        "data": directory,
        "since": since,
        "until": until,
        "fields": None if fields is None else dict(fields),
        "max_groups": max_groups,
    }
    # The options are checked here, on no line at all, so a typo fails before the cluster works.
    _estimate_file(None, **options)
    futures = client.map(_estimate_file, files, pure=False, **options)
    found: list[dict[str, Any]] = client.gather(futures)  # type: ignore[no-untyped-call,unused-ignore]  # distributed's own annotation gap
    parts = [Estimate.from_dict(part) for part in found]
    return parts[0].merge(*parts[1:], max_groups=max_groups)


def _estimate_file(path: str | None, *, data: str | None, **options: Any) -> dict[str, Any]:
    """Runs on a worker: one file's estimate, as a dict (see "What travels")."""
    catalog = None if data is None else _catalog(data)
    return estimate_files([] if path is None else [path], catalog=catalog, memoize=True, **options).to_dict()


@functools.cache
def _catalog(data: str) -> Catalog:
    return load_catalog(data)
