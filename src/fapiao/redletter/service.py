"""Red-letter forms and the red invoices they produce."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.invoices import rows
from fapiao.invoices import rules as invoice_rules
from fapiao.invoices import service as invoices
from fapiao.invoices.buyer import BuyerInput
from fapiao.invoices.credit import release_credit
from fapiao.invoices.models import Invoice, InvoiceLine
from fapiao.kit.clock import local_date, month_key
from fapiao.kit.errors import N_, Conflict, Forbidden, NotFound
from fapiao.kit.money import ZERO
from fapiao.ledger import service as ledger
from fapiao.outbox.service import emit
from fapiao.platform import Platform
from fapiao.redletter import arithmetic, rules
from fapiao.redletter.models import RedLetterForm
from fapiao.taxpayers.models import Taxpayer

Requested = Sequence[tuple[int, Decimal, Decimal | None]] | None


def _form_not_found(form_id: int) -> NotFound:
    return NotFound(
        "REDLETTER_FORM_NOT_FOUND",
        N_("Red-letter form {id} was not found."),
        params={"id": form_id},
    )


def party_of(actor: Actor, form: RedLetterForm) -> str | None:
    if actor.taxpayer_id is not None and actor.taxpayer_id == form.seller_id:
        return "seller"
    if actor.tax_id is not None and actor.tax_id == form.buyer_tax_id:
        return "buyer"
    return None


def blue_lines(invoice: Invoice) -> list[invoice_rules.Line]:
    return [
        invoice_rules.Line(
            line_no=line.line_no,
            name=line.name,
            tax_code=line.tax_code,
            short_name=line.short_name,
            spec=line.spec,
            unit=line.unit,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_rate=line.tax_rate,
            tax=line.tax,
        )
        for line in invoice.lines
    ]


def reversed_by_line(session: Session, blue_number: str) -> dict[int, arithmetic.Reversed]:
    """What the red invoices against a blue invoice have reversed, per blue line."""
    rows = session.execute(
        select(InvoiceLine.blue_line_no, InvoiceLine.amount, InvoiceLine.tax, InvoiceLine.quantity)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.red_of == blue_number, Invoice.status != "voided")
    ).all()
    totals: dict[int, arithmetic.Reversed] = {}
    for line_no, amount, tax, quantity in rows:
        if line_no is None:
            continue
        done = totals.get(line_no, arithmetic.Reversed())
        totals[line_no] = arithmetic.Reversed(
            amount=done.amount - amount,
            tax=done.tax - tax,
            quantity=done.quantity - (quantity or ZERO),
        )
    return totals


def _check_blue(blue: Invoice) -> None:
    if blue.is_red:
        raise Conflict("NOT_A_BLUE_INVOICE", N_("Only blue invoices can be reversed."))
    if blue.status == "voided":
        raise Conflict("INVOICE_VOIDED", N_("The invoice is voided; there is nothing to reverse."))
    if blue.status == "fully_reversed":
        raise Conflict("ALREADY_FULLY_REVERSED", N_("Nothing is left to reverse."))


def create_form(
    platform: Platform,
    actor: Actor,
    blue_number: str,
    reason: str,
    requested: Requested,
) -> RedLetterForm:
    """File a form; when no confirmation is needed the red invoice is issued at once."""
    actor.require_write()
    now = platform.clock.now()
    red_number = platform.numbers.next(_prefix(platform, now))
    with platform.database.transaction() as session:
        expire_lapsed(session, now, blue_number=blue_number)
        blue = invoices.get_visible(session, actor, blue_number, for_update=True)
        party = "seller" if blue.seller_id == actor.taxpayer_id else "buyer"
        _check_blue(blue)
        pending = session.scalar(
            select(RedLetterForm.id).where(
                RedLetterForm.blue_number == blue_number, RedLetterForm.state.in_(rules.PENDING)
            )
        )
        if pending is not None:
            raise Conflict(
                "REDLETTER_FORM_PENDING",
                N_("Red-letter form {id} for this invoice is still waiting for an answer."),
                params={"id": pending},
            )
        plan = arithmetic.plan_reversal(
            blue_lines(blue), reversed_by_line(session, blue_number), requested
        )
        if party == "buyer" and blue.cert_period is None:
            raise Conflict(
                "BUYER_FORM_NEEDS_CERTIFICATION",
                N_(
                    "The buyer files a red-letter form only for an invoice it has certified; "
                    "ask the seller to reverse this one."
                ),
            )
        # Once the buyer has certified (用途确认) the invoice, the other party must agree.
        needs_confirmation = blue.cert_period is not None
        state = rules.opening_state(party, needs_confirmation)
        form = RedLetterForm(
            blue_number=blue_number,
            seller_id=blue.seller_id,
            buyer_tax_id=blue.buyer_tax_id,
            initiator=party,
            initiator_taxpayer_id=actor.taxpayer_id,
            reason=reason,
            state=state,
            lines_json=json.dumps(
                [
                    {
                        "line_no": item.line_no,
                        "amount": f"{item.amount:.2f}",
                        "tax": f"{item.tax:.2f}",
                        "quantity": None if item.quantity is None else f"{item.quantity:f}",
                    }
                    for item in plan
                ]
            ),
            amount=sum((item.amount for item in plan), ZERO),
            tax=sum((item.tax for item in plan), ZERO),
            created_at=now,
            deadline=now + timedelta(hours=platform.settings.redletter_hours),
            created_by=actor.user_id,
        )
        session.add(form)
        session.flush()
        if state == rules.NO_CONFIRMATION:
            _issue_red(session, platform, actor, blue, form, plan, red_number, now)
        else:
            other = _counterparty_id(session, blue, party)
            if other is not None:
                emit(session, "redletter.requested", other, str(form.id), _event(form), now)
        session.flush()
        return form


def _prefix(platform: Platform, now: datetime) -> str:
    from fapiao.invoices.numbering import prefix_for

    return prefix_for(local_date(now), platform.settings.region, platform.settings.channel)


def _counterparty_id(session: Session, blue: Invoice, party: str) -> int | None:
    if party == "buyer":
        return blue.seller_id
    return invoices.buyer_taxpayer_id(session, blue)


def _event(form: RedLetterForm) -> dict[str, object]:
    return {"form_id": form.id, "blue_number": form.blue_number, "state": form.state}


def _plan_of(form: RedLetterForm) -> list[arithmetic.Reversal]:
    return [
        arithmetic.Reversal(
            line_no=item["line_no"],
            amount=Decimal(item["amount"]),
            tax=Decimal(item["tax"]),
            quantity=None if item["quantity"] is None else Decimal(item["quantity"]),
        )
        for item in json.loads(form.lines_json)
    ]


def _issue_red(
    session: Session,
    platform: Platform,
    actor: Actor,
    blue: Invoice,
    form: RedLetterForm,
    plan: Sequence[arithmetic.Reversal],
    number: str,
    now: datetime,
) -> Invoice:
    """Issue the red invoice of a form and move the blue invoice's status along."""
    if form.red_invoice_number is not None:
        raise Conflict("REDLETTER_FORM_CLOSED", N_("The form is no longer waiting for an answer."))
    # Re-checked under the blue invoice's row lock: the sum of red never passes the blue.
    arithmetic.plan_reversal(
        blue_lines(blue),
        reversed_by_line(session, blue.number),
        [(item.line_no, item.amount, item.quantity) for item in plan],
    )
    lines = arithmetic.red_lines(blue_lines(blue), plan)
    totals = invoice_rules.totals_of(lines)
    seller = session.get(Taxpayer, blue.seller_id)
    assert seller is not None
    request = invoices.IssueRequest(
        kind=blue.kind,
        medium=blue.medium,
        buyer=BuyerInput(
            name=blue.buyer_name,
            tax_id=blue.buyer_tax_id,
            address=blue.buyer_address,
            phone=blue.buyer_phone,
            bank=blue.buyer_bank,
            account=blue.buyer_account,
            email=blue.buyer_email,
            natural_person=blue.buyer_natural_person,
            id_number=blue.buyer_id_number,
        ),
        lines=[],
        prices_include_tax=blue.prices_include_tax,
        remarks=f"被红冲蓝字数电发票号码：{blue.number}",
        drawer=blue.drawer,
    )
    red = rows.build_invoice(
        seller, request, number, local_date(now), now, lines, totals, actor, red_of=blue.number
    )
    red.red_form_id = form.id
    session.add(red)
    blue.reversed_amount = blue.reversed_amount - totals.amount
    blue.reversed_tax = blue.reversed_tax - totals.tax
    blue.status = arithmetic.blue_status(
        blue.total_amount, blue.total_tax, blue.reversed_amount, blue.reversed_tax
    )
    # Credit comes back only within the month of the blue invoice (docs/rules.md).
    if month_key(local_date(now)) == month_key(blue.issue_date):
        release_credit(session, blue.seller_id, month_key(blue.issue_date), -totals.amount)
    form.red_invoice_number = number
    session.flush()
    ledger.append(
        session, [ledger.issued_document(red, red.lines, blue.seller_id)], platform.signer
    )
    payload = {
        "number": number,
        "blue_number": blue.number,
        "total_with_tax": f"{totals.with_tax:.2f}",
    }
    emit(session, "invoice.reversed", blue.seller_id, blue.number, payload, now)
    buyer_id = invoices.buyer_taxpayer_id(session, blue)
    if buyer_id is not None:
        emit(session, "invoice.reversed", buyer_id, blue.number, payload, now)
    return red


