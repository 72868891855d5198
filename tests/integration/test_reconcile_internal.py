"""`fapiao reconcile --internal`: finds what the journal, the invoices and the outbox
disagree on, and re-queues lost events. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from conftest import World, invoice_body
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.ledger.models import LedgerEntry
from fapiao.outbox.models import OutboxEvent


def cli(world: World, *args: str) -> Any:
    state = CliState()
    state._platform = world.platform
    return CliRunner().invoke(app, ["--lang", "en", *args], obj=state)


def issue(world: World) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    )
    assert response.status_code == 201
    return str(response.json()["number"])


def test_lost_events_are_requeued_and_tampering_reported(world: World) -> None:
    numbers = [issue(world) for _ in range(3)]
    clean = cli(world, "reconcile", "--internal")
    assert clean.exit_code == 0, clean.output
    assert "Journal, invoices and outbox agree." in clean.output

    with world.platform.database.transaction() as session:
        session.execute(
            delete(OutboxEvent).where(
                OutboxEvent.subject == numbers[1], OutboxEvent.event_type == "invoice.received"
            )
        )
    found = cli(world, "reconcile", "--internal")
    assert found.exit_code == 1
    assert f"Re-queued invoice.received for invoice {numbers[1]}." in found.output
    with world.platform.database.transaction(write=False) as session:
        again = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.subject == numbers[1], OutboxEvent.status == "pending")
        )
    assert again == 2
    assert cli(world, "reconcile", "--internal").exit_code == 0  # fixed for good

    with world.platform.database.transaction() as session:
        session.execute(delete(LedgerEntry).where(LedgerEntry.subject == numbers[2]))
    tampered = cli(world, "reconcile", "--internal")
    assert tampered.exit_code == 1
    assert f"Invoice {numbers[2]} has no journal entry." in tampered.output
    assert cli(world, "reconcile").exit_code == 2  # the enterprise-list mode needs a file
