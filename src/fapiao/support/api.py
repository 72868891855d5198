"""Support tickets over HTTP: open, list, read, reply (with screenshots), close."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from fapiao.accounts.service import Actor
from fapiao.http.body import json_body, read_model
from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.problems import locale_of
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import Supporter
from fapiao.platform import Platform
from fapiao.settings import Settings
from fapiao.support import attachments, schemas, service
from fapiao.support.attachments import Upload
from fapiao.support.schemas import MessageIn, TicketIn

router = APIRouter(prefix="/api/v1", tags=["support"], responses=PROBLEMS)
TicketNumber = Annotated[str, Path(pattern=r"^T\d{6}-\d{6,12}$", max_length=20)]
AttachmentId = Annotated[int, Path(ge=1, le=2**62)]
MULTIPART = "multipart/form-data"
# The routes that take files, for the body limit (http.middleware.BodyLimit).
# The web pages' ticket forms take the same files (web/routes/tickets.py).
TICKET_UPLOADS = re.compile(
    r"^(/api/v1/tickets/[^/]{1,20}/(messages|attachments)|/ui/tickets/(new|[^/]{1,20}/messages))$"
)


def ticket_upload_limit(settings: Settings) -> int:
    """The largest request those routes take: five files at the limit, plus 64 KiB for
    the text (at most 10,000 characters) and the multipart framing. A single file over
    its limit is refused by the handler with a code naming it; a body over this is cut
    off with a 413 first."""
    return attachments.MAX_FILES * settings.ticket_attachment_max_bytes + 64 * 1024


def _files_schema(with_body: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "maxItems": attachments.MAX_FILES,
            "description": "PNG or JPEG screenshots, each at most "
            "FAPIAO_TICKET_ATTACHMENT_MAX_BYTES (5 MiB by default)",
        }
    }
    if with_body:
        properties["body"] = {"type": "string", "maxLength": schemas.BODY_LENGTH}
        properties["status"] = {"type": "string", "enum": ["answered", "waiting_user"]}
    return {"type": "object", "properties": properties}


_MESSAGE_BODY = json_body(MessageIn)
_MESSAGE_BODY["content"][MULTIPART] = {"schema": _files_schema(True)}
_FILES_BODY = {"required": True, "content": {MULTIPART: {"schema": _files_schema(False)}}}


def _detail(platform: Platform, actor: Actor, number: str) -> dict[str, Any]:
    with platform.database.transaction(write=False) as session:
        return schemas.detail(session, service.get_ticket(session, actor, number))


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None


async def _read_multipart(request: Request, max_bytes: int) -> tuple[dict[str, Any], list[Upload]]:
    """The form's text fields and its checked files. Each file is read to one byte past
    the limit at most, so an oversized one is never held whole."""
    # Starlette's own file cap answers a bare 400; ours (check_uploads) names the rule.
    # The body limit bounds what these few extra parts can hold.
    form = await request.form(max_files=50, max_fields=10)
    try:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "files"}
        raw: list[tuple[str | None, bytes]] = []
        for item in form.getlist("files"):
            if isinstance(item, UploadFile):
                raw.append((item.filename, await item.read(max_bytes + 1)))
    finally:
        await form.close()
    return fields, await run_in_threadpool(attachments.check_uploads, raw, max_bytes)


@router.post(
    "/tickets",
    status_code=201,
    response_model=schemas.TicketDetailOut,
    openapi_extra={"requestBody": json_body(TicketIn)},
)
async def create_ticket(request: Request, platform: PlatformDep, actor: Supporter) -> JSONResponse:
    """Open a ticket: subject, category, the problem, and invoices it is about (each one
    the caller's taxpayer can see; any other is reported as not found)."""
    body = await read_model(request, TicketIn)
    locale = actor.locale or locale_of(request)

    def work() -> dict[str, Any]:
        with platform.database.transaction() as session:
            ticket = service.create_ticket(
                session,
                actor,
                subject=body.subject,
                category=body.category,
                body=body.body,
                invoice_numbers=body.invoice_numbers,
                contact_email=body.contact_email,
                locale=locale,
                now=platform.clock.now(),
            )
            return schemas.detail(session, ticket)

    view = await run_in_threadpool(work)
    location = f"/api/v1/tickets/{view['number']}"
    return JSONResponse(view, status_code=201, headers={"Location": location})


@router.get("/tickets", response_model=schemas.TicketPage)
def list_tickets(
    platform: PlatformDep,
    actor: Supporter,
    status: schemas.Status | None = None,
    taxpayer_id: Annotated[
        int | None, Query(ge=1, le=2**62, description="officers: one taxpayer's tickets")
    ] = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JSONResponse:
    """Newest first: the caller's taxpayer's tickets, or for officers every ticket (the
    queue: `status=open`)."""
    with platform.database.transaction(write=False) as session:
        tickets = service.list_tickets(
            session, actor, status=status, taxpayer_id=taxpayer_id, before=cursor, limit=limit + 1
        )
        next_cursor = tickets[limit - 1].id if len(tickets) > limit else None
        items = schemas.summaries(session, tickets[:limit])
    return JSONResponse({"items": items, "next_cursor": next_cursor})


@router.get("/tickets/{number}", response_model=schemas.TicketDetailOut)
def get_ticket(number: TicketNumber, platform: PlatformDep, actor: Supporter) -> JSONResponse:
    """The thread: messages, attachments (metadata and download address), linked
    invoices with their status."""
    return JSONResponse(_detail(platform, actor, number))


@router.post(
    "/tickets/{number}/messages",
    status_code=201,
    response_model=schemas.TicketDetailOut,
    openapi_extra={"requestBody": _MESSAGE_BODY},
)
async def add_message(
    number: TicketNumber, request: Request, platform: PlatformDep, actor: Supporter
) -> JSONResponse:
    """Reply, as JSON or as a multipart form with up to 5 PNG/JPEG `files`. An officer's
    reply marks the ticket answered and e-mails the author; a user's reply reopens it."""
    uploads: list[Upload] = []
    if request.headers.get("content-type", "").startswith(MULTIPART):
        fields, uploads = await _read_multipart(
            request, platform.settings.ticket_attachment_max_bytes
        )
        body = _validated(MessageIn, fields)
    else:
        body = await read_model(request, MessageIn)

    detail = await run_in_threadpool(reply, platform, actor, number, body, uploads)
    return JSONResponse(detail, status_code=201)


def reply(
    platform: Platform, actor: Actor, number: str, body: MessageIn, uploads: list[Upload]
) -> dict[str, Any]:
    """Add a message with its pictures in one transaction (the files are removed again if
    it fails) and give the ticket as it is now (for the API and the web page alike)."""
    with service.saved(platform.settings.attachments_dir, uploads):
        with platform.database.transaction() as session:
            service.add_message(
                session,
                actor,
                number,
                body.body,
                platform.clock.now(),
                uploads=uploads,
                status=body.status,
            )
            return schemas.detail(session, service.get_ticket(session, actor, number))


@router.post(
    "/tickets/{number}/attachments",
    status_code=201,
    response_model=schemas.TicketDetailOut,
    openapi_extra={"requestBody": _FILES_BODY},
)
async def add_attachments(
    number: TicketNumber, request: Request, platform: PlatformDep, actor: Supporter
) -> JSONResponse:
    """Attach up to 5 PNG/JPEG `files` to the caller's own last message (when it is the
    last of the thread), or as a new message."""
    if not request.headers.get("content-type", "").startswith(MULTIPART):
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body", "files"), "msg": "", "input": None}]
        )
    _, uploads = await _read_multipart(request, platform.settings.ticket_attachment_max_bytes)
    if not uploads:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body", "files"), "msg": "", "input": None}]
        )

    def work() -> dict[str, Any]:
        with service.saved(platform.settings.attachments_dir, uploads):
            with platform.database.transaction() as session:
                service.add_attachments(session, actor, number, uploads, platform.clock.now())
                ticket = service.get_ticket(session, actor, number)
                return schemas.detail(session, ticket)

    return JSONResponse(await run_in_threadpool(work), status_code=201)


@router.get(
    "/tickets/{number}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "the file"}},
)
def get_attachment(
    number: TicketNumber, attachment_id: AttachmentId, platform: PlatformDep, actor: Supporter
) -> FileResponse:
    """The file, as a download in its checked type, to those who may see the ticket."""
    with platform.database.transaction(write=False) as session:
        attachment = service.get_attachment(session, actor, number, attachment_id)
        stored, filename, content_type = (
            attachment.stored_name,
            attachment.filename,
            attachment.content_type,
        )
    return attachments.served(
        platform.settings.attachments_dir, stored, filename, content_type, attachment_id
    )


@router.post("/tickets/{number}/close", response_model=schemas.TicketDetailOut)
def close_ticket(number: TicketNumber, platform: PlatformDep, actor: Supporter) -> JSONResponse:
    """Close the ticket (either side); the user may reopen it by replying."""
    with platform.database.transaction() as session:
        ticket = service.close_ticket(session, actor, number, platform.clock.now())
        return JSONResponse(schemas.detail(session, ticket))
