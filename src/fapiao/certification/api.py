"""Certification of received special invoices (勾选) and period confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from fapiao.certification import service
from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import Issuer, OwnBooks
from fapiao.http.types import Text
from fapiao.invoices.api import NumberPath
from fapiao.invoices.schemas import InvoiceOut, invoice_view

router = APIRouter(prefix="/api/v1", tags=["certification"], responses=PROBLEMS)
PeriodPath = Annotated[str, Path(pattern=r"^\d{6}$", description="Tax period YYYYMM")]


class CertifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=r"^\d{6}$")
    purpose: Literal["deduct", "no_deduct"]
    reason: Literal["1", "2", "3", "4", "5"] | None = None
    reason_text: Text | None = Field(default=None, max_length=200)


class PeriodOut(BaseModel):
    period: str
    confirmed: bool
    confirmed_at: datetime | None
    certified_count: int
    deduct_count: int
    deduct_amount: str
    deduct_tax: str


def period_view(summary: service.PeriodSummary) -> dict[str, Any]:
    return {
        "period": summary.period,
        "confirmed": summary.confirmed_at is not None,
        "confirmed_at": summary.confirmed_at,
        "certified_count": summary.count,
        "deduct_count": summary.deduct_count,
        "deduct_amount": f"{summary.deduct_amount:.2f}",
        "deduct_tax": f"{summary.deduct_tax:.2f}",
    }


@router.post("/invoices/{number}/certify", response_model=InvoiceOut)
def certify(
    number: NumberPath, body: CertifyIn, platform: PlatformDep, actor: Issuer
) -> JSONResponse:
    """Tick a received special invoice for a period, to deduct or not."""
    with platform.database.transaction() as session:
        invoice = service.certify(
            session,
            actor,
            number,
            period=body.period,
            purpose=body.purpose,
            reason=body.reason,
            reason_text=body.reason_text,
            now=platform.clock.now(),
        )
        return JSONResponse(invoice_view(invoice))


@router.delete("/invoices/{number}/certify", response_model=InvoiceOut)
def withdraw(number: NumberPath, platform: PlatformDep, actor: Issuer) -> JSONResponse:
    """Withdraw a tick while its period is not confirmed."""
    with platform.database.transaction() as session:
        invoice = service.withdraw(session, actor, number, platform.clock.now())
        return JSONResponse(invoice_view(invoice))


@router.post("/certification-periods/{period}/confirm", response_model=PeriodOut)
def confirm(period: PeriodPath, platform: PlatformDep, actor: Issuer) -> dict[str, Any]:
    """Confirm and sign the period."""
    with platform.database.transaction() as session:
        return period_view(service.confirm(session, actor, period, platform.clock.now()))


@router.get("/certification-periods/{period}", response_model=PeriodOut)
def get_period(period: PeriodPath, platform: PlatformDep, actor: OwnBooks) -> dict[str, Any]:
    """What is certified in a period, and whether it is confirmed."""
    assert actor.taxpayer_id is not None and actor.tax_id is not None  # OWN_BOOKS roles
    with platform.database.transaction(write=False) as session:
        return period_view(service.summary(session, actor.taxpayer_id, actor.tax_id, period))
