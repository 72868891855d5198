"""Reading the filters of audit searches and exports (shared by the API and the CLI)."""

from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta

from fapiao.audit.service import Filters
from fapiao.kit.clock import CST
from fapiao.kit.errors import N_, FieldError, ValidationFailed, invalid

BAD_TIME = N_(
    "Give a date such as 2026-11-10 (Beijing time) or a time with its offset, "
    "such as 2026-11-10T08:00+08:00."
)


def parse_time(name: str, text: str | None, *, end: bool = False) -> datetime | None:
    """A date (the start of that Beijing day; with `end`, the start of the next, so the
    day is included) or an ISO 8601 time (Beijing time when it has no offset)."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(0), CST)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(name, "INVALID_TIME", BAD_TIME) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CST)


def filters(
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    result: str | None = None,
    time_from: str | None = None,
    time_to: str | None = None,
) -> Filters:
    start = parse_time("from", time_from)
    stop = parse_time("to", time_to, end=True)
    if start and stop and start > stop:
        raise invalid("from", "DATE_RANGE_INVALID", N_("The start date is after the end date."))
    return Filters(
        actor=actor or None,
        action=action or None,
        object_type=object_type or None,
        object_id=object_id or None,
        result=result or None,
        time_from=start,
        time_to=stop,
    )


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"audit|{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = raw.partition("|")
        seq = int(number)
        if kind != "audit" or not 0 < seq < 2**63:
            raise ValueError("not an audit cursor")
        return seq
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            [FieldError("cursor", "CURSOR_INVALID", N_("The cursor is not valid."))]
        ) from None
