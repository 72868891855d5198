"""Group commit: jobs that arrive together share one transaction, and issuing jobs are
written together. Each test holds the writer thread on a gate so the jobs queued behind
it are taken as one batch. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from test_concurrency import seller_actor

from conftest import BUYER_ID, World
from fapiao.consistency import tracking
from fapiao.invoices import rules, service
from fapiao.invoices.batch import IssueJob
from fapiao.invoices.buyer import BuyerInput
from fapiao.invoices.credit import credit_used
from fapiao.invoices.models import IdempotencyKey, Invoice, InvoiceLine
from fapiao.kit.clock import local_date, month_key
from fapiao.kit.errors import Conflict, ValidationFailed
from fapiao.outbox.models import OutboxEvent
from fapiao.platform import Platform
from fapiao.taxpayers.models import Taxpayer


@contextmanager
def one_batch(platform: Platform) -> Iterator[None]:
    """Jobs submitted inside the block are written together when it ends."""
    gate = threading.Event()
    started = threading.Event()

    def hold(_: Session) -> None:
        started.set()
        gate.wait(10)

    first = platform.writer.submit(hold)
    started.wait(10)
    try:
        yield
    finally:
        gate.set()
        first.result(10)


def request(amount: str, key: str = "", buyer_name: str = "北京样例贸易有限公司") -> Any:
    return service.IssueRequest(
        kind="special",
        buyer=BuyerInput(name=buyer_name, tax_id=BUYER_ID),
        lines=[
            rules.LineInput(
                name="软件维护",
                tax_code="3040201030000000000",
                tax_rate="0.06",
                amount=Decimal(amount),
            ),
            rules.LineInput(
                name="数据库软件",
                tax_code="1060301010200000000",
                tax_rate="0.13",
                quantity=Decimal("1"),
                unit_price=Decimal("1.00"),
            ),
        ],
        fingerprint=f"{amount}/{buyer_name}",
    )


def job(world: World, req: Any, key: str | None = None) -> IssueJob:
    """An issuing job with its number reserved (a reservation is a write of its own, so
    it cannot happen while the gate holds the writer)."""
    platform = world.platform
    prepared = service.prepare_issue(platform, seller_actor(world), req, key)
    return IssueJob(prepared, platform.numbers.next(prepared.number_prefix))


def submit(world: World, issue_job: IssueJob) -> Future[service.Issued]:
    return world.platform.writer.submit(issue_job)


def outcome(future: Future[service.Issued]) -> Any:
    try:
        return future.result(10)
    except Exception as exc:  # the job's own error
        return exc


def count(world: World, model: Any) -> int:
    with world.platform.database.transaction(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def set_credit_limit(world: World, amount: str) -> None:
    with world.platform.database.transaction() as session:
        session.execute(
            Taxpayer.__table__.update()
            .where(Taxpayer.tax_id == "91110108551385082Q")
            .values(credit_limit=Decimal(amount))
        )


def test_jobs_queued_together_share_one_commit(world: World) -> None:
    platform = world.platform
    before = platform.writer.batches
    jobs = [job(world, request(f"{100 + index}.00")) for index in range(12)]
    with one_batch(platform):
        futures = [submit(world, item) for item in jobs]
    results = [future.result(10) for future in futures]
    assert platform.writer.batches - before == 2  # the gate's batch, then all twelve
    numbers = [result.result()[0].number for result in results]
    assert len(set(numbers)) == 12
    assert count(world, Invoice) == 12
    assert count(world, InvoiceLine) == 24
    assert count(world, OutboxEvent) == 24  # issued to the seller, received by the buyer
    with platform.database.transaction(write=False) as session:
        stored = session.scalar(select(Invoice).where(Invoice.number == numbers[5]))
        assert stored is not None
        assert stored.total_amount == Decimal("106.00")
        assert [line.amount for line in stored.lines] == [Decimal("105.00"), Decimal("1.00")]
        month = month_key(local_date(platform.clock.now()))
        seller_id = session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id.like("911101085%")))
        assert seller_id is not None
        expected = sum(Decimal(f"{101 + index}.00") for index in range(12))
        assert credit_used(session, seller_id, month) == expected


def test_credit_limit_is_charged_job_by_job_within_a_batch(world: World) -> None:
    set_credit_limit(world, "500.00")
    amounts = ["199.00", "199.00", "199.00", "49.00", "99.00"]  # +1.00 line each
    jobs = [job(world, request(amount)) for amount in amounts]
    with one_batch(world.platform):
        futures = [submit(world, item) for item in jobs]
    results = [outcome(future) for future in futures]
    # 200 + 200 = 400; the third (200) would pass 500; 50 fits (450); 100 would pass.
    refused = [isinstance(result, Conflict) for result in results]
    assert refused == [False, False, True, False, True]
    assert {results[2].code, results[4].code} == {"CREDIT_LIMIT_EXCEEDED"}
    assert results[2].params == {"remaining": "100.00"}
    assert count(world, Invoice) == 3
    assert count(world, OutboxEvent) == 6


def test_a_refused_job_does_not_disturb_the_others(world: World) -> None:
    jobs = [
        job(world, request("10.00")),
        job(world, request("20.00", buyer_name="错误的名称有限公司")),
        job(world, request("30.00")),
    ]
    with one_batch(world.platform):
        good, wrong_name, also_good = (submit(world, item) for item in jobs)
    assert good.result(10).invoice_row is not None
    assert also_good.result(10).invoice_row is not None
    error = outcome(wrong_name)
    assert isinstance(error, ValidationFailed)
    assert [(e.field, e.code) for e in error.errors] == [("buyer.name", "BUYER_NAME_MISMATCH")]
    assert count(world, Invoice) == 2


def test_idempotency_twins_in_one_batch_get_one_invoice(world: World) -> None:
    jobs = [
        job(world, request("10.00"), key="order-1"),
        job(world, request("10.00"), key="order-1"),
        job(world, request("99.00"), key="order-1"),
        job(world, request("10.00"), key="order-2"),
    ]
    with one_batch(world.platform):
        first, twin, different, other_key = (submit(world, item) for item in jobs)
    invoice, replayed = first.result(10).result()
    again, replayed_again = twin.result(10).result()
    assert (replayed, replayed_again) == (False, True)
    assert again.number == invoice.number
    conflict = outcome(different)
    assert isinstance(conflict, Conflict) and conflict.code == "IDEMPOTENCY_KEY_REUSED"
    assert other_key.result(10).result()[0].number != invoice.number
    assert count(world, Invoice) == 2
    assert count(world, IdempotencyKey) == 2

    # A later retry, in a batch of its own, replays from the database.
    jobs = [job(world, request("10.00"), key="order-1"), job(world, request("10.00"))]
    with one_batch(world.platform):
        retry, fresh = (submit(world, item) for item in jobs)
    assert retry.result(10).result()[0].number == invoice.number
    assert retry.result(10).result()[1] is True
    assert fresh.result(10).invoice_row is not None
    assert count(world, Invoice) == 3


def failing_batch_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every batched write fail after writing its rows; the sizes of the batches
    tried are recorded in the list returned."""
    from fapiao.invoices import batch

    calls: list[int] = []
    original = batch._write_batch

    def failing(session: Session, jobs: Any) -> Any:
        calls.append(len(jobs))
        original(session, jobs)
        raise RuntimeError("simulated failure after the batch wrote its rows")

    monkeypatch.setattr(batch, "_write_batch", failing)
    return calls


