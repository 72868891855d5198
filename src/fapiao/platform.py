"""The services of one process, wired once at the composition root (app.py, cli)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from fapiao.db import Database
from fapiao.dbsql import insert_ignore
from fapiao.invoices.models import NumberSequence
from fapiao.invoices.numbering import format_number
from fapiao.kit.clock import Clock, SystemClock
from fapiao.settings import Settings
from fapiao.writer import GroupCommit


class NumberAllocator:
    """Hands out invoice numbers from blocks reserved in `number_sequences`.

    A block is taken in its own short transaction, before the transaction that uses a
    number, so a number is never handed out twice even if that later transaction rolls
    back (its number is then simply a gap, which domain.md §2 allows)."""

    def __init__(self, database: Database, block_size: int) -> None:
        self._database = database
        self._block_size = block_size
        self._blocks: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def next_nowait(self, prefix: str) -> str | None:
        """The next number of a reserved block, or None when a block must be reserved."""
        with self._lock:
            start, end = self._blocks.get(prefix, (0, 0))
            if start >= end:
                return None
            self._blocks[prefix] = (start + 1, end)
        return format_number(prefix, start)

    def next(self, prefix: str) -> str:
        with self._lock:
            start, end = self._blocks.get(prefix, (0, 0))
            if start >= end:
                start, end = self._take_block(prefix)
            self._blocks[prefix] = (start + 1, end)
        return format_number(prefix, start)

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


@dataclass
class Platform:
    settings: Settings
    database: Database
    clock: Clock = field(default_factory=SystemClock)
    numbers: NumberAllocator = field(init=False)
    secret: str = field(init=False)
    actors: ActorCache = field(default_factory=ActorCache)
    writer: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.secret = self.settings.resolved_secret_key()
        self.numbers = NumberAllocator(self.database, self.settings.number_block_size)
        self.writer = GroupCommit(self.database)

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
    return Platform(settings=settings, database=database, clock=clock or SystemClock())
