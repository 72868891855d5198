"""Lists of a taxpayer's issued or received invoices, by keyset paging: newest first, or
sorted by issue date or total either way (the cursor carries the sort key it was made for)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from fapiao.accounts.service import Actor
from fapiao.crypto import personal
from fapiao.crypto.keyring import keyring_of
from fapiao.invoices.models import Invoice
from fapiao.kit.errors import N_, FieldError, Forbidden, ValidationFailed, invalid


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
    sort: str = "-issue_date"


def make_filter(
    direction: str,
    date_from: date | None,
    date_to: date | None,
    counterparty: str | None,
    status: str | None,
    kind: str | None,
    sort: str,
    limit: int = 50,
    cursor: str | None = None,
) -> ListFilter:
    """The filters of a list or an export (the API's and the web page's alike)."""
    if date_from and date_to and date_from > date_to:
        raise invalid("from", "DATE_RANGE_INVALID", N_("The start date is after the end date."))
    return ListFilter(
        direction, date_from, date_to, counterparty, status, kind, limit, cursor, sort
    )


# sort name -> (column, descending)
SORTS: Final[dict[str, tuple[InstrumentedAttribute[Any], bool]]] = {
    "-issue_date": (Invoice.issue_date, True),
    "issue_date": (Invoice.issue_date, False),
    "-total_with_tax": (Invoice.total_with_tax, True),
    "total_with_tax": (Invoice.total_with_tax, False),
}


def _key_text(invoice: Invoice, sort: str) -> str:
    if sort.endswith("issue_date"):
        return invoice.issue_date.isoformat()
    return str(invoice.total_with_tax)


def encode_cursor(invoice: Invoice, sort: str = "-issue_date") -> str:
    raw = f"{_key_text(invoice, sort)}|{invoice.id}"
    if sort != "-issue_date":  # cursors of the default order keep their original shape
        raw = f"{sort}|{raw}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str = "-issue_date") -> tuple[date | Decimal, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = raw.split("|")
        if len(parts) == 2:
            parts.insert(0, "-issue_date")
        made_for, value, ident = parts
        if made_for != sort:
            raise ValueError("cursor of another sort order")
        number = int(ident)
        if not 0 < number < 2**63:
            raise ValueError("id out of range")
        key: date | Decimal
        if sort.endswith("issue_date"):
            key = date.fromisoformat(value)
        else:
            key = Decimal(value)
            if not key.is_finite():
                raise ValueError("not a number")
        return key, number
    except (ValueError, UnicodeDecodeError, InvalidOperation):
        raise ValidationFailed(
            [FieldError("cursor", "CURSOR_INVALID", N_("The cursor is not valid."))]
        ) from None


def matching(session: Session, actor: Actor, filters: ListFilter) -> Select[Any] | None:
    """The actor's invoices that pass the filters, unordered (None: a user of no taxpayer
    has none). Officers have no books of their own: TAXPAYER_REQUIRED."""
    if actor.taxpayer_id is None or actor.tax_id is None:
        if not actor.is_officer:
            return None
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
    return query


def ordered(query: Select[Any], sort: str) -> Select[Any]:
    column, descending = SORTS[sort]
    if descending:
        return query.order_by(column.desc(), Invoice.id.desc())
    return query.order_by(column.asc(), Invoice.id.asc())


def list_invoices(
    session: Session, actor: Actor, filters: ListFilter
) -> tuple[list[Invoice], str | None]:
    """A page of the actor's issued or received invoices in `filters.sort` order (keyset
    paging; ties broken by id in the same direction)."""
    query = matching(session, actor, filters)
    if query is None:
        return [], None
    column, descending = SORTS[filters.sort]
    if filters.cursor:
        key, ident = decode_cursor(filters.cursor, filters.sort)
        if descending:
            after = or_(column < key, and_(column == key, Invoice.id < ident))
        else:
            after = or_(column > key, and_(column == key, Invoice.id > ident))
        query = query.where(after)
    items: list[Invoice] = list(
        session.scalars(ordered(query, filters.sort).limit(filters.limit + 1))
    )
    next_cursor = None
    if len(items) > filters.limit:
        items = items[: filters.limit]
        next_cursor = encode_cursor(items[-1], filters.sort)
    return items, next_cursor
