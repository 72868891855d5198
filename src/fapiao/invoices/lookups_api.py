"""Look-ups that help fill in an invoice: tax classification codes by word or digits, and
the buyers the caller's taxpayer invoiced recently."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import Account, OwnBooks
from fapiao.invoices.models import Invoice
from fapiao.kit import taxcodes

router = APIRouter(prefix="/api/v1", tags=["invoices"], responses=PROBLEMS)
RECENT_SCAN = 500  # how many of the latest invoices recent buyers are taken from


class TaxCodeOut(BaseModel):
    code: str
    short_name: str
    description: str


class BuyerOut(BaseModel):
    tax_id: str
    name: str
    address: str
    phone: str
    bank: str
    account: str
    last_invoiced: str


@router.get("/tax-codes", response_model=list[TaxCodeOut])
def search_tax_codes(
    actor: Account,
    q: Annotated[str, Query(min_length=1, max_length=40, description="digits or words")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> JSONResponse:
    """Tax classification codes (税收分类编码) of the shipped table whose code, short name or
    description contains `q`, best matches first."""
    found = taxcodes.search(q, limit)
    return JSONResponse(
        [
            {"code": item.code, "short_name": item.short_name, "description": item.description}
            for item in found
        ]
    )


@router.get("/buyers/recent", response_model=list[BuyerOut])
def recent_buyers(
    platform: PlatformDep,
    actor: OwnBooks,
    q: Annotated[str, Query(max_length=100, description="part of the name or tax ID")] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> JSONResponse:
    """Buyers (with a taxpayer ID; natural persons are not offered) of the caller's most
    recent invoices, latest first, optionally those whose name or tax ID contains `q`."""
    needle = q.strip().casefold()

    def work(session: Session) -> list[dict[str, Any]]:
        if actor.taxpayer_id is None:
            return []
        query = (
            select(Invoice)
            .where(
                Invoice.seller_id == actor.taxpayer_id,
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
            if (
                needle
                and needle not in tax_id.casefold()
                and needle not in (invoice.buyer_name.casefold())
            ):
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

    return JSONResponse(platform.database.read(work))
