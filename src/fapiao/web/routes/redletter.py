"""Red-letter forms as pages: the forms I filed and the ones waiting for my answer, filing
a form for a blue invoice (in full or per line), and one form with the answers allowed now.
Every action is the same service call as /api/v1/red-letter-forms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.invoices import service as invoices
from fapiao.invoices.models import Invoice
from fapiao.kit.errors import N_, FapiaoError, invalid
from fapiao.kit.i18n import translate
from fapiao.platform import Platform
from fapiao.redletter import listing, rules, service
from fapiao.redletter.models import RedLetterForm
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other
from fapiao.web.timefmt import local_time, time_left

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(web_allow(permissions.READ))]
Issuer = Annotated[Actor, Depends(web_allow(permissions.ISSUE))]
FormId = Annotated[int, Path(ge=1, le=2**62)]

STATES = {
    "01": N_("No confirmation needed"),
    "02": N_("Filed by the seller, waiting for the buyer"),
    "03": N_("Filed by the buyer, waiting for the seller"),
    "04": N_("Confirmed by both parties"),
    "05": N_("Void: the buyer disagreed"),
    "06": N_("Void: the seller disagreed"),
    "07": N_("Void: not answered within 72 hours"),
    "08": N_("Void: withdrawn by the initiator"),
    "09": N_("Void: withdrawn after confirmation"),
    "10": N_("Void: abnormal voucher"),
    "11": N_("Void: taxpayer blocked"),
}
REASONS = {
    "01": N_("Issued in error"),
    "02": N_("Goods returned"),
    "03": N_("Service stopped"),
    "04": N_("Sales allowance"),
}
DECISIONS = {"Y": N_("Agree"), "N": N_("Disagree"), "C": N_("Withdraw")}
MAX_LINES = 2000


@dataclass(frozen=True)
class BlueLine:
    line_no: int
    name: str
    amount: Decimal
    tax_rate: str
    left: Decimal


@router.get("/ui/red-letter")
async def forms_page(request: Request, platform: PlatformDep, actor: Reader) -> Response:
    mine, waiting = await run_in_threadpool(_lists, platform, actor)
    now = platform.clock.now()
    return render(
        request,
        "redletter_list.html",
        mine=mine,
        waiting=waiting,
        states=STATES,
        left=lambda form: time_left(form.deadline, now, request_locale(request)),
        may_file=permissions.may(actor.role, permissions.ISSUE),
    )


def _lists(platform: Platform, actor: Actor) -> tuple[list[RedLetterForm], list[RedLetterForm]]:
    if actor.taxpayer_id is None:  # officers look forms up by id
        return [], []
    with platform.database.transaction() as session:
        service.expire_lapsed(session, platform.clock.now(), actor=actor)
        mine = listing.list_forms(session, actor, "initiated", None, limit=100, before=None)
        waiting = listing.list_forms(session, actor, "to_confirm", None, limit=100, before=None)
        session.expunge_all()
        return mine, waiting


@router.get("/ui/red-letter/new")
async def new_page(request: Request, platform: PlatformDep, actor: Issuer) -> Response:
    number = request.query_params.get("blue", "").strip()[:20]
    if not number:
        return render(request, "redletter_new.html", blue=None, lines=[], **_blank(number))
    errors = FormErrors()
    if not (number.isascii() and number.isdigit()) or len(number) != 20:
        errors.add(
            "blue", translate(N_("An invoice number has 20 digits."), request_locale(request))
        )
        context = _blank(number, errors)
        return render(
            request, "redletter_new.html", status_code=422, blue=None, lines=[], **context
        )
    blue, lines = await run_in_threadpool(_blue, platform, actor, number)
    return render(request, "redletter_new.html", blue=blue, lines=lines, **_blank(number))


def _blank(number: str, errors: FormErrors | None = None) -> dict[str, Any]:
    return {
        "number": number,
        "errors": errors or FormErrors(),
        "values": {"reason": "01", "scope": "full"},
        "amounts": {},
        "reasons": REASONS,
    }


def _blue(platform: Platform, actor: Actor, number: str) -> tuple[Invoice, list[BlueLine]]:
    with platform.database.transaction(write=False) as session:
        try:
            blue = invoices.get_visible(session, actor, number)
        except FapiaoError as refused:
            raise WebError(refused) from refused
        done = service.reversed_by_line(session, number)
        lines = [
            BlueLine(
                line.line_no,
                line.name,
                line.amount,
                line.tax_rate,
                line.amount - done[line.line_no].amount if line.line_no in done else line.amount,
            )
            for line in blue.lines
        ]
        session.expunge_all()
        return blue, lines


@router.post("/ui/red-letter/new")
async def new_submit(request: Request, platform: PlatformDep, actor: Issuer) -> Response:
    form = await request.form()
    values = await read_form(request, {"blue": 20, "reason": 2, "scope": 8})
    number = values["blue"]
    blue, lines = await run_in_threadpool(_blue, platform, actor, number)
    locale = request_locale(request)
    errors = FormErrors()
    amounts = {
        line.line_no: str(form.get(f"amount_{line.line_no}") or "")[:20].strip() for line in lines
    }
    requested: list[tuple[int, Decimal, Decimal | None]] | None = None
    if values["reason"] not in REASONS:
        errors.add("reason", translate(N_("Choose a reason."), locale))
    if values["scope"] == "partial":
        requested = []
        for line in lines:
            text = amounts[line.line_no]
            if not text:
                continue
            try:
                amount = Decimal(text)
                if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
                    raise InvalidOperation
            except InvalidOperation:
                errors.add(
                    f"amount_{line.line_no}",
                    translate(N_("Write an amount like 100.00."), locale),
                )
                continue
            requested.append((line.line_no, amount, None))
        if not requested and not errors:
            errors.add(
                None, translate(N_("Enter the amount to reverse on at least one line."), locale)
            )
    if not errors:
        try:
            created = await run_in_threadpool(
                service.create_form, platform, actor, number, values["reason"], requested
            )
            return see_other(f"/ui/red-letter/{created.id}")
        except FapiaoError as refused:
            # The API's field paths to this form's fields; a refusal about the blue
            # invoice itself ("blue_number") is shown above the form.
            aliases = {
                f"lines.{index}.amount": f"amount_{line_no}"
                for index, (line_no, _amount, _quantity) in enumerate(requested or [])
            }
            aliases["blue_number"] = ""
            errors = FormErrors.from_error(refused, locale, aliases=aliases)
            status = refused.status
    else:
        status = 422
    return render(
        request,
        "redletter_new.html",
        status_code=status,
        blue=blue,
        lines=lines,
        number=number,
        errors=errors,
        values=values,
        amounts=amounts,
        reasons=REASONS,
    )


@router.get("/ui/red-letter/{form_id}")
async def form_page(
    request: Request, platform: PlatformDep, actor: Reader, form_id: FormId
) -> Response:
    form, party, names = await run_in_threadpool(_form, platform, actor, form_id)
    return _detail(request, platform, actor, form, party, names, FormErrors())


def _form(
    platform: Platform, actor: Actor, form_id: int
) -> tuple[RedLetterForm, str | None, dict[int, str]]:
    now = platform.clock.now()
    try:
        with platform.database.transaction() as session:
            service.expire_lapsed(session, now, form_id=form_id)
            form = service.get_form(session, actor, form_id)
            blue = session.scalar(select(Invoice).where(Invoice.number == form.blue_number))
            names = {line.line_no: line.name for line in blue.lines} if blue else {}
            party = service.party_of(actor, form)
            session.expunge_all()
            return form, party, names
    except FapiaoError as refused:
        raise WebError(refused) from refused


def _detail(
    request: Request,
    platform: Platform,
    actor: Actor,
    form: RedLetterForm,
    party: str | None,
    names: dict[int, str],
    errors: FormErrors,
    status_code: int = 200,
) -> Response:
    now = platform.clock.now()
    allowed = []
    if party is not None and permissions.may(actor.role, permissions.ISSUE):
        allowed = [d for d in DECISIONS if rules.after_decision(form.state, d, party) is not None]
    lines = json.loads(form.lines_json)
    for line in lines:
        line["name"] = names.get(line["line_no"], "")
        line["amount"] = Decimal(line["amount"])
        line["tax"] = Decimal(line["tax"])
    return render(
        request,
        "redletter_detail.html",
        status_code=status_code,
        form=form,
        party=party,
        lines=lines,
        state_label=STATES.get(form.state, form.state),
        reason_label=REASONS.get(form.reason, form.reason),
        pending=form.state in rules.PENDING,
        left=time_left(form.deadline, now, request_locale(request)),
        deadline=local_time(form.deadline),
        created=local_time(form.created_at),
        allowed=allowed,
        decisions=DECISIONS,
        total=form.amount + form.tax,
        errors=errors,
    )


@router.post("/ui/red-letter/{form_id}/decision")
async def decide(
    request: Request, platform: PlatformDep, actor: Issuer, form_id: FormId
) -> Response:
    values = await read_form(request, {"decision": 1})
    try:
        if values["decision"] not in DECISIONS:
            raise invalid("decision", "DECISION_INVALID", N_("Choose agree, disagree or withdraw."))
        await run_in_threadpool(service.decide, platform, actor, form_id, values["decision"])
    except FapiaoError as refused:
        if refused.status == 404:
            raise WebError(refused) from refused
        form, party, names = await run_in_threadpool(_form, platform, actor, form_id)
        errors = FormErrors.from_error(refused, request_locale(request))
        return _detail(request, platform, actor, form, party, names, errors, refused.status)
    return see_other(f"/ui/red-letter/{form_id}")
