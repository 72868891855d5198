"""The monthly credit limit (授信额度, domain.md §5): charged atomically, never passed."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from fapiao.dbsql import insert_ignore
from fapiao.invoices.models import CreditUsage
from fapiao.kit.errors import N_, Conflict


class Seller(Protocol):
    """What issuing needs of the seller: a Taxpayer, or a row of its columns."""

    id: int
    tax_id: str
    name: str
    address: str
    phone: str
    bank: str
    account: str
    credit_limit: Decimal


# Built once: SQLAlchemy caches the compiled form.
CHARGE_CREDIT = (
    update(CreditUsage)
    .where(
        CreditUsage.taxpayer_id == bindparam("taxpayer"),
        CreditUsage.month == bindparam("b_month"),
        CreditUsage.used_cents + bindparam("cents") <= bindparam("limit"),
    )
    .values(used_cents=CreditUsage.used_cents + bindparam("cents"))
    .returning(CreditUsage.used_cents)
)


def consume_credit(session: Session, seller: Seller, month: str, amount: Decimal) -> None:
    """Add `amount` to the month's credit use, atomically refusing to pass the limit."""
    cents = int(amount.scaleb(2))
    limit_cents = int(seller.credit_limit.scaleb(2))
    values = {"taxpayer": seller.id, "b_month": month, "cents": cents, "limit": limit_cents}
    result = session.connection().execute(CHARGE_CREDIT, values).scalar_one_or_none()
    if result is None:
        # The month's first invoice (or a refusal): make sure the row exists, try again.
        session.execute(
            insert_ignore(
                session, CreditUsage, {"taxpayer_id": seller.id, "month": month, "used_cents": 0}
            )
        )
        result = session.connection().execute(CHARGE_CREDIT, values).scalar_one_or_none()
    if result is None:
        used = session.scalar(
            select(CreditUsage.used_cents).where(
                CreditUsage.taxpayer_id == seller.id, CreditUsage.month == month
            )
        )
        raise credit_exceeded(limit_cents, int(used or 0))


def credit_exceeded(limit_cents: int, used_cents: int) -> Conflict:
    remaining = Decimal(limit_cents - used_cents).scaleb(-2)
    return Conflict(
        "CREDIT_LIMIT_EXCEEDED",
        N_("This invoice would exceed the monthly credit limit; {remaining} is left this month."),
        params={"remaining": f"{remaining:.2f}"},
    )


def release_credit(session: Session, taxpayer_id: int, month: str, amount: Decimal) -> None:
    """Give credit back (a void, or a red invoice within the blue invoice's month)."""
    cents = int(amount.scaleb(2))
    session.execute(
        update(CreditUsage)
        .where(CreditUsage.taxpayer_id == taxpayer_id, CreditUsage.month == month)
        .values(used_cents=CreditUsage.used_cents - cents)
    )


def credit_used(session: Session, taxpayer_id: int, month: str) -> Decimal:
    used = session.scalar(
        select(CreditUsage.used_cents).where(
            CreditUsage.taxpayer_id == taxpayer_id, CreditUsage.month == month
        )
    )
    return Decimal(int(used or 0)).scaleb(-2)
