"""A taxpayer's admin manages its users: the same functions as /api/v1/users (list, add,
change role, deactivate, reset a password) and /api/v1/users/{username}/unlock. Another
taxpayer's user is a 404 page; officers manage admins on a taxpayer's page instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from fapiao.accounts import management, permissions
from fapiao.accounts import twofactor_api as twofactor
from fapiao.accounts import users_api as api
from fapiao.accounts.models import TAXPAYER_ROLES
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import FapiaoError
from fapiao.platform import Platform
from fapiao.web import admin
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
UserAdmin = Annotated[Actor, Depends(web_allow(permissions.MANAGE_USERS))]
Username = Annotated[str, Path(max_length=64, pattern=api.USERNAME_PATTERN)]
ADD_FIELDS = {"username": 64, "role": 16, "password": 1024}
USER_API = "/api/v1/users/{username}"


def _list(platform: Platform, actor: Actor) -> list[admin.UserRow]:
    taxpayer_id = api.require_admin(actor)
    with platform.database.transaction(write=False) as session:
        users = management.users_of(session, taxpayer_id)
        return admin.user_rows(session, users, platform.clock.now())


def _one(platform: Platform, actor: Actor, username: str) -> admin.UserRow:
    taxpayer_id = api.require_admin(actor)
    with platform.database.transaction(write=False) as session:
        user = management.user_of(session, taxpayer_id, username)
        return admin.user_rows(session, [user], platform.clock.now())[0]


async def _call(request: Request, actor: Actor, work: Callable[[], Any]) -> Any:
    try:
        return await run_in_threadpool(work)
    except FapiaoError as refused:
        if refused.status in (403, 404):
            raise WebError(refused) from refused
        raise


@router.get("/ui/admin/users")
async def users_page(request: Request, platform: PlatformDep, actor: UserAdmin) -> Response:
    rows = await _call(request, actor, lambda: _list(platform, actor))
    return _users_page(request, rows, {"username": "", "role": "clerk"}, FormErrors())


def _users_page(
    request: Request,
    rows: list[admin.UserRow],
    values: dict[str, str],
    errors: FormErrors,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin_users.html",
        status_code=status_code,
        rows=rows,
        values=values,
        errors=errors,
        roles=TAXPAYER_ROLES,
        added=request.query_params.get("added", ""),
    )


@router.post("/ui/admin/users")
async def add_user(request: Request, platform: PlatformDep, actor: UserAdmin) -> Response:
    values = await read_form(request, ADD_FIELDS)
    rows = await _call(request, actor, lambda: _list(platform, actor))
    try:
        body = api.UserCreate(
            username=values["username"], password=values["password"], role=values["role"]
        )
        await run_in_threadpool(api.create_taxpayer_user, platform, actor, body)
    except ValidationError as refused:
        admin.audit(request, actor, "POST", "/api/v1/users", error=refused)
        errors = admin.invalid_fields(refused, request)
        return _users_page(request, rows, values, errors, 422)
    except FapiaoError as refused:
        admin.audit(request, actor, "POST", "/api/v1/users", error=refused)
        errors = FormErrors.from_error(
            refused,
            request_locale(request),
            fields={"USERNAME_TAKEN": "username", "USER_EXISTS": "username"},
        )
        return _users_page(request, rows, values, errors, refused.status)
    admin.audit(request, actor, "POST", "/api/v1/users", created=values["username"])
    return see_other(f"/ui/admin/users/{quote(values['username'], safe='')}?done=added")


@router.get("/ui/admin/users/{username}")
async def user_page(
    request: Request, platform: PlatformDep, actor: UserAdmin, username: Username
) -> Response:
    row = await _call(request, actor, lambda: _one(platform, actor, username))
    return _user_page(request, row, FormErrors())


def _user_page(
    request: Request, row: admin.UserRow, errors: FormErrors, status_code: int = 200
) -> Response:
    return render(
        request,
        "admin_user.html",
        status_code=status_code,
        user=row,
        errors=errors,
        roles=TAXPAYER_ROLES,
        done=request.query_params.get("done", ""),
    )


@router.post("/ui/admin/users/{username}/{change}")
async def change_user(
    request: Request,
    platform: PlatformDep,
    actor: UserAdmin,
    username: Username,
    change: Annotated[str, Path(pattern=r"^(role|active|password|unlock)$")],
) -> Response:
    """One change of a user (role, active, password, unlock), as the API's routes."""
    values = await read_form(request, {"role": 16, "active": 5, "new_password": 1024})
    row = await _call(request, actor, lambda: _one(platform, actor, username))
    method, template = "PATCH", USER_API
    try:
        if change == "role":
            patch = api.UserPatch(role=values["role"])
            await run_in_threadpool(api.update_user, platform, actor, username, patch)
        elif change == "active":
            patch = api.UserPatch(active=values["active"] == "true")
            await run_in_threadpool(api.update_user, platform, actor, username, patch)
        elif change == "password":
            method, template = "POST", USER_API + "/password"
            reset = api.PasswordReset(new_password=values["new_password"])
            await run_in_threadpool(api.reset_user_password, platform, actor, username, reset)
        else:
            method, template = "POST", USER_API + "/unlock"
            await run_in_threadpool(twofactor.unlock_user, platform, actor, request, username)
    except ValidationError as refused:
        admin.audit(request, actor, method, template, {"username": username}, error=refused)
        return _user_page(request, row, admin.invalid_fields(refused, request), 422)
    except FapiaoError as refused:
        admin.audit(request, actor, method, template, {"username": username}, error=refused)
        fields = {"LAST_ADMIN": "role"} if change == "role" else {}
        errors = FormErrors.from_error(refused, request_locale(request), fields=fields)
        return _user_page(request, row, errors, refused.status)
    admin.audit(request, actor, method, template, {"username": username})
    return see_other(f"/ui/admin/users/{quote(username, safe='')}?done={change}")
