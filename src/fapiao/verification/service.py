"""Public verification (查验, domain.md §9): anyone, five checks per invoice per day,
invoices of the last five years."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fapiao.dbsql import insert_ignore
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import local_date
from fapiao.verification.models import VerificationCount


@dataclass(frozen=True)
class Found:
    """What verification needs of an invoice, read wherever it is served from."""

    issue_date: date
    total_with_tax: Decimal
    view: dict[str, Any]


@dataclass(frozen=True)
class Verification:
    result: str  # match | mismatch | not_found | limit_exceeded | out_of_window
    check_count: int
    view: dict[str, Any] | None = None


def window_start(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def in_window(day: date, now: datetime, years: int) -> bool:
    today = local_date(now)
    return window_start(today, years) <= day <= today


def find(
    session: Session, number: str, render: Callable[[Invoice], dict[str, Any]]
) -> Found | None:
    """The invoice `number` as verification shows it (`render`), or None."""
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        return None
    return Found(invoice.issue_date, invoice.total_with_tax, render(invoice))


def verify(
    found: Found | None,
    count_check: Callable[[], int | None],
    issue_date: date,
    total_with_tax: Decimal,
    now: datetime,
    *,
    daily_limit: int,
    window_years: int,
) -> Verification:
    """The answer to one check. `count_check` counts it against today's limit (a write
    on the primary; None when the limit is reached); it runs only for an invoice that
    exists and is in the window."""
    if not in_window(issue_date, now, window_years):
        return Verification("out_of_window", 0)
    if found is None:
        return Verification("not_found", 0)
    if not in_window(found.issue_date, now, window_years):
        return Verification("out_of_window", 0)
    # Every check of an existing number counts, matched or not, so the limit also stops
    # guessing of totals.
    count = count_check()
    if count is None:
        return Verification("limit_exceeded", daily_limit)
    if found.issue_date != issue_date or found.total_with_tax != total_with_tax:
        return Verification("mismatch", count)
    return Verification("match", count, found.view)


def count_check(session: Session, number: str, now: datetime, daily_limit: int) -> int | None:
    """Count one check of `number` today; None (and nothing counted) at the limit."""
    today = local_date(now)
    session.execute(
        insert_ignore(
            session, VerificationCount, {"invoice_number": number, "day": today, "count": 0}
        )
    )
    return session.execute(
        update(VerificationCount)
        .where(
            VerificationCount.invoice_number == number,
            VerificationCount.day == today,
            VerificationCount.count < daily_limit,
        )
        .values(count=VerificationCount.count + 1)
        .returning(VerificationCount.count)
    ).scalar_one_or_none()


def checks_today(session: Session, number: str, now: datetime) -> int:
    count = session.scalar(
        select(VerificationCount.count).where(
            VerificationCount.invoice_number == number, VerificationCount.day == local_date(now)
        )
    )
    return int(count or 0)
