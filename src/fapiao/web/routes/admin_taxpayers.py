"""Officers manage taxpayers: the same functions as /api/v1/taxpayers (search, register,
view, change incl. the monthly credit limit, and the admins under /taxpayers/{tax_id}/users)
and /api/v1/users/{username}/unlock. This month's credit use comes from the same ledger
the issuing check reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from fapiao.accounts import management as accounts
from fapiao.accounts import permissions
from fapiao.accounts import twofactor_api as twofactor
from fapiao.accounts.service import Actor
from fapiao.accounts.users_api import USERNAME_PATTERN, PasswordReset
from fapiao.http.deps import PlatformDep
from fapiao.invoices.credit import credit_used
from fapiao.kit.clock import local_date, month_key
from fapiao.kit.errors import FapiaoError
from fapiao.platform import Platform
from fapiao.taxpayers import manage_api as api
from fapiao.taxpayers import management
from fapiao.web import admin
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
Officer = Annotated[Actor, Depends(web_allow(permissions.MANAGE_TAXPAYERS))]
TaxId = Annotated[str, Path(max_length=20, pattern=r"^[0-9A-Za-z]+$")]
Username = Annotated[str, Path(max_length=64, pattern=USERNAME_PATTERN)]
PAGE_SIZE = 50
CONTACT = {"address": 400, "phone": 400, "bank": 400, "account": 400}
EDIT_FIELDS = {"name": 400, "credit_limit": 20, "active": 5, **CONTACT}
NEW_FIELDS = {"tax_id": 20, "kind": 16, **EDIT_FIELDS}
ONE = "/api/v1/taxpayers/{tax_id}"


@router.get("/ui/admin/taxpayers")
async def taxpayers_page(
    request: Request,
    platform: PlatformDep,
    actor: Officer,
    q: Annotated[str, Query(max_length=200)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    found = await run_in_threadpool(
        api.list_taxpayers, platform, actor, q.strip() or None, PAGE_SIZE, offset
    )
    return render(request, "admin_taxpayers.html", page=found, q=q, offset=offset)


@router.get("/ui/admin/taxpayers/new")
async def new_page(request: Request, actor: Officer) -> Response:
    values = dict.fromkeys(NEW_FIELDS, "") | {"kind": "general"}
    return render(request, "admin_taxpayer_new.html", values=values, errors=FormErrors())


@router.post("/ui/admin/taxpayers")
async def create(request: Request, platform: PlatformDep, actor: Officer) -> Response:
    values = await read_form(request, NEW_FIELDS)
    try:
        body = api.TaxpayerCreate.model_validate(
            {
                "tax_id": values["tax_id"],
                "name": values["name"],
                "kind": values["kind"],
                "credit_limit": values["credit_limit"] or None,
                **{field: values[field] for field in CONTACT},
            }
        )
        created = await run_in_threadpool(api.create_taxpayer, platform, actor, body)
    except (ValidationError, FapiaoError) as refused:
        errors = _errors(request, refused)
        admin.audit(request, actor, "POST", "/api/v1/taxpayers", error=refused)
        status = admin.status_of(refused)
        return render(
            request, "admin_taxpayer_new.html", values=values, errors=errors, status_code=status
        )
    admin.audit(request, actor, "POST", "/api/v1/taxpayers", created=created.tax_id)
    return see_other(f"/ui/admin/taxpayers/{created.tax_id}?done=added")


def _errors(request: Request, refused: ValidationError | FapiaoError) -> FormErrors:
    if isinstance(refused, ValidationError):
        return admin.invalid_fields(refused, request)
    return FormErrors.from_error(
        refused, request_locale(request), fields={"TAXPAYER_EXISTS": "tax_id"}
    )


def _detail(platform: Platform, actor: Actor, tax_id: str) -> dict[str, Any]:
    try:
        found = api.get_taxpayer(platform, actor, tax_id)
    except FapiaoError as refused:
        raise WebError(refused) from refused
    now = platform.clock.now()
    month = month_key(local_date(now))
    with platform.database.transaction(write=False) as session:
        taxpayer = management.get(session, tax_id)
        used = credit_used(session, taxpayer.id, month)
        users = admin.user_rows(session, accounts.users_of(session, taxpayer.id), now)
    return {"taxpayer": found, "used": used, "month": month, "users": users}


async def _page(
    request: Request,
    platform: Platform,
    actor: Actor,
    tax_id: str,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    shown = await run_in_threadpool(_detail, platform, actor, tax_id)
    taxpayer = shown["taxpayer"]
    if values is None:
        values = {field: str(getattr(taxpayer, field)) for field in EDIT_FIELDS}
        values["active"] = "true" if taxpayer.active else "false"
    limit = Decimal(taxpayer.credit_limit)
    return render(
        request,
        "admin_taxpayer.html",
        status_code=status_code,
        values=values,
        errors=errors or FormErrors(),
        left=limit - shown["used"],
        done=request.query_params.get("done", ""),
        **shown,
    )


@router.get("/ui/admin/taxpayers/{tax_id}")
async def taxpayer_page(
    request: Request, platform: PlatformDep, actor: Officer, tax_id: TaxId
) -> Response:
    answer = await _page(request, platform, actor, tax_id)
    admin.audit(request, actor, "GET", ONE, {"tax_id": tax_id})  # an officer's read
    return answer


@router.post("/ui/admin/taxpayers/{tax_id}")
async def update(
    request: Request, platform: PlatformDep, actor: Officer, tax_id: TaxId
) -> Response:
    values = await read_form(request, EDIT_FIELDS)
    try:
        body = api.TaxpayerPatch.model_validate(
            {
                "name": values["name"],
                "credit_limit": values["credit_limit"],
                "active": values["active"] != "false",
                **{field: values[field] for field in CONTACT},
            }
        )
        await run_in_threadpool(api.update_taxpayer, platform, actor, tax_id, body)
    except (ValidationError, FapiaoError) as refused:
        admin.audit(request, actor, "PATCH", ONE, {"tax_id": tax_id}, error=refused)
        status = admin.status_of(refused)
        if isinstance(refused, FapiaoError) and status == 404:
            raise WebError(refused) from refused
        errors = _errors(request, refused)
        return await _page(request, platform, actor, tax_id, values, errors, status)
    admin.audit(request, actor, "PATCH", ONE, {"tax_id": tax_id})
    return see_other(f"/ui/admin/taxpayers/{tax_id}?done=saved")


@router.post("/ui/admin/taxpayers/{tax_id}/admins")
async def add_admin(
    request: Request, platform: PlatformDep, actor: Officer, tax_id: TaxId
) -> Response:
    values = await read_form(request, {"admin_username": 64, "admin_password": 1024})
    template, params = ONE + "/users", {"tax_id": tax_id}
    try:
        body = api.AdminCreate(username=values["admin_username"], password=values["admin_password"])
        await run_in_threadpool(api.create_taxpayer_admin, platform, actor, tax_id, body)
    except (ValidationError, FapiaoError) as refused:
        admin.audit(request, actor, "POST", template, params, error=refused)
        status = admin.status_of(refused)
        if isinstance(refused, FapiaoError) and status == 404:
            raise WebError(refused) from refused
        errors = _admin_errors(request, refused)
        return await _page(request, platform, actor, tax_id, None, errors, status)
    admin.audit(request, actor, "POST", template, params, created=values["admin_username"])
    return see_other(f"/ui/admin/taxpayers/{tax_id}?done=admin")


def _admin_errors(request: Request, refused: ValidationError | FapiaoError) -> FormErrors:
    """The add-admin form's fields are prefixed: the page has other forms."""
    aliases = {"username": "admin_username", "password": "admin_password"}
    if isinstance(refused, ValidationError):
        return admin.invalid_fields(refused, request, aliases)
    return FormErrors.from_error(
        refused,
        request_locale(request),
        fields={"USERNAME_TAKEN": "admin_username"},
        aliases=aliases,
    )


