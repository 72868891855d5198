"""/api/v1/api-tokens: API tokens for machines.

Any user of a taxpayer may make tokens for themselves, with scopes their role allows
(viewer: read; clerk: read, issue; admin: read, issue, admin). A taxpayer's admins see and
revoke all of its tokens; everyone else only their own. Another taxpayer's token, or
someone else's for a non-admin, is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from fapiao.accounts import apitokens
from fapiao.accounts.models import User
from fapiao.accounts.service import Actor
from fapiao.accounts.tokenmodels import ApiToken
from fapiao.http.deps import ActorDep, PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.responses import JSONResponse
from fapiao.kit.errors import N_, Forbidden

router = APIRouter(prefix="/api/v1", tags=["api tokens"], responses=PROBLEMS)
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", description="the token's public id")]


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, examples=["ERP invoicing"])
    scopes: list[str] = Field(min_length=1, max_length=3, examples=[["read", "issue"]])
    expires_in_days: int = Field(
        default=90, ge=1, le=3650, description="at most FAPIAO_API_TOKEN_MAX_DAYS"
    )


class TokenOut(BaseModel):
    id: str = Field(description="public id; also inside the token text after fpt_")
    name: str
    scopes: list[str]
    username: str
    status: str = Field(description="active, expired or revoked")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="recorded at most once a minute")
    revoked_at: datetime | None
    token: str | None = Field(default=None, description="only in the answer that created it")


def _taxpayer_of(actor: Actor) -> int:
    if actor.taxpayer_id is None:
        raise Forbidden(
            "ROLE_NOT_ALLOWED",
            N_("Your role ({role}) may not do this."),
            params={"role": actor.role},
        )
    return actor.taxpayer_id


def token_out(
    token: ApiToken, username: str, now: datetime, text: str | None = None
) -> dict[str, Any]:
    return {
        "id": token.public_id,
        "name": token.name,
        "scopes": token.scopes.split(","),
        "username": username,
        "status": apitokens.status(token, now),
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        **({"token": text} if text is not None else {}),
    }


@router.post("/api-tokens", status_code=201, response_model=TokenOut)
def create_api_token(
    body: TokenIn, request: Request, platform: PlatformDep, actor: ActorDep
) -> JSONResponse:
    """Make an API token for yourself. The token text is in this answer only: store it
    now; the platform keeps only its digest."""
    _taxpayer_of(actor)
    scopes = apitokens.parse_scopes(body.scopes)
    now = platform.clock.now()
    with platform.database.transaction() as session:
        user = session.get(User, actor.user_id)
        assert user is not None  # the actor was just loaded
        token, text = apitokens.create_token(
            session,
            user,
            name=body.name,
            scopes=scopes,
            days=body.expires_in_days,
            max_days=platform.settings.api_token_max_days,
            now=now,
            within=getattr(request.state, "token_scopes", None),
        )
        answer = token_out(token, user.username, now, text)
    return JSONResponse(answer, status_code=201)


@router.get("/api-tokens", response_model=list[TokenOut])
def list_api_tokens(platform: PlatformDep, actor: ActorDep) -> JSONResponse:
    """Tokens of your taxpayer (admins) or your own (others), newest first, without
    their secrets."""
    taxpayer_id = _taxpayer_of(actor)
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        tokens = apitokens.visible_tokens(
            session, taxpayer_id, None if actor.role == "admin" else actor.user_id
        )
        names = dict(
            session.execute(
                select(User.id, User.username).where(User.id.in_({t.user_id for t in tokens}))
            ).all()
        )
        answer = [token_out(token, names[token.user_id], now) for token in tokens]
    return JSONResponse(answer)


@router.delete("/api-tokens/{token_id}", status_code=204)
def revoke_api_token(token_id: TokenId, platform: PlatformDep, actor: ActorDep) -> Response:
    """Revoke a token. This process refuses it at once; every other process within
    FAPIAO_API_TOKEN_CACHE_SECONDS."""
    taxpayer_id = _taxpayer_of(actor)
    with platform.database.transaction() as session:
        apitokens.revoke_token(
            session,
            token_id,
            taxpayer_id,
            None if actor.role == "admin" else actor.user_id,
            platform.clock.now(),
        )
    platform.api_tokens.forget(token_id)
    return Response(status_code=204)
