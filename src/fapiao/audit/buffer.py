"""Audit entries of HTTP requests, written in batches off the request path.

Issuing runs at hundreds of requests a second through group commit; an audit append per
request (a transaction, or the chain head's lock) would serialise them all. Instead the
request hands its entry to this process's `AuditBuffer` (a list append) and a
background thread appends everything waiting in one transaction, locking the chain
head once per flush, at most `delay` seconds after the first entry arrived (sooner when
`max_batch` entries wait). `close()` (the app's shutdown) flushes what is left.

What a crash can lose: entries of requests answered in the last `delay` seconds before
the process died (killed, power lost); their work itself is committed. When the
database cannot be written, entries are kept and tried again on the next flush, up to
`max_pending`; beyond that the oldest are dropped and counted in `dropped`, and the
loss is logged.
"""

from __future__ import annotations

import logging
import threading

from fapiao.audit import service
from fapiao.audit.chain import Entry
from fapiao.db import Database

log = logging.getLogger("fapiao.audit")


class AuditBuffer:
    def __init__(
        self,
        database: Database,
        *,
        delay: float = 0.5,
        max_batch: int = 2000,
        max_pending: int = 200_000,
    ) -> None:
        self._database = database
        self._delay = delay
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._items: list[Entry] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending = threading.Event()  # something waits to be written
        self._full = threading.Event()  # write now: a batch is full, or closing
        self._thread: threading.Thread | None = None
        self._closed = False
        self.written = 0
        self.dropped = 0
        self.flushes = 0

    def submit(self, entry: Entry) -> None:
        """Queue an entry; it is written within `delay` seconds."""
        with self._lock:
            self._items.append(entry)
            waiting = len(self._items)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name="fapiao-audit", daemon=True)
                self._thread.start()
        self._pending.set()
        if waiting >= self._max_batch:
            self._full.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._items)

    def flush(self) -> int:
        """Write everything waiting now, in one transaction; returns how many. On a
        database error the entries stay queued for the next flush."""
        with self._flush_lock:
            with self._lock:
                items, self._items = self._items, []
                self._pending.clear()
            if not items:
                return 0
            try:
                # Canonical JSON before the transaction: on SQLite the write lock is
                # held only for the hashing of the links and the INSERT.
                prepared = service.prepare(items)
                with self._database.transaction() as session:
                    service.append(session, prepared)
            except Exception:
                log.exception("audit flush of %d entries failed; kept for the next", len(items))
                self._requeue(items)
                raise
            self.written += len(items)
            self.flushes += 1
            return len(items)

    def _requeue(self, items: list[Entry]) -> None:
        with self._lock:
            self._items = items + self._items
            excess = len(self._items) - self._max_pending
            if excess > 0:
                del self._items[:excess]
                self.dropped += excess
                log.error("audit buffer full: %d oldest entries dropped", excess)
            self._pending.set()

    def _loop(self) -> None:
        while True:
            self._pending.wait()
            if not self._closed:
                self._full.wait(self._delay)
            self._full.clear()
            try:
                self.flush()
            except Exception:  # logged in flush; retried after the next delay
                if self._closed:
                    return
                self._full.wait(self._delay)
            if self._closed and not self.pending():
                return

    def close(self) -> None:
        """Write what is waiting and stop the thread (the app's shutdown)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._full.set()
        self._pending.set()
        if thread is not None:
            thread.join(timeout=30)
        try:
            self.flush()
        except Exception:  # already logged; nothing more can be done at shutdown
            log.error("audit entries lost at shutdown: %d", self.pending())
