"""Signing in and out, the language switch and the landing redirect.

Sign-in goes through the same checks as POST /api/v1/auth/session (rate limits, lock,
second factor, password age) and opens the same kind of session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from fapiao.accounts import service as accounts
from fapiao.accounts import sessions
from fapiao.accounts.sessions_api import (
    check_login,
    clear_cookie,
    end_session,
    open_session,
    set_cookie,
)
from fapiao.http import csrf
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import FapiaoError
from fapiao.kit.i18n import LOCALES
from fapiao.limits import guard
from fapiao.platform import Platform
from fapiao.web import locale as web_locale
from fapiao.web.auth import HOME, LOGIN, MaybeWebActor, WebError, safe_next
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.routes import password, totp
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)

LOGIN_FIELDS = {"username": 64, "password": 128, "totp": 64, "next": 2000}
# Which field a sign-in refusal belongs to; the rest are shown above the form.
LOGIN_ERROR_FIELDS = {
    "INVALID_CREDENTIALS": "password",
    "TOTP_REQUIRED": "totp",
    "TOTP_INVALID": "totp",
}


@router.get("/")
async def landing(actor: MaybeWebActor) -> RedirectResponse:
    return see_other(HOME if actor is not None else LOGIN)


@router.get("/ui/login")
async def login_page(request: Request, actor: MaybeWebActor) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if actor is not None:
        return see_other(next_path)
    return render(
        request,
        "login.html",
        values={"username": "", "next": next_path},
        errors=FormErrors(),
        second_step=False,
    )


@router.post("/ui/login")
async def login_submit(request: Request, platform: PlatformDep) -> Response:
    try:
        csrf.check_origin(request)
    except FapiaoError as refused:
        raise WebError(refused) from refused
    values = await read_form(request, LOGIN_FIELDS)
    values["next"] = safe_next(values["next"])
    try:
        guard.check_login(platform, request, values["username"])
        user_id = await run_in_threadpool(
            check_login,
            platform,
            request,
            values["username"],
            values["password"],
            values["totp"] or None,
        )
    except FapiaoError as refused:
        if refused.code == "TOTP_ENROLMENT_REQUIRED":  # the password was right
            return await _enrol_first(platform, values["username"], refused)
        return _login_refused(request, refused, values)
    actor, session_id, _ = await run_in_threadpool(open_session, platform, request, user_id)
    response = see_other(values["next"])
    set_cookie(response, platform, session_id)
    if actor.locale in LOCALES:  # the saved choice wins from now on, signed in or not
        web_locale.remember(response, platform, actor.locale or "")
    return response


async def _enrol_first(platform: Platform, username: str, refused: FapiaoError) -> Response:
    """A role that must sign in with a code, without one yet: to the enrolment page."""
    user_id = await run_in_threadpool(totp.user_id_of, platform, username)
    if user_id is None:  # renamed in between: as any refusal
        raise WebError(refused) from refused
    response = see_other(totp.PAGE)
    totp.start_cookie(response, platform, user_id)
    return response


def _login_refused(request: Request, refused: FapiaoError, values: dict[str, str]) -> Response:
    if refused.code in password.MUST_CHANGE:
        return password.must_change_page(
            request, refused, values["username"], totp=bool(values["totp"])
        )
    locale = web_locale.request_locale(request)
    errors = FormErrors.from_error(refused, locale, fields=LOGIN_ERROR_FIELDS)
    # After a right password the second step asks for the code. The password goes back
    # in a hidden field of this one no-store page so it is not typed twice.
    second_step = refused.code in ("TOTP_REQUIRED", "TOTP_INVALID")
    if refused.code == "TOTP_REQUIRED":
        errors = FormErrors()  # the first step of every two-factor sign-in: no error
    return render(
        request,
        "login.html",
        status_code=200 if refused.code == "TOTP_REQUIRED" else refused.status,
        headers=refused.headers,
        values={
            "username": values["username"],
            "next": values["next"],
            "password": values["password"] if second_step else "",
        },
        errors=errors,
        second_step=second_step,
    )


@router.post("/ui/logout")
async def logout(request: Request, platform: PlatformDep, actor: MaybeWebActor) -> Response:
    """End the session (its CSRF token is checked by the dependency) and clear the cookie."""
    response = see_other(LOGIN)
    if actor is not None:
        await run_in_threadpool(end_session, platform, request.cookies[sessions.COOKIE])
    clear_cookie(response, platform)
    return response


@router.post("/ui/lang")
async def switch_language(
    request: Request, platform: PlatformDep, actor: MaybeWebActor
) -> Response:
    """Switch the language; kept in a cookie, and on the user when signed in."""
    if actor is None:
        try:
            csrf.check_origin(request)
        except FapiaoError as refused:
            raise WebError(refused) from refused
    values = await read_form(request, {"lang": 8, "next": 2000})
    chosen = values["lang"] if values["lang"] in LOCALES else web_locale.request_locale(request)
    if actor is not None:
        await run_in_threadpool(_save_locale, platform, actor.user_id, chosen)
    response = see_other(safe_next(values["next"], LOGIN if actor is None else HOME))
    web_locale.remember(response, platform, chosen)
    return response


def _save_locale(platform: Platform, user_id: int, chosen: str) -> None:
    with platform.database.transaction() as session:
        accounts.set_locale(session, user_id, chosen)
    platform.actors.drop(user_id)
