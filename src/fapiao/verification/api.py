"""POST /api/v1/verify: public verification, no sign-in."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from fapiao.crypto.personal import shown_buyer_id
from fapiao.http.deps import PlatformDep, ReadAfter
from fapiao.http.openapi import PUBLIC_PROBLEMS, RATE_LIMITED
from fapiao.http.problems import locale_of
from fapiao.http.types import Amount
from fapiao.invoices import rules
from fapiao.invoices.models import Invoice
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.limits.guard import check_verify
from fapiao.verification import service

router = APIRouter(prefix="/api/v1", tags=["verification"], responses=PUBLIC_PROBLEMS)


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(pattern=r"^\d{20}$")
    issue_date: date
    total_with_tax: Amount


class VerifyOut(BaseModel):
    result: Literal["match", "mismatch", "not_found", "limit_exceeded", "out_of_window"]
    check_count: int
    checks_left: int | None
    message: str
    invoice: dict[str, Any] | None = None


MESSAGES = {
    "match": N_("The invoice exists and its data match."),
    "mismatch": N_(
        "An invoice with this number exists, but the issue date or the total does not match. "
        "Enter the total including tax (价税合计), not the amount before tax."
    ),
    "not_found": N_("No invoice with this number has been issued on the platform."),
    "limit_exceeded": N_(
        "This invoice has been checked {limit} times today; try again after midnight, Beijing time."
    ),
    "out_of_window": N_(
        "Only invoices issued within the last {years} years, and not in the future, can be "
        "verified."
    ),
}


def public_view(invoice: Invoice) -> dict[str, Any]:
    """What verification shows: the printed content, without bank or contact details."""
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "medium": invoice.medium,
        "issue_date": invoice.issue_date.isoformat(),
        "seller": {"tax_id": invoice.seller_tax_id, "name": invoice.seller_name},
        "buyer": {"tax_id": shown_buyer_id(invoice), "name": invoice.buyer_name},
        "lines": [
            {
                "display_name": rules.display_name(line.short_name, line.name),
                "spec": line.spec,
                "unit": line.unit,
                "quantity": None if line.quantity is None else f"{line.quantity:f}",
                "amount": f"{line.amount:.2f}",
                "tax_rate": line.tax_rate,
                "tax": f"{line.tax:.2f}",
            }
            for line in invoice.lines
        ],
        "total_amount": f"{invoice.total_amount:.2f}",
        "total_tax": f"{invoice.total_tax:.2f}",
        "total_with_tax": f"{invoice.total_with_tax:.2f}",
        "total_in_words": invoice.total_in_words,
        "status": invoice.status,
        "red_of": invoice.red_of,
    }


@router.post("/verify", response_model=VerifyOut, responses=RATE_LIMITED)
def verify(
    body: VerifyIn, platform: PlatformDep, request: Request, after: ReadAfter
) -> dict[str, Any]:
    """Check an invoice by number, issue date and total including tax (价税合计).

    The invoice is read from a replica when there are any; "no such invoice" is only
    ever said by the primary, so a replica that has not caught up never denies an
    issued invoice. The check is counted on the primary. Requests are limited per
    address (429 with Retry-After)."""
    check_verify(platform, request)
    settings = platform.settings
    now = platform.clock.now()
    found = platform.database.read(
        lambda session: service.find(session, body.number, public_view),
        after=after,
        recheck=lambda found: found is None,
    )

    def count_check() -> int | None:
        with platform.database.transaction() as session:
            return service.count_check(session, body.number, now, settings.verify_daily_limit)

    outcome = service.verify(
        found,
        count_check,
        body.issue_date,
        body.total_with_tax,
        now,
        daily_limit=settings.verify_daily_limit,
        window_years=settings.verify_window_years,
    )
    counted = outcome.result in ("match", "mismatch", "limit_exceeded")
    message = translate(
        MESSAGES[outcome.result],
        locale_of(request),
        limit=settings.verify_daily_limit,
        years=settings.verify_window_years,
    )
    return {
        "result": outcome.result,
        "check_count": outcome.check_count,
        "checks_left": settings.verify_daily_limit - outcome.check_count if counted else None,
        "message": message,
        "invoice": outcome.view,
    }
