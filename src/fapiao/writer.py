"""Group commit: short write jobs from many requests share one transaction.

Issuing is the busiest write. Each invoice on its own transaction pays a BEGIN, a COMMIT
and an fsync, and on SQLite holds the single write lock for all of it, so writers queue
for the disk rather than for work. `GroupCommit` runs jobs on one thread per process: it
takes every job waiting (up to `max_batch`), runs each inside its own SAVEPOINT of one
transaction, commits once, then answers every caller. A job that fails is rolled back to
its savepoint alone and its caller gets its exception; the others are unaffected. Nobody
is answered before the commit, so an acknowledged write is durable.
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

from fapiao.db import Database

T = TypeVar("T")
Job = Callable[[Session], Any]
log = logging.getLogger(__name__)

_STOP = object()


class GroupCommit:
    def __init__(self, database: Database, max_batch: int = 64) -> None:
        self._database = database
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self.batches = 0
        self.jobs = 0

    def submit(self, job: Callable[[Session], T]) -> Future[T]:
        """Queue a job; its future resolves after the commit that made it durable."""
        if self._closed:
            raise RuntimeError("GroupCommit is closed")
        if self._thread is None:
            self._start()
        future: Future[T] = Future()
        self._queue.put((job, future))
        return future

    def run(self, job: Callable[[Session], T]) -> T:
        """Run a job and wait for its commit (from a thread that holds no write lock)."""
        return self.submit(job).result()

    async def run_async(self, job: Callable[[Session], T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    def close(self) -> None:
        """Finish the queued jobs and stop the thread."""
        self._closed = True
        thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._loop, name="fapiao-group-commit", daemon=True
                )
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

    def _run_batch(self, batch: list[tuple[Job, Future[Any]]]) -> None:
        live = [(job, future) for job, future in batch if future.set_running_or_notify_cancel()]
        outcomes: list[tuple[Future[Any], Any]] = []
        try:
            with self._database.transaction() as session:
                for group in _groups(live):
                    outcomes.extend(_run_group(session, group))
        except BaseException as exc:  # BEGIN or COMMIT failed: nothing is durable
            log.warning("group commit of %d jobs failed: %r", len(live), exc)
            done = {id(future) for future, _ in outcomes}
            for future, outcome in outcomes:
                future.set_exception(outcome if isinstance(outcome, BaseException) else exc)
            for _job, future in live:
                if id(future) not in done:
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        self.jobs += len(outcomes)
        for future, outcome in outcomes:
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


def _groups(items: list[tuple[Job, Future[Any]]]) -> list[list[tuple[Job, Future[Any]]]]:
    """Consecutive jobs of one kind that can be written together (`run_batch`); every
    other job alone."""
    groups: list[list[tuple[Job, Future[Any]]]] = []
    for item in items:
        kind = type(item[0])
        if groups and hasattr(kind, "run_batch") and type(groups[-1][0][0]) is kind:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _run_group(
    session: Session, group: list[tuple[Job, Future[Any]]]
) -> list[tuple[Future[Any], Any]]:
    """Each job's result or exception. A group is tried in one savepoint with the kind's
    `run_batch`; if that raises, every job runs again alone in a savepoint of its own."""
    run_batch = getattr(type(group[0][0]), "run_batch", None)
    if run_batch is not None and len(group) > 1:
        try:
            with session.begin_nested():
                results = run_batch(session, [job for job, _ in group])
            return [(future, result) for (_job, future), result in zip(group, results, strict=True)]
        except Exception as exc:  # handled below, job by job
            log.info(
                "batch of %d %s jobs retried one by one: %r",
                len(group),
                type(group[0][0]).__name__,
                exc,
            )
    outcomes: list[tuple[Future[Any], Any]] = []
    for job, future in group:
        try:
            with session.begin_nested():
                result = job(session)
        except Exception as exc:  # handed to the caller
            outcomes.append((future, exc))
        else:
            outcomes.append((future, result))
    return outcomes
