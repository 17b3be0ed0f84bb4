#!/usr/bin/env bash
# Issue 11: the engine's day-independent memo and estimate on it, with the `fastjson` extra (msgspec
# parses estimate's log lines; its tests estimate every log with msgspec and with json only and require
# equal results). In a fresh environment with msgspec and pyarrow, so estimate's fast reader and the per-request
# Arrow kernel run on the engine's memo too: the differential test against the frozen engine over
# several days, providers and bases; estimate with the memo against memoize=False on varied logs;
# the shared URL verdict against url_problems; the compiled checkers against frozen copies of the
# rules and engine they replaced (120,000 fuzzed requests, hypothesis properties, threads); the
# estimate, per-request and Arrow suites; doctests.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e '.[test,fastjson,arrow]'
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_engine_memo.py tests/test_compiled_checkers.py tests/test_estimate_engine_memo.py \
    tests/test_estimate.py tests/test_estimate_envelopes.py tests/test_estimate_hostile.py \
    tests/test_estimate_raw_memo.py tests/test_estimate_fastjson.py tests/test_estimate_hour.py tests/test_arrow.py \
    tests/test_urls.py \
    imagepricing/engine.py imagepricing/_checkers.py imagepricing/estimation.py imagepricing/spend.py \
    imagepricing/per_request.py
