"""Audit entries of signing in, each committed in a transaction of its own (the sign-in
itself only reads), with the client's address and user agent of the current request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from fapiao.accounts.models import User
from fapiao.audit.service import outcome, record
from fapiao.db import Database

LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"


def login_succeeded(database: Database, user: Any, at: datetime) -> None:
    """`auth.login` by `user` (an accounts User)."""
    with database.transaction() as session:
        record(session, action=LOGIN, at=at, actor=user, object_type="user", object_id=user.id)


def login_failed(database: Database, username: str, error: BaseException, at: datetime) -> None:
    """`auth.login_failed` for the name that was tried, refused with the error's code.
    When the name is a user's, the entry names that user too (for lockout reviews); the
    password is never recorded."""
    with database.transaction() as session:
        known = session.execute(
            select(User.id, User.role, User.taxpayer_id).where(User.username == username)
        ).one_or_none()
        record(
            session,
            action=LOGIN_FAILED,
            at=at,
            username=username,
            role=known.role if known else None,
            taxpayer_id=known.taxpayer_id if known else None,
            object_type="user",
            object_id=known.id if known else None,
            detail={"known_user": known is not None},
            **outcome(error),
        )
