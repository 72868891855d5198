"""PostgreSQL batches from an event loop, written on that loop (see `fapiao.writer`).

Each loop has a `LoopWriter`: an asyncio engine of its own, the jobs waiting, and one
task (the drain) writing them, one batch at a time; the jobs that arrive meanwhile make
the next batch. The batch runs the same code as the writer thread's, in a greenlet
(`greenlet_spawn`): each statement awaits the server while the loop handles requests."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from fapiao.db import read_wal_position

Job = Callable[[Session], Any]
# (jobs, a new transaction's session, the WAL position now) -> (outcomes, position)
Write = Callable[
    [
        list[Job],
        Callable[[], contextlib.AbstractContextManager[Session]],
        Callable[[], int | None],
    ],
    tuple[list[Any], int | None],
]


def settle(waiting: Sequence[tuple[Job, Any]], outcomes: list[Any]) -> None:
    """Each job's future (asyncio or concurrent) gets its outcome: the exception the job
    ended with, or its result. A future already done (cancelled) is left alone."""
    for (_job, future), outcome in zip(waiting, outcomes, strict=True):
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class LoopWriter:
    """The PostgreSQL writer of one event loop: `run(job)` queues a job and answers once
    the batch it went into is committed."""

    def __init__(self, engine: AsyncEngine, max_batch: int, write: Write) -> None:
        self.engine = engine
        self._max_batch = max_batch
        self._write = write
        # One round trip, no BEGIN/ROLLBACK around it (shares the engine's pool).
        self._autocommit: Engine = engine.sync_engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )
        self.pending: list[tuple[Job, asyncio.Future[Any]]] = []
        self.drain: asyncio.Task[None] | None = None

    async def run(self, job: Job) -> tuple[Any, int | None]:
        """The job's result and the WAL position after the commit that made it durable."""
        loop = asyncio.get_running_loop()
        waiting: asyncio.Future[tuple[Any, int | None]] = loop.create_future()
        self.pending.append((job, waiting))
        if self.drain is None or self.drain.done():
            # A context of its own: not the first caller's request state.
            self.drain = loop.create_task(self._drain(), context=contextvars.Context())
        return await waiting

    async def _drain(self) -> None:
        while self.pending:
            items = self.pending[: self._max_batch]
            del self.pending[: self._max_batch]
            chunk = [item for item in items if not item[1].done()]
            if not chunk:
                continue
            try:
                outcomes, position = await greenlet_spawn(
                    self._write, [job for job, _ in chunk], self._transaction, self.wal_position
                )
            except BaseException as exc:  # cancelled, or a failure outside the transaction
                for _job, future in chunk + self.pending:
                    if future.done():
                        continue
                    if isinstance(exc, Exception):
                        future.set_exception(exc)
                    else:
                        future.cancel()
                self.pending.clear()
                if not isinstance(exc, Exception):
                    raise
                return  # every caller has the failure; the next job starts a new drain
            answers = [  # a result goes with the position of the commit that made it durable
                outcome if isinstance(outcome, BaseException) else (outcome, position)
                for outcome in outcomes
            ]
            settle(chunk, answers)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        """`Database.transaction`, on this loop's engine (inside the greenlet)."""
        with Session(self.engine.sync_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def wal_position(self) -> int | None:
        """`Database.wal_position`, on this loop's engine (inside the greenlet)."""
        return read_wal_position(self._autocommit)

    async def aclose(self) -> None:
        """Finish the batches and close the engine's connections, on its loop."""
        if self.drain is not None:  # shielded: a cancelled shutdown lets it finish
            await asyncio.gather(asyncio.shield(self.drain), return_exceptions=True)
        await self.engine.dispose()
