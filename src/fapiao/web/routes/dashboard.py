"""The dashboard: this month at a glance for the signed-in user's role."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.kit.clock import local_date
from fapiao.platform import Platform
from fapiao.web import dashboard
from fapiao.web.auth import WebActor
from fapiao.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/ui/dashboard")
async def dashboard_page(request: Request, platform: PlatformDep, actor: WebActor) -> Response:
    mine, everyone = await run_in_threadpool(_figures, platform, actor)
    return render(request, "dashboard.html", mine=mine, everyone=everyone)


def _figures(
    platform: Platform, actor: Actor
) -> tuple[dashboard.TaxpayerFigures | None, dashboard.PlatformFigures | None]:
    today = local_date(platform.clock.now())
    with platform.database.transaction(write=False) as session:
        mine = None
        everyone = None
        if permissions.may(actor.role, permissions.OWN_BOOKS):
            mine = dashboard.taxpayer_figures(session, actor, today)
        if permissions.may(actor.role, permissions.MANAGE_TAXPAYERS):
            everyone = dashboard.platform_figures(session, today)
        return mine, everyone
