"""GET (public), PUT and DELETE /api/v1/maintenance (officers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.problems import locale_of
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import Operator
from fapiao.maintenance import service
from fapiao.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["operations"], responses=PROBLEMS)


class MaintenanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: datetime = Field(
        description="end of the window, e.g. 2026-12-01T06:00+08:00 (no offset: Beijing time)"
    )
    message_zh: str = Field("", max_length=service.MESSAGE_MAX)
    message_en: str = Field("", max_length=service.MESSAGE_MAX)


class MaintenanceOut(BaseModel):
    active: bool
    window: dict[str, Any] | None = None
    retry_after: int | None = None


def status_view(platform: Platform, locale: str, window: service.Window | None) -> dict[str, Any]:
    if window is None:
        return {"active": False, "window": None, "retry_after": None}
    now = platform.clock.now()
    return {
        "active": True,
        "window": window.describe(locale),
        "retry_after": window.retry_after(now),
    }


@router.get("/maintenance", response_model=MaintenanceOut)
def get_maintenance(request: Request, platform: PlatformDep) -> JSONResponse:
    """Whether the platform is in maintenance, until when and why (no sign-in needed)."""
    window = platform.maintenance.current()
    return JSONResponse(status_view(platform, locale_of(request), window))


@router.put("/maintenance", response_model=MaintenanceOut)
def put_maintenance(
    request: Request, body: MaintenanceIn, platform: PlatformDep, actor: Operator
) -> JSONResponse:
    """Put the platform in maintenance from now until `until` (officers). Changes through
    the API answer 503 `MAINTENANCE` until then; reads keep working. Replaces a window
    already in force."""
    now = platform.clock.now()
    with platform.database.transaction() as session:
        window = service.start(
            session, now, body.until, actor.username, body.message_zh, body.message_en
        )
    platform.maintenance.forget()
    return JSONResponse(status_view(platform, locale_of(request), window))


@router.delete("/maintenance", status_code=204)
def delete_maintenance(platform: PlatformDep, actor: Operator) -> Response:
    """End maintenance now (officers). Other server processes notice within a second."""
    with platform.database.transaction() as session:
        service.end(session, platform.clock.now())
    platform.maintenance.forget()
    return Response(status_code=204)
