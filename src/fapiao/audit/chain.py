"""The audit chain's hashing, as pure functions (no database, no web).

An entry's hash is SHA-256 over the previous entry's hash, its sequence number and the
canonical JSON of its fields (keys sorted, no spaces, UTF-8). Changing any stored field,
removing an entry or reordering entries changes a hash the next entry depends on, so a
walk from the anchor to the head finds it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fapiao.kit.errors import N_

GENESIS_HASH = "0" * 64
RESULTS = ("ok", "refused", "error")

# Column sizes; values are cut to them before hashing so what is stored is what was hashed.
LIMITS = {
    "username": 64,
    "role": 16,
    "action": 64,
    "object_type": 40,
    "object_id": 100,
    "code": 64,
    "ip": 64,
    "user_agent": 300,
    "request_id": 64,
}
MAX_DETAIL = 4000


def canonical(value: Any) -> str:
    """The one text a JSON value is hashed as: keys sorted, no spaces, not ASCII-escaped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Entry:
    """One thing that happened, before it has a place in the chain."""

    at: datetime
    action: str
    result: str = "ok"
    code: str | None = None
    actor_id: int | None = None
    username: str | None = None
    role: str | None = None
    taxpayer_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _cut(name: str, value: str | None) -> str | None:
    return None if value is None else str(value)[: LIMITS[name]]


def normalised(entry: Entry) -> dict[str, Any]:
    """The stored fields of an entry (everything but its place in the chain): texts cut
    to their columns, the time in UTC, the detail as canonical JSON."""
    if entry.result not in RESULTS:
        raise ValueError(f"audit result must be one of {RESULTS}, not {entry.result!r}")
    if entry.at.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    detail = canonical(entry.detail or {})
    if len(detail) > MAX_DETAIL:
        detail = canonical({"truncated": detail[: MAX_DETAIL - 40]})
    return {
        "recorded_at": entry.at.astimezone(UTC),
        "action": _cut("action", entry.action),
        "result": entry.result,
        "code": _cut("code", entry.code),
        "actor_id": entry.actor_id,
        "username": _cut("username", entry.username),
        "role": _cut("role", entry.role),
        "taxpayer_id": entry.taxpayer_id,
        "object_type": _cut("object_type", entry.object_type),
        "object_id": _cut("object_id", entry.object_id),
        "ip": _cut("ip", entry.ip),
        "user_agent": _cut("user_agent", entry.user_agent),
        "request_id": _cut("request_id", entry.request_id),
        "detail": detail,
    }


def body(fields: dict[str, Any]) -> str:
    """The canonical text hashed for an entry's stored fields (as `normalised` gives them,
    or as read back from a row)."""
    stamp: datetime = fields["recorded_at"]
    hashed = {name: fields[name] for name in HASHED}
    hashed["recorded_at"] = stamp.astimezone(UTC).isoformat()
    return canonical(hashed)


HASHED = (
    "recorded_at",
    "action",
    "result",
    "code",
    "actor_id",
    "username",
    "role",
    "taxpayer_id",
    "object_type",
    "object_id",
    "ip",
    "user_agent",
    "request_id",
    "detail",
)


def entry_hash(prev_hash: str, seq: int, entry_body: str) -> str:
    """SHA-256 (hex) of the previous hash, the sequence number and the entry's body."""
    return hashlib.sha256(f"{prev_hash}|{seq}|{entry_body}".encode()).hexdigest()


def chain(prev_hash: str, first_seq: int, bodies: list[str]) -> list[tuple[int, str, str]]:
    """(seq, prev_hash, entry_hash) of entries appended in order after `prev_hash`."""
    links = []
    seq = first_seq
    for entry_body in bodies:
        this = entry_hash(prev_hash, seq, entry_body)
        links.append((seq, prev_hash, this))
        prev_hash, seq = this, seq + 1
    return links


@dataclass(frozen=True)
class Problem:
    """The first break of a chain: a translatable message and its parameters."""

    seq: int
    message: str
    params: dict[str, Any]


def first_break(
    rows: list[dict[str, Any]], expected_seq: int, prev_hash: str
) -> tuple[Problem | None, int, str]:
    """Check consecutive rows (dicts of their columns) that should follow `prev_hash` at
    `expected_seq`. Returns the first problem (or None), and the next expected seq and
    previous hash for the rows after these."""
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            message = N_("Audit entry {missing} is missing (the next one is {seq}).")
            return (
                Problem(seq, message, {"missing": expected_seq, "seq": seq}),
                expected_seq,
                prev_hash,
            )
        if row["prev_hash"] != prev_hash:
            message = N_("Audit entry {seq} does not link to the entry before it.")
            return Problem(seq, message, {"seq": seq}), expected_seq, prev_hash
        if row["entry_hash"] != entry_hash(prev_hash, seq, body(row)):
            message = N_("Audit entry {seq} has been changed: its hash does not match its fields.")
            return Problem(seq, message, {"seq": seq}), expected_seq, prev_hash
        prev_hash, expected_seq = row["entry_hash"], seq + 1
    return None, expected_seq, prev_hash
