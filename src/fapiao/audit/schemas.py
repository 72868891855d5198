"""The audit log's shapes in the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AuditEntryOut(BaseModel):
    seq: int = Field(description="position in the chain")
    recorded_at: str
    actor_id: int | None
    username: str | None
    role: str | None
    taxpayer_id: int | None = Field(description="the actor's taxpayer (none for officers)")
    action: str = Field(examples=["invoice.void"])
    object_type: str | None = Field(examples=["invoice"])
    object_id: str | None
    result: str = Field(examples=["ok", "refused", "error"])
    code: str | None = Field(description="the refusal's error code")
    ip: str | None
    user_agent: str | None
    request_id: str | None
    detail: dict[str, Any]
    prev_hash: str
    entry_hash: str = Field(description="SHA-256 of prev_hash, seq and the entry's fields")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
