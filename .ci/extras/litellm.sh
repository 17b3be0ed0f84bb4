#!/usr/bin/env bash
# CI for imagepricing.integrations.litellm: the guardrail's tests with the real litellm (the `litellm`
# extra), in a fresh virtual environment. The hook is called exactly as the proxy calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== LiteLLM guardrail"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e '.[test,litellm]'
"$work/venv/bin/python" -c "import importlib.metadata as md; print('litellm', md.version('litellm'), 'fastapi', md.version('fastapi'))"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider tests/integrations/test_litellm.py imagepricing/integrations/litellm.py
echo "== LiteLLM guardrail passed"