def expire_lapsed(
    session: Session,
    now: datetime,
    *,
    form_id: int | None = None,
    blue_number: str | None = None,
    actor: Actor | None = None,
) -> int:
    """Move pending forms past their deadline to state 07 (lapsed at the deadline) and tell
    the initiator through the outbox; returns how many lapsed."""
    query = select(RedLetterForm).where(
        RedLetterForm.state.in_(rules.PENDING), RedLetterForm.deadline <= now
    )
    if form_id is not None:
        query = query.where(RedLetterForm.id == form_id)
    if blue_number is not None:
        query = query.where(RedLetterForm.blue_number == blue_number)
    if actor is not None:
        query = query.where(involving(actor))
    forms = list(session.scalars(query.with_for_update(skip_locked=True)))
    for form in forms:
        form.state = rules.VOID_LAPSED
        form.decided_at = form.deadline
        _record_decision(session, form, now)
        emit(
            session,
            "redletter.decided",
            form.initiator_taxpayer_id,
            str(form.id),
            _event(form),
            now,
        )
    session.flush()
    return len(forms)


def involving(actor: Actor) -> Any:
    return (RedLetterForm.seller_id == actor.taxpayer_id) | (
        RedLetterForm.buyer_tax_id == actor.tax_id
    )


def get_form(
    session: Session, actor: Actor, form_id: int, *, for_update: bool = False
) -> RedLetterForm:
    form = session.get(RedLetterForm, form_id, with_for_update=for_update)
    if form is None or (party_of(actor, form) is None and not actor.is_officer):
        raise _form_not_found(form_id)
    return form


