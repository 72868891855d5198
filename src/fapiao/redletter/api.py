"""Red-letter confirmation forms."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.roles import Issuer, OwnBooks, Reader
from fapiao.http.types import PositiveAmount, Quantity
from fapiao.redletter import listing, rules, service
from fapiao.redletter.models import RedLetterForm

router = APIRouter(prefix="/api/v1", tags=["red-letter"], responses=PROBLEMS)


class FormLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: int = Field(ge=1, le=100000)
    quantity: Quantity | None = None
    amount: PositiveAmount


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    blue_number: str = Field(pattern=r"^\d{20}$")
    reason: Literal["01", "02", "03", "04"]
    lines: list[FormLineIn] | None = Field(default=None, min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["Y", "N", "C"]


class FormLineOut(BaseModel):
    line_no: int
    amount: str
    tax: str
    quantity: str | None


class FormOut(BaseModel):
    id: int
    blue_number: str
    state: str
    initiator: Literal["seller", "buyer"]
    reason: str
    amount: str
    tax: str
    lines: list[FormLineOut]
    created_at: datetime
    deadline: datetime
    decided_at: datetime | None
    red_invoice_number: str | None


def form_view(form: RedLetterForm) -> dict[str, Any]:
    return {
        "id": form.id,
        "blue_number": form.blue_number,
        "state": form.state,
        "initiator": form.initiator,
        "reason": form.reason,
        "amount": f"{form.amount:.2f}",
        "tax": f"{form.tax:.2f}",
        "lines": json.loads(form.lines_json),
        "created_at": form.created_at,
        "deadline": form.deadline,
        "decided_at": form.decided_at,
        "red_invoice_number": form.red_invoice_number,
    }


@router.post("/red-letter-forms", status_code=201, response_model=FormOut)
def create_form(body: FormIn, platform: PlatformDep, actor: Issuer) -> dict[str, Any]:
    """File a form; without need for confirmation (state 01) the red invoice is issued now."""
    requested = None
    if body.lines is not None:
        requested = [(line.line_no, line.amount, line.quantity) for line in body.lines]
    form = service.create_form(platform, actor, body.blue_number, body.reason, requested)
    return form_view(form)


@router.post("/red-letter-forms/{form_id}/decision", response_model=FormOut)
def decide(
    form_id: Annotated[int, Path(ge=1, le=2**62)],
    body: DecisionIn,
    platform: PlatformDep,
    actor: Issuer,
) -> dict[str, Any]:
    """Y or N by the other party; C (withdraw) by the initiator."""
    form = service.decide(platform, actor, form_id, body.decision)
    return form_view(form)


@router.get("/red-letter-forms/{form_id}", response_model=FormOut)
def get_form(
    form_id: Annotated[int, Path(ge=1, le=2**62)], platform: PlatformDep, actor: Reader
) -> dict[str, Any]:
    """One form, for its seller or buyer (or an officer)."""
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        form = service.get_form(session, actor, form_id)
        if not rules.is_lapsed(form.state, form.deadline, now):
            return form_view(form)
    # Lapse is a fact of time: record it, then report it.
    with platform.database.transaction() as session:
        service.expire_lapsed(session, now, form_id=form_id)
        return form_view(service.get_form(session, actor, form_id))


class FormPage(BaseModel):
    items: list[FormOut]
    next_cursor: int | None


@router.get("/red-letter-forms", response_model=FormPage)
def list_forms(
    platform: PlatformDep,
    actor: OwnBooks,
    role: Literal["initiated", "to_confirm"] = "initiated",
    state: Literal["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"] | None = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Forms I filed, or forms waiting for my answer, newest first, a page at a time."""
    with platform.database.transaction() as session:
        service.expire_lapsed(session, platform.clock.now(), actor=actor)
        forms = listing.list_forms(session, actor, role, state, limit=limit + 1, before=cursor)
        next_cursor = forms[limit - 1].id if len(forms) > limit else None
        return {"items": [form_view(form) for form in forms[:limit]], "next_cursor": next_cursor}
