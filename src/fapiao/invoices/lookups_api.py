"""Look-ups that help fill in an invoice: tax classification codes by word or digits, and
the buyers the caller's taxpayer invoiced recently."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import Account, OwnBooks
from fapiao.invoices import recent
from fapiao.kit import taxcodes

router = APIRouter(prefix="/api/v1", tags=["invoices"], responses=PROBLEMS)


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
    return JSONResponse(
        platform.database.read(
            lambda session: recent.recent_buyers(session, actor.taxpayer_id, q, limit)
        )
    )
