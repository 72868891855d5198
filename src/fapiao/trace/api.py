"""GET /api/v1/trace (any signed-in user) and GET /api/v1/invoices/{number}/trace."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from fapiao.http.deps import ActorDep, PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.problems import locale_of
from fapiao.http.responses import JSONResponse
from fapiao.trace import service

router = APIRouter(prefix="/api/v1", tags=["trace"], responses=PROBLEMS)


class DiagnosisOut(BaseModel):
    code: str
    message: str
    hint: str
    # REPLICA_BEHIND only: which replica and how far behind it is.
    replica: dict[str, Any] | None = None


class TraceAnswer(BaseModel):
    number: str
    diagnosis: DiagnosisOut


class Timeline(BaseModel):
    number: str
    diagnosis: DiagnosisOut
    status: str
    issued_at: str
    voided_at: str | None
    certification: dict[str, Any] | None
    verification_checks_today: int
    replica_lag_seconds: float | None
    replicas: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


@router.get("/trace", response_model=TraceAnswer)
def trace(
    request: Request,
    platform: PlatformDep,
    actor: ActorDep,
    number: Annotated[str, Query(max_length=40)],
    buyer_tax_id: Annotated[
        str | None,
        Query(
            max_length=20,
            description="the tax ID the buyer says is theirs (sellers: checks it is the one used)",
        ),
    ] = None,
) -> JSONResponse:
    """Why can't I see invoice NUMBER? One stable code per reason (not issued, not a
    party, voided, reversed, wrong buyer tax ID, delivery pending or failed, …), with a
    message and a hint in the caller's language. Asked of the primary; with read
    replicas, REPLICA_BEHIND says when one has not yet replayed the invoice."""
    with platform.database.transaction(write=False) as session:
        diagnosis = service.diagnose(
            session,
            actor,
            number.strip(),
            platform.clock.now(),
            platform.settings,
            buyer_tax_id,
            replicas=service.replica_look(platform.database),
        )
    return JSONResponse(
        {"number": number.strip(), "diagnosis": service.describe(diagnosis, locale_of(request))}
    )


@router.get("/invoices/{number}/trace", response_model=Timeline)
def invoice_trace(
    request: Request,
    platform: PlatformDep,
    actor: ActorDep,
    number: Annotated[str, Path(pattern=r"^\d{20}$")],
) -> JSONResponse:
    """The invoice's timeline: recorded in the ledger, each delivery to your systems,
    the e-mail notice to the buyer's address (pending since, attempts, last error, sent
    or dead), red-letter forms, certification, void, today's public checks; for its seller, its
    buyer and officers (404 for anyone else)."""
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        look = service.replica_look(platform.database)
        story = service.timeline(
            session, actor, number, now, look, mail_server=bool(platform.settings.smtp_url)
        )
        diagnosis = service.diagnose(session, actor, number, now, platform.settings, replicas=look)
    return JSONResponse({**story, "diagnosis": service.describe(diagnosis, locale_of(request))})
