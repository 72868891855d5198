"""Who a web page is for: the browser session cookie only (pages never take bearer tokens).

`WebActor` (any signed-in user) and `web_allow(capability)` are the dependencies pages
declare. Without a live session a GET is redirected to /ui/login?next=<this page>; a
state-changing request must pass the session's CSRF checks (http/csrf.py). Failures are
answered as HTML pages, not problem JSON (see `WebError` and web/__init__.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from fapiao.accounts import permissions, sessions
from fapiao.accounts.service import Actor
from fapiao.audit.context import note_actor
from fapiao.http.credentials import session_actor
from fapiao.http.deps import get_platform
from fapiao.kit.errors import FapiaoError
from fapiao.platform import Platform

LOGIN = "/ui/login"
HOME = "/ui/dashboard"


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class WebError(Exception):
    """A refusal shown as an HTML error page (status, and the domain error it wraps)."""

    def __init__(self, error: FapiaoError) -> None:
        super().__init__(error.code)
        self.error = error


def safe_next(candidate: str | None, default: str = HOME) -> str:
    """`candidate` if it is a path on this site (never another host, scheme or a
    protocol-relative //host), else `default`."""
    if not candidate or len(candidate) > 2000 or not candidate.startswith("/"):
        return default
    if candidate.startswith("//") or "\\" in candidate or any(ord(c) < 32 for c in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate


def login_url(next_path: str) -> str:
    return f"{LOGIN}?next={quote(safe_next(next_path), safe='/')}"


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def optional_web_actor(
    request: Request, platform: Annotated[Platform, Depends(get_platform)]
) -> Actor | None:
    """The signed-in user, or None without a live session. A write with a session must
    still pass the CSRF checks."""
    session_id = request.cookies.get(sessions.COOKIE)
    if not session_id:
        return None
    try:
        actor = await session_actor(request, platform)
    except FapiaoError as refused:
        if refused.code in ("NOT_AUTHENTICATED", "SESSION_EXPIRED"):
            return None
        raise WebError(refused) from refused
    note_actor(actor)  # for the audit and access logs
    request.state.web_actor = actor
    request.state.web_csrf = sessions.csrf_token(platform.secret, session_id)
    return actor


async def web_actor(
    request: Request, actor: Annotated[Actor | None, Depends(optional_web_actor)]
) -> Actor:
    """The signed-in user; otherwise the page redirects to the sign-in page."""
    if actor is None:
        raise SignInRequired(_here(request) if request.method == "GET" else HOME)
    return actor


def web_allow(capability: str) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency giving the signed-in user whose role has `capability` (a 403 page
    otherwise, a redirect to sign in without a session)."""
    permissions.may("admin", capability)  # an unknown capability fails at import time

    async def allowed(actor: Annotated[Actor, Depends(web_actor)]) -> Actor:
        try:
            permissions.check(actor.role, capability)
        except FapiaoError as refused:
            raise WebError(refused) from refused
        return actor

    allowed.__name__ = f"web_allow_{capability}"
    return allowed


WebActor = Annotated[Actor, Depends(web_actor)]
MaybeWebActor = Annotated[Actor | None, Depends(optional_web_actor)]