@router.post("/ui/admin/taxpayers/{tax_id}/users/{username}/{change}")
async def change_user(
    request: Request,
    platform: PlatformDep,
    actor: Officer,
    tax_id: TaxId,
    username: Username,
    change: Annotated[str, Path(pattern=r"^(password|unlock)$")],
) -> Response:
    """Reset an admin's password or unlock a user of this taxpayer."""
    values = await read_form(request, {"new_password": 1024})
    shown = await run_in_threadpool(_detail, platform, actor, tax_id)
    if username not in {user.username for user in shown["users"]}:
        raise WebError(accounts.user_not_found())  # another taxpayer's user, as nobody
    try:
        if change == "password":
            template, params = ONE + "/users/{username}/password", {"tax_id": tax_id}
            body = PasswordReset(new_password=values["new_password"])
            await run_in_threadpool(
                api.reset_admin_password, platform, actor, tax_id, username, body
            )
        else:
            template, params = "/api/v1/users/{username}/unlock", {}
            await run_in_threadpool(twofactor.unlock_user, platform, actor, request, username)
    except (ValidationError, FapiaoError) as refused:
        admin.audit(
            request, actor, "POST", template, params | {"username": username}, error=refused
        )
        status = admin.status_of(refused)
        if isinstance(refused, FapiaoError) and status == 404:
            raise WebError(refused) from refused
        found = _errors(request, refused)
        errors = FormErrors(form=found.form + list(found.fields.values()))  # one form per user
        return await _page(request, platform, actor, tax_id, None, errors, status)
    admin.audit(request, actor, "POST", template, params | {"username": username})
    return see_other(f"/ui/admin/taxpayers/{tax_id}?done={change}")
