"""Reconciling an enterprise's own invoice list: who may, running it, keeping it."""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.db import Database
from fapiao.kit.errors import N_, NotFound, invalid
from fapiao.reconcile.compare import Findings, compare
from fapiao.reconcile.file import Progress, read_list
from fapiao.reconcile.models import Reconciliation
from fapiao.reconcile.report import error_message
from fapiao.taxpayers.models import Taxpayer
from fapiao.taxpayers.service import by_tax_id

ERRORS_IN_SUMMARY = 50


def seller_for(session: Session, actor: Actor, tax_id: str | None) -> Taxpayer:
    """The taxpayer whose list this is: the caller's own (admins and clerks; viewers
    get 403), or for an officer the one named by `tax_id`."""
    if actor.is_officer:
        if not tax_id:
            raise invalid("taxpayer", "FIELD_REQUIRED", N_("This field is required."))
        seller = by_tax_id(session, tax_id)
        if seller is None:
            raise NotFound(
                "TAXPAYER_NOT_FOUND",
                N_("Taxpayer {tax_id} is not registered."),
                params={"tax_id": tax_id},
            )
        return seller
    own = actor.require_write()
    if tax_id and tax_id != actor.tax_id:
        # Someone else's list is nothing this caller can reconcile; like their invoices,
        # the other taxpayer is not there for them.
        raise NotFound(
            "TAXPAYER_NOT_FOUND",
            N_("Taxpayer {tax_id} is not registered."),
            params={"tax_id": tax_id},
        )
    seller = session.get(Taxpayer, own)
    assert seller is not None
    return seller


def run(
    database: Database,
    seller_id: int,
    handle: IO[bytes],
    filename: str | None,
    today: date,
    progress: Progress | None = None,
) -> Findings:
    """Read the list and compare it in one read-only transaction (on SQLite a long run
    must not hold the one writer's lock)."""
    listing = read_list(handle, filename, today, progress)
    with database.transaction(write=False) as session:
        return compare(session, seller_id, listing, progress)


def store(
    session: Session,
    seller_id: int,
    actor: Actor,
    filename: str,
    findings: Findings,
    now: datetime,
) -> Reconciliation:
    record = Reconciliation(
        taxpayer_id=seller_id,
        created_by=actor.user_id or None,
        created_at=now,
        filename=filename[:255],
        clean=findings.clean,
        summary=json.dumps(
            {
                "date_from": findings.date_from,
                "date_to": findings.date_to,
                "counts": findings.counts,
                "row_errors": findings.row_errors[:ERRORS_IN_SUMMARY],
            },
            ensure_ascii=False,
        ),
        findings=zlib.compress(json.dumps(findings.as_dict(), ensure_ascii=False).encode(), 6),
    )
    session.add(record)
    session.flush()
    return record


def load(session: Session, actor: Actor, reconciliation_id: int) -> Reconciliation:
    """A reconciliation the caller may see: their taxpayer's (any role) or, for officers,
    any; everything else is 404, exactly like one that does not exist."""
    record = session.get(Reconciliation, reconciliation_id)
    allowed = record is not None and (
        actor.is_officer
        or (actor.taxpayer_id is not None and record.taxpayer_id == actor.taxpayer_id)
    )
    if record is None or not allowed:
        raise NotFound(
            "RECONCILIATION_NOT_FOUND",
            N_("Reconciliation {id} was not found."),
            params={"id": reconciliation_id},
        )
    return record


def findings_of(record: Reconciliation) -> Findings:
    return Findings.from_dict(json.loads(zlib.decompress(record.findings)))


def describe(session: Session, record: Reconciliation, locale: str) -> dict[str, Any]:
    """The summary the API answers with: counts, the date range, the first row errors."""
    summary = json.loads(record.summary)
    seller = session.get(Taxpayer, record.taxpayer_id)
    return {
        "id": record.id,
        "taxpayer": seller.tax_id if seller else None,
        "filename": record.filename,
        "created_at": record.created_at.isoformat(),
        "clean": record.clean,
        "date_from": summary["date_from"],
        "date_to": summary["date_to"],
        "counts": summary["counts"],
        "row_errors": [
            {
                "row": error[0],
                "field": error[1],
                "code": error[2],
                "message": error_message(error, locale),
            }
            for error in summary["row_errors"]
        ],
        "report": f"/api/v1/reconciliations/{record.id}/report.xlsx",
    }
