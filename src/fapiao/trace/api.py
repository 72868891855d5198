"""GET /api/v1/trace (any signed-in user) and GET /api/v1/invoices/{number}/trace."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.problems import locale_of
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import Reader
from fapiao.kit.errors import N_, invalid
from fapiao.trace import keys, service
from fapiao.trace.timeline import timeline

router = APIRouter(prefix="/api/v1", tags=["trace"], responses=PROBLEMS)


class DiagnosisOut(BaseModel):
    code: str
    message: str
    hint: str
    # REPLICA_BEHIND only: which replica and how far behind it is.
    replica: dict[str, Any] | None = None
    # MAINTENANCE only: when it ends.
    until: str | None = None
    # Asked by idempotency key: the invoice it produced, or its refusals, latest first.
    number: str | None = None
    rejections: list[dict[str, Any]] | None = None


class TraceAnswer(BaseModel):
    number: str | None = None
    idempotency_key: str | None = None
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
    maintenance: dict[str, Any] | None
    timeline: list[dict[str, Any]]


@router.get("/trace", response_model=TraceAnswer)
def trace(
    request: Request,
    platform: PlatformDep,
    actor: Reader,
    number: Annotated[str | None, Query(max_length=40)] = None,
    buyer_tax_id: Annotated[
        str | None,
        Query(
            max_length=20,
            description="the tax ID the buyer says is theirs (sellers: checks it is the one used)",
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="instead of a number: the Idempotency-Key your issue request carried",
        ),
    ] = None,
    taxpayer: Annotated[
        str | None,
        Query(max_length=20, description="officers asking by idempotency key: the seller's tax ID"),
    ] = None,
) -> JSONResponse:
    """Why can't I see invoice NUMBER? One stable code per reason (not issued, not a
    party, voided, reversed, wrong buyer tax ID, delivery pending or failed, platform in
    maintenance, …), with a message and a hint in the caller's language. Asked of the
    primary; with read replicas, REPLICA_BEHIND says when one has not yet replayed the
    invoice. Or, with `idempotency_key` instead of `number` (a seller's clerks and
    admins): ISSUED with the number, or NOT_ISSUED with the refusals of that key."""
    now = platform.clock.now()
    window = platform.maintenance.current(now)
    locale = locale_of(request)
    if (number is None) == (idempotency_key is None):
        raise invalid(
            "number", "NUMBER_OR_KEY", N_("Give either number or idempotency_key, not both.")
        )
    if idempotency_key is not None:
        with platform.database.transaction(write=False) as session:
            seller_id = keys.key_owner(session, actor, taxpayer)
            answer = keys.diagnose_key(session, seller_id, idempotency_key, window)
        return JSONResponse(
            {"idempotency_key": idempotency_key, "diagnosis": answer.describe(locale)}
        )
    assert number is not None
    with platform.database.transaction(write=False) as session:
        diagnosis = service.diagnose(
            session,
            actor,
            number.strip(),
            now,
            platform.settings,
            buyer_tax_id,
            replicas=service.replica_look(platform.database),
            maintenance=window,
        )
    return JSONResponse(
        {"number": number.strip(), "diagnosis": service.describe(diagnosis, locale)}
    )


@router.get("/invoices/{number}/trace", response_model=Timeline)
def invoice_trace(
    request: Request,
    platform: PlatformDep,
    actor: Reader,
    number: Annotated[str, Path(pattern=r"^\d{20}$")],
) -> JSONResponse:
    """The invoice's timeline: recorded in the ledger, each delivery to your systems,
    the e-mail notice to the buyer's address (pending since, attempts, last error, sent
    or dead), red-letter forms, maintenance windows since it was issued (and the one in
    force now), certification, void, today's public checks; for its seller, its
    buyer and officers (404 for anyone else)."""
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        look = service.replica_look(platform.database)
        story = timeline(
            session, actor, number, now, look, mail_server=bool(platform.settings.smtp_url)
        )
        window = platform.maintenance.current(now)
        diagnosis = service.diagnose(
            session, actor, number, now, platform.settings, replicas=look, maintenance=window
        )
    locale = locale_of(request)
    return JSONResponse(
        {
            **story,
            "maintenance": window.describe(locale) if window else None,
            "diagnosis": service.describe(diagnosis, locale),
        }
    )
