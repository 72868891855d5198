"""Server-side browser sessions.

The cookie carries 256 random bits; the table keeps only their SHA-256 digest, so a copy of
the database opens no session. A session ends at logout, after `session_idle_minutes`
without a request, or `session_max_hours` after sign-in, whichever comes first, all by the
business clock. Activity is recorded at most once a minute (`SEEN_EVERY`), so the idle
timeout counts from the last recorded request and may end a session up to a minute early.
The CSRF token is an HMAC of the session id under the platform secret: bound to the
session, nothing to store, and new at every sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fapiao.accounts.tokenmodels import BrowserSession

COOKIE = "fapiao_session"
SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class Live:
    """A session found valid: its row id, user and when it ends at the latest."""

    row_id: int
    user_id: int
    expires_at: datetime
    idle_until: datetime
    seen_due: bool


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(
    session: Session, user_id: int, now: datetime, lifetimes: Lifetimes, previous: str | None
) -> str:
    """A new session for `user_id`; returns the id for the cookie. The id is always fresh
    (a cookie the browser already had is ended, never adopted), so a planted id cannot
    become a signed-in one."""
    if previous:
        end(session, previous, now)
    session_id = secrets.token_urlsafe(32)
    session.add(
        BrowserSession(
            id_hash=_digest(session_id),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetimes.absolute,
        )
    )
    session.flush()
    return session_id


def find(session: Session, session_id: str, now: datetime, lifetimes: Lifetimes) -> Live | None:
    """The live session with this id, or None when unknown, ended, idle too long or past
    its absolute lifetime."""
    if not session_id or len(session_id) > 100:
        return None
    row = session.scalar(
        select(BrowserSession).where(BrowserSession.id_hash == _digest(session_id))
    )
    if row is None or row.ended_at is not None:
        return None
    idle_until = row.last_seen_at + lifetimes.idle
    if now >= row.expires_at or now >= idle_until:
        return None
    return Live(
        row_id=row.id,
        user_id=row.user_id,
        expires_at=row.expires_at,
        idle_until=idle_until,
        seen_due=now - row.last_seen_at >= SEEN_EVERY,
    )


def touch(session: Session, row_id: int, now: datetime) -> None:
    """Record activity (callers do so only when `Live.seen_due`)."""
    session.execute(
        update(BrowserSession)
        .where(BrowserSession.id == row_id)
        .where(BrowserSession.last_seen_at <= now - SEEN_EVERY)
        .values(last_seen_at=now)
    )


def end(session: Session, session_id: str, now: datetime) -> bool:
    """End the session with this id; False when there was none still open."""
    result = session.execute(
        update(BrowserSession)
        .where(BrowserSession.id_hash == _digest(session_id))
        .where(BrowserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def csrf_token(secret: str, session_id: str) -> str:
    mac = hmac.new(secret.encode(), b"fapiao-csrf:" + session_id.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def csrf_matches(secret: str, session_id: str, given: str | None) -> bool:
    if not given or len(given) > 100:
        return False
    return hmac.compare_digest(csrf_token(secret, session_id), given)
