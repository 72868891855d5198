"""Group commit: short write jobs from many requests share one transaction.

Issuing is the busiest write. Each invoice on its own transaction pays a BEGIN, a COMMIT
and an fsync, and on SQLite holds the single write lock for all of it, so writers queue
for the disk rather than for work. `GroupCommit` runs jobs on one thread per process: it
takes every job waiting (up to `max_batch`), runs each inside its own SAVEPOINT of one
transaction, commits once, then answers every caller. A job that fails is rolled back to
its savepoint alone and its caller gets its exception; the others are unaffected. Nobody
is answered before the commit, so an acknowledged write is durable.

Jobs from the event loop (`run_async`) on SQLite are batched per turn of the loop and
written on the loop's thread: the batch takes a millisecond or two, and a separate
writer thread holding SQLite's write lock would wait for the GIL behind request
handling, which stretches the lock for every process. The loop never waits for that lock
itself: while another process writes, a helper thread waits, the loop goes on reading
requests, and their jobs join the batch that is written once the lock is free. On
PostgreSQL the writer thread is used, because it waits for the server without the GIL.

On PostgreSQL each batch then reads the primary's WAL position once; every job of the
batch carries it back to its request as the consistency token of its write.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from fapiao import consistency
from fapiao.db import Database
from fapiao.ledger import service as ledger

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
        # PostgreSQL: on the writer thread, which waits for the server without the GIL.
        self._inline_writes = database.dialect == "sqlite"
        self._inline: list[tuple[Job, asyncio.Future[Any]]] = []
        self._flush_scheduled = False
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
        _note(future)
        return result

    async def run_async(self, job: Callable[[Session], T]) -> T:
        """Run a job from the event loop. Jobs submitted during one turn of the loop are
        written together right after it, on the loop's own thread: the batch is short,
        and a writer thread would contend with the loop for the GIL while it holds the
        database's write lock."""
        if self._closed:
            raise RuntimeError("GroupCommit is closed")
        if not self._inline_writes:
            submitted = self.submit(job)
            result = await asyncio.wrap_future(submitted)
            _note(submitted)
            return result
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._inline.append((job, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush_inline)
        return await future

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
            for (_job, future), outcome in zip(chunk, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def close(self) -> None:
        """Finish the queued jobs and stop the thread."""
        with self._start_lock:
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join()

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
        for (_job, future), outcome in zip(live, outcomes, strict=True):
            future.wal_position = position
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _execute(self, jobs: list[Job]) -> tuple[list[Any], int | None]:
        """Every job's result or exception, after one transaction over all of them, and
        the WAL position after its commit (PostgreSQL)."""
        outcomes: list[Any] = []
        try:
            with self._database.transaction() as session:
                ledger.defer_appends(session)  # the ledger head: locked once, last
                for group in _groups(jobs):
                    outcomes.extend(_run_group(session, group))
                ledger.flush_deferred(session)
        except Exception as exc:  # BEGIN or COMMIT failed: nothing is durable
            log.warning("group commit of %d jobs failed: %r", len(jobs), exc)
            return [
                outcome if isinstance(outcome, BaseException) else exc
                for outcome in outcomes + [exc] * (len(jobs) - len(outcomes))
            ], None
        self.batches += 1
        self.jobs += len(jobs)
        # One tiny query per batch, on this thread, so every caller gets its token.
        return outcomes, self._database.wal_position()


def _note(future: CommitFuture[Any]) -> None:
    state = consistency.current()
    if state is not None:
        state.note_commit(future.wal_position)


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


def _run_group(session: Session, group: list[Job]) -> list[Any]:
    """Each job's result or exception. A group is tried in one savepoint with the kind's
    `run_batch`; if that raises, every job runs again alone in a savepoint of its own."""
    run_batch = getattr(type(group[0]), "run_batch", None)
    if run_batch is not None and len(group) > 1:
        mark = ledger.deferred_mark(session)
        try:
            with session.begin_nested():
                results = run_batch(session, group)
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
