"""Group commit with several sellers, and with the ledger: a batch charges each seller's
credit once, in one lock order; when a batch falls back to one job at a time, the ledger
head is still locked once and last, and each job still gets its signed receipt. Runs on
SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_concurrency import request as one_line_request
from test_concurrency import seller_actor
from test_group_commit import job, one_batch, outcome, request, submit

from conftest import World
from fapiao.invoices import service
from fapiao.invoices.batch import IssueJob
from fapiao.invoices.buyer import BuyerInput
from fapiao.invoices.credit import credit_used
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date, month_key
from fapiao.kit.errors import Conflict
from fapiao.taxpayers.models import Taxpayer


def buyer_as_seller_job(world: World, amount: str) -> IssueJob:
    """An issuing job of the second taxpayer (the usual buyer) selling to the first."""
    platform = world.platform
    actor = seller_actor(world, "buyer")
    req = dataclasses.replace(
        one_line_request(amount),
        buyer=BuyerInput(name="北京示例科技有限公司", tax_id="91110108551385082Q"),
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
        batch._credit_used(session, second_seller, month, None)  # the row exists

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


def used_by(world: World, job: IssueJob) -> Decimal:
    """The month's credit use of the job's seller."""
    with world.platform.database.transaction(write=False) as session:
        month = month_key(job.prepared.issue_date)
        return credit_used(session, job.prepared.seller_id, month)


def test_a_batch_of_two_sellers_charges_each_ones_credit(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Two sellers in one batch: each seller's credit is charged (two charges, one after
    the other), in one commit, by the batch itself (not job by job after a failure)."""
    caplog.set_level("INFO", logger="fapiao.writer")
    platform = world.platform
    for item in (job(world, request("1.00")), buyer_as_seller_job(world, "1.00")):
        submit(world, item).result(10)  # both credit rows exist
    first = [job(world, request(amount)) for amount in ("10.00", "20.00")]
    second = buyer_as_seller_job(world, "5.00")
    before = (used_by(world, first[0]), used_by(world, second), platform.writer.batches)
    with one_batch(platform):
        futures = [submit(world, item) for item in (*first, second)]
    assert all(future.result(10).invoice_row for future in futures)
    assert platform.writer.batches - before[2] == 2  # the gate's batch, then all three
    assert used_by(world, first[0]) - before[0] == Decimal("32.00")  # 10+1 and 20+1
    assert used_by(world, second) - before[1] == Decimal("5.00")
    assert "one by one" not in caplog.text


def test_a_stale_credit_read_of_one_of_two_sellers_sends_the_batch_job_by_job(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """When the second seller's credit was used by another transaction after the batch
    read it (simulated: the read comes back short), that seller's charge matches nothing;
    the batch is rolled back and run job by job, which refuses only what does not fit.
    (The first seller, registered first, has the lower id and is charged first: its
    charge is undone with the rest.)"""
    from fapiao.invoices import batch

    first = job(world, request("9.00"))
    second = buyer_as_seller_job(world, "60.00")
    with world.platform.database.transaction() as session:  # the second seller's limit
        session.execute(
            Taxpayer.__table__.update()
            .where(Taxpayer.id == second.prepared.seller_id)
            .values(credit_limit=Decimal("100.00"))
        )
    submit(world, second).result(10)  # 60.00 of 100.00 used
    seller = second.prepared.seller_id
    original = batch._credit_used
    monkeypatch.setattr(
        batch,
        "_credit_used",
        lambda session, taxpayer, month, known: (
            original(session, taxpayer, month, known) - (6000 if taxpayer == seller else 0)
        ),
    )
    again = buyer_as_seller_job(world, "50.00")  # fits the stale read only
    caplog.set_level("INFO", logger="fapiao.writer")
    with one_batch(world.platform):
        futures = [submit(world, item) for item in (first, again)]
    results = [outcome(future) for future in futures]
    assert results[0].invoice_row is not None
    assert isinstance(results[1], Conflict) and results[1].code == "CREDIT_LIMIT_EXCEEDED"
    assert "CreditRace" in caplog.text
    assert used_by(world, second) == Decimal("60.00")
    assert used_by(world, first) == Decimal("10.00")
