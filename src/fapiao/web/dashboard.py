"""What the dashboard shows: this month's figures of the caller's taxpayer, or of the
whole platform for an officer. Reads only; amounts are Decimal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fapiao.accounts.models import User
from fapiao.accounts.service import Actor
from fapiao.invoices.credit import credit_used
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import month_key
from fapiao.taxpayers.models import Taxpayer

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Totals:
    count: int
    amount: Decimal  # with tax; red invoices count with their negative amounts


@dataclass(frozen=True)
class Credit:
    limit: Decimal
    used: Decimal

    @property
    def percent(self) -> Decimal:
        """Share of the limit used, 0.0 to 100.0, to one place (a bar never runs past its
        end; a small use still shows as more than nothing)."""
        if self.limit <= 0:
            return Decimal(100 if self.used > 0 else 0)
        share = (self.used * 100 / self.limit).quantize(Decimal("0.1"), ROUND_UP)
        return max(Decimal(0), min(Decimal(100), share))


@dataclass(frozen=True)
class TaxpayerFigures:
    taxpayer_name: str
    tax_id: str
    month: str
    issued: Totals
    received: Totals
    credit: Credit


@dataclass(frozen=True)
class PlatformFigures:
    month: str
    taxpayers: int
    users: int
    issued: Totals


def month_bounds(today: date) -> tuple[date, date]:
    """The first day of `today`'s month and of the next one."""
    start = today.replace(day=1)
    following = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, following


def _totals(session: Session, *conditions: object) -> Totals:
    # The sum keeps the column's type (Cents), so it comes back as Decimal, or None
    # when no invoice matched.
    count, amount = session.execute(
        select(func.count(Invoice.id), func.sum(Invoice.total_with_tax)).where(
            *conditions  # type: ignore[arg-type]
        )
    ).one()
    return Totals(int(count), amount if amount is not None else ZERO)


def taxpayer_figures(session: Session, actor: Actor, today: date) -> TaxpayerFigures:
    assert actor.taxpayer_id is not None and actor.tax_id is not None
    start, end = month_bounds(today)
    taxpayer = session.get(Taxpayer, actor.taxpayer_id)
    assert taxpayer is not None
    in_month = (Invoice.issue_date >= start, Invoice.issue_date < end)
    issued = _totals(session, Invoice.seller_id == actor.taxpayer_id, *in_month)
    received = _totals(session, Invoice.buyer_tax_id == actor.tax_id, *in_month)
    month = month_key(today)
    return TaxpayerFigures(
        taxpayer_name=taxpayer.name,
        tax_id=taxpayer.tax_id,
        month=month,
        issued=issued,
        received=received,
        credit=Credit(taxpayer.credit_limit, credit_used(session, taxpayer.id, month)),
    )


def platform_figures(session: Session, today: date) -> PlatformFigures:
    start, end = month_bounds(today)
    return PlatformFigures(
        month=month_key(today),
        taxpayers=int(session.scalar(select(func.count(Taxpayer.id))) or 0),
        users=int(session.scalar(select(func.count(User.id))) or 0),
        issued=_totals(session, Invoice.issue_date >= start, Invoice.issue_date < end),
    )