def decide(platform: Platform, actor: Actor, form_id: int, decision: str) -> RedLetterForm:
    """Y or N by the party that must answer, C by the initiator."""
    actor.require_write()
    now = platform.clock.now()
    red_number = platform.numbers.next(_prefix(platform, now)) if decision == "Y" else ""
    # The lapse is committed on its own, so a late answer leaves the form recorded as lapsed.
    with platform.database.transaction() as session:
        expire_lapsed(session, now, form_id=form_id)
    with platform.database.transaction() as session:
        # Locked: two answers at once must not both issue a red invoice.
        form = get_form(session, actor, form_id, for_update=True)
        party = party_of(actor, form)
        if form.state == rules.VOID_LAPSED:
            raise Conflict(
                "REDLETTER_FORM_LAPSED",
                N_("The form was not answered within {hours} hours and has lapsed."),
                params={"hours": platform.settings.redletter_hours},
            )
        if form.state not in rules.PENDING:
            raise Conflict(
                "REDLETTER_FORM_CLOSED", N_("The form is no longer waiting for an answer.")
            )
        assert party is not None
        next_state = rules.after_decision(form.state, decision, party)
        if next_state is None:
            raise Forbidden(
                "REDLETTER_NOT_YOUR_DECISION",
                N_("Only the other party may agree or disagree; only the initiator may withdraw."),
            )
        form.state = next_state
        form.decided_at = now
        if next_state == rules.CONFIRMED:
            blue = invoices.get_visible(session, actor, form.blue_number, for_update=True)
            _check_blue(blue)
            seller_actor = actor if party == "seller" else _seller_actor(session, blue)
            _issue_red(session, platform, seller_actor, blue, form, _plan_of(form), red_number, now)
        initiator_id = form.initiator_taxpayer_id
        emit(session, "redletter.decided", initiator_id, str(form.id), _event(form), now)
        _record_decision(session, form, now)
        session.flush()
        return form


def _record_decision(session: Session, form: RedLetterForm, now: datetime) -> None:
    content = {
        **_event(form),
        "blue_number": form.blue_number,
        "red_invoice_number": form.red_invoice_number or None,
        "decided_at": form.decided_at.isoformat() if form.decided_at else None,
    }
    ledger.record(
        session, "redletter.decided", str(form.id), form.initiator_taxpayer_id, content, now
    )


def _seller_actor(session: Session, blue: Invoice) -> Actor:
    """The red invoice is the seller's document even when the buyer's Y triggers it."""
    return Actor(
        user_id=0, username="", role="clerk", taxpayer_id=blue.seller_id, tax_id=blue.seller_tax_id
    )
