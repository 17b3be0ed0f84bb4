"""Shared test set-up: hypothesis profiles.

The default profile runs in CI on every push. `IMAGEPRICING_PROFILE=deep` runs far more
examples (minutes, on demand); `IMAGEPRICING_PROFILE=quick` is for a fast local loop.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=200, deadline=None)
settings.register_profile("quick", max_examples=25, deadline=None)
settings.register_profile(
    "deep", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile(os.environ.get("IMAGEPRICING_PROFILE", "default"))
