"""Certifying received special invoices for a tax period, and confirming the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.certification import rules
from fapiao.certification.models import CertificationPeriod
from fapiao.db import Cents
from fapiao.dbsql import insert_ignore
from fapiao.invoices import service as invoices
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date
from fapiao.kit.errors import N_, Conflict, Forbidden, ValidationFailed, invalid
from fapiao.ledger import service as ledger
from fapiao.outbox.service import emit


def _require_buyer(actor: Actor, invoice: Invoice) -> int:
    taxpayer_id = actor.require_write()
    if invoice.buyer_tax_id != actor.tax_id:
        raise Forbidden("ONLY_BUYER_MAY_CERTIFY", N_("Only the buyer may certify an invoice."))
    return taxpayer_id


def lock_period(session: Session, taxpayer_id: int, period: str) -> CertificationPeriod:
    """The buyer's period row, created if needed and locked: certify, withdraw and confirm
    all take this lock first, so nothing changes in a period while it is being signed."""
    session.execute(
        insert_ignore(session, CertificationPeriod, {"taxpayer_id": taxpayer_id, "period": period})
    )
    record = session.get(CertificationPeriod, (taxpayer_id, period), with_for_update=True)
    assert record is not None
    return record


def _refuse_confirmed(record: CertificationPeriod) -> None:
    if record.confirmed_at is not None:
        raise Conflict(
            "PERIOD_CONFIRMED",
            N_("Period {period} is already confirmed."),
            params={"period": record.period},
        )


def check_certifiable(invoice: Invoice) -> None:
    """Whether the invoice itself can be certified now (the web page asks it too, to offer
    the action only when it would be accepted)."""
    if invoice.kind != "special" or invoice.is_red:
        raise Conflict("NOT_CERTIFIABLE", N_("Only blue special invoices are certified."))
    if invoice.status in ("voided", "fully_reversed"):
        raise Conflict(
            "INVOICE_NOT_USABLE", N_("A voided or fully reversed invoice cannot be certified.")
        )
    if invoice.cert_period is not None:
        raise Conflict(
            "ALREADY_CERTIFIED",
            N_("The invoice is already certified for period {period}."),
            params={"period": invoice.cert_period},
        )


def certify(
    session: Session,
    actor: Actor,
    number: str,
    *,
    period: str,
    purpose: str,
    reason: str | None,
    reason_text: str | None,
    now: datetime,
) -> Invoice:
    taxpayer_id = actor.require_write()
    record = lock_period(session, taxpayer_id, period) if rules.PERIOD_RE.match(period) else None
    invoice = invoices.get_visible(session, actor, number, for_update=True)
    _require_buyer(actor, invoice)
    check_certifiable(invoice)
    errors = rules.check_request(
        period, purpose, reason, reason_text, invoice.issue_date, local_date(now)
    )
    if errors:
        raise ValidationFailed(errors)
    assert record is not None
    _refuse_confirmed(record)
    invoice.cert_period = period
    invoice.cert_purpose = purpose
    invoice.cert_reason = reason
    invoice.cert_reason_text = reason_text if reason == "5" else None
    invoice.certified_at = now
    emit(
        session,
        "certification.changed",
        taxpayer_id,
        number,
        {"number": number, "period": period, "purpose": purpose},
        now,
    )
    content = {
        "action": "certify",
        "number": number,
        "period": period,
        "purpose": purpose,
        "reason": reason,
        "at": now.isoformat(),
    }
    ledger.record(session, "certification.changed", number, taxpayer_id, content, now)
    session.flush()
    return invoice


def withdraw(session: Session, actor: Actor, number: str, now: datetime) -> Invoice:
    taxpayer_id = actor.require_write()
    peek = invoices.get_visible(session, actor, number)
    _require_buyer(actor, peek)
    if peek.cert_period is None:
        raise Conflict("NOT_CERTIFIED", N_("The invoice is not certified."))
    record = lock_period(session, taxpayer_id, peek.cert_period)
    invoice = invoices.get_visible(session, actor, number, for_update=True)
    session.refresh(invoice)
    if invoice.cert_period != record.period:
        raise Conflict("NOT_CERTIFIED", N_("The invoice is not certified."))
    _refuse_confirmed(record)
    period = invoice.cert_period
    invoice.cert_period = None
    invoice.cert_purpose = None
    invoice.cert_reason = None
    invoice.cert_reason_text = None
    invoice.certified_at = None
    emit(
        session,
        "certification.changed",
        taxpayer_id,
        number,
        {"number": number, "period": period, "purpose": None},
        now,
    )
    content = {"action": "withdraw", "number": number, "period": period, "at": now.isoformat()}
    ledger.record(session, "certification.changed", number, taxpayer_id, content, now)
    session.flush()
    return invoice


@dataclass(frozen=True)
class PeriodSummary:
    period: str
    confirmed_at: datetime | None
    count: int
    deduct_count: int
    deduct_amount: Decimal
    deduct_tax: Decimal


def summary(session: Session, taxpayer_id: int, tax_id: str, period: str) -> PeriodSummary:
    rows = session.execute(
        select(
            Invoice.cert_purpose,
            func.count(),
            # What is deducted is what is left after red invoices (the reversed part is
            # transferred out of input tax).
            type_coerce(func.sum(Invoice.total_amount - Invoice.reversed_amount), Cents()),
            type_coerce(func.sum(Invoice.total_tax - Invoice.reversed_tax), Cents()),
        )
        .where(Invoice.buyer_tax_id == tax_id, Invoice.cert_period == period)
        .group_by(Invoice.cert_purpose)
    ).all()
    count = sum(int(row[1]) for row in rows)
    deduct = next((row for row in rows if row[0] == "deduct"), None)
    record = session.get(CertificationPeriod, (taxpayer_id, period))
    return PeriodSummary(
        period=period,
        confirmed_at=record.confirmed_at if record else None,
        count=count,
        deduct_count=int(deduct[1]) if deduct else 0,
        deduct_amount=Decimal(deduct[2]) if deduct else Decimal("0.00"),
        deduct_tax=Decimal(deduct[3]) if deduct else Decimal("0.00"),
    )


def confirm(session: Session, actor: Actor, period: str, now: datetime) -> PeriodSummary:
    """Confirm and sign the period: its certifications can no longer be withdrawn."""
    taxpayer_id = actor.require_write()
    assert actor.tax_id is not None
    match = rules.PERIOD_RE.match(period)
    if match is None:
        raise invalid("period", "PERIOD_INVALID", N_("A period is written YYYYMM."))
    today = local_date(now)
    if (int(match.group(1)), int(match.group(2))) > (today.year, today.month):
        raise invalid("period", "PERIOD_IN_FUTURE", N_("The period has not begun."))
    record = lock_period(session, taxpayer_id, period)
    _refuse_confirmed(record)
    if summary(session, taxpayer_id, actor.tax_id, period).count == 0:
        raise Conflict(
            "PERIOD_EMPTY",
            N_("Nothing is certified for period {period}; there is nothing to confirm."),
            params={"period": period},
        )
    record.confirmed_at = now
    emit(
        session,
        "certification.changed",
        taxpayer_id,
        period,
        {"period": period, "confirmed": True},
        now,
    )
    content = {"action": "confirm", "period": period, "at": now.isoformat()}
    ledger.record(session, "certification.changed", period, taxpayer_id, content, now)
    session.flush()
    return summary(session, taxpayer_id, actor.tax_id, period)
