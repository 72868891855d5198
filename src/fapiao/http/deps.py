"""Request dependencies shared by every API router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer

from fapiao.accounts.service import Actor, load_actor, read_token
from fapiao.kit.errors import N_, Unauthorized
from fapiao.platform import Platform

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_platform(request: Request) -> Platform:
    platform = request.app.state.platform
    assert isinstance(platform, Platform)
    return platform


async def get_actor(
    platform: Annotated[Platform, Depends(get_platform)],
    token: Annotated[str | None, Depends(bearer)],
) -> Actor:
    """The signed-in caller; 401 without a valid bearer token."""
    if not token:
        raise Unauthorized(
            "NOT_AUTHENTICATED",
            N_("Sign in first: send an Authorization: Bearer token."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    user_id = read_token(token, platform.secret, platform.clock.now())
    cached = platform.actors.get(user_id)
    if cached is not None:
        return cached
    actor = await run_in_threadpool(_load, platform, user_id)
    platform.actors.put(user_id, actor)
    return actor


def _load(platform: Platform, user_id: int) -> Actor:
    with platform.database.transaction(write=False) as session:
        return load_actor(session, user_id)


PlatformDep = Annotated[Platform, Depends(get_platform)]
ActorDep = Annotated[Actor, Depends(get_actor)]
