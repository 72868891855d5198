"""The services of one process, wired once at the composition root (app.py, cli)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from fapiao.accounts.apitokens import TokenCache
from fapiao.crypto import service as encryption
from fapiao.db import Database
from fapiao.dbsql import insert_ignore
from fapiao.invoices.models import NumberSequence
from fapiao.invoices.numbering import format_number
from fapiao.kit.clock import Clock, SystemClock
from fapiao.ledger.signing import Signer
from fapiao.maintenance.service import MaintenanceState, Window, current_window
from fapiao.settings import Settings
from fapiao.writer import GroupCommit


class NumberAllocator:
    """Hands out invoice numbers from blocks reserved in `number_sequences`.

    A block is taken in its own short transaction, before the transaction that uses a
    number, so a number is never handed out twice even if that later transaction rolls
    back (its number is then simply a gap, which domain.md §2 allows). When half a block
    is left, the next one is reserved in the background (`wants_block`/`reserve`), so a
    busy server does not make a request wait for a reservation."""

    def __init__(self, database: Database, block_size: int) -> None:
        self._database = database
        self._block_size = block_size
        self._blocks: dict[str, deque[list[int]]] = {}
        self._reserving: set[str] = set()
        self._lock = threading.Lock()

    def next_nowait(self, prefix: str) -> str | None:
        """The next reserved number, or None when a block must be reserved first."""
        with self._lock:
            blocks = self._blocks.get(prefix)
            while blocks and blocks[0][0] >= blocks[0][1]:
                blocks.popleft()
            if not blocks:
                return None
            value = blocks[0][0]
            blocks[0][0] += 1
        return format_number(prefix, value)

    def next(self, prefix: str) -> str:
        while True:
            number = self.next_nowait(prefix)
            if number is not None:
                return number
            self.reserve(prefix)

    def wants_block(self, prefix: str) -> bool:
        """True (once, until `reserve` ends) when less than half a block is left."""
        with self._lock:
            left = sum(end - start for start, end in self._blocks.get(prefix, ()))
            if left >= self._block_size // 2 or prefix in self._reserving:
                return False
            self._reserving.add(prefix)
            return True

    def reserve(self, prefix: str) -> None:
        """Reserve one more block for `prefix`."""
        try:
            start, end = self._take_block(prefix)
            with self._lock:
                self._blocks.setdefault(prefix, deque()).append([start, end])
        finally:
            with self._lock:
                self._reserving.discard(prefix)

    def _take_block(self, prefix: str) -> tuple[int, int]:
        size = self._block_size
        with self._database.transaction() as session:
            session.execute(
                insert_ignore(session, NumberSequence, {"prefix": prefix, "next_value": 1})
            )
            end = session.execute(
                update(NumberSequence)
                .where(NumberSequence.prefix == prefix)
                .values(next_value=NumberSequence.next_value + size)
                .returning(NumberSequence.next_value)
            ).scalar_one()
        return end - size, end


class ActorCache:
    """Who a user is (role, taxpayer) for a few seconds, so a busy client does not cost a
    user lookup per request. A deactivated user or changed role takes effect within
    `ttl` seconds. Timed on the monotonic clock: it measures age, not business time."""

    def __init__(self, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._items: dict[int, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: int) -> Any:
        with self._lock:
            item = self._items.get(user_id)
        if item is None or time.monotonic() - item[0] > self._ttl:
            return None
        return item[1]

    def put(self, user_id: int, actor: Any) -> None:
        with self._lock:
            if len(self._items) > 10000:
                self._items.clear()
            self._items[user_id] = (time.monotonic(), actor)

    def drop(self, user_id: int) -> None:
        """Forget a user at once (this process only; others within `ttl`)."""
        with self._lock:
            self._items.pop(user_id, None)


@dataclass
class Platform:
    settings: Settings
    database: Database
    clock: Clock = field(default_factory=SystemClock)
    numbers: NumberAllocator = field(init=False)
    secret: str = field(init=False)
    actors: ActorCache = field(default_factory=ActorCache)
    writer: GroupCommit = field(init=False)
    signer: Signer = field(init=False)
    maintenance: MaintenanceState = field(init=False)
    api_tokens: TokenCache = field(init=False)

    def __post_init__(self) -> None:
        self.api_tokens = TokenCache(timedelta(seconds=self.settings.api_token_cache_seconds))
        self.secret = self.settings.resolved_secret_key()
        # Data keys first: anything below may read or write encrypted columns.
        encryption.start(self.database, self.clock.now())
        self.numbers = NumberAllocator(self.database, self.settings.number_block_size)
        self.writer = GroupCommit(self.database)
        self.signer = Signer.from_file(self.settings.signing_key_path)
        self.maintenance = MaintenanceState(self._current_window, self.clock)
        with self.database.transaction() as session:
            self.signer.register(session, self.clock.now())

    def _current_window(self, now: datetime) -> Window | None:
        with self.database.transaction(write=False) as session:
            # A window scheduled to start before the next reload is known in advance.
            return current_window(session, now, ahead=timedelta(seconds=1))

    def close(self) -> None:
        """Finish queued writes, stop the writer thread and close the database."""
        self.writer.close()
        self.database.dispose()


def build_platform(settings: Settings, clock: Clock | None = None) -> Platform:
    """A Platform on a migrated database (migrating a fresh one on first use)."""
    from fapiao import migrate

    database = Database(settings)
    if not migrate.is_current(database):
        migrate.upgrade(database)
    try:
        return Platform(settings=settings, database=database, clock=clock or SystemClock())
    except BaseException:
        database.dispose()
        raise
