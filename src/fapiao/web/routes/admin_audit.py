"""The audit log for officers and auditors: the same search and CSV export as
GET /api/v1/audit and /api/v1/audit/export (filters, newest first, a page at a time)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.audit import api
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import FapiaoError
from fapiao.web import admin
from fapiao.web.auth import web_allow
from fapiao.web.forms import FormErrors
from fapiao.web.locale import request_locale
from fapiao.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(web_allow(permissions.AUDIT))]
Text = Annotated[str, Query(max_length=100)]
PAGE_SIZE = 50
# The form's fields, named as the API's query parameters.
FILTERS = ("actor", "action", "object_type", "object_id", "result", "from", "to")


class Wanted:
    """The filters of a search, from the page's query (the API's parameter names)."""

    def __init__(self, request: Request) -> None:
        query = request.query_params
        self.values = {name: query.get(name, "")[:100] for name in FILTERS}
        if self.values["result"] not in ("", "ok", "refused", "error"):
            self.values["result"] = ""

    def arguments(self) -> dict[str, Any]:
        values = self.values
        return {
            "actor_name": values["actor"] or None,
            "action": values["action"] or None,
            "object_type": values["object_type"] or None,
            "object_id": values["object_id"] or None,
            "result": values["result"] or None,
            "time_from": values["from"] or None,
            "time_to": values["to"] or None,
        }

    def query(self, **more: str) -> str:
        return urlencode({k: v for k, v in {**self.values, **more}.items() if v})


@router.get("/ui/admin/audit")
async def audit_page(
    request: Request,
    platform: PlatformDep,
    actor: Reader,
    cursor: Annotated[str, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]*$")] = "",
) -> Response:
    wanted = Wanted(request)
    rows: list[dict[str, Any]] = []
    next_cursor = None
    errors = FormErrors()
    status = 200
    try:
        answer = await run_in_threadpool(
            lambda: api.search_audit(
                platform, actor, cursor=cursor or None, limit=PAGE_SIZE, **wanted.arguments()
            )
        )
        page = admin.body_of(answer)
        rows, next_cursor = page["items"], page["next_cursor"]
    except FapiaoError as refused:
        errors = FormErrors.from_error(refused, request_locale(request))
        status = refused.status
    admin.audit(request, actor, "GET", "/api/v1/audit")
    return render(
        request,
        "admin_audit.html",
        status_code=status,
        rows=rows,
        values=wanted.values,
        errors=errors,
        next_link=f"/ui/admin/audit?{wanted.query(cursor=next_cursor)}" if next_cursor else None,
        first_link=f"/ui/admin/audit?{wanted.query()}" if cursor else None,
        export_link=f"/ui/admin/audit/export?{wanted.query(format='csv')}",
    )


@router.get("/ui/admin/audit/export")
async def audit_export(request: Request, platform: PlatformDep, actor: Reader) -> Response:
    """Every matching entry as CSV, streamed by the API's own export."""
    wanted = Wanted(request)
    try:
        answer = await run_in_threadpool(
            lambda: api.export_audit(platform, actor, file_format="csv", **wanted.arguments())
        )
    except FapiaoError as refused:
        admin.audit(request, actor, "GET", "/api/v1/audit/export", error=refused)
        errors = FormErrors.from_error(refused, request_locale(request))
        return render(
            request,
            "admin_audit.html",
            status_code=refused.status,
            rows=[],
            values=wanted.values,
            errors=errors,
            next_link=None,
            first_link=None,
            export_link=f"/ui/admin/audit/export?{wanted.query(format='csv')}",
        )
    admin.audit(request, actor, "GET", "/api/v1/audit/export")
    return answer
