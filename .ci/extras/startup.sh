#!/usr/bin/env bash
# Start-up (issue 22): the compiled form of the shipped tables that a wheel carries
# (imagepricing/_compiled_tables.py, written by hatch_build.py; docs/startup.md).
# 1. In a fresh editable venv (no packaged form there: every process validates the tables), the
#    tests of the compiled form (a packaged form written as hatch_build.py writes it, next to a
#    copy of the package), of the catalog, the sources, concurrency and the vectors, and the
#    doctests of the modules the catalog is made of.
# 2. A real wheel (pip wheel, so hatch_build.py runs), installed in a fresh venv and run from
#    outside the checkout, with HOME and XDG_CACHE_HOME in an empty directory: its first process
#    loads without tomllib and cattrs, its catalog equals a freshly validated one, and nothing is
#    written under the home directory; after an edit of an installed table, the packaged form is
#    not used: the edit is validated (tomllib and cattrs imported) and the edited price is what the
#    catalog holds.
# The start-up benchmark (benchmarks/bench_startup.py) is run on demand, not here.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== editable install: tests and doctests"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e '.[test]'
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_compiled_tables.py tests/test_catalog.py tests/test_sources.py \
    tests/test_concurrency.py tests/test_vectors.py \
    imagepricing/_compiled_tables.py imagepricing/catalog.py imagepricing/capabilities.py \
    imagepricing/sources.py imagepricing/pricing.py imagepricing/sizes.py imagepricing/findings.py \
    imagepricing/report.py

echo "== a wheel, installed alone, run from outside the checkout"
python3 -m venv "$work/wheel-venv"
"$work/wheel-venv/bin/pip" wheel -q --no-deps -w "$work/dist" "$repo"
"$work/wheel-venv/bin/pip" install -q "$work"/dist/imagepricing-*.whl
python="$work/wheel-venv/bin/python"
mkdir "$work/home" "$work/run"
export HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache"
unset PYTHONPATH
cd "$work/run"

"$python" - <<'PY'
import sys

import imagepricing
from imagepricing import _compiled_tables

catalog = imagepricing.load_catalog()
imported = sorted(m for m in ("cattrs", "tomllib", "imagepricing._table_shapes") if m in sys.modules)
print(f"wheel, first process: tables in {catalog.source_dir}; validators imported: {imported}")
assert "site-packages" in catalog.source_dir, catalog.source_dir
assert _compiled_tables.load(catalog.source_dir) is not None, "no packaged form, or it does not match"
assert imported == [], imported

from imagepricing._compile_tables import compile_tables
from imagepricing.catalog import shipped_data_dir

assert catalog == compile_tables(shipped_data_dir())
assert "tomllib" in sys.modules and "cattrs" in sys.modules  # so the check above could see them
print("wheel: the packaged catalog equals a validated one")
PY
written="$(find "$HOME" -mindepth 1)"
echo "wheel: written under HOME: [${written}]"
test -z "$written"

tables="$("$python" -c 'from imagepricing.catalog import shipped_data_dir; print(shipped_data_dir())')"
probe='import sys, imagepricing
c = imagepricing.load_catalog()
e = c.price_books["openai"].entries[0]
print(sorted(m for m in ("cattrs", "tomllib") if m in sys.modules), e.model, e.quality, e.size, e.amount)'
before="$("$python" -c "$probe")"
echo "wheel, before the edit: $before"
test "$before" = "[] gpt-image-1 low 1024x1024 0.011"
sed -i '0,/amount = "0.011"/s//amount = "0.012"/' "$tables/prices/openai.toml"
for run in 1 2; do
    edited="$("$python" -c "$probe")"
    echo "wheel, after editing the installed tables (process $run): $edited"
    test "$edited" = "['cattrs', 'tomllib'] gpt-image-1 low 1024x1024 0.012"
done
written="$(find "$HOME" -mindepth 1)"
echo "wheel: written under HOME: [${written}]"
test -z "$written"
echo "== startup.sh passed"
