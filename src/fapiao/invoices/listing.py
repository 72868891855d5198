"""Lists of a taxpayer's issued or received invoices, newest first, by keyset paging."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.crypto import personal
from fapiao.crypto.keyring import keyring_of
from fapiao.invoices.models import Invoice
from fapiao.kit.errors import N_, FieldError, Forbidden, ValidationFailed


@dataclass(frozen=True)
class ListFilter:
    direction: str = "issued"
    date_from: date | None = None
    date_to: date | None = None
    counterparty: str | None = None
    status: str | None = None
    kind: str | None = None
    limit: int = 50
    cursor: str | None = None


def encode_cursor(invoice: Invoice) -> str:
    raw = f"{invoice.issue_date.isoformat()}|{invoice.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, _, ident = raw.partition("|")
        number = int(ident)
        if not 0 < number < 2**63:
            raise ValueError("id out of range")
        return date.fromisoformat(day), number
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            [FieldError("cursor", "CURSOR_INVALID", N_("The cursor is not valid."))]
        ) from None


def list_invoices(
    session: Session, actor: Actor, filters: ListFilter
) -> tuple[list[Invoice], str | None]:
    """A page of the actor's issued or received invoices, newest first (keyset paging)."""
    if actor.taxpayer_id is None or actor.tax_id is None:
        if not actor.is_officer:
            return [], None
        raise Forbidden(
            "TAXPAYER_REQUIRED",
            N_("Only users of a taxpayer can do this; officers look up invoices by number."),
        )
    query = select(Invoice)
    if filters.direction == "received":
        query = query.where(Invoice.buyer_tax_id == actor.tax_id)
        if filters.counterparty:
            query = query.where(Invoice.seller_tax_id == filters.counterparty)
    else:
        query = query.where(Invoice.seller_id == actor.taxpayer_id)
        if filters.counterparty:
            # A natural person is stored under the blind index of the ID number.
            keyring = keyring_of(session.get_bind().dialect)
            query = query.where(
                Invoice.buyer_tax_id.in_(personal.lookup_ids(filters.counterparty, keyring))
            )
    if filters.date_from:
        query = query.where(Invoice.issue_date >= filters.date_from)
    if filters.date_to:
        query = query.where(Invoice.issue_date <= filters.date_to)
    if filters.status:
        query = query.where(Invoice.status == filters.status)
    if filters.kind:
        query = query.where(Invoice.kind == filters.kind)
    if filters.cursor:
        day, ident = decode_cursor(filters.cursor)
        query = query.where(
            or_(Invoice.issue_date < day, and_(Invoice.issue_date == day, Invoice.id < ident))
        )
    query = query.order_by(Invoice.issue_date.desc(), Invoice.id.desc()).limit(filters.limit + 1)
    items = list(session.scalars(query))
    next_cursor = None
    if len(items) > filters.limit:
        items = items[: filters.limit]
        next_cursor = encode_cursor(items[-1])
    return items, next_cursor
