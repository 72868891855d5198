"""The maintenance switch for officers: the window in force, read-only on until a time
with messages in both languages, or off. The same service as /api/v1/maintenance; this
page stays usable during the window (web.guards), as the API's switch does."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.maintenance import service
from fapiao.platform import Platform
from fapiao.web.auth import web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
Officer = Annotated[Actor, Depends(web_allow(permissions.OPERATE))]
FIELDS = {"until": 40, "message_zh": 500, "message_en": 500}
BAD_TIME = N_("A date and time such as 2026-12-01 22:00.")


@router.get("/ui/maintenance")
def maintenance_page(request: Request, platform: PlatformDep, actor: Officer) -> Response:
    values = {"until": "", "message_zh": "", "message_en": ""}
    return _page(request, platform, values, FormErrors())


@router.post("/ui/maintenance")
async def maintenance_on(request: Request, platform: PlatformDep, actor: Officer) -> Response:
    values = await read_form(request, FIELDS)
    locale = request_locale(request)
    errors = FormErrors()
    try:
        until = datetime.fromisoformat(values["until"].strip().replace(" ", "T"))
    except ValueError:
        errors.add("until", translate(BAD_TIME, locale))
        return _page(request, platform, values, errors, status_code=422)
    try:
        with platform.database.transaction() as session:
            service.start(
                session,
                platform.clock.now(),
                until,  # without an offset: Beijing time, as the service reads it
                actor.username,
                values["message_zh"],
                values["message_en"],
            )
    except FapiaoError as refused:
        errors = FormErrors.from_error(refused, locale)
        return _page(request, platform, values, errors, status_code=refused.status)
    platform.maintenance.forget()
    return see_other("/ui/maintenance")


@router.post("/ui/maintenance/off")
def maintenance_off(platform: PlatformDep, actor: Officer) -> Response:
    with platform.database.transaction() as session:
        service.end(session, platform.clock.now())
    platform.maintenance.forget()
    return see_other("/ui/maintenance")


def _page(
    request: Request,
    platform: Platform,
    values: dict[str, str],
    errors: FormErrors,
    *,
    status_code: int = 200,
) -> Response:
    window = platform.maintenance.refresh(platform.clock.now())
    current = None if window is None else window.describe(request_locale(request), with_author=True)
    return render(
        request,
        "maintenance.html",
        current=current,
        values=values,
        errors=errors,
        status_code=status_code,
    )
