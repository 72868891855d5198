"""Consistency tokens: read-your-writes across PostgreSQL streaming replicas.

A token is the primary's WAL position right after a commit, written as PostgreSQL writes a
`pg_lsn` (`0/16B3748`). A replica whose `pg_last_wal_replay_lsn()` has reached it has
replayed that commit, so a read that presents the token sees the write.

While an HTTP request runs, a `RequestState` sits in a context variable: every write
transaction of the request notes its post-commit position there, and every routed read
notes where it was served; the HTTP layer turns both into response headers."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


def parse_lsn(text: str) -> int | None:
    """The WAL position `text` names (`0/16B3748`), or None when it is not one."""
    match = _LSN.match(text.strip())
    if match is None:
        return None
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


@dataclass
class RequestState:
    """What one request did: the WAL position after its last commit, and which database
    answered its reads (`primary`, `replica-1`, ...)."""

    committed: int | None = None
    served_by: str | None = None

    def note_commit(self, position: int | None) -> None:
        if position is not None and (self.committed is None or position > self.committed):
            self.committed = position


_state: ContextVar[RequestState | None] = ContextVar("fapiao_request_state", default=None)


def current() -> RequestState | None:
    """The state of the request being served, or None outside a request."""
    return _state.get()


@contextlib.contextmanager
def tracking() -> Iterator[RequestState]:
    """Collect the commits and reads of the code run inside the block."""
    state = RequestState()
    token = _state.set(state)
    try:
        yield state
    finally:
        _state.reset(token)
