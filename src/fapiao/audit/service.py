"""Recording to the audit log, and reading, checking and purging it.

The one call other parts make is `record(session, ...)`: the entry is written in that
session's transaction, appended under the chain's head lock just before the commit (so
the head is locked once per transaction and last, and an entry exists exactly when the
work it describes was committed). For something that must be recorded although the
work failed or rolled back (a refused sign-in), use `record_standalone(database, ...)`,
which commits an entry in a transaction of its own. HTTP writes are recorded in batches
by `buffer.AuditBuffer` through `append`.

The client's address, user agent and request id default to those of the request being
served (`context.current()`), so a service need not pass them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, event, func, select, update
from sqlalchemy.orm import Session

from fapiao.audit import chain
from fapiao.audit.chain import GENESIS_HASH, Entry, Problem
from fapiao.audit.context import current
from fapiao.audit.models import AuditEntry, AuditHead
from fapiao.db import Database
from fapiao.dbsql import BulkInsert, insert_ignore
from fapiao.kit.errors import N_, FapiaoError

_PENDING = "fapiao.audit.pending"
_INSERT = BulkInsert(AuditEntry)
_HEAD = select(
    AuditHead.seq, AuditHead.entry_hash, AuditHead.anchor_seq, AuditHead.anchor_hash
).where(AuditHead.id == 1)
_MOVE_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=bindparam("b_seq"), entry_hash=bindparam("b_hash"))
)


def make_entry(
    *,
    action: str,
    at: datetime,
    result: str = "ok",
    code: str | None = None,
    actor: Any = None,
    username: str | None = None,
    role: str | None = None,
    taxpayer_id: int | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    request_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Entry:
    """An entry; see `record` for the arguments."""
    actor_id = None
    if actor is not None:
        # An accounts.service.Actor (user_id) or an accounts.models.User (id).
        actor_id = getattr(actor, "user_id", None) or getattr(actor, "id", None)
        username = username or actor.username
        role = role or actor.role
        taxpayer_id = taxpayer_id if taxpayer_id is not None else actor.taxpayer_id
    request = current()
    if request is not None:
        ip = ip or request.ip
        user_agent = user_agent or request.user_agent
        request_id = request_id or request.request_id
    return Entry(
        at=at,
        action=action,
        result=result,
        code=code,
        actor_id=actor_id,
        username=username,
        role=role,
        taxpayer_id=taxpayer_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=ip,
        user_agent=user_agent,
        request_id=request_id,
        detail=dict(detail or {}),
    )


def record(session: Session, *, action: str, at: datetime, **fields: Any) -> None:
    """Record that `action` happened at `at`, in `session`'s transaction.

    Arguments (all keyword): `action` a stable code (`invoice.void`, `auth.login` …);
    `at` the time from the platform's clock; `result` `"ok"` (default), `"refused"` or
    `"error"`, with the error `code` when refused; `actor` the Actor or User who acted
    (its id, username, role and taxpayer are taken from it) or `username`, `role` and
    `taxpayer_id` given one by one; `object_type` and `object_id` what was acted on;
    `ip`, `user_agent`, `request_id` (default: the current request's); `detail` a small
    JSON object. Never pass passwords, tokens or secrets: the log keeps everything.

    The entry is appended just before the transaction commits and vanishes with it if
    it rolls back. Record in the outermost transaction, not inside a savepoint that may
    be rolled back alone."""
    entry = make_entry(action=action, at=at, **fields)
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "before_commit", _append_pending)
    pending.append(entry)


def record_standalone(database: Database, *, action: str, at: datetime, **fields: Any) -> None:
    """Like `record`, committed at once in a transaction of its own: for what must be
    kept although the work it describes failed (a refused sign-in). Do not call it while
    this thread holds another write transaction (SQLite has one writer)."""
    with database.transaction() as session:
        record(session, action=action, at=at, **fields)


def outcome(error: BaseException | None) -> dict[str, Any]:
    """`result` and `code` arguments for how some work ended: ok, refused with a domain
    error's code, or error."""
    if error is None:
        return {"result": "ok"}
    if isinstance(error, FapiaoError):
        return {"result": "refused", "code": error.code}
    return {"result": "error", "code": type(error).__name__}


def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released; the entries wait for the real commit
    pending = session.info.pop(_PENDING, None)
    if pending:
        append(session, pending)


def _locked_head(session: Session) -> Any:
    return _HEAD.with_for_update() if session.get_bind().dialect.name == "postgresql" else _HEAD


@dataclass(frozen=True)
class Prepared:
    """Entries made ready to chain: their rows and hashed bodies."""

    rows: list[dict[str, Any]]
    bodies: list[str]


def prepare(entries: Sequence[Entry]) -> Prepared:
    """The work of an append that needs no lock (done before the transaction)."""
    rows = [chain.normalised(entry) for entry in entries]
    return Prepared(rows, [chain.body(row) for row in rows])


def append(session: Session, entries: Sequence[Entry] | Prepared) -> int:
    """Append `entries` in order at the end of the chain, under the head row's lock (on
    PostgreSQL `SELECT … FOR UPDATE`, so every process's appends form one chain; SQLite
    has one writer). Returns the seq of the last entry."""
    ready = entries if isinstance(entries, Prepared) else prepare(entries)
    rows = [dict(row) for row in ready.rows]
    bodies = ready.bodies
    connection = session.connection()
    head = connection.execute(_locked_head(session)).one_or_none()
    if head is None:
        session.execute(
            insert_ignore(
                session,
                AuditHead,
                {
                    "id": 1,
                    "seq": 0,
                    "entry_hash": GENESIS_HASH,
                    "anchor_seq": 0,
                    "anchor_hash": GENESIS_HASH,
                },
            )
        )
        head = connection.execute(_locked_head(session)).one()
    if not rows:
        return int(head.seq)
    links = chain.chain(str(head.entry_hash), int(head.seq) + 1, bodies)
    for row, (seq, prev, this) in zip(rows, links, strict=True):
        row.update(seq=seq, prev_hash=prev, entry_hash=this)
    _INSERT.execute(connection, rows)
    last_seq, _prev, last_hash = links[-1]
    connection.execute(_MOVE_HEAD, {"b_seq": last_seq, "b_hash": last_hash})
    return last_seq


@dataclass(frozen=True)
class CheckResult:
    entries: int
    anchor_seq: int
    head_seq: int
    head_hash: str
    problem: Problem | None = None


def count_to_check(session: Session) -> int:
    head = session.execute(_HEAD).one_or_none()
    return 0 if head is None else int(head.seq) - int(head.anchor_seq)


def check(
    session: Session, progress: Callable[[int], None] = lambda _n: None, chunk: int = 2000
) -> CheckResult:
    """Walk the chain from the anchor (the last purged entry, or the start) to the head
    read first, and report the first break: a missing entry, an entry that does not link
    to the one before, an entry whose fields do not match its hash, or a head that is
    not the last entry. Entries appended meanwhile are left for the next check."""
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot for the whole walk: a purge committing meanwhile must not look
        # like missing entries.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = session.execute(_HEAD).one_or_none()
    if head is None:
        return CheckResult(0, 0, 0, GENESIS_HASH)
    anchor_seq, head_seq = int(head.anchor_seq), int(head.seq)
    expected, prev = anchor_seq + 1, str(head.anchor_hash)
    columns = [column for column in AuditEntry.__table__.c]
    while expected <= head_seq:
        rows = [
            dict(row._mapping)
            for row in session.execute(
                select(*columns)
                .where(AuditEntry.seq >= expected, AuditEntry.seq <= head_seq)
                .order_by(AuditEntry.seq)
                .limit(chunk)
            )
        ]
        if not rows:
            break
        problem, next_expected, next_prev = chain.first_break(rows, expected, prev)
        if problem is not None:
            checked = next_expected - anchor_seq - 1  # the entries before the break
            return CheckResult(checked, anchor_seq, head_seq, next_prev, problem)
        progress(len(rows))
        expected, prev = next_expected, next_prev
    checked = expected - anchor_seq - 1
    if expected - 1 != head_seq or prev != head.entry_hash:
        message = N_("The audit head points at entry {head}, but the last entry is {seq}.")
        problem = Problem(expected, message, {"head": head_seq, "seq": expected - 1})
        return CheckResult(checked, anchor_seq, head_seq, prev, problem)
    return CheckResult(checked, anchor_seq, head_seq, prev)


def purge_due(session: Session, cutoff: datetime) -> bool:
    """Whether any entry is older than `cutoff` (a cheap read, before locking anything)."""
    oldest = session.scalar(select(func.min(AuditEntry.recorded_at)))
    return oldest is not None and oldest < cutoff


def purge_batch(session: Session, cutoff: datetime, batch: int = 5000) -> int:
    """Delete up to `batch` of the oldest entries recorded before `cutoff` and move the
    anchor to the last one deleted, so the chain stays checkable from there. Only a run
    from the oldest end is deleted: an entry is kept while an older-numbered one is kept.
    Returns how many were deleted."""
    connection = session.connection()
    head = connection.execute(_locked_head(session)).one_or_none()
    if head is None:
        return 0
    anchor = int(head.anchor_seq)
    first_kept = session.scalar(
        select(func.min(AuditEntry.seq)).where(
            AuditEntry.seq > anchor, AuditEntry.recorded_at >= cutoff
        )
    )
    upto = int(first_kept) - 1 if first_kept is not None else int(head.seq)
    upto = min(upto, anchor + batch)
    if upto <= anchor:
        return 0
    last_hash = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == upto))
    if last_hash is None:
        return 0  # a gap: leave it for `check` to report rather than paper over it
    result = session.execute(
        delete(AuditEntry).where(AuditEntry.seq > anchor, AuditEntry.seq <= upto)
    )
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(anchor_seq=upto, anchor_hash=last_hash)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge(database: Database, now: datetime, retention_days: int, batch: int = 5000) -> int:
    """Delete entries older than `retention_days`, a batch per transaction (restartable),
    and record the purge itself. Returns how many were deleted."""
    cutoff = now - timedelta(days=retention_days)
    with database.transaction(write=False) as session:
        if not purge_due(session, cutoff):
            return 0
    total = 0
    while True:
        with database.transaction() as session:
            deleted = purge_batch(session, cutoff, batch)
            total += deleted
            if deleted < batch:
                if total:
                    head = session.execute(_HEAD).one()
                    record(
                        session,
                        action="audit.purge",
                        at=now,
                        detail={
                            "deleted": total,
                            "anchor_seq": int(head.anchor_seq),
                            "before": cutoff.isoformat(),
                        },
                    )
                return total


