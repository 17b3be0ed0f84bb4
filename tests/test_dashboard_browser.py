"""The HTML dashboard in a real headless Chromium (Debian's `chromium`): no horizontal overflow and
every group label visible on one line, at 1280 px and at 390 px, for the shipped example log and
for a generated 100,000-line log. Screenshots are kept under test-artifacts/ (git-ignored).

Each element's own box is measured, not only the page's: every cell of the details table (the cost
above all) lies inside the window and inside any box that would scroll or clip it (a table that
scrolls in its own box passes a page-level check while its cost column sits behind a scrollbar),
and every time chart has a value axis whose labels are visible.

The page itself has no script and a CSP that forbids one; the probe runs on a copy whose CSP
allows one inline script, which measures the layout and writes the result into the DOM that
`--dump-dom` prints. Skipped without Chromium, unless IMAGEPRICING_REQUIRE_CHROMIUM=1 (CI).
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from imagepricing.cli import main

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
WIDTHS = (1280, 390)
_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if _CHROMIUM is None:
    if os.environ.get("IMAGEPRICING_REQUIRE_CHROMIUM") == "1":
        raise RuntimeError("IMAGEPRICING_REQUIRE_CHROMIUM=1 but no chromium on PATH")
    pytest.skip("no chromium on PATH (apt-get install chromium)", allow_module_level=True)

_PROBE = """
<script>
(function () {
  var width = window.innerWidth;
  var out = {width: width, scrollWidth: document.documentElement.scrollWidth, labels: 0, thinned: 0,
             ticks: [], problems: []};
  var nodes = document.querySelectorAll('.label, .legend li, .axis span, .yaxis span, h2');
  for (var i = 0; i < nodes.length; i++) {
    var el = nodes[i];
    if (el.parentNode.className === 'axis' && getComputedStyle(el).display === 'none') {
      out.thinned += 1;  // a tick label left out at this width, by design
      continue;
    }
    var rect = el.getBoundingClientRect();
    var line = parseFloat(getComputedStyle(el).lineHeight) || 20;
    out.labels += 1;
    if (rect.width <= 0 || rect.height <= 0) out.problems.push(['hidden', el.textContent]);
    if (rect.left < -1 || rect.right > width + 1) out.problems.push(['off screen', el.textContent, rect.right]);
    if (el.scrollWidth > el.clientWidth + 1) out.problems.push(['clipped', el.textContent]);
    if (el.tagName !== 'H2' && rect.height > line * 1.6) out.problems.push(['wrapped', el.textContent, rect.height]);
  }
  // Tick labels of one axis never overlap one another.
  var axes = document.querySelectorAll('.axis');
  for (var a = 0; a < axes.length; a++) {
    var shown = [];
    var spans = axes[a].querySelectorAll('span');
    for (var s = 0; s < spans.length; s++) {
      if (getComputedStyle(spans[s]).display !== 'none') shown.push(spans[s].getBoundingClientRect());
    }
    out.ticks.push(shown.length);
    for (var t = 1; t < shown.length; t++) {
      if (shown[t].left < shown[t - 1].right + 2) {
        out.problems.push(['ticks overlap', a, t, shown[t - 1].right, shown[t].left]);
      }
    }
  }
  // Every cell of the details table is inside the window and inside any ancestor that scrolls or clips.
  out.cells = 0; out.costs = 0; out.rows = document.querySelectorAll('table tbody tr').length;
  var cells = document.querySelectorAll('table td, table th');
  for (var c = 0; c < cells.length; c++) {
    var cell = cells[c];
    if (getComputedStyle(cell).display === 'none') continue;
    var head = cell.closest('thead');
    if (head && getComputedStyle(head).position === 'absolute') continue;  // headers repeated in each card
    var box = cell.getBoundingClientRect();
    out.cells += 1;
    if (cell.getAttribute('data-label') === 'cost' && cell.parentNode.parentNode.tagName === 'TBODY') out.costs += 1;
    if (box.width <= 0 || box.height <= 0) out.problems.push(['cell hidden', cell.textContent]);
    if (box.left < -1 || box.right > width + 1) out.problems.push(['cell off screen', cell.textContent, box.right]);
    for (var up = cell.parentElement; up && up !== document.documentElement; up = up.parentElement) {
      var style = getComputedStyle(up);
      if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
        var around = up.getBoundingClientRect();
        if (box.right > around.right + 1 || box.left < around.left - 1) {
          out.problems.push(['cell behind a scrollbar', cell.textContent, box.right, around.right]);
        }
      }
    }
  }
  // Every time chart has a value axis beside it.
  var charts = document.querySelectorAll('.time');
  out.charts = charts.length; out.unscaled = 0;
  for (var k = 0; k < charts.length; k++) {
    var beside = charts[k].previousElementSibling;
    if (!beside || !beside.classList.contains('yaxis') || beside.querySelectorAll('span').length < 2) out.unscaled += 1;
  }
  var host = window.parent.document;
  var pre = host.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  host.body.appendChild(pre);
})();
</script>
"""


def _chromium(*args: str, tmp: Path) -> str:
    command = [
        str(_CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _framed(page: Path, width: int, tmp: Path, *, probe: bool) -> Path:
    """The page in an iframe `width` px wide: headless Chromium keeps windows at least 500 px
    wide, and an iframe's width is its viewport (media queries included). srcdoc shares the
    host's origin, so the probe can write its result into the host page."""
    text = page.read_text(encoding="utf-8")
    if probe:
        allowed = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
        text = re.sub(r'(Content-Security-Policy" content=")[^"]*', lambda m: m.group(1) + allowed, text, count=1)
        text = text.replace("</body>", _PROBE + "</body>", 1)
    host = tmp / f"{'probe' if probe else 'frame'}-{page.stem}-{width}.html"
    host.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0;display:block}</style>'
        f'</head><body><iframe width="{width}" height="1600" srcdoc="{html.escape(text)}"></iframe></body></html>',
        encoding="utf-8",
    )
    return host


