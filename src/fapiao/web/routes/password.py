"""Changing one's own password: the same rules and effects as POST /api/v1/me/password
(policy, counted failures, every older token and session ended); this browser gets a
new session so the user stays signed in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from fapiao.accounts.password_api import PasswordChange, change_password
from fapiao.accounts.sessions_api import open_session, set_cookie
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.platform import Platform
from fapiao.web.auth import WebActor
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render

router = APIRouter(include_in_schema=False)

FIELDS = {"current_password": 128, "new_password": 1024, "confirm_password": 1024}


@router.get("/ui/password")
async def password_page(request: Request, actor: WebActor) -> Response:
    return _page(request, FormErrors())


@router.post("/ui/password")
async def password_submit(request: Request, platform: PlatformDep, actor: WebActor) -> Response:
    values = await read_form(request, FIELDS)
    locale = request_locale(request)
    errors = FormErrors()
    if values["new_password"] != values["confirm_password"]:
        errors.add(
            "confirm_password",
            translate(N_("The two new passwords are not the same."), locale),
        )
        return _page(request, errors, status_code=422)
    try:
        body = PasswordChange(
            current_password=values["current_password"], new_password=values["new_password"]
        )
        await run_in_threadpool(change_password, request, platform, body, actor)
    except ValidationError:  # only a length the form's maxlength already stops
        errors.add(None, translate(N_("The request has invalid fields."), locale))
        return _page(request, errors, status_code=422)
    except FapiaoError as refused:
        errors = FormErrors.from_error(
            refused, locale, fields={"PASSWORD_CHANGED_MEANWHILE": "current_password"}
        )
        return _page(request, errors, status_code=refused.status)
    # The change ended every session of the user, this one too: open a new one.
    _, session_id, _ = await run_in_threadpool(open_session, platform, request, actor.user_id)
    response = _page(request, FormErrors(), done=True)
    set_cookie(response, platform, session_id)
    return response


def _page(
    request: Request, errors: FormErrors, *, done: bool = False, status_code: int = 200
) -> Response:
    platform: Platform = request.app.state.platform
    return render(
        request,
        "password.html",
        status_code=status_code,
        errors=errors,
        done=done,
        min_length=platform.settings.password_min_length,
    )
