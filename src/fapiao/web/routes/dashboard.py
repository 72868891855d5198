"""The dashboard: this month at a glance for the signed-in user's role, from the shared
dashboard service (fapiao.dashboard) and its server-drawn SVG charts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markupsafe import Markup

from fapiao import health
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
    locale = request_locale(request)
    meter = meter_label = None
    chart = platform_chart = None
    if mine is not None:
        chart = _chart(mine.summary.days, N_("Invoices issued in the last 30 days"), locale)
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
    if everyone is not None:
        platform_chart = _chart(
            everyone.days, N_("Invoices issued on the platform in the last 30 days"), locale
        )
    ready = await run_in_threadpool(health.readiness, platform) if everyone else None
    return render(
        request,
        "dashboard.html",
        mine=mine,
        everyone=everyone,
        meter=meter,
        meter_label=meter_label,
        chart=chart,
        platform_chart=platform_chart,
        ready=ready,
        webhooks=permissions.may(actor.role, permissions.WEBHOOKS),
    )


def _chart(days: list[service.Day], title: str, locale: str) -> Markup:
    """The daily bars with a description that states the figures (for screen readers)."""
    busiest = max(days, key=lambda day: day.count) if days else None
    if busiest is None or busiest.count == 0:
        empty = translate(
            N_("No invoices from {first} to {last}."),
            locale,
            first=days[0].day.isoformat() if days else "",
            last=days[-1].day.isoformat() if days else "",
        )
        return Markup(charts.daily_bars(days, translate(title, locale), empty))
    description = translate(
        N_("{count} invoices from {first} to {last}, ¥{amount} with tax; most on {day}: {most}."),
        locale,
        count=sum(day.count for day in days),
        first=days[0].day.isoformat() if days else "",
        last=days[-1].day.isoformat() if days else "",
        amount=money(sum((day.amount for day in days), Decimal("0.00"))),
        day=busiest.day.isoformat(),
        most=busiest.count,
    )
    # charts escape every text they draw; the SVG is markup of ours
    return Markup(charts.daily_bars(days, translate(title, locale), description))


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
