"""POST /api/v1/auth/token and GET /api/v1/me."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from pydantic import BaseModel

from fapiao.accounts import management, passwords
from fapiao.accounts.service import authenticate, issue_token
from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.roles import Account

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=PROBLEMS)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    username: str
    role: str
    tax_id: str | None


@router.post("/auth/token", response_model=Token)
def token(
    platform: PlatformDep,
    username: Annotated[str, Form(max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")],
    password: Annotated[str, Form(max_length=128, pattern=r"^[^\x00]*$")],
) -> Token:
    """Exchange a username and password for a bearer token (OAuth2 password flow). A
    reset or expired password is refused (403 PASSWORD_CHANGE_REQUIRED, PASSWORD_EXPIRED)
    until it is changed with POST /api/v1/me/password."""
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    policy = passwords.PasswordPolicy.from_settings(platform.settings)
    with platform.database.transaction(write=False) as session:
        user = authenticate(session, username, password)
        management.check_may_sign_in(session, user, policy, platform.clock.now())
        access = issue_token(user, platform.secret, platform.clock.now(), ttl)
        user_id, old_hash = user.id, user.password_hash
    if passwords.needs_rehash(old_hash):
        new_hash = passwords.hash_password(password)
        with platform.database.transaction() as session:
            management.rehash(session, user_id, old_hash, new_hash)
    return Token(access_token=access, expires_in=int(ttl.total_seconds()))


@router.get("/me", response_model=Me)
def current_user(actor: Account) -> Me:
    """Who the token belongs to."""
    return Me(username=actor.username, role=actor.role, tax_id=actor.tax_id)
