"""Engines, sessions and transactions.

The process builds one `Database` at its composition root; nothing connects at import
time. On SQLite, write transactions start with BEGIN IMMEDIATE so two writers queue on the
database lock instead of failing when a read lock is upgraded; reads use plain BEGIN and,
in WAL mode, never wait for writers."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Engine, Integer, MetaData, String, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from fapiao import consistency, logsafety
from fapiao.replicas import Replica, ReplicaSet
from fapiao.settings import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)
# A hot standby cancels a query that conflicts with replay; the replica is not down.
_RECOVERY_CONFLICT = "40001"

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Cents(TypeDecorator[Decimal]):
    """A two-decimal money amount stored as whole cents in a BIGINT: exact on every
    database (SQLite has no decimal type) and cheap to add up atomically."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        cents = Decimal(value).scaleb(2)
        if cents != cents.to_integral_value():
            raise ValueError(f"amount {value} has more than two decimal places")
        return int(cents)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal with up to 13 places (quantities, unit prices), stored as text.
    Never summed in SQL."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else f"{Decimal(value):f}"

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_engine(url: str, settings: Settings, immediate: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        pool_size=settings.db_pool_size,
        max_overflow=10,
        # Statement parameters hold password hashes, webhook secrets and personal data:
        # never in SQL logs or error messages.
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class WriterLock:
    """Queues the writers of a SQLite database: the threads of this process on a lock,
    and processes on an exclusive `flock` of a file beside the database, so writers take
    turns the moment the lock is free. SQLite's own busy handler would make them sleep and
    poll (1, 2, 5 … 100 ms), which is unfair and slow. Reentrant within a thread."""

    def __init__(self, path: str | None) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._path = f"{path}.writer-lock" if path else None

    def __enter__(self) -> None:
        self._acquire(blocking=True)

    def acquire_nowait(self) -> bool:
        """Take the lock if no other thread or process holds it; never waits. Release it
        with `__exit__`."""
        return self._acquire(blocking=False)

    def wait_until_free(self) -> None:
        """Block until the lock is free at this moment, without taking it: for a thread
        that waits on behalf of an event loop, which then calls `acquire_nowait`."""
        with self._lock:
            if self._path is not None:
                fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                finally:
                    os.close(fd)  # closing the descriptor releases its lock

    def _acquire(self, blocking: bool) -> bool:
        if not self._lock.acquire(blocking=blocking):
            return False
        try:
            if self._depth == 0 and self._path is not None:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(
                        self._fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB
                    )
                except BlockingIOError:
                    self._lock.release()
                    return False
        except BaseException:
            self._lock.release()
            raise
        self._depth += 1
        return True

    def __exit__(self, *_: object) -> None:
        self.release()

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Database:
    """The engines of one process and the transactions opened on them.

    On PostgreSQL, `read` may be served by a streaming replica (FAPIAO_REPLICA_URLS), and
    a write transaction run inside `consistency.tracking()` notes the primary's WAL
    position after its commit: the token a later read presents to see that write."""

    def __init__(self, settings: Settings) -> None:
        logsafety.quiet_result_rows()
        self.settings = settings
        url = settings.effective_database_url
        self.url = url
        lock_path: str | None = None
        if settings.is_sqlite:
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                lock_path = path
            self.write_engine = _sqlite_engine(url, settings, immediate=True)
            self.read_engine = _sqlite_engine(url, settings, immediate=False)
        else:
            self.write_engine = create_engine(
                url,
                pool_size=settings.db_pool_size,
                max_overflow=10,
                pool_recycle=1800,
                hide_parameters=True,  # no secrets or personal data in logs and errors
            )
            self.read_engine = self.write_engine
        self.replicas = ReplicaSet(
            settings.replica_url_list,
            pool_size=settings.db_pool_size,
            retry_seconds=settings.replica_retry_seconds,
        )
        # One round trip, no BEGIN/ROLLBACK around it.
        self._autocommit = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        self.tracks_wal = not settings.is_sqlite
        # SQLite has one writer: queue for it (see WriterLock).
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            WriterLock(lock_path) if settings.is_sqlite else contextlib.nullcontext()
        )
        # Encrypted columns find this database's keys through its engines' dialects.
        from fapiao.crypto.keyring import KeyRing

        self.keyring = KeyRing(settings)
        self.keyring.attach(
            self.read_engine,
            self.write_engine,
            *(replica.engine for replica in self.replicas.replicas),
        )
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    def async_write_engine(self) -> AsyncEngine:
        """A new asyncio engine on the primary (PostgreSQL), with this database's keys.
        Its connections belong to the event loop that opens them; the caller disposes
        of it on that loop."""
        if self.settings.is_sqlite:
            raise RuntimeError("asyncio engines are for PostgreSQL")
        engine = create_async_engine(
            self.url,
            # One batch in flight, then its WAL position: two connections are plenty.
            pool_size=2,
            max_overflow=2,
            pool_recycle=1800,
            hide_parameters=True,
        )
        self.keyring.attach(engine.sync_engine)
        return engine

    @property
    def writer_lock(self) -> WriterLock | None:
        """The lock SQLite writers queue on (None on PostgreSQL)."""
        return self._write_lock if isinstance(self._write_lock, WriterLock) else None

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One unit of work: committed when the block ends normally, else rolled back."""
        with self._write_lock if write else contextlib.nullcontext():
            session = (self._writer if write else self._reader)()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        if write and self.tracks_wal:
            state = consistency.current()
            if state is not None:
                state.note_commit(self.wal_position())

    def wal_position(self) -> int | None:
        """The primary's WAL position now (None on SQLite). Read after a commit, it is at
        or past that commit's record, so a replica that has replayed this far has it."""
        if not self.tracks_wal:
            return None
        return read_wal_position(self._autocommit)

    def read(
        self,
        work: Callable[[Session], T],
        *,
        after: int | None = None,
        recheck: Callable[[T], bool] | None = None,
    ) -> T:
        """`work(session)` on a replica, taken in turn among the healthy ones, or else on
        the primary. With `after` (a consistency token), only a replica that has replayed
        that far may answer. A replica that fails is passed over (and left alone for a
        while); `work` must only read, as it may run again on the primary. When
        `recheck(result)` is true of a replica's answer, the primary is asked too and its
        answer wins (for answers that must never be stale, such as "no such invoice")."""
        state = consistency.current()
        for replica in self.replicas.candidates():
            try:
                answered, result = self._read_on(replica, work, after, state)
            except PoolTimeout as exc:  # the replica's pool is full: busy, not down
                log.warning("no free connection to %s, trying elsewhere: %s", replica.name, exc)
                self.replicas.count_fallback(replica, "error")
                continue
            except DBAPIError as exc:
                if isinstance(exc, OperationalError | InterfaceError) and (
                    getattr(exc.orig, "sqlstate", None) != _RECOVERY_CONFLICT
                ):
                    self.replicas.mark_down(replica, exc.orig or exc)
                else:
                    log.warning("read on %s failed, trying elsewhere: %s", replica.name, exc)
                    self.replicas.count_fallback(replica, "error")
                continue
            if not answered:
                self.replicas.count_fallback(replica, "behind")
                continue
            if recheck is not None and recheck(result):
                self.replicas.count_fallback(replica, "recheck")
                break
            return result
        self._served(state, "primary")
        with self.transaction(write=False) as session:
            return work(session)

    def _read_on(
        self,
        replica: Replica,
        work: Callable[[Session], T],
        after: int | None,
        state: consistency.RequestState | None,
    ) -> tuple[bool, Any]:
        with replica.session() as session:
            if after is not None:
                # Replay only moves forward, so every later statement sees this far too.
                replayed = replica.replayed(session)
                if replayed is None or replayed < after:
                    return False, None
            # Noted before `work` runs: a "not found" it raises is the replica's answer.
            self._served(state, replica.name)
            return True, work(session)

    def _served(self, state: consistency.RequestState | None, name: str) -> None:
        if self.replicas:
            self.replicas.count_read(name)
        if state is not None:
            state.served_by = name

    def dispose(self) -> None:
        if isinstance(self._write_lock, WriterLock):
            self._write_lock.close()
        self.write_engine.dispose()
        self.replicas.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def read_wal_position(autocommit: Engine) -> int | None:
    """The primary's WAL position through `autocommit` (an engine in AUTOCOMMIT mode),
    or None if it cannot be read."""
    try:
        with autocommit.connect() as connection:
            # The write position: past the commit record once a commit has returned
            # (synchronous_commit on, the default; with it off a token could be early).
            position = connection.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
    except SQLAlchemyError as exc:  # the commit stands; only the token is missing
        # (the server's error, or no connection free in the pool in time)
        log.warning("WAL position not available after a commit: %s", getattr(exc, "orig", exc))
        return None
    return None if position is None else consistency.parse_lsn(str(position))
