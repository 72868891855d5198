"""Who a request is, from an API token or a browser session cookie (deps.get_actor asks
here for these two; signed bearer tokens from /auth/token are read in deps)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from fapiao.accounts import apitokens, sessions
from fapiao.accounts.service import Actor, load_actor
from fapiao.http import csrf
from fapiao.http.scopes import require_token_scope
from fapiao.kit.errors import N_, Unauthorized
from fapiao.platform import Platform


def not_signed_in() -> Unauthorized:
    return Unauthorized(
        "NOT_AUTHENTICATED",
        N_("Sign in first: send an Authorization: Bearer token."),
        headers={"WWW-Authenticate": "Bearer"},
    )


def lifetimes(platform: Platform) -> sessions.Lifetimes:
    settings = platform.settings
    return sessions.Lifetimes(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )


async def token_actor(request: Request, platform: Platform, text: str) -> Actor:
    """The actor of an API token, after its scope was checked against the route. Costs no
    database round trip while the token's grant and its user are cached."""
    now = platform.clock.now()
    key = apitokens.digest(text)
    grant = platform.api_tokens.get(key, now)
    if grant is None:
        grant = await run_in_threadpool(_verify_token, platform, text, now)
        platform.api_tokens.put(key, grant, now)
    if grant.expires_at <= now:
        raise apitokens.token_invalid()
    require_token_scope(request, grant.scopes)
    actor = platform.actors.get(grant.user_id)
    if actor is None:
        actor = await run_in_threadpool(_load_actor, platform, grant.user_id)
        platform.actors.put(grant.user_id, actor)
    if actor.taxpayer_id != grant.taxpayer_id:
        raise apitokens.token_invalid()
    request.state.token_scopes = grant.scopes
    return actor


def _verify_token(platform: Platform, text: str, now: datetime) -> apitokens.Grant:
    with platform.database.transaction(write=False) as session:
        grant = apitokens.lookup(session, text)
    if grant is None:
        raise apitokens.token_invalid()
    # Here at most once per cache period per token and process; the write itself happens
    # at most once a minute per token (the UPDATE's condition), so a busy token is cheap.
    with platform.database.transaction() as session:
        apitokens.note_use(session, grant.token_id, now)
    return grant


def _load_actor(platform: Platform, user_id: int) -> Actor:
    with platform.database.transaction(write=False) as session:
        return load_actor(session, user_id)


async def session_actor(request: Request, platform: Platform) -> Actor:
    """The actor of the browser session cookie; state-changing requests must pass the CSRF
    checks. 401 without a live session."""
    session_id = request.cookies.get(sessions.COOKIE)
    if not session_id:
        raise not_signed_in()
    live = await run_in_threadpool(find_session, platform, session_id)
    if live is None:
        raise session_expired()
    if request.method not in csrf.SAFE_METHODS:
        csrf.check_origin(request)
        if not sessions.csrf_matches(
            platform.secret, session_id, await csrf.submitted_token(request)
        ):
            raise csrf.csrf_failed(
                N_("The CSRF token is missing or wrong; get it from GET /api/v1/auth/session.")
            )
    request.state.session = live
    actor = platform.actors.get(live.user_id)
    if actor is None:
        actor = await run_in_threadpool(_load_actor, platform, live.user_id)
        platform.actors.put(live.user_id, actor)
    return actor


def find_session(platform: Platform, session_id: str) -> sessions.Live | None:
    """The live session, recording activity when the last record is a minute old."""
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        live = sessions.find(session, session_id, now, lifetimes(platform))
    if live is not None and live.seen_due:
        with platform.database.transaction() as session:
            sessions.touch(session, live.row_id, now)
    return live


def session_expired() -> Unauthorized:
    return Unauthorized("SESSION_EXPIRED", N_("Your session has ended; sign in again."))
