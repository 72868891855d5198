"""Reading the ticket forms: multipart bodies (text and screenshots) and refusals shown
next to their fields. The rules are the ticket API's: the same schema (TicketIn,
MessageIn) and the same file checks (support.attachments.check_uploads)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from fapiao.accounts import sessions
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.support import attachments
from fapiao.support.attachments import Upload
from fapiao.web.forms import FormErrors

CATEGORY_LABELS = {
    "invoice_missing": N_("An invoice is missing"),
    "issuing": N_("Issuing invoices"),
    "red_letter": N_("Red-letter forms"),
    "certification": N_("Certification"),
    "verification": N_("Verification"),
    "account": N_("My account"),
    "other": N_("Something else"),
}
STATUS_LABELS = {
    "open": N_("Waiting for an answer"),
    "answered": N_("Answered"),
    "waiting_user": N_("Waiting for the user"),
    "closed": N_("Closed"),
}
NOT_A_PICTURE = N_("“{filename}” is not a PNG or JPEG picture.")
TOO_LARGE = N_("“{filename}” is larger than {size}.")
TOO_MANY = N_("At most {max} files per message.")
REQUIRED = N_("This field is required.")
TOO_LONG = N_("At most {max_length} characters.")
BAD_NUMBER = N_("An invoice number has 20 digits: {value}")
BAD_EMAIL = N_("Not an e-mail address.")
BAD_CHOICE = N_("Choose one of the options.")
TOO_MANY_LINKS = N_("At most {max} invoices.")


def size_text(size: int) -> str:
    """A byte count as people read it (5 MB)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(1, size // 1024)} KB"


async def parsed_form(request: Request) -> AsyncIterator[FormData | None]:
    """Parse a multipart POST before the actor dependency runs, so its CSRF check finds
    the token field in the parsed form (http.csrf.submitted_token). Only with a session
    cookie: without one the page redirects to sign in and the body is never read. The
    spooled files are closed when the request is done."""
    if request.method != "POST" or not request.cookies.get(sessions.COOKIE):
        yield None
        return
    form = await request.form(max_files=20, max_fields=20)
    try:
        yield form
    finally:
        await form.close()


async def uploads_of(request: Request, max_bytes: int) -> list[tuple[str | None, bytes]]:
    """The chosen files as (client's name, bytes up to one past the limit). A file input
    left empty sends one part without a name or bytes: that is no file."""
    form = await request.form()
    raw: list[tuple[str | None, bytes]] = []
    for item in form.getlist("files"):
        if isinstance(item, UploadFile):
            data = await item.read(max_bytes + 1)
            if item.filename or data:
                raw.append((item.filename, data))
    return raw


async def checked_uploads(
    raw: list[tuple[str | None, bytes]], max_bytes: int, locale: str, errors: FormErrors
) -> list[Upload]:
    """The files that pass the API's checks; otherwise each refusal goes to the `files`
    field, naming the file, and the list is empty."""
    try:
        return await run_in_threadpool(attachments.check_uploads, raw, max_bytes)
    except FapiaoError as refused:
        for item in refused.errors:
            index = item.field.removeprefix("files[").rstrip("]")
            name = (
                raw[int(index)][0]
                if index.isascii() and index.isdigit() and int(index) < len(raw)
                else ""
            )
            name = name or "?"
            if item.code == "ATTACHMENT_NOT_AN_IMAGE":
                message = translate(NOT_A_PICTURE, locale, filename=name)
            elif item.code == "ATTACHMENT_TOO_LARGE":
                message = translate(TOO_LARGE, locale, filename=name, size=size_text(max_bytes))
            else:
                message = translate(TOO_MANY, locale, max=attachments.MAX_FILES)
            _append(errors, "files", message)
        return []


def _append(errors: FormErrors, name: str, message: str) -> None:
    """Several messages for one field (each bad file) are shown together."""
    if name in errors.fields:
        errors.fields[name] += " " + message
    else:
        errors.add(name, message)


def validated(model: type[BaseModel], data: dict[str, Any], locale: str, errors: FormErrors) -> Any:
    """The body as the API's schema reads it, or None with each problem on its field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for item in exc.errors():
            location = item["loc"]
            name = str(location[0]) if location else ""
            kind = item["type"]
            context = item.get("ctx") or {}
            if name == "invoice_numbers":
                if kind == "too_long":
                    message = translate(TOO_MANY_LINKS, locale, max=context.get("max_length", 0))
                else:
                    message = translate(BAD_NUMBER, locale, value=str(item.get("input", "")))
                name = "invoices"
            elif name == "contact_email":
                message = translate(BAD_EMAIL, locale)
            elif kind in ("missing", "string_too_short"):
                message = translate(REQUIRED, locale)
            elif kind == "string_too_long":
                message = translate(TOO_LONG, locale, max_length=context.get("max_length", 0))
            else:
                message = translate(BAD_CHOICE, locale)
            errors.add(name or None, message)
        return None
