"""POST /api/v1/me/password: a user changes their own password."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from fapiao.accounts import login, management, passwords, sessions, twofactor
from fapiao.accounts.api import Token
from fapiao.accounts.enrolment_token import TTL as ENROLMENT_TTL
from fapiao.accounts.enrolment_token import issue_enrolment_token
from fapiao.accounts.lockout import count_failure
from fapiao.accounts.models import User
from fapiao.accounts.security import PASSWORD_CHANGED, Origin, origin_of, security_event
from fapiao.accounts.service import Actor, issue_token
from fapiao.http.deps import PlatformDep, bearer, get_actor
from fapiao.http.openapi import PROBLEMS, RATE_LIMITED
from fapiao.kit.errors import N_, Forbidden, ValidationFailed, invalid
from fapiao.limits import guard
from fapiao.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=PROBLEMS)


class PasswordChange(BaseModel):
    username: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Who is changing their password; needed only without a bearer token.",
    )
    current_password: str = Field(max_length=128)
    # Longer than the policy allows, so that too long a password gets its own code.
    new_password: str = Field(max_length=1024)
    totp: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Without a bearer token: the one-time code, when signing in needs one.",
    )


async def optional_actor(
    request: Request, platform: PlatformDep, token: Annotated[str | None, Depends(bearer)]
) -> Actor | None:
    """The caller when a bearer token or a session cookie is sent (and valid), else None."""
    if token or request.cookies.get(sessions.COOKIE):
        return await get_actor(request, platform, token)
    return None


@router.post("/me/password", response_model=Token, responses=RATE_LIMITED)
def change_password(
    request: Request,
    platform: PlatformDep,
    body: PasswordChange,
    actor: Annotated[Actor | None, Depends(optional_actor)],
) -> Token:
    """Change one's own password, proven by the current one. Works with a bearer token,
    or without one when the password was reset or has expired (name the user in
    `username`). Every token issued before is ended; a new one is returned."""
    origin = origin_of(request)
    if actor is None:
        if not body.username:
            raise invalid(
                "username",
                "USERNAME_REQUIRED",
                N_("Name the user, or send the request with a bearer token."),
            )
        # Without a token this is a sign-in: the same limits, lock and second factor.
        guard.check_login(platform, request, body.username)
        _sign_in_to_change(platform, body, origin)
    policy = passwords.PasswordPolicy.from_settings(platform.settings)
    try:
        with platform.database.transaction(write=False) as session:
            user = management.user_for_change(
                session,
                user_id=actor.user_id if actor is not None else None,
                username=body.username,
                current_password=body.current_password,
            )
            management.check_change(session, user, body.current_password, body.new_password, policy)
            user_id, old_hash, username = user.id, user.password_hash, user.username
            role = user.role
    except ValidationFailed as refused:
        if actor is not None and refused.errors[0].field == "current_password":
            _count_failure(platform, actor.username, origin)
        raise
    new_hash = passwords.hash_password(body.new_password)
    now = platform.clock.now()
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    with platform.database.transaction() as session:
        management.store_password(
            session, user_id, new_hash, now, must_change=False, expected_hash=old_hash
        )
        security_event(
            session, PASSWORD_CHANGED, user_id=user_id, username=username, origin=origin, at=now
        )
        changed = session.get(User, user_id)
        assert changed is not None
        enrolling = role in platform.settings.totp_role_set and not twofactor.is_enrolled(
            session, user_id
        )
        access = issue_token(changed, platform.secret, now, ttl)
    platform.actors.drop(user_id)
    if enrolling:  # as at sign-in: a role that must use a one-time code enrols first
        token = issue_enrolment_token(user_id, platform.secret, now)
        return Token(
            access_token=token,
            expires_in=int(ENROLMENT_TTL.total_seconds()),
            scope=login.TOTP_ENROLMENT,
        )
    return Token(access_token=access, expires_in=int(ttl.total_seconds()))


def _sign_in_to_change(platform: Platform, body: PasswordChange, origin: Origin) -> None:
    """The checks of signing in, for a change without a token: counted failures, the
    lock, the second factor. A password that must be changed (reset, expired) is what
    this route is for; any other refusal stands."""
    assert body.username is not None
    try:
        login.check_credentials(platform, body.username, body.current_password, body.totp, origin)
    except Forbidden as refused:
        if refused.code not in ("PASSWORD_CHANGE_REQUIRED", "PASSWORD_EXPIRED"):
            raise


def _count_failure(platform: Platform, username: str, origin: Origin) -> None:
    """A wrong current password with a token counts towards the lock like a sign-in."""
    with platform.database.transaction() as session:
        count_failure(
            session,
            platform.settings,
            username,
            reason="password_change",
            origin=origin,
            now=platform.clock.now(),
        )
