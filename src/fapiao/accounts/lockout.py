"""Failed sign-ins lock an account (FAPIAO_LOGIN_MAX_FAILURES in a row lock it for
FAPIAO_LOGIN_LOCK_MINUTES). The counter lives in the database, so every server process
sees the same one, and it is kept only for users that exist: a guessed username adds no
row anywhere."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts.models import User
from fapiao.accounts.security import (
    ACCOUNT_LOCKED,
    ACCOUNT_UNLOCKED,
    LOGIN_FAILURE,
    Origin,
    security_event,
)
from fapiao.accounts.security_models import UserSecurity
from fapiao.dbsql import insert_ignore


def is_locked(state: UserSecurity | None, now: datetime) -> bool:
    return state is not None and state.locked_until is not None and state.locked_until > now


def security_row(session: Session, user_id: int) -> UserSecurity:
    """The user's row, created if missing, locked for update until the transaction ends
    (so concurrent sign-ins of one user count one after the other)."""
    session.execute(insert_ignore(session, UserSecurity, {"user_id": user_id, "failed_logins": 0}))
    return session.scalars(
        select(UserSecurity)
        .where(UserSecurity.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def record_failure(
    session: Session,
    username: str,
    *,
    reason: str,
    origin: Origin,
    now: datetime,
    max_failures: int,
    lock_for: timedelta,
) -> None:
    """Count one failed sign-in for `username` and lock the account when it reaches
    `max_failures`. An unknown username is recorded as an event and counted nowhere.
    Attempts while the account is locked neither extend the lock nor count; once a lock
    has run out the count starts again from zero."""
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        security_event(
            session,
            LOGIN_FAILURE,
            user_id=None,
            username=username,
            origin=origin,
            at=now,
            detail={"reason": reason},
        )
        return
    state = security_row(session, user_id)
    if is_locked(state, now):
        security_event(
            session,
            LOGIN_FAILURE,
            user_id=user_id,
            username=username,
            origin=origin,
            at=now,
            detail={"reason": reason, "locked": True},
        )
        return
    if state.locked_until is not None:  # an expired lock: a fresh start
        state.locked_until = None
        state.failed_logins = 0
    state.failed_logins += 1
    security_event(
        session,
        LOGIN_FAILURE,
        user_id=user_id,
        username=username,
        origin=origin,
        at=now,
        detail={"reason": reason, "failures": state.failed_logins},
    )
    if state.failed_logins >= max_failures:
        state.locked_until = now + lock_for
        security_event(
            session,
            ACCOUNT_LOCKED,
            user_id=user_id,
            username=username,
            origin=origin,
            at=now,
            detail={"failures": state.failed_logins, "until": state.locked_until.isoformat()},
        )
    session.flush()


def count_failure(
    session: Session, settings: Any, username: str, *, reason: str, origin: Origin, now: datetime
) -> None:
    """`record_failure` with the lock of the settings (FAPIAO_LOGIN_MAX_FAILURES,
    FAPIAO_LOGIN_LOCK_MINUTES): for every route that tests a password or a code."""
    record_failure(
        session,
        username,
        reason=reason,
        origin=origin,
        now=now,
        max_failures=settings.login_max_failures,
        lock_for=timedelta(minutes=settings.login_lock_minutes),
    )


def reset_failures(state: UserSecurity) -> None:
    """A successful sign-in: the count starts again."""
    state.failed_logins = 0
    state.locked_until = None


def unlock(session: Session, user: User, *, by: str, origin: Origin, now: datetime) -> bool:
    """Lift a lock and clear the count; True when the account was locked."""
    state = session.get(UserSecurity, user.id, with_for_update=True)
    if state is None:
        return False
    was_locked = is_locked(state, now)
    if was_locked or state.failed_logins:
        reset_failures(state)
        session.flush()
    security_event(
        session,
        ACCOUNT_UNLOCKED,
        user_id=user.id,
        username=user.username,
        origin=origin,
        at=now,
        detail={"by": by, "was_locked": was_locked},
    )
    return was_locked
