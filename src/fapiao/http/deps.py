"""Request dependencies shared by every API router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer

from fapiao.accounts.service import Actor, load_actor, read_token
from fapiao.audit.context import note_actor
from fapiao.consistency import parse_lsn
from fapiao.http.middleware import CONSISTENCY_HEADER
from fapiao.kit.errors import N_, FapiaoError, FieldError, Unauthorized
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
    actor = platform.actors.get(user_id)
    if actor is None:
        actor = await run_in_threadpool(_load, platform, user_id)
        platform.actors.put(user_id, actor)
    note_actor(actor)  # for the audit and access logs
    return actor


def _load(platform: Platform, user_id: int) -> Actor:
    with platform.database.transaction(write=False) as session:
        return load_actor(session, user_id)


PlatformDep = Annotated[Platform, Depends(get_platform)]
ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_read_after(
    token: Annotated[
        str | None,
        Header(
            alias=CONSISTENCY_HEADER,
            description=(
                "The X-Fapiao-Consistency header of your last write: the read then sees "
                "that write (a replica serves it only once it has replayed that far)."
            ),
        ),
    ] = None,
) -> int | None:
    """The WAL position the caller's read must include, from `X-Fapiao-Consistency`."""
    if token is None:
        return None
    position = parse_lsn(token)
    if position is None:
        raise FapiaoError(
            "CONSISTENCY_TOKEN_INVALID",
            N_("The X-Fapiao-Consistency header is not a consistency token."),
            status=400,
            errors=[
                FieldError(
                    CONSISTENCY_HEADER,
                    "INVALID_FORMAT",
                    N_("Send back the X-Fapiao-Consistency header of a write unchanged."),
                )
            ],
        )
    return position


ReadAfter = Annotated[int | None, Depends(get_read_after)]
