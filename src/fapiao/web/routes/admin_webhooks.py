"""Webhooks of the admin's taxpayer: the same functions as /api/v1/webhooks (list, add,
delete, the delivery log, redeliver). Another taxpayer's webhook is a 404 page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import FapiaoError
from fapiao.platform import Platform
from fapiao.web import admin
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other
from fapiao.webhooks import api
from fapiao.webhooks.models import EVENT_TYPES

router = APIRouter(include_in_schema=False)
HookAdmin = Annotated[Actor, Depends(web_allow(permissions.WEBHOOKS))]
Id = Annotated[int, Path(ge=1, le=2**62)]
ONE = "/api/v1/webhooks/{webhook_id}"


def _list(platform: Platform, actor: Actor) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = admin.body_of(api.list_webhooks(platform, actor))
    return rows


def _page(
    request: Request,
    rows: list[dict[str, Any]],
    values: dict[str, Any],
    errors: FormErrors,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin_webhooks.html",
        status_code=status_code,
        rows=rows,
        values=values,
        errors=errors,
        events=EVENT_TYPES,
        deleted=request.query_params.get("done") == "deleted",
    )


@router.get("/ui/admin/webhooks")
async def webhooks_page(request: Request, platform: PlatformDep, actor: HookAdmin) -> Response:
    rows = await run_in_threadpool(_list, platform, actor)
    values = {"url": "", "events": ["invoice.issued", "invoice.received"]}
    return _page(request, rows, values, FormErrors())


@router.post("/ui/admin/webhooks")
async def add_webhook(request: Request, platform: PlatformDep, actor: HookAdmin) -> Response:
    values: dict[str, Any] = await read_form(request, {"url": 2000})
    form = await request.form()
    values["events"] = [str(event)[:40] for event in form.getlist("events")][:20]
    rows = await run_in_threadpool(_list, platform, actor)
    try:
        body = api.WebhookIn(url=values["url"], events=values["events"])
        answer = await run_in_threadpool(api.create_webhook, body, platform, actor)
    except ValidationError as refused:
        admin.audit(request, actor, "POST", "/api/v1/webhooks", error=refused)
        return _page(request, rows, values, admin.invalid_fields(refused, request), 422)
    except FapiaoError as refused:
        admin.audit(request, actor, "POST", "/api/v1/webhooks", error=refused)
        errors = FormErrors.from_error(refused, request_locale(request))
        return _page(request, rows, values, errors, refused.status)
    created = admin.body_of(answer)
    admin.audit(request, actor, "POST", "/api/v1/webhooks", created=str(created["id"]))
    # The signing secret is in this answer only, as in the API.
    return render(request, "admin_webhook_created.html", webhook=created)


def _deliveries(
    platform: Platform, actor: Actor, webhook_id: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        deliveries = admin.body_of(api.list_deliveries(webhook_id, platform, actor))
    except FapiaoError as refused:
        raise WebError(refused) from refused
    hook = next(row for row in _list(platform, actor) if row["id"] == webhook_id)
    return hook, deliveries


@router.get("/ui/admin/webhooks/{webhook_id}")
async def webhook_page(
    request: Request, platform: PlatformDep, actor: HookAdmin, webhook_id: Id
) -> Response:
    hook, deliveries = await run_in_threadpool(_deliveries, platform, actor, webhook_id)
    return render(
        request,
        "admin_webhook.html",
        webhook=hook,
        deliveries=deliveries,
        redelivered=request.query_params.get("done") == "redelivered",
    )


@router.post("/ui/admin/webhooks/{webhook_id}/delete")
async def delete_webhook(
    request: Request, platform: PlatformDep, actor: HookAdmin, webhook_id: Id
) -> Response:
    params = {"webhook_id": webhook_id}
    try:
        await run_in_threadpool(api.delete_webhook, webhook_id, platform, actor)
    except FapiaoError as refused:
        admin.audit(request, actor, "DELETE", ONE, params, error=refused)
        raise WebError(refused) from refused
    admin.audit(request, actor, "DELETE", ONE, params)
    return see_other("/ui/admin/webhooks?done=deleted")


@router.post("/ui/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request, platform: PlatformDep, actor: HookAdmin, webhook_id: Id, delivery_id: Id
) -> Response:
    template = ONE + "/deliveries/{delivery_id}/redeliver"
    params = {"webhook_id": webhook_id, "delivery_id": delivery_id}
    try:
        await run_in_threadpool(api.redeliver, webhook_id, delivery_id, platform, actor)
    except FapiaoError as refused:
        admin.audit(request, actor, "POST", template, params, error=refused)
        raise WebError(refused) from refused
    admin.audit(request, actor, "POST", template, params)
    return see_other(f"/ui/admin/webhooks/{webhook_id}?done=redelivered")
