"""Browser sign-in: POST/GET /api/v1/auth/session and POST /api/v1/auth/logout.

The session cookie `fapiao_session` is HttpOnly, SameSite=Lax, Path=/ and Secure (unless
FAPIAO_COOKIE_SECURE=false for plain-http development). Requests it signs in that change
state need the CSRF token that GET /api/v1/auth/session returns (see http/csrf.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from fapiao.accounts import login, sessions
from fapiao.accounts.security import origin_of
from fapiao.accounts.service import Actor, load_actor
from fapiao.http import csrf
from fapiao.http.credentials import find_session, lifetimes, session_actor
from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS, RATE_LIMITED
from fapiao.http.responses import JSONResponse
from fapiao.kit.errors import N_, Forbidden
from fapiao.limits import guard
from fapiao.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=PROBLEMS)


class SessionOut(BaseModel):
    username: str
    role: str
    tax_id: str | None
    csrf_token: str
    expires_at: datetime
    idle_expires_at: datetime


def check_login(
    platform: Platform, request: Request, username: str, password: str, totp: str | None
) -> int:
    """The id of the user these credentials sign in: the same checks, counting and
    locking as POST /api/v1/auth/token. A browser session is never an enrolment-only
    one: a role that must use a one-time code enrols first."""
    checked = login.check_credentials(platform, username, password, totp, origin_of(request))
    if checked.scope != login.FULL:
        raise Forbidden(
            "TOTP_ENROLMENT_REQUIRED",
            N_(
                "Your role signs in with a one-time code: enrol an authenticator app first "
                "(POST /api/v1/me/totp), then sign in again with its code."
            ),
        )
    return checked.user_id


def set_cookie(response: Response, platform: Platform, session_id: str) -> None:
    response.set_cookie(
        sessions.COOKIE,
        session_id,
        max_age=platform.settings.session_max_hours * 3600,
        path="/",
        secure=platform.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, platform: Platform) -> None:
    response.delete_cookie(
        sessions.COOKIE,
        path="/",
        secure=platform.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def _answer(
    actor: Actor, platform: Platform, session_id: str, live: sessions.Live
) -> dict[str, str | None]:
    return {
        "username": actor.username,
        "role": actor.role,
        "tax_id": actor.tax_id,
        "csrf_token": sessions.csrf_token(platform.secret, session_id),
        "expires_at": live.expires_at.isoformat(),
        "idle_expires_at": live.idle_until.isoformat(),
    }


@router.post("/auth/session", response_model=SessionOut, responses=RATE_LIMITED)
def sign_in(
    request: Request,
    platform: PlatformDep,
    username: Annotated[str, Form(max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")],
    password: Annotated[str, Form(max_length=128, pattern=r"^[^\x00]*$")],
    totp: Annotated[str | None, Form(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
) -> JSONResponse:
    """Sign a browser in: sets the `fapiao_session` cookie and answers with the CSRF
    token. Any session the browser already had is ended; the new one has a new id."""
    csrf.check_origin(request)
    guard.check_login(platform, request, username)  # the same limits as /auth/token
    user_id = check_login(platform, request, username, password, totp)
    actor, session_id, live = open_session(platform, request, user_id)
    response = JSONResponse(_answer(actor, platform, session_id, live))
    set_cookie(response, platform, session_id)
    return response


def open_session(
    platform: Platform, request: Request, user_id: int
) -> tuple[Actor, str, sessions.Live]:
    """A new session for a user who passed the sign-in checks (the web pages sign in
    through here too); any session the browser had is ended."""
    now = platform.clock.now()
    with platform.database.transaction() as session:
        session_id = sessions.start(
            session, user_id, now, lifetimes(platform), request.cookies.get(sessions.COOKIE)
        )
        actor = load_actor(session, user_id)
        live = sessions.find(session, session_id, now, lifetimes(platform))
    assert live is not None  # just started
    return actor, session_id, live


@router.get("/auth/session", response_model=SessionOut)
async def current_session(request: Request, platform: PlatformDep) -> JSONResponse:
    """Who the session cookie signs in, and the CSRF token to send with its writes."""
    actor = await session_actor(request, platform)
    live: sessions.Live = request.state.session
    session_id = request.cookies[sessions.COOKIE]
    return JSONResponse(_answer(actor, platform, session_id, live))


@router.post("/auth/logout", status_code=204)
async def sign_out(request: Request, platform: PlatformDep) -> Response:
    """End the browser's session (CSRF token required) and clear its cookie. Without a
    live session only the cookie is cleared."""
    session_id = request.cookies.get(sessions.COOKIE)
    response = Response(status_code=204)
    if session_id and await run_in_threadpool(find_session, platform, session_id) is not None:
        await session_actor(request, platform)  # the CSRF checks
        await run_in_threadpool(end_session, platform, session_id)
    clear_cookie(response, platform)
    return response


def end_session(platform: Platform, session_id: str) -> None:
    with platform.database.transaction() as session:
        sessions.end(session, session_id, platform.clock.now())
