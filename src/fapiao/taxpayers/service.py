"""Registering taxpayers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.kit.errors import N_, Conflict, invalid
from fapiao.kit.taxid import describe_uscc_error
from fapiao.taxpayers.models import Taxpayer

KINDS = ("general", "small_scale")


def add_taxpayer(
    session: Session,
    *,
    tax_id: str,
    name: str,
    kind: str,
    credit_limit: Decimal,
    now: datetime,
    address: str = "",
    phone: str = "",
    bank: str = "",
    account: str = "",
) -> Taxpayer:
    """A new taxpayer, identified by a valid unified social credit code."""
    problem = describe_uscc_error(tax_id)
    if problem is not None:
        raise invalid(
            "tax_id",
            f"USCC_{problem}",
            N_("{value} is not a valid unified social credit code."),
            value=tax_id,
        )
    if not name.strip() or len(name) > 200:
        raise invalid("name", "NAME_INVALID", N_("A name has 1 to 200 characters."))
    if kind not in KINDS:
        raise invalid("kind", "KIND_UNKNOWN", N_("Kind must be general or small_scale."))
    if credit_limit < 0 or credit_limit != credit_limit.quantize(Decimal("0.01")):
        raise invalid(
            "credit_limit",
            "CREDIT_LIMIT_INVALID",
            N_("The credit limit must be a non-negative amount."),
        )
    if session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == tax_id)) is not None:
        raise Conflict("TAXPAYER_EXISTS", N_("A taxpayer with this tax ID exists."))
    taxpayer = Taxpayer(
        tax_id=tax_id,
        name=name,
        kind=kind,
        credit_limit=credit_limit,
        address=address,
        phone=phone,
        bank=bank,
        account=account,
        created_at=now,
    )
    session.add(taxpayer)
    session.flush()
    return taxpayer


def by_tax_id(session: Session, tax_id: str) -> Taxpayer | None:
    return session.scalar(select(Taxpayer).where(Taxpayer.tax_id == tax_id))
