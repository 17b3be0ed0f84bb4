"""The dashboard's HTML without a browser (tests/test_dashboard_browser.py measures it in Chromium).

Issue 21: unknown counts appear only under their own currency (the currency of the provider's price
book, counted per currency by the estimate), the spend-over-time charts print their scale, every cell
of the details table names its column, so a phone can show each row as a card, and failed calls are
counted apart. Issue 20: a USD equivalent beside the credits, labelled as one, with its rate.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from imagepricing.cli import main
from imagepricing.cli._estimate import render_html
from imagepricing.estimation import Estimate, estimate

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


def test_without_the_provider_unknowns_are_still_under_their_own_currency(tmp_path: Path) -> None:
    # Grouped by model, a group may mix providers of different currencies; the estimate counts its
    # unknowns per currency (GroupTotals.unknown_price_by_currency, unknown_model_by_currency), so
    # each is shown under its own currency only, and nothing is left to list apart.
    sections = _sections(_page(tmp_path, "model"))
    credits, usd = sections["credits per model"], sections["USD per model"]
    assert re.search(r"dall-e-3</div>.*?\(\+1 unknown price\)", usd)  # openai's: USD
    assert "unknown model" not in usd
    assert "gpt-image-2:official" not in usd
    assert re.search(r"\(unknown model\)</div>.*?\(\+1 unknown model\)", credits)  # gpt-image-3 at acedata
    assert re.search(r"gpt-image-2:official</div>.*?\(\+1 unknown price\)", credits)
    assert "dall-e-3" not in credits
    assert "Requests of unknown cost" not in sections


def test_unknowns_an_older_estimate_did_not_split_are_listed_apart(tmp_path: Path) -> None:
    # An Estimate read back from JSON written before the split has no per-currency counts: they
    # are listed once, apart, never under a currency they may not belong to.
    with EXAMPLE.open(encoding="utf-8") as log:
        result = estimate(log, group_by="model", as_of=dt.date(2026, 5, 1))
    data = result.to_dict()
    for group in [data["totals"], *data["groups"]]:
        del group["unknown_by_currency"]
    page = render_html(Estimate.from_dict(data))
    sections = _sections(page)
    for currency in ("credits per model", "USD per model"):
        assert "unknown price" not in sections[currency], sections[currency]
        assert "unknown model" not in sections[currency], sections[currency]
    apart = sections["Requests of unknown cost"]
    assert "<li>dall-e-3: +1 unknown price</li>" in apart
    assert "<li>(unknown model): +1 unknown model</li>" in apart


def test_the_usd_equivalent_is_beside_the_credits_and_labelled(tmp_path: Path) -> None:
    sections = _sections(_page(tmp_path, "model"))
    credits = sections["credits per model"]
    # Lines timed from 2026-05-24 have a rate; the four priced lines without a time are priced as
    # of 2026-05-01, before any rate is recorded.
    total = "3.81 credits in all, ≈ 0.28183640 USD equivalent (+ 4 without a rate)."
    assert f'<p class="summary usd">{total}</p>' in credits
    assert 'title="≈ 0.05332040 USD equivalent"' in credits  # nano-banana's bar
    assert "USD equivalent" not in sections["USD per model"]  # a cost in USD is its own equivalent
    details = sections["Details"]
    assert "<th>USD equivalent</th>" in details
    assert ">≈ 0.28183640 USD (+ 4 without a rate)</td>" in details
    assert "credits at 0.095215 USD each from 2026-05-24" in details  # the note: rate, day, what it is not
    assert "never what an account is charged" in details


def test_failed_calls_are_counted_apart_and_out_of_the_spend(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    nano = {"model": "nano-banana", "prompt": "a"}
    lines = [
        {"time": "2026-06-01T10:00:00Z", "request": nano, "status": 200},
        {"time": "2026-06-01T10:01:00Z", "request": nano, "status": 500},
        {"time": "2026-06-01T10:02:00Z", "request": nano, "response": {"success": False, "error": {}}},
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "page.html"
    assert main(["estimate", str(log), "--format", "html", "-o", str(out)]) == 0
    sections = _sections(out.read_text(encoding="utf-8"))
    assert '<div class="amount" title="≈ 0.01333010 USD equivalent">0.14</div>' in sections["credits per model"]
    details = sections["Details"]
    assert '<td class="n" data-label="failed">2</td>' in details
    assert "2 calls failed (HTTP status 400 or more, or &quot;success&quot;: false) and billed nothing" in details
    assert "they would have cost 0.28 credits" in details


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
