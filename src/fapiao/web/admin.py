"""What the admin and officer pages share: the audit entry of a page's write, a body
model's validation errors shown next to the form's fields, the users' table rows.

The pages call the same functions as the API routes; the API's audit trail is a
middleware on /api/v1 only, so each page names the API route it stands for and its
entry is recorded under that route's action (`taxpayer.update`, `api_token.delete`…),
the same as if the API had been called."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts import lockout
from fapiao.accounts.models import User
from fapiao.accounts.security_models import UserSecurity
from fapiao.accounts.service import Actor
from fapiao.audit import routes
from fapiao.audit.service import make_entry
from fapiao.http.problems import _PATTERN_HINTS, _PYDANTIC
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.web.forms import FormErrors
from fapiao.web.locale import request_locale


def audit(
    request: Request,
    actor: Actor,
    method: str,
    template: str,
    params: Mapping[str, object] | None = None,
    *,
    error: FapiaoError | ValidationError | None = None,
    created: str | None = None,
) -> None:
    """Record a page's write as the API route `method template` would have been; a GET
    is an officer's read of a taxpayer's data unless the route has an action of its own."""
    found = routes.target(method, template, params or {})
    if method == "GET" and (method, template) not in routes.ACTIONS:
        found = routes.Target("officer.read", found.object_type, found.object_id)
    result, code, status = "ok", None, 200
    if isinstance(error, FapiaoError):
        result, code, status = "refused", error.code, error.status
    elif error is not None:  # a body the API would have refused before its function ran
        result, code, status = "refused", "VALIDATION_FAILED", 422
    request.app.state.audit.submit(
        make_entry(
            action=found.action,
            at=request.app.state.platform.clock.now(),
            result=result,
            code=code,
            actor=actor,
            object_type=found.object_type,
            object_id=found.object_id if found.object_id is not None else created,
            detail={"route": template, "status": status, "via": "web"},
        )
    )


def body_of(response: Response) -> Any:
    """The JSON an API function answered with (its routes build their own responses)."""
    return json.loads(bytes(response.body))


def invalid_fields(
    refused: ValidationError, request: Request, aliases: dict[str, str] | None = None
) -> FormErrors:
    """A body model's refusal as messages next to the form's fields (the API's wording)."""
    locale = request_locale(request)
    found = FormErrors()
    for error in refused.errors():
        kind = error.get("type", "")
        if kind in ("too_long", "too_short") and isinstance(error.get("input"), str):
            kind = "string_" + kind
        message = _PYDANTIC.get(kind, ("INVALID_VALUE", N_("Invalid value.")))[1]
        context: dict[str, Any] = {
            key: str(value) for key, value in (error.get("ctx") or {}).items()
        }
        if kind == "string_pattern_mismatch" and context.get("pattern") in _PATTERN_HINTS:
            message = _PATTERN_HINTS[context["pattern"]]
        loc = [str(part) for part in error.get("loc", ())]
        name = loc[0] if loc else None
        name = (aliases or {}).get(name or "", name)
        try:
            text = translate(message, locale, **context)
        except (KeyError, IndexError):
            text = translate(message, locale)
        found.add(name, text)
    return found


@dataclass(frozen=True)
class UserRow:
    """A user as the users' tables show it."""

    username: str
    role: str
    active: bool
    locked: bool
    totp: bool
    must_change_password: bool
    created_at: datetime


def user_rows(session: Session, users: list[User], now: datetime) -> list[UserRow]:
    """The users with their sign-in state: locked, second factor on, password to change."""
    states = {
        state.user_id: state
        for state in session.scalars(
            select(UserSecurity).where(UserSecurity.user_id.in_([user.id for user in users]))
        )
    }
    return [
        UserRow(
            username=user.username,
            role=user.role,
            active=user.is_active,
            locked=lockout.is_locked(states.get(user.id), now),
            totp=states.get(user.id) is not None and states[user.id].totp_secret is not None,
            must_change_password=user.must_change_password,
            created_at=user.created_at,
        )
        for user in users
    ]


def status_of(refused: FapiaoError | ValidationError) -> int:
    return refused.status if isinstance(refused, FapiaoError) else 422
