"""Officers' management of taxpayers: search, and changes to a registered taxpayer."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fapiao.kit.errors import N_, NotFound, invalid
from fapiao.taxpayers.models import Taxpayer

# Longest value of each contact field (the column sizes).
CONTACT_LIMITS = {"address": 200, "phone": 40, "bank": 200, "account": 60}


def taxpayer_not_found() -> NotFound:
    return NotFound("TAXPAYER_NOT_FOUND", N_("No taxpayer has this tax ID."))


def get(session: Session, tax_id: str) -> Taxpayer:
    taxpayer = session.scalar(select(Taxpayer).where(Taxpayer.tax_id == tax_id))
    if taxpayer is None:
        raise taxpayer_not_found()
    return taxpayer


def search(
    session: Session, text: str | None, limit: int, offset: int
) -> tuple[list[Taxpayer], int]:
    """Taxpayers whose tax ID starts with, or whose name contains, `text`; by tax ID."""
    query = select(Taxpayer)
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(
                Taxpayer.tax_id.like(f"{escaped.upper()}%", escape="\\"),
                Taxpayer.name.like(f"%{escaped}%", escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(Taxpayer.tax_id).limit(limit).offset(offset))
    return list(items), total


def check_contact(field: str, value: str) -> None:
    if len(value) > CONTACT_LIMITS[field]:
        raise invalid(
            field,
            "TOO_LONG",
            N_("At most {max} characters."),
            max=CONTACT_LIMITS[field],
        )


def update(
    session: Session,
    tax_id: str,
    *,
    name: str | None = None,
    credit_limit: Decimal | None = None,
    active: bool | None = None,
    contact: dict[str, str] | None = None,
) -> Taxpayer:
    """Change what an officer may change; fields left None stay as they are."""
    taxpayer = get(session, tax_id)
    if name is not None:
        if not name.strip() or len(name) > 200:
            raise invalid("name", "NAME_INVALID", N_("A name has 1 to 200 characters."))
        taxpayer.name = name
    if credit_limit is not None:
        if credit_limit < 0:
            raise invalid(
                "credit_limit",
                "CREDIT_LIMIT_INVALID",
                N_("The credit limit must be a non-negative amount."),
            )
        taxpayer.credit_limit = credit_limit
    for field, value in (contact or {}).items():
        check_contact(field, value)
        setattr(taxpayer, field, value)
    if active is not None:
        taxpayer.is_active = active
    session.flush()
    return taxpayer
