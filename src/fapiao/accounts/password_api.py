"""POST /api/v1/me/password: a user changes their own password."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from fapiao.accounts import management, passwords, sessions
from fapiao.accounts.api import Token
from fapiao.accounts.models import User
from fapiao.accounts.service import Actor, issue_token
from fapiao.http.deps import PlatformDep, bearer, get_actor
from fapiao.http.openapi import PROBLEMS, RATE_LIMITED
from fapiao.kit.errors import N_, invalid
from fapiao.limits import guard

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
    user_id = actor.user_id if actor is not None else None
    if actor is None and not body.username:
        raise invalid(
            "username",
            "USERNAME_REQUIRED",
            N_("Name the user, or send the request with a bearer token."),
        )
    if actor is None and body.username:
        # Without a token this tests a password, like signing in: the same limits apply.
        guard.check_login(platform, request, body.username)
    policy = passwords.PasswordPolicy.from_settings(platform.settings)
    with platform.database.transaction(write=False) as session:
        user = management.user_for_change(
            session,
            user_id=user_id,
            username=body.username,
            current_password=body.current_password,
        )
        management.check_change(session, user, body.current_password, body.new_password, policy)
        user_id, old_hash = user.id, user.password_hash
    new_hash = passwords.hash_password(body.new_password)
    now = platform.clock.now()
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    with platform.database.transaction() as session:
        management.store_password(
            session, user_id, new_hash, now, must_change=False, expected_hash=old_hash
        )
        changed = session.get(User, user_id)
        assert changed is not None
        access = issue_token(changed, platform.secret, now, ttl)
    platform.actors.drop(user_id)
    return Token(access_token=access, expires_in=int(ttl.total_seconds()))