def test_when_the_batch_write_fails_each_job_is_retried_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error in the batched write (here: a key another process committed a
    moment ago) sends every job down the single path, where each gets its own answer."""
    calls = failing_batch_writes(monkeypatch)
    jobs = [job(world, request(f"{index + 1}.00")) for index in range(5)]
    with one_batch(world.platform):
        futures = [submit(world, item) for item in jobs]
    results = [future.result(10) for future in futures]
    assert calls == [5]
    assert all(result.invoice_row is not None for result in results)
    assert count(world, Invoice) == 5  # the batch's rows were rolled back, not doubled
    assert count(world, OutboxEvent) == 10


def test_a_failed_commit_fails_every_job_of_the_batch(world: World) -> None:
    platform = world.platform
    writer = platform.writer

    def poison(_: Session) -> None:
        raise_on_commit.append(True)  # the commit of this batch will fail

    raise_on_commit: list[bool] = []

    def on_commit(_: object) -> None:
        if raise_on_commit:
            raise RuntimeError("disk on fire")

    engine = platform.database.write_engine
    event.listen(engine, "commit", on_commit)
    jobs = [job(world, request("10.00")), job(world, request("20.00"))]
    try:
        with one_batch(platform):
            futures: list[Future[Any]] = [
                submit(world, jobs[0]),
                writer.submit(poison),
                submit(world, jobs[1]),
            ]
        errors = [outcome(future) for future in futures]
    finally:
        event.remove(engine, "commit", on_commit)
    assert all(isinstance(error, RuntimeError) for error in errors), errors
    assert count(world, Invoice) == 0
    # The writer keeps working afterwards.
    assert submit(world, job(world, request("5.00"))).result(10).invoice_row is not None


def test_close_finishes_queued_jobs_then_refuses_new_ones(world: World) -> None:
    platform = world.platform
    done: list[int] = []
    slow: Callable[[Session], None] = lambda _s: done.append(1)  # noqa: E731
    futures = [platform.writer.submit(slow) for _ in range(20)]
    platform.writer.close()
    assert all(future.done() for future in futures) and len(done) == 20
    with pytest.raises(RuntimeError):
        platform.writer.submit(slow)


def test_jobs_from_one_turn_of_the_event_loop_share_a_commit(world: World) -> None:
    """From the event loop (the API) the batch is written on the loop (on PostgreSQL
    through an asyncio connection); each caller gets its own answer."""
    import asyncio

    platform = world.platform
    jobs = [job(world, request(f"{index + 1}.00")) for index in range(6)]
    jobs.insert(3, job(world, request("7.00", buyer_name="错误的名称有限公司")))
    before = platform.writer.batches

    async def issue_all() -> list[Any]:
        calls = [platform.writer.run_async(item) for item in jobs]
        try:
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await platform.writer.aclose()

    results = asyncio.run(issue_all())
    assert isinstance(results[3], ValidationFailed)
    issued = [result for index, result in enumerate(results) if index != 3]
    assert all(isinstance(result, service.Issued) and result.invoice_row for result in issued)
    assert count(world, Invoice) == 6
    assert platform.writer.batches - before == 1


def test_credit_used_by_another_transaction_meanwhile_sends_the_batch_job_by_job(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The batch reads the credit use without a lock and charges it last. When another
    process used credit in between (simulated: the read comes back 300.00 short), the
    final conditional UPDATE matches nothing, and the single path charges job by job,
    so the limit still holds."""
    from fapiao.invoices import batch

    set_credit_limit(world, "500.00")
    for amount in ("299.00",):  # 300.00 used before the batch
        submit(world, job(world, request(amount))).result(10)
    original = batch._credit_used
    monkeypatch.setattr(
        batch,
        "_credit_used",
        lambda session, seller, month, known: original(session, seller, month, known) - 30000,
    )
    jobs = [job(world, request("99.00")) for _ in range(3)]  # 100.00 each
    caplog.set_level("INFO", logger="fapiao.writer")
    with one_batch(world.platform):
        futures = [submit(world, item) for item in jobs]
    results = [outcome(future) for future in futures]
    # The stale read says 0.00 used, so all three "fit"; really only two do (300 + 200).
    assert [isinstance(result, Conflict) for result in results] == [False, False, True]
    assert "CreditRace" in caplog.text  # the charge found the credit gone
    assert count(world, Invoice) == 3
    with world.platform.database.transaction(write=False) as session:
        seller_id = session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id.like("911101085%")))
        month = month_key(local_date(world.platform.clock.now()))
        assert credit_used(session, seller_id or 0, month) == Decimal("500.00")


