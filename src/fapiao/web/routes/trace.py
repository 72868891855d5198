""" "Can't find an invoice?": the answer of GET /api/v1/trace (trace.service.diagnose, or
trace.keys for an Idempotency-Key) for the signed-in user, with a link to the help
section that explains it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.helpcentre.service import CODE_SECTIONS, guide_link
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import N_, FapiaoError
from fapiao.platform import Platform
from fapiao.trace import keys, service
from fapiao.web import nav
from fapiao.web.auth import web_allow
from fapiao.web.forms import FormErrors
from fapiao.web.locale import request_locale
from fapiao.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(web_allow(permissions.READ))]
nav.register(nav.NavItem("/ui/trace", N_("Can't find an invoice?"), permissions.READ, 85))


def _by_number(platform: Platform, actor: Actor, number: str, locale: str) -> dict[str, Any]:
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        diagnosis = service.diagnose(
            session,
            actor,
            number,
            now,
            platform.settings,
            replicas=service.replica_look(platform.database),
            maintenance=platform.maintenance.current(now),
        )
    return service.describe(diagnosis, locale)


def _by_key(platform: Platform, actor: Actor, key: str, locale: str) -> dict[str, Any]:
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        seller_id = keys.key_owner(session, actor, None)
        answer = keys.diagnose_key(session, seller_id, key, platform.maintenance.current(now))
    return answer.describe(locale)


@router.get("/ui/trace")
async def trace_page(request: Request, platform: PlatformDep, actor: Reader) -> Response:
    query = request.query_params
    number = query.get("number", "").strip()[:40]
    # Only a seller's clerks and admins sent issue requests with keys of their own.
    by_key = permissions.may(actor.role, permissions.ISSUE)
    key = query.get("key", "").strip()[:200] if by_key else ""
    cause = query.get("cause", "")
    locale = request_locale(request)
    answer = None
    errors = FormErrors()
    status_code = 200
    try:
        if number:
            answer = await run_in_threadpool(_by_number, platform, actor, number, locale)
        elif key:
            answer = await run_in_threadpool(_by_key, platform, actor, key, locale)
    except FapiaoError as refused:
        errors = FormErrors.from_error(refused, locale)
        status_code = refused.status
    return render(
        request,
        "trace.html",
        status_code=status_code,
        number=number,
        key=key,
        by_key=by_key,
        answer=answer,
        guide=guide_link(answer["code"]) if answer else None,
        errors=errors,
        # From a help section's link: that section's case, to compare with the answer.
        cause=cause if cause in CODE_SECTIONS else "",
    )
