#!/usr/bin/env bash
# Issue 9 (never block what the platform serves; sources a user can open): in a fresh environment,
# run the sources registry, rule-of-certainty and platform-vector tests, then build the wheel and
# check, from outside the checkout, that it ships data/sources.toml, lists the sources and accepts
# every request of the platform-documented vector file.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e "$root[dev]"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
  tests/test_sources.py tests/test_sources_doc.py tests/test_platform_constraints.py \
  tests/test_vectors.py tests/test_check.py tests/test_schema.py tests/test_data_digest.py

"$work/venv/bin/pip" install -q build
"$work/venv/bin/python" -m build --wheel --outdir "$work/dist" "$root" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
python3 -m venv "$work/wheel-env"
"$work/wheel-env/bin/pip" install -q "$work"/dist/*.whl
cd "$work"
"$work/wheel-env/bin/python" -m imagepricing sources --json > sources.json
"$work/wheel-env/bin/python" - <<'PY'
import json
from imagepricing import check
from imagepricing.vectors import load_vectors

ids = [s["id"] for s in json.load(open("sources.json"))["sources"]]
assert "acedata-openapi" in ids and "xhuoapi-generations" in ids, ids
documented = [v for v in load_vectors() if v["file"] == "platform_documented.json"]
rejected = [v["id"] for v in documented if not check(v["request"], endpoint=v["endpoint"], provider=v["provider"]).ok]
assert documented and not rejected, rejected
print(f"wheel: {len(ids)} sources; {len(documented)} platform-documented requests, {len(rejected)} rejected")
PY
