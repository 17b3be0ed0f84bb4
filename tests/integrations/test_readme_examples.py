"""The README's integration examples run as written (each skipped when its extra is absent)."""

from __future__ import annotations

import importlib.util
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _python_block(heading: str) -> str:
    section = README.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, f"README section {heading!r} should have one python example"
    return str(blocks[0])


_EXTRA_MODULES = {"openai": ("openai",), "litellm": ("litellm", "fastapi")}


@pytest.mark.parametrize(
    ("heading", "extra", "expected"),
    [
        ("Guard the openai SDK", "openai", "above_model_limit (n)"),
        ("Guard a LiteLLM proxy", "litellm", "400 above_model_limit"),
    ],
)
def test_the_readme_example_runs(
    heading: str, extra: str, expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The extra's modules as pyproject.toml lists them: litellm alone (installed, say, for the
    # benchmarks) is not the litellm extra, which brings fastapi for the guardrail's HTTPException.
    missing = [name for name in _EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the {extra} extra is not installed (no {', '.join(missing)})")
    # The example names the real platform; a request that got past the guard would meet a closed
    # local port instead of leaving this machine.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    exec(compile(_python_block(heading), f"README.md ({heading})", "exec"), {"__name__": "readme_example"})
    assert expected in capsys.readouterr().out
