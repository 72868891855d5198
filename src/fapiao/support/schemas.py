"""What the ticket API takes and gives; the views are plain dicts the web pages can
render as well."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts.models import User
from fapiao.http.types import Text
from fapiao.invoices.models import Invoice
from fapiao.kit.mail import is_mail_address
from fapiao.support.models import (
    Ticket,
    TicketAttachment,
    TicketInvoice,
    TicketMessage,
)
from fapiao.taxpayers.models import Taxpayer

Category = Literal[
    "invoice_missing",
    "issuing",
    "red_letter",
    "certification",
    "verification",
    "account",
    "other",
]
Status = Literal["open", "answered", "waiting_user", "closed"]
BODY_LENGTH = 10000
MAX_LINKED = 20


def _address(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not is_mail_address(value):
        raise ValueError("not an e-mail address")
    return value


Email = Annotated[str | None, Field(default=None, max_length=254), AfterValidator(_address)]


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Text = Field(min_length=1, max_length=200)
    category: Category
    body: Text = Field(min_length=1, max_length=BODY_LENGTH)
    invoice_numbers: list[Annotated[str, Field(pattern=r"^\d{20}$")]] = Field(
        default_factory=list, max_length=MAX_LINKED
    )
    # Where to send the notice of a reply; none: no e-mail.
    contact_email: Email = None


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Text = Field(default="", max_length=BODY_LENGTH)
    # Officers only: `waiting_user` when the answer asks the user for something.
    status: Literal["answered", "waiting_user"] | None = None


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    width: int
    height: int
    sha256: str
    created_at: datetime
    url: str


class MessageOut(BaseModel):
    id: int
    author: str
    is_officer: bool
    body: str
    created_at: datetime
    attachments: list[AttachmentOut]


class LinkedInvoiceOut(BaseModel):
    number: str
    status: str | None


class TicketOut(BaseModel):
    number: str
    subject: str
    category: str
    status: str
    taxpayer_id: int | None
    taxpayer_tax_id: str | None
    author: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class TicketDetailOut(TicketOut):
    contact_email: str | None
    invoices: list[LinkedInvoiceOut]
    messages: list[MessageOut]


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: int | None


def summaries(session: Session, tickets: list[Ticket]) -> list[dict[str, Any]]:
    """The list view of tickets, with their authors and taxpayers in two queries."""
    users = _usernames(session, {ticket.author_id for ticket in tickets})
    ids = {ticket.taxpayer_id for ticket in tickets if ticket.taxpayer_id is not None}
    tax_ids = dict(
        session.execute(select(Taxpayer.id, Taxpayer.tax_id).where(Taxpayer.id.in_(ids))).all()
        if ids
        else []
    )
    return [_summary(ticket, users, tax_ids) for ticket in tickets]


def detail(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The whole thread: messages with their attachments' metadata, and the linked
    invoices with their current status."""
    messages = list(
        session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id)
            .order_by(TicketMessage.id)
        )
    )
    files: dict[int, list[TicketAttachment]] = {}
    for attachment in session.scalars(
        select(TicketAttachment)
        .where(TicketAttachment.ticket_id == ticket.id)
        .order_by(TicketAttachment.id)
    ):
        files.setdefault(attachment.message_id, []).append(attachment)
    linked = list(
        session.execute(
            select(TicketInvoice.invoice_number, Invoice.status)
            .outerjoin(Invoice, Invoice.number == TicketInvoice.invoice_number)
            .where(TicketInvoice.ticket_id == ticket.id)
            .order_by(TicketInvoice.invoice_number)
        ).all()
    )
    users = _usernames(session, {ticket.author_id} | {m.author_id for m in messages})
    (view,) = summaries(session, [ticket])
    view["author"] = users.get(ticket.author_id, "")
    view["contact_email"] = ticket.contact_email
    view["invoices"] = [{"number": number, "status": status} for number, status in linked]
    view["messages"] = [
        {
            "id": message.id,
            "author": users.get(message.author_id, ""),
            "is_officer": message.is_officer,
            "body": message.body,
            "created_at": message.created_at,
            "attachments": [
                attachment_view(ticket.number, item) for item in files.get(message.id, [])
            ],
        }
        for message in messages
    ]
    return view


def attachment_view(number: str, attachment: TicketAttachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "width": attachment.width,
        "height": attachment.height,
        "sha256": attachment.sha256,
        "created_at": attachment.created_at,
        "url": f"/api/v1/tickets/{number}/attachments/{attachment.id}",
    }


def _summary(ticket: Ticket, users: dict[int, str], tax_ids: dict[int, str]) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "category": ticket.category,
        "status": ticket.status,
        "taxpayer_id": ticket.taxpayer_id,
        "taxpayer_tax_id": tax_ids.get(ticket.taxpayer_id) if ticket.taxpayer_id else None,
        "author": users.get(ticket.author_id, ""),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "closed_at": ticket.closed_at,
    }


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
