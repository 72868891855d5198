"""POST /api/v1/auth/token and GET /api/v1/me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field

from fapiao.accounts.login import sign_in
from fapiao.accounts.security import origin_of
from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS, RATE_LIMITED
from fapiao.http.roles import Account
from fapiao.limits.guard import check_login

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=PROBLEMS)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str = Field(
        default="full",
        description="`full`, or `totp_enrolment`: the token only opens POST /api/v1/me/totp "
        "and POST /api/v1/me/totp/confirm (the role must sign in with a one-time code and "
        "none is enrolled yet).",
    )


class Me(BaseModel):
    username: str
    role: str
    tax_id: str | None


@router.post("/auth/token", response_model=Token, responses=RATE_LIMITED)
def token(
    platform: PlatformDep,
    request: Request,
    username: Annotated[str, Form(max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")],
    password: Annotated[str, Form(max_length=128, pattern=r"^[^\x00]*$")],
    totp: Annotated[
        str | None,
        Form(
            max_length=64,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="The authenticator app's current 6-digit code, or a recovery code.",
        ),
    ] = None,
) -> Token:
    """Exchange a username and password (and a one-time code where two-factor sign-in
    is on) for a bearer token (OAuth2 password flow). FAPIAO_LOGIN_MAX_FAILURES failed
    attempts in a row lock the account for FAPIAO_LOGIN_LOCK_MINUTES; attempts are also
    limited per address and per account (429 with Retry-After)."""
    check_login(platform, request, username)
    signed = sign_in(platform, username, password, totp, origin_of(request))
    return Token(access_token=signed.access_token, expires_in=signed.expires_in, scope=signed.scope)


@router.get("/me", response_model=Me)
def current_user(actor: Account) -> Me:
    """Who the token belongs to."""
    return Me(username=actor.username, role=actor.role, tax_id=actor.tax_id)
