"""/readyz and /metrics. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from conftest import World, invoice_body


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} missing from:\n{text}"
    return float(found.group(1))


def test_readyz(world: World) -> None:
    assert world.client.get("/readyz").json() == {"ready": True}


def test_metrics_count_documents_outbox_and_latency(world: World) -> None:
    for _ in range(3):
        response = world.client.post(
            "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
        )
        assert response.status_code == 201
    world.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/down", "events": ["invoice.issued"]},
        headers=world.as_("seller_admin"),
    )
    world.platform.clock.advance(timedelta(seconds=90))  # type: ignore[attr-defined]
    response = world.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert metric(text, 'fapiao_documents_total{kind="invoice.issued"}') == 3
    assert metric(text, "fapiao_outbox_pending") == 6  # issued + received, per invoice
    assert metric(text, "fapiao_outbox_oldest_pending_seconds") >= 90
    assert metric(text, "fapiao_webhook_dead_letters") == 0
    assert metric(text, "fapiao_issue_latency_seconds_count") >= 3
    assert metric(text, 'fapiao_issue_latency_seconds_bucket{le="+Inf"}') >= 3
    assert "91110108551385082Q" not in text  # no label names a taxpayer
