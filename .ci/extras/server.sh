#!/usr/bin/env bash
# CI for the 'server' extra (imagepricing serve), in one fresh virtual environment:
# 1. docs/server.md as written: with only the docs runner installed, the page's own
#    `pip install '.[server]'` line, then its examples (Sybil, conftest.py): real servers on
#    127.0.0.1:8731-8733 (one worker, two workers, one stopped by SIGTERM) queried with curl, output
#    compared.
# 2. The extra's tests against the real server (a subprocess on 127.0.0.1), the package's doctests,
#    and types with the extra present; then, in a second environment without it, the command's
#    refusal. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quiet() { "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }

python3 -m venv "$work/venv"
quiet "$work/venv/bin/pip" install -q 'sybil>=9' 'pytest>=8'
echo "== docs/server.md, as written"
start=$SECONDS
PATH="$work/venv/bin:$PATH" IMAGEPRICING_DOCS_PIP=1 IMAGEPRICING_DOCS_EXTRAS=server \
    "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -rs docs/server.md
echo "docs/server.md in $((SECONDS - start)) s (install included)"

echo "== server extra: pip install -e '.[server,dev]'"
quiet "$work/venv/bin/pip" install -q -e '.[server,dev]'
"$work/venv/bin/python" -c "import starlette, uvicorn, prometheus_client; print('server extra installed')"

echo "== server tests (real server subprocesses; faults: signals, a full tmpfs where mounting one is allowed) and the integrations' doctests"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider -ra tests/integrations/test_server.py tests/integrations/test_server_bodies.py \
  tests/integrations/test_server_faults.py tests/integrations/test_counts.py imagepricing/integrations tests/test_cli.py

echo "== types with the extra installed"
"$work/venv/bin/mypy" --strict

echo "== the command refuses cleanly without the extra"
python3 -m venv "$work/bare"
"$work/bare/bin/pip" install -q .
set +e
"$work/bare/bin/imagepricing" serve --port 0 2> "$work/bare.err"
status=$?
set -e
cat "$work/bare.err"
[ "$status" -eq 2 ] || { echo "expected exit status 2 without the extra, got $status"; exit 1; }
grep -q "pip install 'imagepricing\[server\]'" "$work/bare.err" || { echo "no install hint"; exit 1; }
if grep -q Traceback "$work/bare.err"; then echo "traceback without the extra"; exit 1; fi
echo "== server extra passed"
