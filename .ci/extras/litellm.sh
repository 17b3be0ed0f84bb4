#!/usr/bin/env bash
# CI for imagepricing.integrations.litellm, in one fresh virtual environment:
# 1. docs/litellm.md as written: with only the docs runner installed, the page's own
#    `pip install '.[litellm]'` line (the extra names the proxy's dependencies: LiteLLM's
#    `litellm[proxy]` pins a `litellm-proxy` package the package index lacks), then its config.yaml
#    and command start a real LiteLLM proxy on 127.0.0.1:4000, and a rejection is read back with curl.
# 2. The guardrail's tests with the real litellm, its hook called as the proxy calls it, then the
#    real proxy with every guardrail option set in its config.yaml, upstream the stub platform.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False  # no traffic beyond 127.0.0.1
quiet() { "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }

python3 -m venv "$work/venv"
quiet "$work/venv/bin/pip" install -q 'sybil>=9' 'pytest>=8'
echo "== docs/litellm.md, as written"
start=$SECONDS
PATH="$work/venv/bin:$PATH" IMAGEPRICING_DOCS_PIP=1 IMAGEPRICING_DOCS_EXTRAS=litellm \
    "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -rs docs/litellm.md
echo "docs/litellm.md in $((SECONDS - start)) s (install included), venv $(du -sm "$work/venv" | cut -f1) MB"
"$work/venv/bin/python" -c "import importlib.metadata as md; print('litellm', md.version('litellm'), 'fastapi', md.version('fastapi'), 'openai', md.version('openai'))"

echo "== LiteLLM guardrail"
quiet "$work/venv/bin/pip" install -q -e '.[test,litellm]'
IMAGEPRICING_DOCS_EXTRAS=litellm "$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/integrations/test_litellm.py tests/integrations/test_litellm_proxy.py imagepricing/integrations/litellm.py
echo "== LiteLLM guardrail passed"
