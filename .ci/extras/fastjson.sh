#!/usr/bin/env bash
# Issue 11: the `fastjson` extra (msgspec parses estimate's log lines) in a fresh environment; the
# tests estimate every log twice, with msgspec and with json only, and require equal results. Also
# runs the engine memo's differential test and the raw-line memo tests with the extra installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e '.[test,fastjson]'
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_estimate_fastjson.py tests/test_estimate_raw_memo.py tests/test_engine_memo.py \
    tests/test_estimate.py tests/test_estimate_hostile.py
