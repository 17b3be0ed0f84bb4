#!/usr/bin/env bash
# Issue 11, start-up: the compiled form of the shipped tables (imagepricing/_compiled_tables.py).
# 1. Its tests in a fresh editable venv.
# 2. A real wheel, installed in a fresh venv and run from outside the checkout: the first process
#    validates and writes the compiled form, the second loads it without tomllib and cattrs, and
#    the result equals a freshly validated catalog.
# 3. The start-up benchmark, a few runs (figures only; nothing is asserted on time).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export IMAGEPRICING_CACHE_DIR="$work/cache"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e '.[test]'
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_compiled_tables.py tests/test_catalog.py tests/test_sources.py \
    imagepricing/_compiled_tables.py imagepricing/catalog.py imagepricing/sources.py

python3 -m venv "$work/wheel-venv"
"$work/wheel-venv/bin/pip" wheel -q --no-deps -w "$work/dist" "$repo"
"$work/wheel-venv/bin/pip" install -q "$work"/dist/imagepricing-*.whl
export IMAGEPRICING_CACHE_DIR="$work/wheel-cache"
cd "$work"
probe='import sys, imagepricing; c = imagepricing.load_catalog(); print(sorted(m for m in ("cattrs", "tomllib") if m in sys.modules))'
first="$("$work/wheel-venv/bin/python" -c "$probe")"
second="$("$work/wheel-venv/bin/python" -c "$probe")"
echo "wheel, first process loaded: $first; second: $second"
test "$first" = "['cattrs', 'tomllib']"
test "$second" = "[]"
"$work/wheel-venv/bin/python" - <<'PY'
import imagepricing
from imagepricing import catalog

loaded = imagepricing.load_catalog()
assert "site-packages" in loaded.source_dir, loaded.source_dir
assert loaded == catalog._validated_catalog(catalog.shipped_data_dir())
print("wheel: the compiled catalog equals a validated one;", loaded.source_dir)
PY
cd "$repo"
"$work/venv/bin/python" benchmarks/bench_startup.py --runs 5
