"""The buyers a taxpayer invoiced recently, for filling in the next invoice (the API's
GET /buyers/recent and the web issuing form share it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.invoices.models import Invoice

RECENT_SCAN = 500  # how many of the latest invoices recent buyers are taken from


def recent_buyers(
    session: Session, seller_id: int | None, q: str = "", limit: int = 10
) -> list[dict[str, Any]]:
    """Buyers (with a taxpayer ID; natural persons are not offered) of the seller's most
    recent invoices, latest first, optionally those whose name or tax ID contains `q`."""
    if seller_id is None:
        return []
    needle = q.strip().casefold()
    query = (
        select(Invoice)
        .where(
            Invoice.seller_id == seller_id,
            Invoice.is_red.is_(False),
            Invoice.buyer_natural_person.is_(False),
            Invoice.buyer_tax_id.is_not(None),
        )
        .order_by(Invoice.id.desc())
        .limit(RECENT_SCAN)
    )
    seen: dict[str, dict[str, Any]] = {}
    for invoice in session.scalars(query):
        tax_id = invoice.buyer_tax_id or ""
        if tax_id in seen:
            continue
        name = invoice.buyer_name.casefold()
        if needle and needle not in tax_id.casefold() and needle not in name:
            continue
        seen[tax_id] = {
            "tax_id": tax_id,
            "name": invoice.buyer_name,
            "address": invoice.buyer_address,
            "phone": invoice.buyer_phone,
            "bank": invoice.buyer_bank,
            "account": invoice.buyer_account,
            "last_invoiced": invoice.issue_date.isoformat(),
        }
        if len(seen) >= limit:
            break
    return list(seen.values())
