"""Request dependencies shared by every API router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer

from fapiao.accounts.apitokens import looks_like_token
from fapiao.accounts.enrolment_token import PREFIX as ENROLMENT_PREFIX
from fapiao.accounts.enrolment_token import refuse_enrolment_token
from fapiao.accounts.service import Actor, check_token_version, load_actor, read_token_claims
from fapiao.audit.context import note_actor
from fapiao.consistency import parse_lsn
from fapiao.http.credentials import session_actor, token_actor
from fapiao.http.middleware import CONSISTENCY_HEADER
from fapiao.kit.errors import N_, FapiaoError, FieldError
from fapiao.platform import Platform

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def platform_of(request: Request) -> Platform:
    platform = request.app.state.platform
    assert isinstance(platform, Platform)
    return platform


async def get_platform(request: Request) -> Platform:
    return platform_of(request)


async def get_actor(
    request: Request,
    platform: Annotated[Platform, Depends(get_platform)],
    token: Annotated[str | None, Depends(bearer)],
) -> Actor:
    """The signed-in caller: a bearer token (signed, or an API token limited to its
    scopes), else the browser session cookie (with CSRF checks); 401 without either."""
    if not token:
        actor = await session_actor(request, platform)
    elif token.startswith(ENROLMENT_PREFIX):
        refuse_enrolment_token(token, platform.secret, platform.clock.now())
        raise AssertionError("refuse_enrolment_token always raises")
    elif looks_like_token(token):
        actor = await token_actor(request, platform, token)
    else:
        actor = await _bearer_actor(platform, token)
    note_actor(actor)  # for the audit and access logs
    return actor


async def _bearer_actor(platform: Platform, token: str) -> Actor:
    """The user of a signed bearer token from /auth/token."""
    user_id, version = read_token_claims(token, platform.secret, platform.clock.now())
    cached = platform.actors.get(user_id)
    # A token newer than the cached user was issued after a password change made in
    # another process: look the user up again rather than refuse it.
    if cached is not None and version <= cached.token_version:
        check_token_version(cached, version)
        return cached
    actor = await run_in_threadpool(_load, platform, user_id)
    platform.actors.put(user_id, actor)
    check_token_version(actor, version)
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
