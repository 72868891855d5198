"""One invoice, for its seller, its buyer or an officer (anyone else: the 404 page): its
parties, lines and totals, the signed receipt, the QR code, the timeline in plain words,
and the actions the signed-in user may take on it now. Which actions are offered is asked
of the services' own checks (void.check_voidable, certification.check_certifiable, the
red-letter form's checks), so the page never offers what the service would refuse."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.certification.service import check_certifiable
from fapiao.crypto.personal import shown_buyer_id
from fapiao.http.deps import PlatformDep
from fapiao.invoices import qrcode, service, void
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date
from fapiao.kit.errors import FapiaoError
from fapiao.kit.i18n import translate
from fapiao.ledger import service as ledger
from fapiao.platform import Platform
from fapiao.redletter.service import _check_blue as check_reversible
from fapiao.trace import service as trace
from fapiao.trace.timeline import timeline
from fapiao.web import words
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(web_allow(permissions.READ))]
Issuer = Annotated[Actor, Depends(web_allow(permissions.ISSUE))]
NUMBER = re.compile(r"^\d{20}$")


@dataclass
class Detail:
    invoice: Invoice
    buyer_id: str | None
    reds: list[Invoice]
    receipt: dict[str, Any] | None
    qr_text: str
    events: list[dict[str, Any]]
    actions: set[str] = field(default_factory=set)


def _passes(check: Any, *args: Any) -> bool:
    try:
        check(*args)
    except FapiaoError:
        return False
    return True


def allowed_actions(session: Session, actor: Actor, invoice: Invoice, today: Any) -> set[str]:
    """What the actor may do to the invoice now, by the services' own checks."""
    if not permissions.may(actor.role, permissions.ISSUE):
        return set()
    actions = set()
    seller = invoice.seller_id == actor.taxpayer_id
    buyer = invoice.buyer_tax_id is not None and invoice.buyer_tax_id == actor.tax_id
    pending_form = void.has_open_redletter_form(session, invoice.number)
    if seller and not pending_form and _passes(void.check_voidable, invoice, today):
        actions.add("void")
    # The buyer files a form only for an invoice it certified (redletter.create_form).
    may_file = seller or (buyer and invoice.cert_period is not None)
    if may_file and not pending_form and _passes(check_reversible, invoice):
        actions.add("red_letter")
    if buyer and _passes(check_certifiable, invoice):
        actions.add("certify")
    return actions


def _detail(platform: Platform, actor: Actor, number: str) -> Detail:
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        invoice = service.get_visible(session, actor, number)
        story = timeline(
            session,
            actor,
            number,
            now,
            trace.replica_look(platform.database),
            mail_server=bool(platform.settings.smtp_url),
        )
        reds = list(
            session.scalars(select(Invoice).where(Invoice.red_of == number).order_by(Invoice.id))
        )
        detail = Detail(
            invoice=invoice,
            buyer_id=shown_buyer_id(invoice),
            reds=reds,
            receipt=ledger.receipt_of(session, number),
            qr_text=qrcode.payload(
                invoice.kind,
                invoice.number,
                invoice.total_with_tax,
                invoice.issue_date,
                platform.secret,
            ),
            events=story["timeline"],
            actions=allowed_actions(session, actor, invoice, local_date(now)),
        )
        session.expunge_all()
    return detail


async def _page(
    request: Request,
    platform: Platform,
    actor: Actor,
    number: str,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    if not NUMBER.match(number):
        raise WebError(service.not_found(number))
    try:
        detail = await run_in_threadpool(_detail, platform, actor, number)
    except FapiaoError as refused:
        raise WebError(refused) from refused
    locale = request_locale(request)
    # segno's SVG is markup of ours; labelled for screen readers as an image.
    svg = qrcode.svg(detail.qr_text).replace("<svg ", '<svg role="img" aria-labelledby="qr-h" ', 1)
    return render(
        request,
        "invoice.html",
        status_code=status_code,
        d=detail,
        inv=detail.invoice,
        words=words,
        qr=Markup(svg),
        events=[
            (words.local_time(event["at"]), words.event_text(event, locale))
            for event in detail.events
        ],
        errors=errors or FormErrors(),
        done=request.query_params.get("done", ""),
    )


@router.get("/ui/invoices/{number}")
async def invoice_page(
    request: Request, number: str, platform: PlatformDep, actor: Reader
) -> Response:
    return await _page(request, platform, actor, number)


@router.post("/ui/invoices/{number}/void")
async def void_submit(
    request: Request, number: str, platform: PlatformDep, actor: Issuer
) -> Response:
    """Void a paper invoice: POST /api/v1/invoices/{number}/void, once the box is ticked."""
    values = await read_form(request, {"confirm": 10})
    locale = request_locale(request)
    if not NUMBER.match(number):
        raise WebError(service.not_found(number))
    if values["confirm"] != "yes":
        errors = FormErrors()
        errors.add("confirm", translate(words.CONFIRM_VOID, locale))
        return await _page(request, platform, actor, number, errors, status_code=422)
    try:
        await run_in_threadpool(void.void, platform, actor, number)
    except FapiaoError as refused:
        if refused.status == 404:
            raise WebError(refused) from refused
        errors = FormErrors.from_error(refused, locale)
        return await _page(request, platform, actor, number, errors, refused.status)
    return see_other(f"/ui/invoices/{number}?done=voided")
