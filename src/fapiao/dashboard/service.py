"""What a dashboard shows: for a taxpayer's users their month at a glance, for officers the
platform's. Plain values, computed from the same tables as everything else (no copies)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.certification.models import CertificationPeriod
from fapiao.invoices.credit import credit_used
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date, month_key
from fapiao.outbox.models import OutboxEvent
from fapiao.redletter import listing as forms
from fapiao.redletter.models import RedLetterForm
from fapiao.redletter.rules import PENDING
from fapiao.taxpayers.models import Taxpayer
from fapiao.webhooks.models import Delivery, Webhook

DAYS = 30  # the issuance chart's span
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Day:
    day: date
    count: int
    amount: Decimal  # total with tax


@dataclass(frozen=True)
class WaitingForm:
    id: int
    blue_number: str
    state: str
    amount: Decimal
    deadline: datetime
    hours_left: float


@dataclass(frozen=True)
class FailedDelivery:
    id: int
    webhook_id: int
    event_type: str
    subject: str
    attempts: int
    last_error: str
    created_at: datetime


@dataclass(frozen=True)
class TaxpayerSummary:
    month: str
    issued_count: int
    issued_total: Decimal
    received_count: int
    received_total: Decimal
    credit_limit: Decimal
    credit_used: Decimal
    days: list[Day]
    waiting: list[WaitingForm]
    period: str
    period_confirmed: bool
    certified_count: int
    certifiable_count: int  # received special invoices of the period not yet ticked
    failed_deliveries: list[FailedDelivery] = field(default_factory=list)

    @property
    def credit_remaining(self) -> Decimal:
        return self.credit_limit - self.credit_used

    @property
    def credit_share(self) -> float:
        if self.credit_limit <= 0:
            return 1.0 if self.credit_used > 0 else 0.0
        return min(1.0, float(self.credit_used / self.credit_limit))


@dataclass(frozen=True)
class PlatformSummary:
    month: str
    taxpayers: int
    issued_today: int
    issued_month: int
    total_month: Decimal
    days: list[Day]
    outbox_backlog: int
    dead_deliveries: int
    pending_forms: int


def _month_start(today: date) -> date:
    return today.replace(day=1)


def _days(session: Session, today: date, *conditions: ColumnElement[bool]) -> list[Day]:
    start = today - timedelta(days=DAYS - 1)
    rows = session.execute(
        select(Invoice.issue_date, func.count(), func.sum(Invoice.total_with_tax))
        .where(Invoice.issue_date >= start, Invoice.issue_date <= today, *conditions)
        .group_by(Invoice.issue_date)
    ).all()
    found = {row[0]: (int(row[1]), Decimal(row[2] or 0)) for row in rows}
    return [
        Day(day, *found.get(day, (0, ZERO)))
        for day in (start + timedelta(days=offset) for offset in range(DAYS))
    ]


def _totals(session: Session, *conditions: ColumnElement[bool]) -> tuple[int, Decimal]:
    count, total = session.execute(
        select(func.count(), func.sum(Invoice.total_with_tax)).where(*conditions)
    ).one()
    return int(count), Decimal(total or 0).quantize(ZERO)


def taxpayer_summary(session: Session, actor: Actor, now: datetime) -> TaxpayerSummary:
    """The month so far for the actor's taxpayer (actor must belong to one)."""
    assert actor.taxpayer_id is not None and actor.tax_id is not None
    today = local_date(now)
    month = month_key(today)
    first = _month_start(today)
    taxpayer = session.get(Taxpayer, actor.taxpayer_id)
    assert taxpayer is not None
    issued = _totals(session, Invoice.seller_id == actor.taxpayer_id, Invoice.issue_date >= first)
    received = _totals(session, Invoice.buyer_tax_id == actor.tax_id, Invoice.issue_date >= first)
    waiting = [
        WaitingForm(
            form.id,
            form.blue_number,
            form.state,
            form.amount,
            form.deadline,
            max(0.0, (form.deadline - now).total_seconds() / 3600),
        )
        for form in forms.list_forms(session, actor, "to_confirm", None, limit=20, before=None)
        if form.deadline > now
    ]
    certified = session.scalar(
        select(func.count()).where(
            Invoice.buyer_tax_id == actor.tax_id, Invoice.cert_period == month
        )
    )
    certifiable = session.scalar(
        select(func.count()).where(
            Invoice.buyer_tax_id == actor.tax_id,
            Invoice.kind == "special",
            Invoice.is_red.is_(False),
            Invoice.status.in_(("normal", "partially_reversed")),
            Invoice.cert_period.is_(None),
        )
    )
    period_row = session.get(CertificationPeriod, (actor.taxpayer_id, month))
    failed = [
        FailedDelivery(
            row.id,
            row.webhook_id,
            row.event_type,
            row.subject,
            row.attempts,
            row.last_error or "",
            row.created_at,
        )
        for row in session.scalars(
            select(Delivery)
            .join(Webhook, Webhook.id == Delivery.webhook_id)
            .where(
                Webhook.taxpayer_id == actor.taxpayer_id,
                or_(
                    Delivery.status == "dead",
                    (Delivery.status == "pending") & (Delivery.attempts > 0),
                ),
            )
            .order_by(Delivery.id.desc())
            .limit(5)
        )
    ]
    return TaxpayerSummary(
        month=month,
        issued_count=issued[0],
        issued_total=issued[1],
        received_count=received[0],
        received_total=received[1],
        credit_limit=taxpayer.credit_limit,
        credit_used=credit_used(session, taxpayer.id, month),
        days=_days(session, today, Invoice.seller_id == actor.taxpayer_id),
        waiting=waiting,
        period=month,
        period_confirmed=period_row is not None and period_row.confirmed_at is not None,
        certified_count=int(certified or 0),
        certifiable_count=int(certifiable or 0),
        failed_deliveries=failed,
    )


def platform_summary(session: Session, now: datetime) -> PlatformSummary:
    """The whole platform's volume and backlog, for officers."""
    today = local_date(now)
    month_count, month_total = _totals(session, Invoice.issue_date >= _month_start(today))
    today_count, _ = _totals(session, Invoice.issue_date == today)
    return PlatformSummary(
        month=month_key(today),
        taxpayers=int(session.scalar(select(func.count()).select_from(Taxpayer)) or 0),
        issued_today=today_count,
        issued_month=month_count,
        total_month=month_total,
        days=_days(session, today),
        outbox_backlog=int(
            session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.status == "pending")
            )
            or 0
        ),
        dead_deliveries=int(
            session.scalar(select(func.count()).where(Delivery.status == "dead")) or 0
        ),
        pending_forms=int(
            session.scalar(select(func.count()).where(RedLetterForm.state.in_(PENDING))) or 0
        ),
    )
