#!/usr/bin/env bash
# Issue 21: the documentation, in a fresh environment. First docs/development.md as written (its
# `pip install '.[docs]'` line, then `mkdocs build --strict`); then, with the `test` and `docs` extras, every python,
# console and sh block of README.md and docs/*.md that needs no extra runs through Sybil (conftest.py),
# output compared, each document in a fresh copy of the checkout; then the site (mkdocs.yml) is built
# with warnings as errors, its API reference generated from the docstrings. The blocks that need an
# extra run in that extra's script, after the doc's own `pip install '.[extra]'` line in a fresh
# environment: openai.sh (docs/integrations.md), litellm.sh (docs/litellm.md), server.sh
# (docs/server.md), arrow-dask-duckdb.sh (docs/scale.md). Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quiet() { "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }

python3 -m venv "$work/venv"
quiet "$work/venv/bin/pip" install -q 'sybil>=9' 'pytest>=8'
echo "== docs/development.md as written: its pip install '.[docs]' line, then mkdocs build --strict"
PATH="$work/venv/bin:$PATH" IMAGEPRICING_DOCS_PIP=1 IMAGEPRICING_DOCS_EXTRAS=docs \
    "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -rs docs/development.md
quiet "$work/venv/bin/pip" install -q -e '.[test,docs]'
echo "== the docs' code blocks"
IMAGEPRICING_DOCS_EXTRAS=docs "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -rs README.md docs
echo "== the site, warnings as errors"
start=$SECONDS
NO_MKDOCS_2_WARNING=1 "$work/venv/bin/mkdocs" build --strict --quiet --site-dir "$work/site"
test -s "$work/site/index.html" && test -s "$work/site/api/index.html"
echo "site built in $((SECONDS - start)) s: $(find "$work/site" -name index.html | wc -l) pages"
