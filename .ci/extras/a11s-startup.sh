#!/usr/bin/env bash
# Issue 11, start-up (branch a11s): the catalog, reports and findings as plain frozen classes, and
# what a fresh process imports.
# 1. The tests of the frozen values (against attrs twins), the fresh-process import check, the
#    compiled tables, immutability and the vectors, in a fresh editable venv.
# 2. A real wheel in a fresh venv, run from outside the checkout: its very first process
#    (the packaged compiled form) imports none of attrs, cattrs, tomllib, typing, pathlib or
#    hashlib for import + load_catalog() + two checks, and writes no user cache.
# 3. The benchmarks, figures only (nothing is asserted on time): start-up against main at 37f0182
#    when that commit is in the clone, and the value classes against attrs.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export IMAGEPRICING_CACHE_DIR="$work/cache"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e '.[test]'
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_frozen_values.py tests/test_compiled_tables.py tests/test_concurrency.py tests/test_vectors.py \
    imagepricing/frozen.py imagepricing/catalog.py imagepricing/pricing.py imagepricing/sizes.py \
    imagepricing/findings.py imagepricing/report.py imagepricing/sources.py

python3 -m venv "$work/wheel-venv"
"$work/wheel-venv/bin/pip" wheel -q --no-deps -w "$work/dist" "$repo"
"$work/wheel-venv/bin/pip" install -q "$work"/dist/imagepricing-*.whl
export IMAGEPRICING_CACHE_DIR="$work/wheel-cache"
cd "$work"
"$work/wheel-venv/bin/python" - <<'PY'
import sys

import imagepricing

catalog = imagepricing.load_catalog()
assert "site-packages" in catalog.source_dir, catalog.source_dir
valid = imagepricing.check({"model": "gpt-image-2", "prompt": "a fox", "size": "1024x1024"})
invalid = imagepricing.check({"model": "dall-e-3", "prompt": "a fox", "n": 2, "style": "odd"})
assert valid.ok and not invalid.ok, (valid, invalid)
avoided = ("attr", "attrs", "cattrs", "tomllib", "typing", "inspect", "pathlib", "hashlib", "imagepricing._table_shapes")
found = sorted(m for m in sys.modules if any(m == top or m.startswith(top + ".") for top in avoided))
print("wheel, first process, import + load + check imported:", found)
assert found == [], found
PY
test ! -e "$IMAGEPRICING_CACHE_DIR"
cd "$repo"

export IMAGEPRICING_CACHE_DIR="$work/bench-cache"
baseline=()
if git rev-parse -q --verify '37f0182^{commit}' > /dev/null 2>&1; then
    mkdir "$work/base"
    git archive 37f0182 | tar -x -C "$work/base"
    baseline=(--baseline "$work/base")
fi
"$work/venv/bin/python" benchmarks/bench_startup.py --runs 15 "${baseline[@]}"
"$work/venv/bin/python" benchmarks/bench_values.py --rounds 5 --calls 20000
