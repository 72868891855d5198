"""Voiding paper invoices (作废, domain.md §6)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.invoices.credit import release_credit
from fapiao.invoices.models import Invoice
from fapiao.invoices.service import buyer_taxpayer_id, get_visible
from fapiao.kit.clock import local_date, month_key
from fapiao.kit.errors import N_, Conflict, Forbidden
from fapiao.ledger import service as ledger
from fapiao.outbox.service import emit
from fapiao.platform import Platform


def void(platform: Platform, actor: Actor, number: str) -> Invoice:
    """Void a paper invoice (domain.md §6); every refusal names its reason."""
    seller_id = actor.require_write()
    now = platform.clock.now()
    with platform.database.transaction() as session:
        invoice = get_visible(session, actor, number, for_update=True)
        if invoice.seller_id != seller_id:
            raise Forbidden("ONLY_SELLER_MAY_VOID", N_("Only the seller may void an invoice."))
        check_voidable(invoice, local_date(now))
        if has_open_redletter_form(session, number):
            raise Conflict(
                "REDLETTER_FORM_PENDING",
                N_("A red-letter form for this invoice is waiting for an answer."),
            )
        invoice.status = "voided"
        invoice.voided_at = now
        if not invoice.is_red:
            release_credit(session, seller_id, month_key(invoice.issue_date), invoice.total_amount)
        payload = {"number": invoice.number}
        emit(session, "invoice.voided", invoice.seller_id, invoice.number, payload, now)
        content = {"number": invoice.number, "voided_at": now.isoformat()}
        ledger.record(session, "invoice.voided", invoice.number, seller_id, content, now)
        buyer_id = buyer_taxpayer_id(session, invoice)
        if buyer_id is not None:
            emit(session, "invoice.voided", buyer_id, invoice.number, payload, now)
        session.flush()
        return invoice


def has_open_redletter_form(session: Session, number: str) -> bool:
    from fapiao.redletter.models import RedLetterForm
    from fapiao.redletter.rules import PENDING

    query = select(RedLetterForm.id).where(
        RedLetterForm.blue_number == number, RedLetterForm.state.in_(PENDING)
    )
    return session.scalar(query.limit(1)) is not None


def check_voidable(invoice: Invoice, today: date) -> None:
    if invoice.medium != "paper":
        raise Conflict(
            "ELECTRONIC_NOT_VOIDABLE",
            N_(
                "Electronic invoices cannot be voided; reverse them with a red-letter form instead."
            ),
        )
    if invoice.status == "voided":
        raise Conflict("ALREADY_VOIDED", N_("The invoice is already voided."))
    if invoice.is_red:
        raise Conflict("RED_NOT_VOIDABLE", N_("Red invoices cannot be voided here."))
    if (invoice.issue_date.year, invoice.issue_date.month) != (today.year, today.month):
        raise Conflict(
            "VOID_PERIOD_CLOSED",
            N_(
                "Paper invoices can only be voided in the month they were issued; "
                "use a red-letter form."
            ),
        )
    if invoice.cert_period is not None:
        raise Conflict(
            "CERTIFIED_NOT_VOIDABLE",
            N_("The buyer has certified this invoice; it can no longer be voided."),
        )
    if invoice.status != "normal":
        raise Conflict("REVERSED_NOT_VOIDABLE", N_("A reversed invoice cannot be voided."))
