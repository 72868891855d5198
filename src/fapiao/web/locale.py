"""The language of a page: the signed-in user's saved choice, else the `fapiao_lang`
cookie (set by the language switch), else Accept-Language, else zh-CN."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from fapiao.kit.i18n import LOCALES, negotiate
from fapiao.platform import Platform

COOKIE = "fapiao_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def request_locale(request: Request) -> str:
    """zh-CN or en for this request (cached on the request once decided)."""
    decided = getattr(request.state, "web_locale", None)
    if decided is not None:
        return str(decided)
    actor = getattr(request.state, "web_actor", None)
    saved = actor.locale if actor is not None else None
    chosen = request.cookies.get(COOKIE)
    if saved in LOCALES:
        locale = str(saved)
    elif chosen in LOCALES:
        locale = str(chosen)
    else:
        locale = negotiate(request.headers.get("accept-language"))
    request.state.web_locale = locale
    return locale


def remember(response: Response, platform: Platform, locale: str) -> None:
    """Keep the choice in the browser, for pages seen before signing in."""
    response.set_cookie(
        COOKIE,
        locale,
        max_age=COOKIE_MAX_AGE,
        path="/",
        secure=platform.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
