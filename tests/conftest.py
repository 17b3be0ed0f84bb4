"""Shared test set-up: hypothesis profiles.

The default profile runs in CI on every push. `IMAGEPRICING_PROFILE=deep` runs far more
examples (minutes, on demand); `IMAGEPRICING_PROFILE=quick` is for a fast local loop.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

# The compiled form of the shipped tables is cached per user (imagepricing/_compiled_tables.py);
# tests, and the processes they start, keep theirs in a directory of their own, never in ~/.cache.
_CACHE = tempfile.mkdtemp(prefix="imagepricing-test-cache-")
os.environ["IMAGEPRICING_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

settings.register_profile("default", max_examples=200, deadline=None)
settings.register_profile("quick", max_examples=25, deadline=None)
settings.register_profile(
    "deep", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile(os.environ.get("IMAGEPRICING_PROFILE", "default"))
