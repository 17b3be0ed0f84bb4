#!/usr/bin/env bash
# Issue 15: the Arrow batch kernel, the Dask integration on a real LocalCluster (2 worker processes)
# and the DuckDB recipe of docs/scale.md, in a fresh environment with extras `arrow` and `dask`
# plus DuckDB (test-only; its Python UDFs need numpy).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e '.[test,arrow,dask]' duckdb numpy
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_arrow.py tests/test_dask.py \
    imagepricing/arrow.py imagepricing/per_request.py imagepricing/estimation.py imagepricing/spend.py imagepricing/integrations/dask.py