@dataclass(frozen=True)
class Filters:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    result: str | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None

    def where(self) -> list[Any]:
        clauses: list[Any] = []
        if self.actor:
            clauses.append(AuditEntry.username == self.actor)
        if self.action:
            clauses.append(AuditEntry.action == self.action)
        if self.object_type:
            clauses.append(AuditEntry.object_type == self.object_type)
        if self.object_id:
            clauses.append(AuditEntry.object_id == self.object_id)
        if self.result:
            clauses.append(AuditEntry.result == self.result)
        if self.time_from:
            clauses.append(AuditEntry.recorded_at >= self.time_from)
        if self.time_to:
            clauses.append(AuditEntry.recorded_at < self.time_to)
        return clauses


def search(
    session: Session, filters: Filters, limit: int, before_seq: int | None
) -> tuple[list[AuditEntry], int | None]:
    """A page of entries, newest first, and the seq to continue before (keyset paging)."""
    query = select(AuditEntry).where(*filters.where())
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].seq if more and rows else None)


def stream(database: Database, filters: Filters, chunk: int = 1000) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first, read a chunk per short transaction, so an
    export of millions of entries holds neither memory nor a connection for long."""
    after = 0
    head_seq = None
    while True:
        with database.transaction(write=False) as session:
            if head_seq is None:  # entries appended during the export are left out
                head = session.execute(_HEAD).one_or_none()
                head_seq = 0 if head is None else int(head.seq)
            rows = list(
                session.scalars(
                    select(AuditEntry)
                    .where(*filters.where(), AuditEntry.seq > after, AuditEntry.seq <= head_seq)
                    .order_by(AuditEntry.seq)
                    .limit(chunk)
                )
            )
        yield from rows
        if len(rows) < chunk:
            return
        after = rows[-1].seq
