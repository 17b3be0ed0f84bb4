#!/usr/bin/env bash
# Issue 11, start-up: the compiled form of the shipped tables (imagepricing/_compiled_tables.py).
# 1. Its tests in a fresh editable venv.
# 2. A real wheel (built with hatch_build.py, which ships the compiled tables), installed in a fresh
#    venv and run from outside the checkout: its very first process loads without tomllib and
#    cattrs and writes no user cache, and the result equals a freshly validated catalog; after an
#    edit of the installed tables, the packaged form is not used and the edit is validated.
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
echo "wheel, first process loaded: $first"
test "$first" = "[]"
test ! -e "$IMAGEPRICING_CACHE_DIR"
"$work/wheel-venv/bin/python" - <<'PY'
import imagepricing
from imagepricing import catalog

loaded = imagepricing.load_catalog()
assert "site-packages" in loaded.source_dir, loaded.source_dir
assert loaded == catalog._validated_catalog(catalog.shipped_data_dir())
print("wheel: the packaged compiled catalog equals a validated one;", loaded.source_dir)
PY
tables="$("$work/wheel-venv/bin/python" -c 'from imagepricing.catalog import shipped_data_dir; print(shipped_data_dir())')"
sed -i '0,/amount = "/s//amount = "1/' "$tables/prices/openai.toml"
edited="$("$work/wheel-venv/bin/python" -c "$probe")"
echo "wheel, after editing the installed tables: $edited"
test "$edited" = "['cattrs', 'tomllib']"
ls "$IMAGEPRICING_CACHE_DIR"/catalog-*.json
cd "$repo"
"$work/venv/bin/python" benchmarks/bench_startup.py --runs 5
