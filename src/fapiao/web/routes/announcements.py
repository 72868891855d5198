"""Announcements as pages: the public list (the changelog) and one announcement, in the
page's language, with the Atom/RSS feeds linked; officers write, edit, publish and
withdraw them through the same service as /api/v1/announcements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.announcements import service, views
from fapiao.announcements.rules import KINDS, Draft, as_utc
from fapiao.announcements.schemas import view
from fapiao.http.deps import PlatformDep
from fapiao.kit.clock import CST
from fapiao.kit.errors import N_, FapiaoError, NotFound
from fapiao.kit.i18n import translate
from fapiao.platform import Platform
from fapiao.web.auth import MaybeWebActor, WebError, web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
Officer = Annotated[Actor, Depends(web_allow(permissions.OPERATE))]

KIND_LABELS = {
    "maintenance": N_("Maintenance"),
    "release": N_("Release notes"),
    "notice": N_("Notices"),
}
FIELDS = {
    "kind": 20,
    "title_zh": 200,
    "title_en": 200,
    "body_zh": 5000,
    "body_en": 5000,
    "starts_at": 40,
    "ends_at": 40,
    "read_only": 5,
    "banner": 5,
}
BAD_TIME = N_("A date and time such as 2026-12-01 22:00.")


def _officer(actor: Actor | None) -> bool:
    return actor is not None and permissions.may(actor.role, permissions.OPERATE)


def _id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**62:
        raise WebError(NotFound("NOT_FOUND", N_("This page does not exist.")))
    return int(text)


@router.get("/ui/announcements")
def list_page(
    request: Request,
    platform: PlatformDep,
    actor: MaybeWebActor,
    kind: str = "",
    cursor: str = "",
) -> Response:
    locale = request_locale(request)
    chosen = kind if kind in KINDS else None
    try:
        found = views.list_page(platform, locale, kind=chosen, cursor=cursor[:200] or None)
    except FapiaoError:  # a cursor that was not ours: start from the first page
        found = views.list_page(platform, locale, kind=chosen)
    drafts: list[dict[str, Any]] = []
    if _officer(actor):
        with platform.database.transaction(write=False) as session:
            drafts = [
                view(item, locale) for item in service.every(session) if item.published_at is None
            ]
    return render(
        request,
        "announcements.html",
        items=found["items"],
        next_cursor=found["next_cursor"],
        kind=chosen or "",
        kinds=KIND_LABELS,
        drafts=drafts,
        officer=_officer(actor),
    )


@router.get("/ui/announcements/new")
def new_page(request: Request, actor: Officer) -> Response:
    return _form_page(request, None, _blank(), FormErrors())


@router.post("/ui/announcements/new")
async def new_submit(request: Request, platform: PlatformDep, actor: Officer) -> Response:
    values = await read_form(request, FIELDS)
    errors = FormErrors()
    draft = _draft(values, request_locale(request), errors)
    if draft is not None:
        try:
            with platform.database.transaction() as session:
                item = service.create(session, platform.clock.now(), draft, actor.username)
        except FapiaoError as refused:
            errors = FormErrors.from_error(refused, request_locale(request))
        else:
            return see_other(f"/ui/announcements/{item.id}")
    return _form_page(request, None, values, errors, status_code=422)


@router.get("/ui/announcements/{announcement_id}")
def item_page(
    request: Request, announcement_id: str, platform: PlatformDep, actor: MaybeWebActor
) -> Response:
    officer = _officer(actor)
    item = _get(platform, _id(announcement_id), drafts=officer)
    return render(
        request,
        "announcement.html",
        item=view(item, request_locale(request)),
        kinds=KIND_LABELS,
        officer=officer,
    )


@router.get("/ui/announcements/{announcement_id}/edit")
def edit_page(
    request: Request, announcement_id: str, platform: PlatformDep, actor: Officer
) -> Response:
    item = _get(platform, _id(announcement_id), drafts=True)
    values = {
        "kind": item.kind,
        "title_zh": item.title_zh,
        "title_en": item.title_en,
        "body_zh": item.body_zh,
        "body_en": item.body_en,
        "starts_at": _local_input(item.starts_at),
        "ends_at": _local_input(item.ends_at),
        "read_only": "on" if item.read_only else "",
        "banner": "on" if item.banner else "",
    }
    return _form_page(request, item.id, values, FormErrors())


@router.post("/ui/announcements/{announcement_id}/edit")
async def edit_submit(
    request: Request, announcement_id: str, platform: PlatformDep, actor: Officer
) -> Response:
    number = _id(announcement_id)
    values = await read_form(request, FIELDS)
    errors = FormErrors()
    draft = _draft(values, request_locale(request), errors)
    if draft is not None:
        try:
            with platform.database.transaction() as session:
                service.update(session, platform.clock.now(), number, draft)
        except NotFound as missing:
            raise WebError(missing) from missing
        except FapiaoError as refused:
            errors = FormErrors.from_error(refused, request_locale(request))
        else:
            platform.maintenance.forget()
            return see_other(f"/ui/announcements/{number}")
    return _form_page(request, number, values, errors, status_code=422)


@router.post("/ui/announcements/{announcement_id}/{action}")
async def action_submit(
    request: Request, announcement_id: str, action: str, platform: PlatformDep, actor: Officer
) -> Response:
    """Publish (a read-only maintenance notice schedules its window) or withdraw."""
    number = _id(announcement_id)
    steps = {"publish": service.publish, "withdraw": service.withdraw}
    if action not in steps:
        raise WebError(NotFound("NOT_FOUND", N_("This page does not exist.")))

    def work() -> None:
        with platform.database.transaction() as session:
            steps[action](session, platform.clock.now(), number)

    try:
        await run_in_threadpool(work)
    except FapiaoError as refused:
        raise WebError(refused) from refused
    platform.maintenance.forget()
    return see_other(f"/ui/announcements/{number}")


def _get(platform: Platform, number: int, *, drafts: bool) -> Any:
    try:
        with platform.database.transaction(write=False) as session:
            return service.get(session, number, drafts=drafts)
    except NotFound as missing:
        raise WebError(missing) from missing


def _blank() -> dict[str, str]:
    return {name: "" for name in FIELDS} | {"kind": "notice"}


def _local_input(value: datetime | None) -> str:
    """A time for a datetime-local input, in Beijing time."""
    return "" if value is None else value.astimezone(CST).strftime("%Y-%m-%dT%H:%M")


def _when(text: str) -> datetime | None:
    text = text.strip().replace(" ", "T")
    return as_utc(datetime.fromisoformat(text)) if text else None


def _draft(values: dict[str, str], locale: str, errors: FormErrors) -> Draft | None:
    """The officer's draft; the service checks it whole (titles, the window's times)."""
    times: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at"):
        try:
            times[name] = _when(values[name])
        except (ValueError, OverflowError):  # not a time, or one off the calendar's edge
            errors.add(name, translate(BAD_TIME, locale))
    if errors:
        return None
    return Draft(
        kind=values["kind"],
        title_zh=values["title_zh"].strip(),
        title_en=values["title_en"].strip(),
        body_zh=values["body_zh"],
        body_en=values["body_en"],
        starts_at=times["starts_at"],
        ends_at=times["ends_at"],
        read_only=values["read_only"] == "on",
        banner=values["banner"] == "on",
    )


def _form_page(
    request: Request,
    number: int | None,
    values: dict[str, str],
    errors: FormErrors,
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "announcement_form.html",
        number=number,
        values=values,
        errors=errors,
        kinds=KIND_LABELS,
        status_code=status_code,
    )
