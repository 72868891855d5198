"""Changing one's own password: the same rules and effects as POST /api/v1/me/password
(policy, counted failures, every older token and session ended). Signed in, this
browser then gets a new session so the user stays signed in. Signed out, it is the way
through for a password that was reset or has expired (the sign-in page sends the user
here): the same checks as signing in, then a session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from fapiao.accounts.models import User
from fapiao.accounts.password_api import PasswordChange, change_password
from fapiao.accounts.sessions_api import open_session, set_cookie
from fapiao.http import csrf
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.platform import Platform
from fapiao.web.auth import MaybeWebActor, SignInRequired, WebError
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render

router = APIRouter(include_in_schema=False)

FIELDS = {
    "username": 64,
    "totp": 64,
    "current_password": 128,
    "new_password": 1024,
    "confirm_password": 1024,
}
# Refusals that belong to a field of this form (the rest are shown above it).
ERROR_FIELDS = {
    "PASSWORD_CHANGED_MEANWHILE": "current_password",
    "INVALID_CREDENTIALS": "current_password",
    "TOTP_REQUIRED": "totp",
    "TOTP_INVALID": "totp",
}
MUST_CHANGE = ("PASSWORD_CHANGE_REQUIRED", "PASSWORD_EXPIRED")


@router.get("/ui/password")
async def password_page(request: Request, actor: MaybeWebActor) -> Response:
    if actor is None:
        raise SignInRequired("/ui/password")
    return page(request, FormErrors())


@router.post("/ui/password")
async def password_submit(
    request: Request, platform: PlatformDep, actor: MaybeWebActor
) -> Response:
    values = await read_form(request, FIELDS)
    locale = request_locale(request)
    username = values["username"] if actor is None else ""
    if actor is None and not username:
        raise SignInRequired("/ui/password")
    if actor is None:  # a sign-in, checked like the sign-in form (no session, no token)
        try:
            csrf.check_origin(request)
        except FapiaoError as refused:
            raise WebError(refused) from refused
    errors = FormErrors()
    if values["new_password"] != values["confirm_password"]:
        errors.add(
            "confirm_password",
            translate(N_("The two new passwords are not the same."), locale),
        )
        return page(request, errors, username=username, status_code=422)
    try:
        body = PasswordChange(
            username=username or None,
            current_password=values["current_password"],
            new_password=values["new_password"],
            totp=values["totp"] or None,
        )
        await run_in_threadpool(change_password, request, platform, body, actor)
    except ValidationError:  # only a length the form's maxlength already stops
        errors.add(None, translate(N_("The request has invalid fields."), locale))
        return page(request, errors, username=username, status_code=422)
    except FapiaoError as refused:
        errors = FormErrors.from_error(refused, locale, fields=ERROR_FIELDS)
        return page(request, errors, username=username, status_code=refused.status)
    # The change ended every session of the user, this one too: open a new one.
    user_id = actor.user_id if actor is not None else _user_id(platform, username)
    signed_in, session_id, _ = await run_in_threadpool(open_session, platform, request, user_id)
    request.state.web_actor = signed_in  # the page below shows the user signed in
    response = page(request, FormErrors(), done=True)
    set_cookie(response, platform, session_id)
    return response


def must_change_page(request: Request, refused: FapiaoError, username: str, totp: bool) -> Response:
    """The page the sign-in form answers with when the password was reset or expired."""
    errors = FormErrors()
    errors.add(
        None,
        translate(
            N_("Your password must be changed before you can sign in: choose a new one."),
            request_locale(request),
        ),
    )
    return page(request, errors, username=username, ask_totp=totp, status_code=refused.status)


def page(
    request: Request,
    errors: FormErrors,
    *,
    username: str = "",
    ask_totp: bool = False,
    done: bool = False,
    status_code: int = 200,
) -> Response:
    """The password page; with `username` it is the signed-out form for that user."""
    platform: Platform = request.app.state.platform
    return render(
        request,
        "password.html",
        status_code=status_code,
        errors=errors,
        done=done,
        username=username,
        ask_totp=ask_totp or errors.get("totp") is not None,
        min_length=platform.settings.password_min_length,
    )


def _user_id(platform: Platform, username: str) -> int:
    with platform.database.transaction(write=False) as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None  # the change just succeeded for this user
    return int(found)
