#!/usr/bin/env bash
# CI for imagepricing.integrations.litellm: the guardrail's tests with the real litellm, its hook called
# as the proxy calls it, then the real LiteLLM proxy started on 127.0.0.1 with a config naming the
# guardrail and the stub platform as its upstream. One fresh virtual environment.
#
# `litellm[proxy]` pins a `litellm-proxy` package that the package index used here does not have, so
# the proxy's own imports are installed by name (the list below is what LiteLLM 1.110's proxy imports
# at start-up and when serving).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False  # no traffic beyond 127.0.0.1
quiet() { "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }

echo "== LiteLLM guardrail"
python3 -m venv "$work/venv"
start=$SECONDS
quiet "$work/venv/bin/pip" install -q -e '.[test,litellm]' \
    uvicorn uvloop websockets python-multipart orjson backoff redis apscheduler PyJWT cryptography semver \
    expression fastapi-sso mcp soundfile
echo "installed in $((SECONDS - start)) s, $(du -sm "$work/venv" | cut -f1) MB"
"$work/venv/bin/python" -c "import importlib.metadata as md; print('litellm', md.version('litellm'), 'fastapi', md.version('fastapi'), 'openai', md.version('openai'))"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider tests/integrations/test_litellm.py \
    tests/integrations/test_litellm_proxy.py tests/integrations/test_readme_examples.py imagepricing/integrations/litellm.py
echo "== LiteLLM guardrail passed"
