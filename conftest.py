"""Doctest collection of the optional integrations: a module whose extra is not installed is skipped.

`imagepricing/integrations/openai.py` imports `openai`, `litellm.py` imports `litellm`; the core's
test run (`pip install -e '.[dev]'`) has neither, and their tests under tests/integrations/ skip
themselves with `pytest.importorskip`.
"""

from __future__ import annotations

import importlib.util

collect_ignore = [
    f"imagepricing/integrations/{name}.py" for name in ("openai", "litellm") if importlib.util.find_spec(name) is None
]
