"""Support tickets as pages: my taxpayer's tickets (officers: the queue), a new ticket
with screenshots, the thread with replies and closing. The same services and checks as
/api/v1/tickets; screenshots are served through a route that checks who may see them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import FapiaoError, NotFound
from fapiao.platform import Platform
from fapiao.reconcile.report import STATUS_LABELS as INVOICE_STATUSES
from fapiao.support import api as support_api
from fapiao.support import attachments, schemas, service
from fapiao.support.schemas import MessageIn, TicketIn
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.routes import ticket_forms as forms
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
Supporter = Annotated[Actor, Depends(web_allow(permissions.SUPPORT))]
# Declared before the actor: a multipart form must be parsed for the CSRF check.
Parsed = Annotated[FormData | None, Depends(forms.parsed_form)]

NUMBER = re.compile(r"^T\d{6}-\d{6,12}$")
INVOICE_NUMBER = re.compile(r"\d{20}")
NEW_FIELDS = {"subject": 200, "category": 32, "body": 10000, "invoices": 1000, "contact_email": 254}
REPLY_FIELDS = {"body": 10000, "status": 16}
PAGE = 30


def _number(number: str) -> str:
    if not NUMBER.match(number):
        raise WebError(service.ticket_not_found(number[:20]))
    return number


def _common(platform: Platform) -> dict[str, Any]:
    limit = platform.settings.ticket_attachment_max_bytes
    return {
        "categories": forms.CATEGORY_LABELS,
        "invoice_statuses": INVOICE_STATUSES,
        "statuses": forms.STATUS_LABELS,
        "max_files": attachments.MAX_FILES,
        "max_size": forms.size_text(limit),
    }


@router.get("/ui/tickets")
def tickets_page(
    request: Request,
    platform: PlatformDep,
    actor: Supporter,
    status: str = "",
    before: str = "",
) -> Response:
    chosen = status if status in forms.STATUS_LABELS else None
    # A page link we wrote, or nothing: a mangled one shows the first page.
    cursor = (
        int(before) if before.isascii() and before.isdigit() and 0 < int(before) < 2**62 else None
    )
    with platform.database.transaction(write=False) as session:
        found = service.list_tickets(session, actor, status=chosen, before=cursor, limit=PAGE + 1)
        rows = schemas.summaries(session, found[:PAGE])
    following = found[PAGE - 1].id if len(found) > PAGE else None
    return render(
        request,
        "tickets.html",
        rows=rows,
        status=chosen or "",
        following=following,
        officer=actor.is_officer,
        **_common(platform),
    )


@router.get("/ui/tickets/new")
def new_ticket_page(
    request: Request, platform: PlatformDep, actor: Supporter, invoice: str = ""
) -> Response:
    linked = invoice if INVOICE_NUMBER.fullmatch(invoice) else ""
    values = {"subject": "", "category": "", "body": "", "invoices": linked, "contact_email": ""}
    return render(
        request, "ticket_new.html", values=values, errors=FormErrors(), **_common(platform)
    )


@router.post("/ui/tickets/new")
async def new_ticket_submit(
    request: Request, platform: PlatformDep, parsed: Parsed, actor: Supporter
) -> Response:
    values = await read_form(request, NEW_FIELDS)
    locale = request_locale(request)
    limit = platform.settings.ticket_attachment_max_bytes
    errors = FormErrors()
    raw = await forms.uploads_of(request, limit)
    uploads = await forms.checked_uploads(raw, limit, locale, errors)
    body = forms.validated(
        TicketIn,
        {
            "subject": values["subject"],
            "category": values["category"],
            "body": values["body"],
            "invoice_numbers": values["invoices"].replace(",", " ").split(),
            "contact_email": values["contact_email"] or None,
        },
        locale,
        errors,
    )
    if body is not None and not errors:

        def work() -> str:
            with service.saved(platform.settings.attachments_dir, uploads):
                with platform.database.transaction() as session:
                    ticket = service.create_ticket(
                        session,
                        actor,
                        subject=body.subject,
                        category=body.category,
                        body=body.body,
                        invoice_numbers=body.invoice_numbers,
                        contact_email=body.contact_email,
                        locale=actor.locale or locale,
                        now=platform.clock.now(),
                        uploads=uploads,
                    )
                    return ticket.number

        try:
            number = await run_in_threadpool(work)
        except FapiaoError as refused:
            # Another taxpayer's invoice is refused as a number that does not exist.
            errors = FormErrors.from_error(
                refused,
                locale,
                fields={"INVOICE_NOT_FOUND": "invoices"},
                aliases={"invoice_numbers": "invoices"},
            )
        else:
            return see_other(f"/ui/tickets/{number}")
    return render(
        request,
        "ticket_new.html",
        values=values,
        errors=errors,
        status_code=422,
        **_common(platform),
    )


def _thread(platform: Platform, actor: Actor, number: str) -> dict[str, Any]:
    try:
        with platform.database.transaction(write=False) as session:
            return schemas.detail(session, service.get_ticket(session, actor, number))
    except NotFound as missing:
        raise WebError(missing) from missing


def _thread_page(
    request: Request,
    platform: Platform,
    actor: Actor,
    number: str,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    ticket = _thread(platform, actor, number)
    return render(
        request,
        "ticket.html",
        ticket=ticket,
        officer=actor.is_officer,
        values=values or {"body": "", "status": "answered"},
        errors=errors or FormErrors(),
        status_code=status_code,
        **_common(platform),
    )


@router.get("/ui/tickets/{number}")
def ticket_page(request: Request, number: str, platform: PlatformDep, actor: Supporter) -> Response:
    return _thread_page(request, platform, actor, _number(number))


@router.post("/ui/tickets/{number}/messages")
async def reply_submit(
    request: Request, number: str, platform: PlatformDep, parsed: Parsed, actor: Supporter
) -> Response:
    number = _number(number)
    values = await read_form(request, REPLY_FIELDS)
    locale = request_locale(request)
    limit = platform.settings.ticket_attachment_max_bytes
    errors = FormErrors()
    uploads = await forms.checked_uploads(
        await forms.uploads_of(request, limit), limit, locale, errors
    )
    status = values["status"] if actor.is_officer and values["status"] else None
    body = forms.validated(MessageIn, {"body": values["body"], "status": status}, locale, errors)
    if body is not None and not errors:
        try:
            await run_in_threadpool(support_api.reply, platform, actor, number, body, uploads)
        except NotFound as missing:
            raise WebError(missing) from missing
        except FapiaoError as refused:
            errors = FormErrors.from_error(refused, locale)
        else:
            return see_other(f"/ui/tickets/{number}#latest")
    return _thread_page(
        request, platform, actor, number, values=values, errors=errors, status_code=422
    )


@router.post("/ui/tickets/{number}/close")
def close_submit(number: str, platform: PlatformDep, actor: Supporter) -> Response:
    number = _number(number)
    try:
        with platform.database.transaction() as session:
            service.close_ticket(session, actor, number, platform.clock.now())
    except NotFound as missing:
        raise WebError(missing) from missing
    return see_other(f"/ui/tickets/{number}")


@router.get("/ui/tickets/{number}/attachments/{attachment_id}")
def attachment_file(
    number: str, attachment_id: str, platform: PlatformDep, actor: Supporter
) -> Response:
    """The picture, to those who may see the ticket (shown inline: the page's thumbnails;
    its type was read from its bytes and nosniff is on every response)."""
    number = _number(number)
    if (
        not (attachment_id.isascii() and attachment_id.isdigit())
        or not 0 < int(attachment_id) < 2**62
    ):
        raise WebError(service.ticket_not_found(number))
    try:
        with platform.database.transaction(write=False) as session:
            found = service.get_attachment(session, actor, number, int(attachment_id))
            stored, filename, content_type = found.stored_name, found.filename, found.content_type
    except NotFound as missing:
        raise WebError(missing) from missing
    try:
        return attachments.served(
            platform.settings.attachments_dir,
            stored,
            filename,
            content_type,
            int(attachment_id),
            disposition="inline",
        )
    except NotFound as missing:
        raise WebError(missing) from missing
