"""Enrolling, using and removing the TOTP second factor. Services: they never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from fapiao.accounts import totp
from fapiao.accounts.lockout import security_row
from fapiao.accounts.models import User
from fapiao.accounts.security import (
    TOTP_DISABLED,
    TOTP_ENABLED,
    TOTP_ENROLMENT_STARTED,
    TOTP_RECOVERY_CODE_USED,
    TOTP_RECOVERY_CODES_REGENERATED,
    Origin,
    security_event,
)
from fapiao.accounts.security_models import RecoveryCode, UserSecurity
from fapiao.kit.errors import N_, Conflict, invalid


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs; shown once, when enrolment starts."""

    secret: str
    uri: str
    qr_svg: str
    qr_png: str


def _event(
    session: Session, action: str, user: User, origin: Origin, now: datetime, **detail: object
) -> None:
    security_event(
        session,
        action,
        user_id=user.id,
        username=user.username,
        origin=origin,
        at=now,
        detail=detail,
    )


def is_enrolled(session: Session, user_id: int) -> bool:
    secret = session.scalar(select(UserSecurity.totp_secret).where(UserSecurity.user_id == user_id))
    return secret is not None


def start_enrolment(session: Session, user: User, *, origin: Origin, now: datetime) -> Enrolment:
    """A new secret, pending until confirmed with a code. Starting again replaces a
    pending secret; an active one must be removed first (409 TOTP_ALREADY_ENABLED)."""
    state = security_row(session, user.id)
    if state.totp_secret is not None:
        raise Conflict(
            "TOTP_ALREADY_ENABLED",
            N_("Two-factor sign-in is already on; remove it before enrolling again."),
        )
    secret = totp.new_secret()
    state.totp_pending_secret = secret
    session.flush()
    _event(session, TOTP_ENROLMENT_STARTED, user, origin, now)
    uri = totp.provisioning_uri(secret, user.username)
    return Enrolment(secret, uri, totp.qr_svg(uri), totp.qr_png_data_uri(uri))


def confirm_enrolment(
    session: Session, user: User, code: str, *, origin: Origin, now: datetime
) -> list[str]:
    """Turn the pending secret on once `code` proves the app has it; the new recovery
    codes, which are never shown again."""
    state = security_row(session, user.id)
    if state.totp_secret is not None:
        raise Conflict(
            "TOTP_ALREADY_ENABLED",
            N_("Two-factor sign-in is already on; remove it before enrolling again."),
        )
    if state.totp_pending_secret is None:
        raise Conflict("TOTP_NOT_STARTED", N_("Start enrolment first: POST /api/v1/me/totp."))
    step = totp.matching_step(state.totp_pending_secret, code.strip(), now, None)
    if step is None:
        raise invalid("code", "TOTP_INVALID", N_("The one-time code is wrong or expired."))
    enable(session, user, state.totp_pending_secret, now=now, step=step, origin=origin)
    return replace_recovery_codes(session, user, now=now)


def enable(
    session: Session,
    user: User,
    secret: str,
    *,
    now: datetime,
    origin: Origin,
    step: int | None = None,
) -> None:
    """Make `secret` (canonical base32) the user's active second factor."""
    state = security_row(session, user.id)
    state.totp_secret = secret
    state.totp_pending_secret = None
    state.totp_enabled_at = now
    state.totp_last_step = step
    session.flush()
    _event(session, TOTP_ENABLED, user, origin, now)


def replace_recovery_codes(session: Session, user: User, *, now: datetime) -> list[str]:
    """Ten fresh recovery codes; the earlier ones stop working."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    for code in codes:
        digest = totp.recovery_code_hash(code)
        assert digest is not None
        session.add(RecoveryCode(user_id=user.id, code_hash=digest, created_at=now))
    session.flush()
    return codes


def regenerate_recovery_codes(
    session: Session, user: User, code: str, *, origin: Origin, now: datetime
) -> list[str]:
    """New recovery codes for a user whose second factor is on, proven by a current code."""
    state = security_row(session, user.id)
    if state.totp_secret is None:
        raise Conflict("TOTP_NOT_ENABLED", N_("Two-factor sign-in is not on."))
    step = totp.matching_step(state.totp_secret, code.strip(), now, state.totp_last_step)
    if step is None:
        raise invalid("code", "TOTP_INVALID", N_("The one-time code is wrong or expired."))
    state.totp_last_step = step
    codes = replace_recovery_codes(session, user, now=now)
    _event(session, TOTP_RECOVERY_CODES_REGENERATED, user, origin, now)
    return codes


def disable(session: Session, user: User, *, origin: Origin, now: datetime) -> None:
    """Turn the second factor off and drop the recovery codes (the caller has checked
    the user's code or password and that the role allows it)."""
    state = security_row(session, user.id)
    if state.totp_secret is None and state.totp_pending_secret is None:
        raise Conflict("TOTP_NOT_ENABLED", N_("Two-factor sign-in is not on."))
    state.totp_secret = None
    state.totp_pending_secret = None
    state.totp_enabled_at = None
    state.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
    _event(session, TOTP_DISABLED, user, origin, now)


def use_code(
    session: Session, state: UserSecurity, user: User, given: str, *, now: datetime, origin: Origin
) -> str | None:
    """Spend a TOTP code (once per time step) or an unused recovery code of the user's;
    "totp" or "recovery_code" for what was spent, None when `given` is neither. `state`
    must be locked for update by the caller."""
    given = given.strip()
    secret = state.totp_secret
    assert secret is not None
    if totp.looks_like_code(given):
        step = totp.matching_step(secret, given, now, state.totp_last_step)
        if step is None:
            return None
        state.totp_last_step = step
        session.flush()
        return "totp"
    digest = totp.recovery_code_hash(given)
    if digest is None:
        return None
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    left = session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    _event(session, TOTP_RECOVERY_CODE_USED, user, origin, now, codes_left=left)
    return "recovery_code"
