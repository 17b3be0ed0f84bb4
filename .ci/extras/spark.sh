#!/usr/bin/env bash
# Issue 15: the Spark recipe of docs/scale.md on PySpark local[2], in its own environment: PySpark
# needs Java 17 and pandas below 3 (pandas 3 makes it warn, and the project turns warnings into
# errors). Runs only the tests marked `spark`, which must not all be skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

java -version 2>&1 | head -1
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e '.[test,arrow]' pyspark 'pandas>=2.2,<3'
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider -m spark tests/test_spark.py | tee "$work/out"
grep -Eq '[0-9]+ passed' "$work/out" && ! grep -Eq 'skipped' "$work/out"
