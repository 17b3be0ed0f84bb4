#!/usr/bin/env bash
# Issue 10 (hardening, second round): the tests that need the test-only dependencies this issue adds
# (ada-url, a real WHATWG URL parser, for the differential test; idna==3.20, the source of the shipped
# UTS #46 table), plus every test the issue added, in a fresh venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv_dir="$(mktemp -d)"
trap 'rm -rf "$venv_dir"' EXIT
python3 -m venv "$venv_dir/venv"
"$venv_dir/venv/bin/pip" install -q -e '.[test]'
"$venv_dir/venv/bin/python" -c "import ada_url, idna; print('ada-url and idna', idna.__version__, 'installed')"
"$venv_dir/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_urls_whatwg.py \
    tests/test_money_context.py \
    tests/test_data_lookalikes.py \
    tests/test_cli_forgery.py \
    tests/test_estimate_hostile.py \
    tests/test_secrets.py \
    imagepricing/_uts46.py imagepricing/_describe.py imagepricing/pricing.py
