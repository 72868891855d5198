"""The dashboard: this month at a glance for the signed-in user's role, from the shared
dashboard service (fapiao.dashboard) and its server-drawn SVG charts."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markupsafe import Markup

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.dashboard import charts, service
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.platform import Platform
from fapiao.taxpayers.models import Taxpayer
from fapiao.web.auth import WebActor
from fapiao.web.locale import request_locale
from fapiao.web.templating import money, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Mine:
    name: str
    tax_id: str
    summary: service.TaxpayerSummary


@router.get("/ui/dashboard")
async def dashboard_page(request: Request, platform: PlatformDep, actor: WebActor) -> Response:
    mine, everyone = await run_in_threadpool(_figures, platform, actor)
    meter = meter_label = None
    if mine is not None:
        locale = request_locale(request)
        share = round(mine.summary.credit_share * 100, 1)
        title = translate(N_("{percent}% of the credit limit used"), locale, percent=share)
        description = translate(
            N_("¥{used} of ¥{limit} used this month"),
            locale,
            used=money(mine.summary.credit_used),
            limit=money(mine.summary.credit_limit),
        )
        meter_label = title
        # charts escape every text they draw; the SVG is markup of ours
        meter = Markup(
            charts.meter(mine.summary.credit_used, mine.summary.credit_limit, title, description)
        )
    return render(
        request,
        "dashboard.html",
        mine=mine,
        everyone=everyone,
        meter=meter,
        meter_label=meter_label,
    )


def _figures(
    platform: Platform, actor: Actor
) -> tuple[Mine | None, service.PlatformSummary | None]:
    now = platform.clock.now()
    mine = everyone = None
    with platform.database.transaction(write=False) as session:
        if permissions.may(actor.role, permissions.OWN_BOOKS):
            taxpayer = session.get(Taxpayer, actor.taxpayer_id)
            assert taxpayer is not None  # OWN_BOOKS roles belong to a taxpayer
            mine = Mine(
                taxpayer.name, taxpayer.tax_id, service.taxpayer_summary(session, actor, now)
            )
        if permissions.may(actor.role, permissions.MANAGE_TAXPAYERS):
            everyone = service.platform_summary(session, now)
    return mine, everyone
