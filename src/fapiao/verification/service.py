"""Public verification (查验, domain.md §9): anyone, five checks per invoice per day,
invoices of the last five years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fapiao.dbsql import insert_ignore
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date
from fapiao.verification.models import VerificationCount


@dataclass(frozen=True)
class Verification:
    result: str  # match | mismatch | not_found | limit_exceeded | out_of_window
    check_count: int
    invoice: Invoice | None = None


def window_start(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def verify(
    session: Session,
    number: str,
    issue_date: date,
    total_with_tax: Decimal,
    now: datetime,
    *,
    daily_limit: int,
    window_years: int,
) -> Verification:
    today = local_date(now)
    if issue_date < window_start(today, window_years) or issue_date > today:
        return Verification("out_of_window", 0)
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        return Verification("not_found", 0)
    if invoice.issue_date < window_start(today, window_years):
        return Verification("out_of_window", 0)
    # Every check of an existing number counts, matched or not, so the limit also stops
    # guessing of totals.
    session.execute(
        insert_ignore(
            session, VerificationCount, {"invoice_number": number, "day": today, "count": 0}
        )
    )
    count = session.execute(
        update(VerificationCount)
        .where(
            VerificationCount.invoice_number == number,
            VerificationCount.day == today,
            VerificationCount.count < daily_limit,
        )
        .values(count=VerificationCount.count + 1)
        .returning(VerificationCount.count)
    ).scalar_one_or_none()
    if count is None:
        return Verification("limit_exceeded", daily_limit)
    if invoice.issue_date != issue_date or invoice.total_with_tax != total_with_tax:
        return Verification("mismatch", count)
    return Verification("match", count, invoice)


def checks_today(session: Session, number: str, now: datetime) -> int:
    count = session.scalar(
        select(VerificationCount.count).where(
            VerificationCount.invoice_number == number, VerificationCount.day == local_date(now)
        )
    )
    return int(count or 0)
