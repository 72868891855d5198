"""Signing in: password, lock, second factor, token.

The password is checked with Argon2 before anything else, for every attempt (unknown
username, locked account, wrong password alike), and all three answer the same
INVALID_CREDENTIALS, so neither the answer nor its timing says whether a username exists
or is locked. Only after a right password on an unlocked account does the answer speak
of the second factor:

- no `totp` given: 401 TOTP_REQUIRED (not counted as a failure: it is the first step of
  every two-factor sign-in);
- a wrong, expired or replayed code, or a spent recovery code: 401 TOTP_INVALID, counted
  as a failed sign-in (whoever sends it knows the password; the lock stops them guessing
  codes).

A user whose role requires TOTP and who has not enrolled gets a token good only for
enrolling (see enrolment_token). The Argon2 check runs outside any transaction, so a slow
hash never holds SQLite's write lock; the counting runs in a short write transaction of
its own that commits even though the request fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts import management, passwords, service
from fapiao.accounts.enrolment_token import TTL as ENROLMENT_TTL
from fapiao.accounts.enrolment_token import issue_enrolment_token
from fapiao.accounts.lockout import count_failure, is_locked, reset_failures
from fapiao.accounts.models import User
from fapiao.accounts.security import LOGIN_FAILURE, LOGIN_SUCCESS, Origin, security_event
from fapiao.accounts.security_models import UserSecurity
from fapiao.accounts.twofactor import use_code
from fapiao.kit.errors import N_, FapiaoError, Unauthorized
from fapiao.platform import Platform

FULL = "full"
TOTP_ENROLMENT = "totp_enrolment"


@dataclass(frozen=True)
class Checked:
    """Who passed the sign-in checks, and what their token may do."""

    user_id: int
    scope: str


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    expires_in: int
    scope: str


def invalid_credentials() -> Unauthorized:
    return Unauthorized("INVALID_CREDENTIALS", N_("Wrong username or password."))


def sign_in(
    platform: Platform, username: str, password: str, code: str | None, origin: Origin
) -> SignedIn:
    """A token for these credentials, or the error to answer with (after the attempt
    has been counted and committed)."""
    checked = check_credentials(platform, username, password, code, origin)
    now = platform.clock.now()
    if checked.scope == TOTP_ENROLMENT:
        token = issue_enrolment_token(checked.user_id, platform.secret, now)
        return SignedIn(token, int(ENROLMENT_TTL.total_seconds()), checked.scope)
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    with platform.database.transaction(write=False) as session:
        user = session.get(User, checked.user_id)
        assert user is not None
        token = service.issue_token(user, platform.secret, now, ttl)
    return SignedIn(token, int(ttl.total_seconds()), checked.scope)


def check_credentials(
    platform: Platform, username: str, password: str, code: str | None, origin: Origin
) -> Checked:
    """The user these credentials sign in (password, lock, second factor, password age,
    taxpayer suspended), or the error to answer with, after the attempt has been counted
    and committed. Used by the token endpoint and by browser sign-in alike."""
    with platform.database.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == username))
    password_ok = service.check_password(
        password, user.password_hash if user is not None else service._DUMMY_HASH
    )
    with platform.database.transaction() as session:
        outcome = _decide(platform, session, username, password_ok, code or None, origin)
    if isinstance(outcome, FapiaoError):
        raise outcome
    assert user is not None  # a token is only ever given to a known user
    if passwords.needs_rehash(user.password_hash):
        # The hashing parameters changed since this password was stored: store it anew.
        new_hash = passwords.hash_password(password)
        with platform.database.transaction() as session:
            management.rehash(session, user.id, user.password_hash, new_hash)
    return outcome


def _decide(
    platform: Platform,
    session: Session,
    username: str,
    password_ok: bool,
    code: str | None,
    origin: Origin,
) -> Checked | FapiaoError:
    settings = platform.settings
    now = platform.clock.now()

    def failed(reason: str, error: FapiaoError) -> FapiaoError:
        count_failure(session, settings, username, reason=reason, origin=origin, now=now)
        return error

    # Read again under the write lock: the user may have changed since the hash check.
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return failed("unknown_user", invalid_credentials())
    if not password_ok:
        return failed("password", invalid_credentials())
    if not user.is_active:
        return failed("inactive", invalid_credentials())
    state = session.get(UserSecurity, user.id, with_for_update=True, populate_existing=True)
    if is_locked(state, now):
        return failed("locked", invalid_credentials())
    factor = None
    if state is not None and state.totp_secret is not None:
        if code is None:
            security_event(
                session,
                LOGIN_FAILURE,
                user_id=user.id,
                username=user.username,
                origin=origin,
                at=now,
                detail={"reason": "totp_missing", "counted": False},
            )
            return Unauthorized(
                "TOTP_REQUIRED",
                N_("Enter the one-time code of your authenticator app (field totp)."),
            )
        factor = use_code(session, state, user, code, now=now, origin=origin)
        if factor is None:
            return failed(
                "totp",
                Unauthorized(
                    "TOTP_INVALID",
                    N_("The one-time code is wrong, expired or already used."),
                ),
            )
    if state is not None and state.failed_logins:
        reset_failures(state)
        session.flush()
    try:
        # A reset or expired password, or a suspended taxpayer: no token until resolved.
        policy = passwords.PasswordPolicy.from_settings(settings)
        management.check_may_sign_in(session, user, policy, now)
    except FapiaoError as refused:
        return refused
    scope = FULL
    if factor is None and user.role in settings.totp_role_set:
        scope = TOTP_ENROLMENT
    security_event(
        session,
        LOGIN_SUCCESS,
        user_id=user.id,
        username=user.username,
        origin=origin,
        at=now,
        detail={"second_factor": factor, "scope": scope},
    )
    return Checked(user.id, scope)
