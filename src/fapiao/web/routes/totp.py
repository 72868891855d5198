"""The signed-in user's second factor: the same functions as /api/v1/me/totp (start with
a QR code and the secret, confirm with a code and show the recovery codes once, turn it
off with a code or the password).

A user whose role must sign in with a code but who has none yet cannot get a session:
after the right password the sign-in page sends them here with an enrolment token in a
short cookie (SameSite=Strict, this path only), the one the API's token endpoint gives;
it opens starting and confirming only. Once confirmed they sign in with a code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from fapiao.accounts import twofactor
from fapiao.accounts import twofactor_api as api
from fapiao.accounts.enrolment_token import TTL, issue_enrolment_token, read_enrolment_token
from fapiao.accounts.models import User
from fapiao.accounts.service import Actor
from fapiao.http import csrf
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import FapiaoError
from fapiao.platform import Platform
from fapiao.web import admin
from fapiao.web.auth import MaybeWebActor, SignInRequired, WebError
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
COOKIE = "fapiao_enrol"
PAGE = "/ui/totp"
ME = "/api/v1/me/totp"


async def enrolling_actor(
    request: Request, platform: PlatformDep, actor: MaybeWebActor
) -> tuple[Actor, bool]:
    """(the user, whether only enrolling): the session's user, else the one the
    enrolment cookie names; without either, sign in first."""
    if actor is not None:
        return actor, False
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired(PAGE)
    try:
        if request.method != "GET":
            csrf.check_origin(request)
        user_id = read_enrolment_token(token, platform.secret, platform.clock.now())
        return await run_in_threadpool(api._load, platform, user_id), True
    except FapiaoError as refused:
        if refused.code == "TOKEN_INVALID":
            raise SignInRequired(PAGE) from refused
        raise WebError(refused) from refused


Enrolling = Annotated[tuple[Actor, bool], Depends(enrolling_actor)]


def start_cookie(response: Response, platform: Platform, user_id: int) -> None:
    """Let this browser enrol the user (the password was right, the role needs a code)."""
    response.set_cookie(
        COOKIE,
        issue_enrolment_token(user_id, platform.secret, platform.clock.now()),
        max_age=int(TTL.total_seconds()),
        path=PAGE,
        secure=platform.settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )


def user_id_of(platform: Platform, username: str) -> int | None:
    with platform.database.transaction(write=False) as session:
        found = session.scalar(select(User.id).where(User.username == username))
    return None if found is None else int(found)


def _enrolled(platform: Platform, actor: Actor) -> bool:
    with platform.database.transaction(write=False) as session:
        return twofactor.is_enrolled(session, actor.user_id)


def _page(
    request: Request,
    platform: Platform,
    actor: Actor,
    only: bool,
    *,
    enrolled: bool,
    errors: FormErrors | None = None,
    status_code: int = 200,
    **shown: object,
) -> Response:
    context: dict[str, Any] = {
        "enrolment": None,
        "codes": None,
        "confirming": False,
        "disabled": False,
    }
    context.update(shown)
    return render(
        request,
        "totp.html",
        status_code=status_code,
        who=actor,
        only_enrolling=only,
        enrolled=enrolled,
        required=actor.role in platform.settings.totp_role_set,
        errors=errors or FormErrors(),
        **context,
    )


@router.get(PAGE)
async def totp_page(request: Request, platform: PlatformDep, who: Enrolling) -> Response:
    actor, only = who
    enrolled = await run_in_threadpool(_enrolled, platform, actor)
    disabled = request.query_params.get("done") == "off"
    return _page(request, platform, actor, only, enrolled=enrolled, disabled=disabled)


@router.post(PAGE + "/start")
async def start(request: Request, platform: PlatformDep, who: Enrolling) -> Response:
    actor, only = who
    await read_form(request, {})
    try:
        enrolment = await run_in_threadpool(api.start_totp, platform, actor, request)
    except FapiaoError as refused:
        admin.audit(request, actor, "POST", ME, error=refused)
        raise WebError(refused) from refused
    admin.audit(request, actor, "POST", ME)
    shown = {"secret": enrolment.secret, "qr": enrolment.qr_png}
    return _page(request, platform, actor, only, enrolled=False, enrolment=shown, confirming=True)


@router.post(PAGE + "/confirm")
async def confirm(request: Request, platform: PlatformDep, who: Enrolling) -> Response:
    actor, only = who
    values = await read_form(request, {"code": 64})
    try:
        body = api.CodeIn(code=values["code"])
        codes = await run_in_threadpool(api.confirm_totp, platform, actor, request, body)
    except ValidationError as refused:
        admin.audit(request, actor, "POST", ME + "/confirm", error=refused)
        errors = admin.invalid_fields(refused, request)
        return _page(
            request,
            platform,
            actor,
            only,
            enrolled=False,
            errors=errors,
            confirming=True,
            status_code=422,
        )
    except FapiaoError as refused:
        admin.audit(request, actor, "POST", ME + "/confirm", error=refused)
        errors = FormErrors.from_error(refused, request_locale(request))
        return _page(
            request,
            platform,
            actor,
            only,
            enrolled=False,
            errors=errors,
            confirming=True,
            status_code=refused.status,
        )
    admin.audit(request, actor, "POST", ME + "/confirm")
    response = _page(request, platform, actor, only, enrolled=True, codes=codes.recovery_codes)
    if only:
        response.delete_cookie(COOKIE, path=PAGE)
    return response


@router.post(PAGE + "/disable")
async def disable(request: Request, platform: PlatformDep, who: Enrolling) -> Response:
    actor, only = who
    if only:
        raise SignInRequired(PAGE)
    values = await read_form(request, {"code": 64, "password": 128})
    try:
        body = api.DisableIn(code=values["code"] or None, password=values["password"] or None)
        await run_in_threadpool(api.remove_totp, platform, actor, request, body)
    except ValidationError as refused:
        admin.audit(request, actor, "DELETE", ME, error=refused)
        errors = admin.invalid_fields(refused, request)
        return _page(request, platform, actor, only, enrolled=True, errors=errors, status_code=422)
    except FapiaoError as refused:
        admin.audit(request, actor, "DELETE", ME, error=refused)
        errors = FormErrors.from_error(
            refused, request_locale(request), fields={"CONFIRMATION_FAILED": "code"}
        )
        return _page(
            request, platform, actor, only, enrolled=True, errors=errors, status_code=refused.status
        )
    admin.audit(request, actor, "DELETE", ME)
    return see_other(PAGE + "?done=off")
