"""Read replicas (FAPIAO_REPLICA_URLS): their engines, which one serves the next read,
which are down, and how far each is behind the primary.

A replica that fails is left alone for `retry_seconds` and its reads go elsewhere; it
never turns a read into an error. Lag is measured on the database servers' own clocks:
it is a physical delay, not business time."""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from fapiao.consistency import parse_lsn

log = logging.getLogger(__name__)

# Seconds to wait for a replica's connection before reading from the primary instead.
CONNECT_TIMEOUT = 3

_STATUS = text(
    "SELECT pg_last_wal_replay_lsn()::text,"
    " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
)


@dataclass(frozen=True)
class ReplicaStatus:
    """One replica at the time of asking; lag is None when it could not be measured."""

    name: str
    up: bool
    replayed: int | None = None
    lag_bytes: int | None = None
    lag_seconds: float | None = None


class Replica:
    def __init__(self, name: str, url: str, pool_size: int) -> None:
        self.name = name
        self.engine: Engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=10,
            pool_recycle=1800,
            hide_parameters=True,  # no personal data in logs and errors
            pool_timeout=1,  # a busy replica is passed over quickly, for the primary
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.down_until = 0.0

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only unit of work on this replica."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            with contextlib.suppress(DBAPIError):
                session.rollback()
            raise
        finally:
            session.close()

    def replayed(self, session: Session) -> int | None:
        """How far this replica has replayed the primary's WAL (None if it is not a
        replica at all)."""
        position = session.scalar(text("SELECT pg_last_wal_replay_lsn()::text"))
        return None if position is None else parse_lsn(str(position))

    def status(self, primary_position: int | None) -> ReplicaStatus:
        try:
            with self.session() as session:
                position, seconds = session.execute(_STATUS).one()
        except DBAPIError as exc:
            log.warning("replica %s cannot be measured: %s", self.name, exc.orig)
            return ReplicaStatus(self.name, up=False)
        replayed = None if position is None else parse_lsn(str(position))
        lag_bytes = None
        if replayed is not None and primary_position is not None:
            lag_bytes = max(0, primary_position - replayed)
        lag_seconds = None if seconds is None else max(0.0, float(seconds))
        if lag_bytes == 0:
            lag_seconds = 0.0
        return ReplicaStatus(self.name, True, replayed, lag_bytes, lag_seconds)


class ReplicaSet:
    """The configured replicas, taken in turn; also this process's counts of where reads
    went and why a replica was passed over."""

    def __init__(self, urls: list[str], pool_size: int = 5, retry_seconds: float = 5.0) -> None:
        self.replicas = [
            Replica(f"replica-{index}", url, pool_size) for index, url in enumerate(urls, 1)
        ]
        self.retry_seconds = retry_seconds
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self.reads: Counter[str] = Counter()
        self.fallbacks: Counter[tuple[str, str]] = Counter()

    def __bool__(self) -> bool:
        return bool(self.replicas)

    def candidates(self) -> list[Replica]:
        """The healthy replicas, starting with the next one in turn."""
        if not self.replicas:
            return []
        now = time.monotonic()
        start = next(self._turn) % len(self.replicas)
        ordered = self.replicas[start:] + self.replicas[:start]
        return [replica for replica in ordered if replica.down_until <= now]

    def mark_down(self, replica: Replica, error: BaseException) -> None:
        log.warning(
            "replica %s is unavailable, reading from the primary for %.0f s: %s",
            replica.name,
            self.retry_seconds,
            error,
        )
        replica.down_until = time.monotonic() + self.retry_seconds
        self.count_fallback(replica, "down")

    def count_fallback(self, replica: Replica, reason: str) -> None:
        with self._lock:
            self.fallbacks[(replica.name, reason)] += 1

    def count_read(self, served_by: str) -> None:
        with self._lock:
            self.reads[served_by] += 1

    def statuses(self, primary_position: int | None) -> list[ReplicaStatus]:
        return [replica.status(primary_position) for replica in self.replicas]

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()
