"""Refused issue requests, remembered by idempotency key so their sender can ask later
why a key produced no invoice (trace by idempotency key).

A refusal is recorded after the refused request has rolled back, in its own short
transaction: never as part of the write that was refused, and never on the success path."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fapiao.db import Database
from fapiao.invoices.models import IdempotencyKey, IssueRejection
from fapiao.kit.errors import FapiaoError
from fapiao.kit.i18n import translate

log = logging.getLogger(__name__)

KEEP_DAYS = 30
KEEP_PER_KEY = 20  # a client retrying one key forever keeps only its latest refusals
# A reused key belongs to an invoice already; the trace answers with that invoice.
NOT_RECORDED = frozenset({"IDEMPOTENCY_KEY_REUSED"})


def should_record(error: FapiaoError) -> bool:
    return 400 <= error.status < 500 and error.code not in NOT_RECORDED


def record(
    database: Database, taxpayer_id: int, key: str, error: FapiaoError, now: datetime
) -> None:
    """Remember that the request with `key` was refused with `error`. A failure here is
    logged and swallowed: the caller's answer is the refusal, whatever happens to this."""
    errors = [
        {"field": item.field, "code": item.code, "message": item.message, "params": item.params}
        for item in error.errors
    ]
    try:
        with database.transaction() as session:
            session.add(
                IssueRejection(
                    taxpayer_id=taxpayer_id,
                    idempotency_key=key,
                    rejected_at=now,
                    status=error.status,
                    code=error.code,
                    message=error.message,
                    params=json.dumps(error.params, ensure_ascii=False, default=str),
                    errors=json.dumps(errors, ensure_ascii=False, default=str),
                )
            )
            session.flush()
            older = (
                select(IssueRejection.id)
                .where(
                    IssueRejection.taxpayer_id == taxpayer_id,
                    IssueRejection.idempotency_key == key,
                )
                .order_by(IssueRejection.id.desc())
                .offset(KEEP_PER_KEY)
            )
            stale = list(session.scalars(older))
            if stale:
                session.execute(delete(IssueRejection).where(IssueRejection.id.in_(stale)))
    except Exception:
        log.exception("could not record the refusal of idempotency key %r", key)


def prune(session: Session, now: datetime) -> int:
    """Forget refusals older than KEEP_DAYS; returns how many."""
    result = session.execute(
        delete(IssueRejection).where(IssueRejection.rejected_at < now - timedelta(days=KEEP_DAYS))
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Rejection:
    at: datetime
    status: int
    code: str
    message: str
    params: dict[str, Any]
    errors: list[dict[str, Any]]

    def describe(self, locale: str) -> dict[str, Any]:
        errors = [
            {
                "field": item["field"],
                "code": item["code"],
                "message": translate(item["message"], locale, **item["params"]),
            }
            for item in self.errors
        ]
        text = translate(self.message, locale, **self.params)
        if errors:
            text += " " + " ".join(f"{item['field']}: {item['message']}" for item in errors)
        return {
            "at": self.at.isoformat(),
            "status": self.status,
            "code": self.code,
            "message": text,
            "errors": errors,
        }

    @property
    def codes(self) -> list[str]:
        """The refusal's code and its field errors' codes."""
        return [self.code, *(item["code"] for item in self.errors)]


def issued_number(session: Session, taxpayer_id: int, key: str) -> str | None:
    row = session.get(IdempotencyKey, (taxpayer_id, key))
    return None if row is None else row.invoice_number


def rejections(session: Session, taxpayer_id: int, key: str) -> list[Rejection]:
    """The refusals of `key` for this taxpayer, latest first."""
    rows = session.scalars(
        select(IssueRejection)
        .where(IssueRejection.taxpayer_id == taxpayer_id, IssueRejection.idempotency_key == key)
        .order_by(IssueRejection.id.desc())
        .limit(KEEP_PER_KEY)
    )
    return [
        Rejection(
            at=row.rejected_at,
            status=row.status,
            code=row.code,
            message=row.message,
            params=json.loads(row.params),
            errors=json.loads(row.errors),
        )
        for row in rows
    ]
