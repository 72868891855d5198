"""Writing audit entries as CSV or JSON, a row at a time (for the CLI and the API)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from fapiao.audit.models import AuditEntry

COLUMNS = (
    "seq",
    "recorded_at",
    "actor_id",
    "username",
    "role",
    "taxpayer_id",
    "action",
    "object_type",
    "object_id",
    "result",
    "code",
    "ip",
    "user_agent",
    "request_id",
    "detail",
    "prev_hash",
    "entry_hash",
)
# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: str) -> str:
    """A cell value a spreadsheet shows as text: one that would start a formula is
    prefixed with an apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def view(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the API and the exports show it (its detail as a JSON object)."""
    return {
        "seq": entry.seq,
        "recorded_at": entry.recorded_at.isoformat(),
        "actor_id": entry.actor_id,
        "username": entry.username,
        "role": entry.role,
        "taxpayer_id": entry.taxpayer_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "result": entry.result,
        "code": entry.code,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "request_id": entry.request_id,
        "detail": orjson.loads(entry.detail) if entry.detail else {},
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
    }


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """A header line, then one CSV line per entry (the detail as its stored JSON text,
    exactly what was hashed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield _take(out)
    for entry in entries:
        row = []
        for name in COLUMNS:
            value = getattr(entry, name)
            if name == "recorded_at":
                value = value.isoformat()
            row.append(
                "" if value is None else as_text(str(value)) if isinstance(value, str) else value
            )
        writer.writerow(row)
        yield _take(out)


def json_chunks(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """One JSON array of entries, written an entry at a time."""
    yield "["
    first = True
    for entry in entries:
        yield ("\n" if first else ",\n") + orjson.dumps(view(entry)).decode()
        first = False
    yield "\n]\n"


def _take(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text
