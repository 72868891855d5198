"""/api/v1/announcements: the published list and items for anyone; writing, publishing,
withdrawing and deleting for officers (audited by the route, like every write)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.announcements import service
from fapiao.announcements.schemas import (
    AnnouncementIn,
    AnnouncementOut,
    AnnouncementPage,
    Kind,
    view,
)
from fapiao.http.deps import PlatformDep, bearer, get_actor, get_platform
from fapiao.http.openapi import PROBLEMS
from fapiao.http.problems import locale_of
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import Operator
from fapiao.kit.errors import FapiaoError
from fapiao.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["announcements"], responses=PROBLEMS)


async def maybe_officer(
    request: Request,
    platform: Annotated[Platform, Depends(get_platform)],
    token: Annotated[str | None, Depends(bearer)],
) -> Actor | None:
    """The caller when signed in with the right to operate the platform, else None:
    a public route answers anyone, and only shows officers the drafts."""
    if not token and not request.cookies:
        return None
    try:
        actor = await get_actor(request, platform, token)
    except FapiaoError:
        return None
    return actor if permissions.may(actor.role, permissions.OPERATE) else None


MaybeOfficer = Annotated[Actor | None, Depends(maybe_officer)]
AnnouncementId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/announcements", response_model=AnnouncementPage)
def list_announcements(
    request: Request,
    platform: PlatformDep,
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=service.PAGE_MAX)] = 20,
    cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] = None,
) -> JSONResponse:
    """Published announcements, newest first (no sign-in needed). `title` and `body` are
    in the language of Accept-Language; both languages' fields come too."""
    locale = locale_of(request)
    with platform.database.transaction(write=False) as session:
        items, next_cursor = service.published(session, kind=kind, limit=limit, cursor=cursor)
    return JSONResponse(
        {"items": [view(item, locale) for item in items], "next_cursor": next_cursor}
    )


@router.get("/announcements/{announcement_id}", response_model=AnnouncementOut)
def get_announcement(
    request: Request, announcement_id: AnnouncementId, platform: PlatformDep, officer: MaybeOfficer
) -> JSONResponse:
    """One published announcement (no sign-in needed); officers also see drafts."""
    with platform.database.transaction(write=False) as session:
        item = service.get(session, announcement_id, drafts=officer is not None)
    return JSONResponse(view(item, locale_of(request), officer=officer is not None))


@router.post("/announcements", status_code=201, response_model=AnnouncementOut)
def create_announcement(
    request: Request, body: AnnouncementIn, platform: PlatformDep, actor: Operator
) -> JSONResponse:
    """Write a draft announcement (officers); publish it with /publish."""
    with platform.database.transaction() as session:
        item = service.create(session, platform.clock.now(), body.draft(), actor.username)
    return JSONResponse(
        view(item, locale_of(request), officer=True),
        status_code=201,
        headers={"Location": f"/api/v1/announcements/{item.id}"},
    )


@router.put("/announcements/{announcement_id}", response_model=AnnouncementOut)
def update_announcement(
    request: Request,
    announcement_id: AnnouncementId,
    body: AnnouncementIn,
    platform: PlatformDep,
    actor: Operator,
) -> JSONResponse:
    """Replace an announcement's content (officers). A published one stays published;
    the maintenance window of a read-only one moves with its times."""
    with platform.database.transaction() as session:
        item = service.update(session, platform.clock.now(), announcement_id, body.draft())
    platform.maintenance.forget()
    return JSONResponse(view(item, locale_of(request), officer=True))


@router.post("/announcements/{announcement_id}/publish", response_model=AnnouncementOut)
def publish_announcement(
    request: Request, announcement_id: AnnouncementId, platform: PlatformDep, actor: Operator
) -> JSONResponse:
    """Publish now (officers). A read-only maintenance notice schedules its window:
    changes through the API answer 503 from its start to its end."""
    with platform.database.transaction() as session:
        item = service.publish(session, platform.clock.now(), announcement_id)
    platform.maintenance.forget()
    return JSONResponse(view(item, locale_of(request), officer=True))


@router.post("/announcements/{announcement_id}/withdraw", response_model=AnnouncementOut)
def withdraw_announcement(
    request: Request, announcement_id: AnnouncementId, platform: PlatformDep, actor: Operator
) -> JSONResponse:
    """Make it a draft again (officers), calling off its maintenance window."""
    with platform.database.transaction() as session:
        item = service.withdraw(session, platform.clock.now(), announcement_id)
    platform.maintenance.forget()
    return JSONResponse(view(item, locale_of(request), officer=True))


@router.delete("/announcements/{announcement_id}", status_code=204)
def delete_announcement(
    announcement_id: AnnouncementId, platform: PlatformDep, actor: Operator
) -> Response:
    """Delete an announcement (officers), calling off its maintenance window."""
    with platform.database.transaction() as session:
        service.delete(session, platform.clock.now(), announcement_id)
    platform.maintenance.forget()
    return Response(status_code=204)
