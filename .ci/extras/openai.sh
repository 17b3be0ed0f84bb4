#!/usr/bin/env bash
# CI for imagepricing.integrations.openai: its tests against the latest openai of the current major (3,
# on httpx2) and of the previous major (2, on httpx), each in its own fresh virtual environment; and
# docs/integrations.md as written: in a fresh environment holding only the docs runner, the page's own
# `pip install '.[openai]'` line, then its examples (Sybil, conftest.py), output compared.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quiet() { "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }

for spec in "openai>=3,<4" "openai>=2,<3"; do
    echo "== openai guard with $spec"
    venv="$work/venv-${spec//[^0-9a-z]/_}"
    python3 -m venv "$venv"
    if [ "$spec" = "openai>=3,<4" ]; then
        # The doc's install line installs the extra (the latest openai, the current major).
        quiet "$venv/bin/pip" install -q 'sybil>=9' 'pytest>=8'
        PATH="$venv/bin:$PATH" IMAGEPRICING_DOCS_PIP=1 IMAGEPRICING_DOCS_EXTRAS=openai \
            "$venv/bin/python" -m pytest -q -p no:cacheprovider -rs docs/integrations.md
    fi
    quiet "$venv/bin/pip" install -q -e '.[test]' "$spec"
    # The guard's tests skip without the SDK; make sure it is there, and say which HTTP client it uses.
    "$venv/bin/python" - <<'PY'
import importlib.metadata as md, openai
client = openai.DefaultHttpxClient()
print(f"openai {openai.__version__}, HTTP client {type(client).__mro__[-2].__module__.split('.')[0]} "
      f"{md.version(type(client).__mro__[-2].__module__.split('.')[0])}")
client.close()
PY
    IMAGEPRICING_DOCS_EXTRAS=openai "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/integrations/test_openai.py \
        imagepricing/integrations/openai.py docs/integrations.md
done
echo "== openai guard: both majors passed"
