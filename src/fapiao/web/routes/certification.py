"""Certification as a page: tick received special invoices for a tax period (to deduct or
not, with a reason), withdraw a tick, confirm the period. The same service calls as
/api/v1/invoices/{number}/certify and /api/v1/certification-periods/{period}/confirm."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.certification import rules, service
from fapiao.http.deps import PlatformDep
from fapiao.invoices import listing
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.platform import Platform
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
Books = Annotated[Actor, Depends(web_allow(permissions.OWN_BOOKS))]
Issuer = Annotated[Actor, Depends(web_allow(permissions.ISSUE))]
NUMBER = re.compile(r"^\d{20}$")
SHOWN = 200  # invoices listed at most; a period's open invoices fit one page

PURPOSES = {"deduct": N_("Deduct"), "no_deduct": N_("Do not deduct")}
REASONS = {
    "1": N_("1 Non-taxable use"),
    "2": N_("2 Exempt use"),
    "3": N_("3 Staff welfare or personal consumption"),
    "4": N_("4 Abnormal loss"),
    "5": N_("5 Other (write why)"),
}


@dataclass
class Row:
    """An invoice that can be ticked, with what was entered for it and its error."""

    invoice: Invoice
    checked: bool = False
    purpose: str = "deduct"
    reason: str = ""
    reason_text: str = ""
    error: str = ""


class _Refused(Exception):
    """Some tick was refused: the whole submission is rolled back."""


def _period(request: Request, platform: Platform) -> str:
    asked = request.query_params.get("period", "")
    if rules.PERIOD_RE.match(asked):
        return asked
    return rules.period_of(local_date(platform.clock.now()))


def _open_and_ticked(
    session: Session, actor: Actor, period: str
) -> tuple[list[Invoice], list[Invoice]]:
    """Received blue special invoices not yet ticked, and those ticked for `period`."""
    query = listing.matching(
        session, actor, listing.ListFilter(direction="received", kind="special")
    )
    if query is None:
        return [], []
    query = query.where(Invoice.is_red.is_(False))
    open_ = query.where(
        Invoice.cert_period.is_(None), Invoice.status.not_in(("voided", "fully_reversed"))
    )
    ticked = query.where(Invoice.cert_period == period)
    order = (Invoice.issue_date.desc(), Invoice.id.desc())
    return (
        list(session.scalars(open_.order_by(*order).limit(SHOWN))),
        list(session.scalars(ticked.order_by(*order).limit(SHOWN))),
    )


def _state(
    platform: Platform, actor: Actor, period: str
) -> tuple[list[Invoice], list[Invoice], service.PeriodSummary]:
    assert actor.taxpayer_id is not None and actor.tax_id is not None  # OWN_BOOKS roles
    with platform.database.transaction(write=False) as session:
        open_, ticked = _open_and_ticked(session, actor, period)
        summary = service.summary(session, actor.taxpayer_id, actor.tax_id, period)
        session.expunge_all()
        return open_, ticked, summary


def _page(
    request: Request,
    platform: Platform,
    actor: Actor,
    period: str,
    rows: list[Row] | None = None,
    errors: FormErrors | None = None,
    confirming: bool = False,
    status_code: int = 200,
) -> Response:
    open_, ticked, summary = _state(platform, actor, period)
    if rows is None:
        wanted = request.query_params.get("number", "")
        rows = [Row(invoice, checked=invoice.number == wanted) for invoice in open_]
    return render(
        request,
        "certification.html",
        status_code=status_code,
        period=period,
        rows=rows,
        ticked=ticked,
        summary=summary,
        purposes=PURPOSES,
        reasons=REASONS,
        errors=errors or FormErrors(),
        confirming=confirming,
        may_write=permissions.may(actor.role, permissions.ISSUE),
    )


@router.get("/ui/certification")
async def certification_page(request: Request, platform: PlatformDep, actor: Books) -> Response:
    period = _period(request, platform)
    confirming = request.query_params.get("confirm") == "1"
    return await run_in_threadpool(_page, request, platform, actor, period, confirming=confirming)


@router.post("/ui/certification")
async def certify(request: Request, platform: PlatformDep, actor: Issuer) -> Response:
    form = await request.form()
    period = str(form.get("period") or "")[:6]
    if not rules.PERIOD_RE.match(period):
        period = _period(request, platform)
    numbers = [str(n)[:20] for n in form.getlist("number") if NUMBER.match(str(n))][:SHOWN]
    locale = request_locale(request)
    open_, _ticked, _summary = await run_in_threadpool(_state, platform, actor, period)
    rows = [
        Row(
            invoice,
            checked=invoice.number in numbers,
            purpose=str(form.get(f"purpose_{invoice.number}") or "deduct")[:12],
            reason=str(form.get(f"reason_{invoice.number}") or "")[:1],
            reason_text=str(form.get(f"reason_text_{invoice.number}") or "")[:200],
        )
        for invoice in open_
    ]
    chosen = [row for row in rows if row.checked]
    if not chosen:
        errors = FormErrors()
        errors.add(None, translate(N_("Tick at least one invoice."), locale))
        return await run_in_threadpool(
            _page, request, platform, actor, period, rows, errors, status_code=422
        )
    try:
        await run_in_threadpool(_certify_all, platform, actor, period, chosen, locale)
    except _Refused:
        errors = FormErrors()
        errors.add(
            None, translate(N_("Nothing was ticked: correct the rows marked below."), locale)
        )
        return await run_in_threadpool(
            _page, request, platform, actor, period, rows, errors, status_code=422
        )
    return see_other(f"/ui/certification?period={period}")


def _certify_all(
    platform: Platform, actor: Actor, period: str, chosen: list[Row], locale: str
) -> None:
    """Every tick in one transaction: all are recorded, or none (each refusal is written
    on its row)."""
    now = platform.clock.now()
    with platform.database.transaction() as session:
        for row in chosen:
            purpose = row.purpose if row.purpose in PURPOSES else "deduct"
            reason = row.reason or None if purpose == "no_deduct" else None
            try:
                service.certify(
                    session,
                    actor,
                    row.invoice.number,
                    period=period,
                    purpose=purpose,
                    reason=reason,
                    reason_text=row.reason_text or None,
                    now=now,
                )
            except FapiaoError as refused:
                found = FormErrors.from_error(refused, locale)
                row.error = " ".join([*found.fields.values(), *found.form])
        if any(row.error for row in chosen):
            raise _Refused()


@router.post("/ui/certification/withdraw")
async def withdraw(request: Request, platform: PlatformDep, actor: Issuer) -> Response:
    values = await read_form(request, {"number": 20, "period": 6})
    period = values["period"] if rules.PERIOD_RE.match(values["period"]) else ""
    try:
        await run_in_threadpool(_withdraw, platform, actor, values["number"])
    except FapiaoError as refused:
        if refused.status == 404:
            raise WebError(refused) from refused
        errors = FormErrors.from_error(refused, request_locale(request))
        period = period or _period(request, platform)
        return await run_in_threadpool(
            _page, request, platform, actor, period, errors=errors, status_code=refused.status
        )
    return see_other(f"/ui/certification?period={period}" if period else "/ui/certification")


def _withdraw(platform: Platform, actor: Actor, number: str) -> None:
    with platform.database.transaction() as session:
        service.withdraw(session, actor, number, platform.clock.now())


@router.post("/ui/certification/confirm")
async def confirm(request: Request, platform: PlatformDep, actor: Issuer) -> Response:
    values = await read_form(request, {"period": 6})
    period = values["period"]
    try:
        await run_in_threadpool(_confirm, platform, actor, period)
    except FapiaoError as refused:
        errors = FormErrors.from_error(refused, request_locale(request))
        if not rules.PERIOD_RE.match(period):
            period = _period(request, platform)
        return await run_in_threadpool(
            _page, request, platform, actor, period, errors=errors, status_code=refused.status
        )
    return see_other(f"/ui/certification?period={period}")


def _confirm(platform: Platform, actor: Actor, period: str) -> None:
    with platform.database.transaction() as session:
        service.confirm(session, actor, period, platform.clock.now())
