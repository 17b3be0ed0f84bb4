"""The dashboard's HTML without a browser (tests/test_dashboard_browser.py measures it in Chromium).

Issue 21: unknown counts appear only under their own currency (the currency of the provider's price
book), the spend-over-time charts print their scale, and every cell of the details table names its
column, so a phone can show each row as a card.
"""

from __future__ import annotations

import re
from pathlib import Path

from imagepricing.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "requests.jsonl"


def _page(tmp_path: Path, group_by: str) -> str:
    out = tmp_path / f"{group_by.replace(',', '-')}.html"
    assert (
        main(
            [
                "estimate",
                str(EXAMPLE),
                "--format",
                "html",
                "--group-by",
                group_by,
                "--as-of",
                "2026-05-01",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    return out.read_text(encoding="utf-8")


def _sections(page: str) -> dict[str, str]:
    """Each <h2> title and the HTML up to the next one."""
    parts = re.split(r"<h2>(.*?)</h2>", page)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_grouped_by_provider_unknowns_are_under_their_currency_only(tmp_path: Path) -> None:
    sections = _sections(_page(tmp_path, "provider,model"))
    credits, usd = sections["credits per provider / model"], sections["USD per provider / model"]
    # dall-e-3 at openai (USD list prices): one request of unknown price, shown under USD only.
    assert re.search(r"openai / dall-e-3</div>.*?\(\+1 unknown price\)", usd)
    assert "openai / dall-e-3" not in credits
    # acedata's gpt-image-2:official on 2026-06-01 (credits, no price in force before 2026-06-27):
    # under credits only.
    assert re.search(r"acedata / gpt-image-2:official</div>.*?\(\+1 unknown price\)", credits)
    assert "acedata" not in usd
    assert "Requests of unknown cost" not in sections


def test_without_the_provider_unknowns_are_never_under_a_currency(tmp_path: Path) -> None:
    # Grouped by model, a group may mix providers of different currencies: its unknown counts are
    # listed once, apart, never repeated under each currency.
    sections = _sections(_page(tmp_path, "model"))
    for currency in ("credits per model", "USD per model"):
        assert "unknown price" not in sections[currency], sections[currency]
        assert "unknown model" not in sections[currency], sections[currency]
    apart = sections["Requests of unknown cost"]
    assert "<li>dall-e-3: +1 unknown price</li>" in apart
    assert "<li>(unknown model): +1 unknown model</li>" in apart


def test_time_charts_print_their_scale(tmp_path: Path) -> None:
    sections = _sections(_page(tmp_path, "day,model"))
    chart = sections["credits per day"]
    scale = re.search(r'<div class="yaxis"><span>(.*?)</span><span>(.*?)</span><span>(.*?)</span></div>', chart)
    assert scale is not None, chart
    top, half, bottom = scale.groups()
    assert top.endswith(" credits")
    assert bottom == "0"
    assert float(half) * 2 == float(top.split()[0])


def test_every_details_cell_names_its_column(tmp_path: Path) -> None:
    details = _sections(_page(tmp_path, "provider"))["Details"]
    headers = re.findall(r"<th>(.*?)</th>", details)
    first_row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", details, re.DOTALL)
    assert first_row is not None
    labels = re.findall(r'data-label="(.*?)"', first_row.group(1))
    assert labels == headers
    assert "cost" in labels
