"""Group commit: short write jobs from many requests share one transaction.

Issuing is the busiest write. Each invoice on its own transaction pays a BEGIN, a COMMIT
and an fsync, and on SQLite holds the single write lock for all of it, so writers queue
for the disk rather than for work. `GroupCommit` takes every job waiting (up to
`max_batch`), runs them in one transaction, commits once, then answers every caller.
Consecutive jobs of a kind that can be written together (`run_batch`) are; the others
run each in a SAVEPOINT of their own. A job that fails is rolled back to its savepoint
alone and its caller gets its exception; the others are unaffected. Nobody is answered
before the commit, so an acknowledged write is durable.

When a batch is one such group of two or more jobs, it runs without a savepoint (two
round trips fewer on PostgreSQL); if it fails, the transaction is rolled back and run
again with a savepoint per job.

Where the batches are written:

- Jobs from other threads (`submit`, `run`): on one writer thread per process.
- Jobs from the event loop (`run_async`) on SQLite: batched per turn of the loop and
  written on the loop's thread. The batch takes a millisecond or two, and a separate
  writer thread holding SQLite's write lock would wait for the GIL behind request
  handling, which stretches the lock for every process. The loop never waits for that
  lock itself: while another process writes, a helper thread waits, the loop goes on
  reading requests, and their jobs join the batch that is written once the lock is free.
- Jobs from the event loop on PostgreSQL: on the loop too (`writer_loop`), through an
  asyncio connection (the jobs' ordinary session code runs in a greenlet; each statement
  awaits the server while the loop handles requests), one batch in flight per process;
  the jobs that arrive meanwhile make the next batch. A writer thread would have to win the
  GIL back from the busy loop after every round trip to the server.

On PostgreSQL each batch then reads the primary's WAL position once; every job of the
batch carries it back to its request as the consistency token of its write.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from fapiao import consistency
from fapiao.db import Database
from fapiao.ledger import service as ledger
from fapiao.writer_loop import LoopWriter, settle

T = TypeVar("T")
Job = Callable[[Session], Any]
log = logging.getLogger(__name__)

_STOP = object()


class CommitFuture(Future[T]):
    """A job's future; once it is done, `wal_position` is the primary's WAL position
    after the commit that made the job durable (None on SQLite)."""

    wal_position: int | None = None


class GroupCommit:
    def __init__(self, database: Database, max_batch: int = 64) -> None:
        self._database = database
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        # SQLite: batches from the event loop run on the loop's thread (see run_async).
        self._inline_writes = database.dialect == "sqlite"
        self._inline: list[tuple[Job, asyncio.Future[Any]]] = []
        self._flush_scheduled = False
        # PostgreSQL: batches from an event loop run on that loop, on an asyncio engine
        # of its own; one batch in flight (the loop's drain task) at a time.
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWriter] = (
            weakref.WeakKeyDictionary()
        )
        self.batches = 0
        self.jobs = 0

    def submit(self, job: Callable[[Session], T]) -> CommitFuture[T]:
        """Queue a job; its future resolves after the commit that made it durable."""
        future: CommitFuture[T] = CommitFuture()
        with self._start_lock:  # never queued behind the stop marker
            if self._closed:
                raise RuntimeError("GroupCommit is closed")
            if self._thread is None:
                self._start_locked()
            self._queue.put((job, future))
        return future

    def run(self, job: Callable[[Session], T]) -> T:
        """Run a job and wait for its commit (from a thread that holds no write lock)."""
        future = self.submit(job)
        result = future.result()
        _note(future.wal_position)
        return result

    async def run_async(self, job: Callable[[Session], T]) -> T:
        """Run a job from the event loop, written on the loop (see the module's notes)."""
        if self._closed:
            raise RuntimeError("GroupCommit is closed")
        loop = asyncio.get_running_loop()
        if not self._inline_writes:
            writer = self._loops.get(loop)
            if writer is None:
                writer = self._loops[loop] = LoopWriter(
                    self._database.async_write_engine(), self._max_batch, self._write
                )
            result, position = await writer.run(job)
            _note(position)
            return result
        future: asyncio.Future[T] = loop.create_future()
        self._inline.append((job, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush_inline)
        return await future

    async def aclose(self) -> None:
        """Finish this loop's batches and close its asyncio connections (PostgreSQL).
        Call it on the loop that wrote them, before the loop ends."""
        writer = self._loops.pop(asyncio.get_running_loop(), None)
        if writer is not None:
            await writer.aclose()

    # -- SQLite, on the event loop -----------------------------------------------------

    def _flush_inline(self) -> None:
        lock = self._database.writer_lock
        if lock is not None:
            try:
                acquired = lock.acquire_nowait()
            except OSError as exc:  # the lock file cannot be opened
                self._flush_scheduled = False
                items, self._inline = self._inline, []
                for _job, future in items:
                    if not future.done():
                        future.set_exception(exc)
                return
            if not acquired:
                # Another process (or a thread of this one) is writing. Wait for it on a
                # thread, so this loop goes on reading requests meanwhile and their jobs
                # join this batch; then try again.
                loop = asyncio.get_running_loop()
                waiting = loop.run_in_executor(None, lock.wait_until_free)
                waiting.add_done_callback(lambda _: self._flush_inline())
                return
        try:
            self._write_inline()
        finally:
            if lock is not None:
                lock.release()

    def _write_inline(self) -> None:
        self._flush_scheduled = False
        items, self._inline = self._inline, []
        for start in range(0, len(items), self._max_batch):
            chunk = [item for item in items[start : start + self._max_batch] if not item[1].done()]
            if not chunk:
                continue
            outcomes, _position = self._execute([job for job, _ in chunk])
            settle(chunk, outcomes)

    # -- the writer thread ---------------------------------------------------------------

    def close(self) -> None:
        """Finish the queued jobs and stop the thread. (A loop's asyncio connections are
        closed by `aclose` on that loop; any left over are let go here.)"""
        with self._start_lock:
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join()
        for writer in list(self._loops.values()):
            writer.engine.sync_engine.dispose(close=False)  # its loop is gone or elsewhere
        self._loops.clear()

    def _start_locked(self) -> None:
        thread = threading.Thread(target=self._loop, name="fapiao-group-commit", daemon=True)
        thread.start()
        self._thread = thread

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            stop = item is _STOP
            batch = [] if stop else [item]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    continue
                batch.append(item)
            if batch:
                self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[tuple[Job, CommitFuture[Any]]]) -> None:
        live = [(job, future) for job, future in batch if future.set_running_or_notify_cancel()]
        outcomes, position = self._execute([job for job, _ in live])
        for _job, future in live:
            future.wal_position = position
        settle(live, outcomes)

    def _execute(self, jobs: list[Job]) -> tuple[list[Any], int | None]:
        """`_write` on the writer thread's (or, on SQLite, the loop's) connections."""
        return self._write(jobs, self._database.transaction, self._database.wal_position)

    def _write(
        self,
        jobs: list[Job],
        transaction: Callable[[], AbstractContextManager[Session]],
        wal_position: Callable[[], int | None],
    ) -> tuple[list[Any], int | None]:
        """Every job's result or exception, after one transaction over all of them, and
        the WAL position after its commit (PostgreSQL; one tiny query per batch, so every
        caller gets its token)."""
        for careful in (False, True):
            outcomes: list[Any] = []
            try:
                with transaction() as session:
                    _run_jobs(session, jobs, outcomes, careful)
            except _BatchFailed as failed:
                log.info(
                    "batch of %d %s jobs retried one by one: %r",
                    len(jobs),
                    type(jobs[0]).__name__,
                    failed.cause,
                )
                continue
            except Exception as exc:  # BEGIN or COMMIT failed: nothing is durable
                log.warning("group commit of %d jobs failed: %r", len(jobs), exc)
                # Each job's own exception if it had one, else the transaction's.
                answers = outcomes + [exc] * (len(jobs) - len(outcomes))
                return [
                    answer if isinstance(answer, BaseException) else exc for answer in answers
                ], None
            self.batches += 1
            self.jobs += len(jobs)
            return outcomes, wal_position()
        raise AssertionError("unreachable: the careful run raises no _BatchFailed")


class _BatchFailed(Exception):
    """A batch written without a savepoint failed: roll back, run it again carefully."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


def _run_jobs(session: Session, jobs: list[Job], outcomes: list[Any], careful: bool) -> None:
    """Run every job in `session`, appending each one's result or exception to
    `outcomes`. Unless `careful`, a batch that is a single group is written without a
    savepoint, and `_BatchFailed` says it must be run again carefully."""
    ledger.defer_appends(session)  # the ledger head: locked once, last
    groups = _groups(jobs)
    if not careful and len(groups) == 1 and _batchable(groups[0]):
        group = groups[0]
        try:
            outcomes.extend(type(group[0]).run_batch(session, group))  # type: ignore[attr-defined]
        except Exception as exc:  # the transaction is lost: all of it again, carefully
            raise _BatchFailed(exc) from exc
    else:
        for group in groups:
            outcomes.extend(_run_group(session, group, try_batch=not careful))
    ledger.flush_deferred(session)


def _note(position: int | None) -> None:
    state = consistency.current()
    if state is not None:
        state.note_commit(position)


def _batchable(group: list[Job]) -> bool:
    return len(group) > 1 and hasattr(type(group[0]), "run_batch")


def _groups(jobs: list[Job]) -> list[list[Job]]:
    """Consecutive jobs of one kind that can be written together (`run_batch`); every
    other job alone."""
    groups: list[list[Job]] = []
    for job in jobs:
        kind = type(job)
        if groups and hasattr(kind, "run_batch") and type(groups[-1][0]) is kind:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


def _run_group(session: Session, group: list[Job], try_batch: bool = True) -> list[Any]:
    """Each job's result or exception. A group is tried in one savepoint with the kind's
    `run_batch` (unless not `try_batch`); if that raises, or without it, every job runs
    alone in a savepoint of its own."""
    if try_batch and _batchable(group):
        mark = ledger.deferred_mark(session)
        try:
            with session.begin_nested():
                results = type(group[0]).run_batch(session, group)  # type: ignore[attr-defined]
            return list(results)
        except Exception as exc:  # handled below, job by job
            ledger.drop_deferred(session, mark)
            log.info(
                "batch of %d %s jobs retried one by one: %r",
                len(group),
                type(group[0]).__name__,
                exc,
            )
    # One by one, in the order of the rows they lock (a kind may say: `lock_order`), so two
    # processes doing this at once take those locks in the same order; answers keep the
    # order of the jobs.
    outcomes: list[Any] = [None] * len(group)
    order = sorted(range(len(group)), key=lambda index: _lock_order(group[index]))
    for index in order:
        mark = ledger.deferred_mark(session)
        try:
            with session.begin_nested():
                outcomes[index] = group[index](session)
        except Exception as exc:  # handed to the caller
            ledger.drop_deferred(session, mark)
            outcomes[index] = exc
    return outcomes


def _lock_order(job: Job) -> tuple[Any, ...]:
    lock_order = getattr(job, "lock_order", None)
    return tuple(lock_order()) if lock_order is not None else ()
