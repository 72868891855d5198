"""POST /api/v1/auth/token and GET /api/v1/me."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from pydantic import BaseModel

from fapiao.accounts.service import authenticate, issue_token
from fapiao.audit import events
from fapiao.http.deps import ActorDep, PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.kit.errors import FapiaoError

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
    """Exchange a username and password for a bearer token (OAuth2 password flow)."""
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    try:
        with platform.database.transaction(write=False) as session:
            user = authenticate(session, username, password)
            access = issue_token(user, platform.secret, platform.clock.now(), ttl)
    except FapiaoError as error:
        # Its own transaction: the sign-in wrote nothing, but the refusal is kept.
        events.login_failed(platform.database, username, error, platform.clock.now())
        raise
    events.login_succeeded(platform.database, user, platform.clock.now())
    return Token(access_token=access, expires_in=int(ttl.total_seconds()))


@router.get("/me", response_model=Me)
def current_user(actor: ActorDep) -> Me:
    """Who the token belongs to."""
    return Me(username=actor.username, role=actor.role, tax_id=actor.tax_id)
