"""Doctest collection of the optional extras: a module whose extra is not installed is skipped.

`imagepricing/arrow.py` imports `pyarrow` (extra `arrow`), `imagepricing/integrations/dask.py`
imports `distributed` (extra `dask`); the core's test run (`pip install -e '.[dev]'`) may have
neither, and their tests skip themselves with `pytest.importorskip`.
"""

from __future__ import annotations

import importlib.util

collect_ignore = [
    path
    for path, needs in (("imagepricing/arrow.py", "pyarrow"), ("imagepricing/integrations/dask.py", "distributed"))
    if importlib.util.find_spec(needs) is None
]
