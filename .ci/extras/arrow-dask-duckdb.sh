#!/usr/bin/env bash
# Issue 15: the Arrow batch kernel, the Dask integration on a real LocalCluster (2 worker processes)
# and the DuckDB recipe, in one fresh environment. Issue 21: first docs/scale.md as written, with only
# the docs runner installed: the page's own `pip install '.[arrow]'`, `'.[dask]'` and `'.[duckdb]'`
# lines (the duckdb extra declares numpy, which DuckDB's Arrow UDFs need), then its examples: the
# kernel, the Dask script run as `python estimate_on_dask.py`, the DuckDB query; then the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quiet() { "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }

python3 -m venv "$work/venv"
quiet "$work/venv/bin/pip" install -q 'sybil>=9' 'pytest>=8'
echo "== docs/scale.md, as written"
PATH="$work/venv/bin:$PATH" IMAGEPRICING_DOCS_PIP=1 IMAGEPRICING_DOCS_EXTRAS=arrow,dask,duckdb \
    "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -rs docs/scale.md
echo "== the kernel, Dask and DuckDB"
quiet "$work/venv/bin/pip" install -q -e '.[test,arrow,dask,duckdb]'
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_arrow.py tests/test_dask.py \
    imagepricing/arrow.py imagepricing/per_request.py imagepricing/estimation.py imagepricing/spend.py imagepricing/integrations/dask.py
