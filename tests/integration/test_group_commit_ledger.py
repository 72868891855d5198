"""Group commit and the ledger: when a batch falls back to one job at a time, the
ledger head is still locked once and last, and each job still gets its signed receipt.
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_group_commit import job, one_batch, request, submit

from conftest import World
from fapiao.invoices import rules, service
from fapiao.invoices.batch import IssueJob
from fapiao.invoices.buyer import BuyerInput
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date, month_key


def buyer_as_seller_job(world: World, amount: str) -> IssueJob:
    """An issuing job of the second taxpayer (the usual buyer) selling to the first."""
    platform = world.platform
    with platform.database.transaction(write=False) as session:
        from fapiao.accounts.models import User
        from fapiao.accounts.service import load_actor

        user_id = session.scalar(select(User.id).where(User.username == "buyer"))
        assert user_id is not None
        actor = load_actor(session, user_id)
    req = service.IssueRequest(
        kind="special",
        buyer=BuyerInput(name="北京示例科技有限公司", tax_id="91110108551385082Q"),
        lines=[
            rules.LineInput(
                name="软件维护",
                tax_code="3040201030000000000",
                tax_rate="0.06",
                amount=Decimal(amount),
            )
        ],
        fingerprint=f"b/{amount}",
    )
    prepared = service.prepare_issue(platform, actor, req, None)
    return IssueJob(prepared, platform.numbers.next(prepared.number_prefix), platform.signer)


def test_jobs_sent_one_by_one_lock_the_ledger_head_once_and_last(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a batch falls back to the single path, each job charges its seller's credit
    row; the ledger head is locked once, after all of them, just before the commit. So a
    transaction elsewhere that holds the second seller's credit row and then wants the
    head (what a batch in another process does) is simply waited for: no deadlock, and
    both sides commit. The rolled-back batch leaves nothing in the ledger."""
    from fapiao.invoices import batch
    from fapiao.ledger import service as ledger
    from fapiao.ledger.models import LedgerEntry, LedgerHead

    platform = world.platform
    submit(world, job(world, request("1.00"))).result(10)  # the ledger head exists
    unsigned = job(world, request("10.00"))
    first = IssueJob(unsigned.prepared, unsigned.number, platform.signer)
    second = buyer_as_seller_job(world, "20.00")
    month = month_key(local_date(platform.clock.now()))
    with platform.database.transaction() as session:
        second_seller = second.prepared.seller_id
        batch._credit_used(session, second_seller, month)  # the row exists

    def failing(session: Session, jobs: Any) -> Any:
        raise RuntimeError("simulated: the batch write failed")

    monkeypatch.setattr(batch, "_write_batch", failing)
    other_errors: list[BaseException] = []
    holding = threading.Event()

    def other_process_batch() -> None:
        """Locks the second seller's credit row, waits, then locks the ledger head."""
        try:
            with platform.database.transaction() as session:
                rows = select(batch.CreditUsage).where(
                    batch.CreditUsage.taxpayer_id == second_seller,
                    batch.CreditUsage.month == month,
                )
                session.execute(rows.with_for_update()).one()
                holding.set()
                threading.Event().wait(1.0)
                session.execute(
                    select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
                ).one()
        except BaseException as exc:  # reported below
            other_errors.append(exc)
        finally:
            holding.set()

    postgres = platform.database.dialect == "postgresql"
    other = threading.Thread(target=other_process_batch) if postgres else None
    if other is not None:
        other.start()
        assert holding.wait(10)
    with one_batch(platform):
        futures = [submit(world, first), submit(world, second)]
    results = [future.result(20) for future in futures]
    if other is not None:
        other.join(20)
    assert other_errors == []
    assert all(result.receipt and result.receipt["signature"] for result in results)
    with platform.database.transaction(write=False) as session:
        subjects = list(session.scalars(select(LedgerEntry.subject).order_by(LedgerEntry.seq)))
        assert subjects[-2:] == [first.number, second.number]
        assert len(subjects) == 3  # the first invoice, then these two; nothing of the batch

        def load(number: str) -> Invoice | None:
            return session.scalar(select(Invoice).where(Invoice.number == number))

        checked = ledger.check(session, load)
        assert checked.problem is None and checked.entries == 3


def test_a_repeated_key_in_a_batch_sent_one_by_one_gets_the_first_ones_receipt(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: with ledger appends deferred to the commit, the second request of
    a key, answered from the first's invoice in the same transaction, got no receipt."""
    from fapiao.invoices import batch

    def failing(session: Session, jobs: Any) -> Any:
        raise RuntimeError("simulated: the batch write failed")

    monkeypatch.setattr(batch, "_write_batch", failing)
    platform = world.platform
    twins = []
    for _ in range(2):
        unsigned = job(world, request("30.00"), key="twin-key")
        twins.append(IssueJob(unsigned.prepared, unsigned.number, platform.signer))
    with one_batch(platform):
        futures = [submit(world, item) for item in twins]
    first, second = (future.result(10) for future in futures)
    assert second.earlier is not None
    assert first.result()[0].number == second.result()[0].number
    assert first.receipt and first.receipt["signature"]
    assert second.receipt == first.receipt
