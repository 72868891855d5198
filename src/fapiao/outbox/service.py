"""Writing outbox rows inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fapiao.outbox.models import OutboxEvent


def emit(
    session: Session,
    event_type: str,
    taxpayer_id: int,
    subject: str,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxEvent:
    """Record an event for `taxpayer_id`'s systems; relayed after commit by the worker."""
    event = OutboxEvent(**event_row(event_type, taxpayer_id, subject, payload, now))
    session.add(event)
    return event


def event_row(
    event_type: str, taxpayer_id: int, subject: str, payload: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The column values of one outbox row (for a Core insert on hot paths)."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "taxpayer_id": taxpayer_id,
        "subject": subject,
        "payload": json.dumps({"type": event_type, **payload}, ensure_ascii=False),
        "created_at": now,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
    }
