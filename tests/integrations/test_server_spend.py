"""The server's spend (`/v1/spend`, `imagepricing_predicted_spend_total`) holds no request it
rejects, and says which checks it covers (issue 21, item 6).

The server judges requests before they are sent and never sees upstream's answer, so no call it
counts can have failed upstream; what it can hold is its own verdicts, and a rejected one adds
nothing, even where `check` quotes a unit price for the refused request.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from imagepricing import check
from imagepricing.catalog import default_catalog

pytest.importorskip("prometheus_client")  # the server extra: _metrics imports it

from imagepricing.integrations._metrics import ServerMetrics

ACCEPTED = {"model": "nano-banana", "prompt": "p"}
# Refused (dall-e-3 takes n up to 1), though its price is known: `check` quotes the unit price.
REJECTED = {"model": "dall-e-3", "prompt": "p", "n": 2}


def test_a_rejected_check_adds_nothing_to_the_spend() -> None:
    catalog = default_catalog()
    refused = check(REJECTED, provider="openai", catalog=catalog)
    assert not refused.ok
    assert refused.unit_price is not None  # what it would cost is quoted...
    assert refused.cost is None  # ...but a refused call is not billed
    metrics = ServerMetrics(catalog)
    try:
        for _ in range(3):
            metrics.record(check(ACCEPTED, catalog=catalog))
        metrics.record(refused)
        spend = metrics.spend()
    finally:
        metrics.close()
    assert spend["totals"] == {"credits": str(Decimal("0.14") * 3)}
    assert (spend["checks"], spend["accepted"], spend["rejected"]) == (4, 3, 1)
    assert [row["provider"] for row in spend["spend"]] == ["acedata"]  # nothing under openai
