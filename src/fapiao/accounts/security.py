"""The one place security events go: failed and successful sign-ins, locks, unlocks and
changes to the second factor. Every caller passes the transaction the event belongs to,
so a durable record of the event can be written in that same transaction."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request

from fapiao.accounts.models import User
from fapiao.audit import context as audit_context
from fapiao.audit import service as audit

log = logging.getLogger("fapiao.security")

LOGIN_SUCCESS = "login.success"
LOGIN_FAILURE = "login.failure"
ACCOUNT_LOCKED = "account.locked"
ACCOUNT_UNLOCKED = "account.unlocked"
PASSWORD_CHANGED = "password.changed"
TOTP_ENROLMENT_STARTED = "totp.enrolment_started"
TOTP_ENABLED = "totp.enabled"
TOTP_DISABLED = "totp.disabled"
TOTP_RECOVERY_CODES_REGENERATED = "totp.recovery_codes_regenerated"
TOTP_RECOVERY_CODE_USED = "totp.recovery_code_used"

# The audit log's names of these events (it names sign-ins auth.*).
AUDIT_ACTIONS = {
    LOGIN_SUCCESS: "auth.login",
    LOGIN_FAILURE: "auth.login_failed",
    ACCOUNT_LOCKED: "auth.locked",
    ACCOUNT_UNLOCKED: "auth.unlocked",
}

# The error code a failed sign-in was answered with, by the reason it failed.
_FAILURE_CODES = {
    "totp": "TOTP_INVALID",
    "totp_missing": "TOTP_REQUIRED",
    "reconfirm": "CONFIRMATION_FAILED",
}

# The longest user agent and attempted username that reach a log line.
_MAX_TEXT = 200


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as far as the server can tell."""

    ip: str | None = None
    user_agent: str | None = None


def origin_of(request: Request) -> Origin:
    """The client address and user agent of a request."""
    serving = audit_context.current()  # the client's address through trusted proxies
    return Origin(
        ip=serving.ip if serving is not None else request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def security_event(
    session: Session,
    action: str,
    *,
    user_id: int | None,
    username: str,
    origin: Origin,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one security event in the audit log, in `session`'s transaction, and log
    it. Never give it a password, code, secret or token: the details are reasons and
    counts (`{"reason": "password"}`, `{"failures": 3}`)."""
    user = session.get(User, user_id) if user_id is not None else None
    failed = action == LOGIN_FAILURE
    audit.record(
        session,
        action=AUDIT_ACTIONS.get(action, action),
        at=at,
        result="refused" if failed else "ok",
        code=_FAILURE_CODES.get(str((detail or {}).get("reason")), "INVALID_CREDENTIALS")
        if failed
        else None,
        # A failed sign-in names the account tried; nobody acted as it.
        actor=None if failed else user,
        username=username[:_MAX_TEXT],
        role=user.role if user else None,
        taxpayer_id=user.taxpayer_id if user else None,
        object_type="user",
        object_id=user_id,
        ip=origin.ip,
        user_agent=origin.user_agent,
        detail=detail or {},
    )
    fields = {
        "event": action,
        "user_id": user_id,
        "username": username[:_MAX_TEXT],
        "ip": origin.ip,
        "user_agent": (origin.user_agent or "")[:_MAX_TEXT] or None,
        "detail": detail or {},
    }
    log.info("%s %s", action, json.dumps(fields, ensure_ascii=False), extra=fields)
