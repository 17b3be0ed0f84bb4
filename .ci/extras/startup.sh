#!/usr/bin/env bash
# Issue 11, start-up: the compiled form of the shipped tables (imagepricing/_compiled_tables.py) and
# the plain frozen classes (imagepricing/frozen.py) that keep attrs off the import path.
# 1. Their tests in a fresh editable venv (the frozen values against attrs twins, the fresh-process
#    import check, the compiled tables, immutability, the vectors, the doctests).
# 2. A real wheel (built with hatch_build.py, which ships the compiled tables), installed in a fresh
#    venv and run from outside the checkout: its very first process loads without tomllib and
#    cattrs and writes no user cache, and the result equals a freshly validated catalog; after an
#    edit of the installed tables, the packaged form is not used and the edit is validated. Its first
#    process imports none of attrs, cattrs, tomllib, typing, pathlib or hashlib for import +
#    load_catalog() + two checks, and neither re nor json for import + load + a clean check.
# The start-up benchmark (benchmarks/bench_startup.py) is run on demand, not here.
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
    tests/test_frozen_values.py tests/test_concurrency.py tests/test_vectors.py \
    imagepricing/_compiled_tables.py imagepricing/catalog.py imagepricing/sources.py imagepricing/frozen.py \
    imagepricing/pricing.py imagepricing/sizes.py imagepricing/findings.py imagepricing/report.py

python3 -m venv "$work/wheel-venv"
"$work/wheel-venv/bin/pip" wheel -q --no-deps -w "$work/dist" "$repo"
"$work/wheel-venv/bin/pip" install -q "$work"/dist/imagepricing-*.whl
export IMAGEPRICING_CACHE_DIR="$work/wheel-cache"
cd "$work"
probe='import sys, imagepricing; c = imagepricing.load_catalog(); print(sorted(m for m in ("cattrs", "tomllib") if m in sys.modules))'
"$work/wheel-venv/bin/python" - <<'PY'
import sys

import imagepricing

catalog = imagepricing.load_catalog()
assert "site-packages" in catalog.source_dir, catalog.source_dir
loaded = sorted(m for m in ("re", "json", "enum") if m in sys.modules)
valid = imagepricing.check({"model": "gpt-image-2", "prompt": "a fox", "size": "1024x1024"})
clean = sorted(m for m in ("re", "json", "enum") if m in sys.modules)
print("wheel, first process: re/json/enum after import + load:", loaded, "after a clean check:", clean)
assert loaded == clean == [], (loaded, clean)  # imagepricing/_lazy_re.py, _compiled_tables._loads
invalid = imagepricing.check({"model": "dall-e-3", "prompt": "a fox", "n": 2, "style": "odd"})
assert valid.ok and not invalid.ok, (valid, invalid)
avoided = ("attr", "attrs", "cattrs", "tomllib", "typing", "inspect", "pathlib", "hashlib", "imagepricing._table_shapes")
found = sorted(m for m in sys.modules if any(m == top or m.startswith(top + ".") for top in avoided))
print("wheel, first process, import + load + check imported:", found)
assert found == [], found
PY
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