def test_the_event_loop_keeps_running_while_another_process_writes(world: World) -> None:
    """SQLite: while another process holds the writer lock, the loop does not block on
    it. Jobs submitted meanwhile wait, other coroutines keep running, and once the lock
    is released every waiting job is written, in one commit."""
    import asyncio
    import fcntl
    import os

    platform = world.platform
    lock = platform.database.writer_lock
    if lock is None or lock._path is None:
        assert platform.database.dialect == "postgresql"
        return
    # The jobs (and their numbers) first: numbers are reserved with a write.
    jobs = [job(world, request("1.00"))] + [job(world, request("2.00")) for _ in range(3)]
    # Another process's writer: the same lock file through a descriptor of its own.
    other = os.open(lock._path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    before = platform.writer.batches

    async def scenario() -> tuple[list[Any], int]:
        first = [asyncio.ensure_future(platform.writer.run_async(jobs[0]))]
        ticks = 0
        for _ in range(20):  # the loop is free: this coroutine runs while the lock is held
            await asyncio.sleep(0.01)
            ticks += 1
        assert not first[0].done()
        later = [asyncio.ensure_future(platform.writer.run_async(item)) for item in jobs[1:]]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in first + later)
        fcntl.flock(other, fcntl.LOCK_UN)
        results = await asyncio.wait_for(asyncio.gather(*first, *later), 10)
        return list(results), ticks

    try:
        results, ticks = asyncio.run(scenario())
    finally:
        os.close(other)
    assert ticks == 20
    assert all(isinstance(result, service.Issued) for result in results)
    assert count(world, Invoice) == 4
    assert platform.writer.batches - before == 1


def test_every_job_of_a_batch_carries_the_position_of_its_commit(
    world: World, backend: str
) -> None:
    writer = world.platform.writer
    jobs = [job(world, request(amount)) for amount in ("100.00", "200.00", "300.00")]
    with one_batch(world.platform):
        futures = [writer.submit(item) for item in jobs]
    for future in futures:
        future.result(10)
    later = writer.submit(job(world, request("50.00")))
    later.result(10)
    last = job(world, request("10.00"))
    with tracking() as state:
        writer.run(last)
    if backend == "sqlite":  # no replicas, no positions
        assert [future.wal_position for future in futures] == [None] * 3
        assert later.wal_position is None and state.committed is None
        return
    (position,) = {future.wal_position for future in futures}
    assert position is not None and later.wal_position is not None
    assert position < later.wal_position
    # run() hands the position to the request it serves.
    assert state.committed is not None and state.committed > later.wal_position
