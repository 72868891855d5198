"""GET /api/v1/taxpayers/me: the caller's taxpayer and this month's credit."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.roles import OwnBooks
from fapiao.invoices.credit import credit_used
from fapiao.kit.clock import local_date, month_key
from fapiao.taxpayers.models import Taxpayer

router = APIRouter(prefix="/api/v1", tags=["taxpayers"], responses=PROBLEMS)


class TaxpayerOut(BaseModel):
    tax_id: str
    name: str
    kind: str
    credit_limit: str
    credit_month: str
    credit_used: str
    credit_remaining: str


@router.get("/taxpayers/me", response_model=TaxpayerOut)
def current_taxpayer(platform: PlatformDep, actor: OwnBooks) -> TaxpayerOut:
    """The caller's taxpayer with this month's credit limit, use and remainder."""
    assert actor.taxpayer_id is not None  # OWN_BOOKS roles belong to a taxpayer
    month = month_key(local_date(platform.clock.now()))
    with platform.database.transaction(write=False) as session:
        taxpayer = session.get(Taxpayer, actor.taxpayer_id)
        assert taxpayer is not None
        used = credit_used(session, taxpayer.id, month)
        return TaxpayerOut(
            tax_id=taxpayer.tax_id,
            name=taxpayer.name,
            kind=taxpayer.kind,
            credit_limit=f"{taxpayer.credit_limit:.2f}",
            credit_month=month,
            credit_used=f"{used:.2f}",
            credit_remaining=f"{taxpayer.credit_limit - used:.2f}",
        )
