"""Managing users: signing-in rules, password changes and resets, and what an admin may
do to the users of its taxpayer. Services never commit; hashing happens outside write
transactions where the caller can arrange it (Argon2 takes tens of milliseconds)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fapiao.accounts.models import TAXPAYER_ROLES, User
from fapiao.accounts.passwords import PasswordPolicy, check_new_password, check_password
from fapiao.accounts.service import _DUMMY_HASH
from fapiao.accounts.tokenmodels import BrowserSession
from fapiao.kit.errors import N_, Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from fapiao.taxpayers.models import Taxpayer


def user_not_found() -> NotFound:
    return NotFound("USER_NOT_FOUND", N_("No user of your taxpayer has this username."))


def tax_id_of(session: Session, user: User) -> str | None:
    if user.taxpayer_id is None:
        return None
    return session.scalar(select(Taxpayer.tax_id).where(Taxpayer.id == user.taxpayer_id))


def check_may_sign_in(session: Session, user: User, policy: PasswordPolicy, now: datetime) -> None:
    """Refuse a user whose password is right but who may not have a token yet: a reset
    password, an expired one (rotation on), or a suspended taxpayer."""
    if user.taxpayer_id is not None:
        active = session.scalar(select(Taxpayer.is_active).where(Taxpayer.id == user.taxpayer_id))
        if active is False:
            raise Forbidden(
                "TAXPAYER_SUSPENDED",
                N_("Your taxpayer is suspended on the platform; ask the tax office."),
            )
    if user.must_change_password:
        raise Forbidden(
            "PASSWORD_CHANGE_REQUIRED",
            N_(
                "Your password was reset: choose a new one with POST /api/v1/me/password "
                "(username, current_password, new_password), then sign in."
            ),
        )
    if policy.expired(user.password_changed_at or user.created_at, now):
        raise Forbidden(
            "PASSWORD_EXPIRED",
            N_(
                "Your password is older than {days} days: choose a new one with "
                "POST /api/v1/me/password (username, current_password, new_password), "
                "then sign in."
            ),
            params={"days": policy.max_age_days},
        )


def wrong_current_password() -> ValidationFailed:
    return ValidationFailed(
        [
            FieldError(
                "current_password",
                "CURRENT_PASSWORD_WRONG",
                N_("The current password is wrong."),
            )
        ]
    )


def user_for_change(
    session: Session, *, user_id: int | None, username: str | None, current_password: str
) -> User:
    """The user changing their password, proven by the current one. Without a token the
    user is named by username; an unknown name is answered like a wrong password."""
    user = (
        session.get(User, user_id)
        if user_id is not None
        else session.scalar(select(User).where(User.username == (username or "")))
    )
    if user is None or not user.is_active:
        check_password(current_password, _DUMMY_HASH)
        raise wrong_current_password()
    if not check_password(current_password, user.password_hash):
        raise wrong_current_password()
    return user


def check_change(
    session: Session, user: User, current: str, new: str, policy: PasswordPolicy
) -> None:
    """422 on `new_password` for a policy breach or for keeping the same password."""
    check_new_password(
        new,
        policy,
        field="new_password",
        username=user.username,
        tax_id=tax_id_of(session, user),
    )
    if new == current:
        raise ValidationFailed(
            [
                FieldError(
                    "new_password",
                    "PASSWORD_REUSED",
                    N_("The new password must differ from the current one."),
                )
            ]
        )


def store_password(
    session: Session,
    user_id: int,
    new_hash: str,
    now: datetime,
    *,
    must_change: bool,
    expected_hash: str | None = None,
) -> None:
    """Set a new password hash and end every token issued before it and every browser
    session of the user. With `expected_hash`, only if the password did not change
    meanwhile (else 409)."""
    statement = (
        update(User)
        .where(User.id == user_id)
        .values(
            password_hash=new_hash,
            password_changed_at=now,
            must_change_password=must_change,
            token_version=User.token_version + 1,
        )
    )
    if expected_hash is not None:
        statement = statement.where(User.password_hash == expected_hash)
    if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "PASSWORD_CHANGED_MEANWHILE",
            N_("The password was changed at the same time; sign in and try again."),
        )
    # A stolen session must not outlive the password it was opened with.
    session.execute(
        update(BrowserSession)
        .where(BrowserSession.user_id == user_id, BrowserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def rehash(session: Session, user_id: int, old_hash: str, new_hash: str) -> None:
    """Replace a hash made with old Argon2 parameters (same password; tokens stay)."""
    session.execute(
        update(User)
        .where(User.id == user_id, User.password_hash == old_hash)
        .values(password_hash=new_hash)
    )


def users_of(session: Session, taxpayer_id: int) -> list[User]:
    return list(
        session.scalars(select(User).where(User.taxpayer_id == taxpayer_id).order_by(User.username))
    )


def user_of(session: Session, taxpayer_id: int, username: str) -> User:
    """A user of this taxpayer; 404 for anyone else's, exactly as for nobody."""
    user = session.scalar(
        select(User).where(User.username == username, User.taxpayer_id == taxpayer_id)
    )
    if user is None:
        raise user_not_found()
    return user


def update_user(
    session: Session,
    taxpayer_id: int,
    username: str,
    *,
    role: str | None,
    active: bool | None,
) -> User:
    """Change a user's role or whether it may sign in; the taxpayer keeps at least one
    active admin (409 LAST_ADMIN)."""
    if role is not None and role not in TAXPAYER_ROLES:
        raise ValidationFailed(
            [
                FieldError(
                    "role",
                    "ROLE_UNKNOWN",
                    N_("Unknown role {role}."),
                    {"role": role},
                )
            ]
        )
    # One change to a taxpayer's users at a time (PostgreSQL; SQLite writes one at a
    # time anyway), so two admins demoting each other cannot both see the other active.
    session.execute(select(Taxpayer.id).where(Taxpayer.id == taxpayer_id).with_for_update())
    user = user_of(session, taxpayer_id, username)
    stays_admin = (role or user.role) == "admin" and (user.is_active if active is None else active)
    if user.role == "admin" and user.is_active and not stays_admin:
        others = session.scalars(
            select(User.id).where(
                User.taxpayer_id == taxpayer_id,
                User.role == "admin",
                User.is_active.is_(True),
                User.id != user.id,
            )
        ).all()
        if not others:
            raise Conflict(
                "LAST_ADMIN",
                N_("This is the taxpayer's last active admin; make another admin first."),
            )
    if role is not None:
        user.role = role
    if active is not None:
        user.is_active = active
    session.flush()
    return user
