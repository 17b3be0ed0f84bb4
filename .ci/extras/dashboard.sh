#!/usr/bin/env bash
# Issue 14: the HTML dashboard in a real headless Chromium (Debian's package) at 1280 and 390 px,
# day and hour axes, plus the estimate tests it builds on (envelopes, hours, the window in merge, the
# Arrow kernel's billed columns). Run from the repository root. Screenshots land in test-artifacts/ (git-ignored).
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
    apt-get update
    apt-get install -y chromium
fi

venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q -e '.[dev,arrow]'
IMAGEPRICING_REQUIRE_CHROMIUM=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_dashboard_browser.py tests/test_estimate_envelopes.py tests/test_estimate_hour.py tests/test_arrow.py
ls -l test-artifacts/
