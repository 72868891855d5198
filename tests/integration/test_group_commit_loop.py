"""Group commit from the event loop (the API's path), and batches written without a
savepoint. On PostgreSQL the loop writes through an asyncio connection of its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session
from test_group_commit import count, failing_batch_writes, job, one_batch, request, submit

from conftest import World
from fapiao.consistency import tracking
from fapiao.invoices import service
from fapiao.invoices.credit import CreditUsage
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date, month_key

POSTGRES_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)]
)


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement sent to any database while the block runs."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def test_a_batch_of_issuing_jobs_is_written_without_a_savepoint(world: World) -> None:
    jobs = [job(world, request(f"{index + 1}.00")) for index in range(4)]
    with statements() as sent:
        with one_batch(world.platform):
            futures = [submit(world, item) for item in jobs]
        assert all(future.result(10).invoice_row is not None for future in futures)
    assert count(world, Invoice) == 4
    assert any("INSERT INTO invoices " in statement for statement in sent)
    assert not any("SAVEPOINT" in statement.upper() for statement in sent)


def test_other_jobs_in_the_batch_keep_a_savepoint_each(world: World) -> None:
    """An issuing group next to another kind of job: each group in its own savepoint, so
    a failing job of the other kind leaves the invoices standing."""

    def failing(session: Session) -> None:
        session.execute(select(func.count()).select_from(Invoice))
        raise RuntimeError("this job fails on its own")

    jobs = [job(world, request(f"{index + 1}.00")) for index in range(3)]
    with statements() as sent:
        with one_batch(world.platform):
            futures = [submit(world, item) for item in jobs]
            odd = world.platform.writer.submit(failing)
        assert all(future.result(10).invoice_row is not None for future in futures)
        with pytest.raises(RuntimeError, match="on its own"):
            odd.result(10)
    assert count(world, Invoice) == 3
    # The issuing group's savepoint and the failing job's: one each.
    assert sum(statement.startswith("SAVEPOINT") for statement in sent) == 2


def run_on_a_loop(world: World, jobs: list[Any]) -> list[tuple[Any, int | None]]:
    """Every job through `run_async` at once on a new event loop, each with the
    consistency position its request would get (the loop's connections closed after)."""
    writer = world.platform.writer

    async def one(item: Any) -> tuple[Any, int | None]:
        with tracking() as state:
            try:
                result = await writer.run_async(item)
            except Exception as exc:  # the job's own answer
                return exc, state.committed
        return result, state.committed

    async def all_of_them() -> list[tuple[Any, int | None]]:
        try:
            return await asyncio.gather(*(one(item) for item in jobs))
        finally:
            await writer.aclose()

    return asyncio.run(all_of_them())


def test_jobs_of_one_moment_share_a_commit_and_its_position(world: World, backend: str) -> None:
    writer = world.platform.writer
    jobs = [job(world, request(f"{index + 1}.00")) for index in range(5)]
    before = writer.batches
    answers = run_on_a_loop(world, jobs)
    assert writer.batches - before == 1
    assert all(isinstance(result, service.Issued) for result, _ in answers)
    assert count(world, Invoice) == 5
    positions = {position for _, position in answers}
    if backend == "sqlite":
        assert positions == {None}
    else:
        (position,) = positions
        assert position is not None and position > 0


def test_a_failed_commit_on_the_loop_fails_every_job_then_the_next_batch_works(
    world: World,
) -> None:
    failing = [True]

    def on_commit(_: object) -> None:
        if failing:
            raise RuntimeError("disk on fire")

    jobs = [job(world, request(amount)) for amount in ("10.00", "20.00")]
    event.listen(Engine, "commit", on_commit)
    try:
        answers = run_on_a_loop(world, jobs)
    finally:
        event.remove(Engine, "commit", on_commit)
    assert [type(result) for result, _ in answers] == [RuntimeError, RuntimeError]
    assert all(position is None for _, position in answers)
    assert count(world, Invoice) == 0
    failing.clear()
    (answer,) = run_on_a_loop(world, [job(world, request("5.00"))])
    assert isinstance(answer[0], service.Issued)
    assert count(world, Invoice) == 1


def test_a_refusal_in_a_loop_batch_is_that_jobs_alone(world: World) -> None:
    jobs = [job(world, request(f"{index + 1}.00")) for index in range(4)]
    jobs.insert(2, job(world, request("7.00", buyer_name="错误的名称有限公司")))
    answers = run_on_a_loop(world, jobs)
    kinds = [type(result).__name__ for result, _ in answers]
    assert kinds == ["Issued", "Issued", "ValidationFailed", "Issued", "Issued"]
    assert count(world, Invoice) == 4


@POSTGRES_ONLY
def test_each_event_loop_writes_on_connections_of_its_own(world: World) -> None:
    """A second loop (a test client, a restarted server) gets an asyncio engine of its
    own; `aclose` on each loop closed that loop's connections."""
    writer = world.platform.writer
    pools: list[Any] = []
    real = world.platform.database.async_write_engine

    def recording() -> Any:
        engine = real()
        pools.append(engine.sync_engine.pool)
        return engine

    world.platform.database.async_write_engine = recording  # type: ignore[method-assign]
    for amount in ("1.00", "2.00"):
        (answer,) = run_on_a_loop(world, [job(world, request(amount))])
        assert isinstance(answer[0], service.Issued)
    assert len(pools) == 2 and pools[0] is not pools[1]
    assert [pool.checkedin() + pool.checkedout() for pool in pools] == [0, 0]
    assert len(writer._loops) == 0


def test_a_failed_batch_on_the_loop_is_run_again_job_by_job(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = failing_batch_writes(monkeypatch)
    answers = run_on_a_loop(world, [job(world, request(f"{i + 1}.00")) for i in range(4)])
    assert calls == [4]
    assert all(isinstance(result, service.Issued) for result, _ in answers)
    assert count(world, Invoice) == 4  # the batch's rows were rolled back, not doubled


@POSTGRES_ONLY
def test_a_failure_outside_the_transaction_answers_every_caller(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something failing in the loop's writer after the commit (here: reading the WAL
    position) reaches every waiting caller instead of leaving them waiting."""
    from fapiao.writer_loop import LoopWriter

    def broken(_self: Any) -> int:
        raise RuntimeError("no position today")

    monkeypatch.setattr(LoopWriter, "wal_position", broken)
    answers = run_on_a_loop(world, [job(world, request(a)) for a in ("1.00", "2.00")])
    assert [str(result) for result, _ in answers] == ["no position today"] * 2


@POSTGRES_ONLY
def test_the_loop_keeps_serving_while_a_batch_waits_for_a_lock(world: World) -> None:
    """While another transaction holds the seller's credit row, the batch's charge waits
    for the server; the event loop goes on with other work meanwhile."""
    platform = world.platform
    first = job(world, request("1.00"))
    run_on_a_loop(world, [first])  # the month's credit row exists
    seller, month = first.prepared.seller_id, month_key(local_date(platform.clock.now()))
    holding, release = threading.Event(), threading.Event()

    def other_transaction() -> None:
        with platform.database.transaction() as session:
            locked = select(CreditUsage).where(
                CreditUsage.taxpayer_id == seller, CreditUsage.month == month
            )
            session.execute(locked.with_for_update()).one()
            holding.set()
            release.wait(10)

    other = threading.Thread(target=other_transaction)
    other.start()
    assert holding.wait(10)
    jobs = [job(world, request(amount)) for amount in ("2.00", "3.00")]
    writer = platform.writer
    ticks = 0

    async def scenario() -> list[Any]:
        nonlocal ticks
        issuing = asyncio.gather(*(writer.run_async(item) for item in jobs))
        for _ in range(30):  # 0.3 s of other work while the charge waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not issuing.done()
        release.set()
        try:
            return list(await issuing)
        finally:
            await writer.aclose()

    try:
        results = asyncio.run(scenario())
    finally:
        release.set()
        other.join(10)
    assert ticks == 30
    assert all(isinstance(result, service.Issued) for result in results)
    assert count(world, Invoice) == 3