def _measure(page: Path, width: int, tmp: Path) -> dict[str, object]:
    probe = _framed(page, width, tmp, probe=True)
    dom = _chromium("--window-size=1400,1600", "--dump-dom", probe.as_uri(), tmp=tmp)
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run"
    result: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return result


def _generated_log(path: Path, lines: int = 100_000) -> None:
    rng = random.Random(14)
    models = [
        ("gpt-image-2", {"size": "2048x1152", "quality": "high"}),
        ("gpt-image-1", {"size": "1024x1024"}),
        ("nano-banana", {}),
        ("nano-banana-pro", {}),
        ("dall-e-3", {"size": "1792x1024"}),
        ("openai/gpt-image-1", {}),  # unknown to the catalog
    ]
    hosts = ["https://api.acedata.cloud", "https://api.xhuoapi.ai", "https://api.openai.com"]
    with path.open("w", encoding="utf-8") as out:
        for index in range(lines):
            model, extra = rng.choice(models)
            request = {"model": model, "prompt": f"picture {index}", **extra}
            if rng.random() < 0.1:
                out.write(json.dumps(request) + "\n")  # bare: no time
                continue
            if rng.random() < 0.005:
                out.write("{broken\n")
                continue
            line = {
                "id": f"req_{index}",
                "time": f"2026-06-{1 + rng.randrange(30):02d}T{rng.randrange(24):02d}:00:00Z",
                "endpoint": rng.choice(hosts) + "/v1/images/generations",
                "status": 500 if rng.random() < 0.03 else 200,
                "request": request,
            }
            out.write(json.dumps(line) + "\n")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("dashboard")
    big = tmp / "generated.jsonl"
    _generated_log(big)
    built = {}
    example = ROOT / "examples" / "requests.jsonl"
    one_day = ["--since", "2026-06-01", "--until", "2026-06-01"]
    for name, log, group_by, extra in (
        ("example", example, "day,model", []),
        ("generated", big, "day,model,provider", []),
        ("generated-by-model", big, "model", []),
        ("example-by-hour", example, "hour,provider", []),
        ("example-one-day-by-hour", example, "hour,model", one_day),
        ("generated-by-hour", big, "hour,model", []),  # 720 hours over 30 days
        ("generated-widest", big, "hour,model,provider,endpoint,tier", []),  # every label column at once
    ):
        page = tmp / f"{name}.html"
        args = ["estimate", str(log), "--format", "html", "--group-by", group_by, "-o", str(page), *extra]
        status = main(args)
        assert status == 0
        built[name] = page
    return built


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "name",
    [
        "example",
        "generated",
        "generated-by-model",
        "example-by-hour",
        "example-one-day-by-hour",
        "generated-by-hour",
        "generated-widest",
    ],
)
def test_no_overflow_and_every_label_visible(
    pages: dict[str, Path], name: str, width: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    page = pages[name]
    measured = _measure(page, width, tmp_path)
    assert measured["width"] == width
    assert measured["scrollWidth"] == width, measured  # nothing wider than the window
    assert measured["labels"], "no label found"
    assert measured["problems"] == [], measured["problems"]
    assert measured["cells"], "no cell of the details table measured"
    assert measured["costs"] == measured["rows"], measured  # every row's cost is on screen
    assert measured["unscaled"] == 0, measured  # every time chart has a labelled value axis
    if name != "generated-by-model":
        assert measured["charts"], "no time chart drawn"
    ticks = measured["ticks"]
    assert isinstance(ticks, list)
    assert all(shown >= (3 if width == 1280 else 2) for shown in ticks), ticks  # every axis is labelled
    if name == "generated-by-hour":
        # 30 day ticks, thinned to what fits: fewer on a phone, some hidden there by the media query.
        assert ticks
        assert all(shown <= (9 if width == 1280 else 4) for shown in ticks), ticks
        if width == 390:
            assert measured["thinned"]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"dashboard-{name}-{width}.png"
    framed = _framed(page, width, tmp_path, probe=False)
    _chromium(f"--window-size={max(width, 500)},1600", f"--screenshot={shot}", framed.as_uri(), tmp=tmp_path)
    assert shot.stat().st_size > 10_000


def test_the_shipped_page_keeps_its_strict_policy(pages: dict[str, Path]) -> None:
    text = pages["generated"].read_text(encoding="utf-8")
    assert "default-src 'none'; style-src 'unsafe-inline'\"" in text
    for forbidden in ("<script", "http://", "https://", "src=", "url(", "@import"):
        assert forbidden not in text
    assert "(no time)" not in text.split("<h2>Details</h2>")[0]  # never on the time axis or the bars
    assert "without a time" in text
