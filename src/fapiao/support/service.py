"""Support tickets: opening, answering, closing, and who may see which.

A ticket belongs to its author's taxpayer: every user of that taxpayer may read and
answer it; officers read and answer every ticket. To anyone else it does not exist (404,
the same answer as a wrong number). Services never commit; files are written by the
caller around the transaction (see `saved`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fapiao.accounts.models import User
from fapiao.accounts.service import Actor
from fapiao.invoices import service as invoices
from fapiao.kit.clock import local_date, month_key
from fapiao.kit.errors import N_, Conflict, NotFound, invalid
from fapiao.mail.models import MailMessage
from fapiao.mail.notice import TICKET_REPLY
from fapiao.support import attachments
from fapiao.support.attachments import Upload
from fapiao.support.models import (
    Ticket,
    TicketAttachment,
    TicketCounter,
    TicketInvoice,
    TicketMessage,
)

# The payload type of a reply notice in mail_messages (see fapiao.mail.notice).
REPLY_MAIL = TICKET_REPLY
OFFICER_STATUSES = ("answered", "waiting_user")


def ticket_not_found(number: str) -> NotFound:
    return NotFound(
        "TICKET_NOT_FOUND", N_("Ticket {number} was not found."), params={"number": number}
    )


def next_number(session: Session, now: datetime) -> str:
    """The next ticket number of the month (Beijing time), e.g. T202612-000123: one
    atomic upsert on the month's counter row, so concurrent writers on PostgreSQL never
    draw the same number (the row stays locked until their transaction ends)."""
    month = month_key(local_date(now))
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(TicketCounter)
        .values(month=month, last=1)
        .on_conflict_do_update(index_elements=["month"], set_={"last": TicketCounter.last + 1})
        .returning(TicketCounter.last)
    )
    last = int(session.execute(statement).scalar_one())
    return f"T{month}-{last:06d}"


def can_see(actor: Actor, ticket: Ticket) -> bool:
    if actor.is_officer:
        return True
    return actor.taxpayer_id is not None and actor.taxpayer_id == ticket.taxpayer_id


def get_ticket(session: Session, actor: Actor, number: str, *, for_update: bool = False) -> Ticket:
    """The ticket if the actor may see it; otherwise 404, as if it did not exist."""
    query = select(Ticket).where(Ticket.number == number)
    if for_update:
        query = query.with_for_update()
    ticket = session.scalar(query)
    if ticket is None or not can_see(actor, ticket):
        raise ticket_not_found(number)
    return ticket


def create_ticket(
    session: Session,
    actor: Actor,
    *,
    subject: str,
    category: str,
    body: str,
    invoice_numbers: Sequence[str],
    contact_email: str | None,
    locale: str,
    now: datetime,
    uploads: Sequence[Upload] = (),
) -> Ticket:
    """A new open ticket with its first message. Each linked invoice must be one the
    actor's taxpayer sees as seller or buyer; any other number is refused with the very
    error of a number that does not exist (INVOICE_NOT_FOUND), so a link reveals nothing."""
    numbers = list(dict.fromkeys(invoice_numbers))
    for number in numbers:
        invoices.get_visible(session, actor, number)
    ticket = Ticket(
        number=next_number(session, now),
        taxpayer_id=None if actor.is_officer else actor.taxpayer_id,
        author_id=actor.user_id,
        subject=subject,
        category=category,
        status="open",
        contact_email=contact_email,
        locale=locale,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    for number in numbers:
        session.add(TicketInvoice(ticket_id=ticket.id, invoice_number=number))
    _new_message(session, actor, ticket, body, uploads, now)
    return ticket


def add_message(
    session: Session,
    actor: Actor,
    number: str,
    body: str,
    now: datetime,
    *,
    uploads: Sequence[Upload] = (),
    status: str | None = None,
) -> TicketMessage:
    """A reply in the thread. An officer's reply makes the ticket `answered` (or
    `waiting_user` when asked) and sends the author a notice; a user's reply makes it
    `open` again, reopening a closed ticket. Officers cannot reply to a closed ticket."""
    ticket = get_ticket(session, actor, number, for_update=True)
    if not body.strip() and not uploads:
        raise invalid("body", "FIELD_REQUIRED", N_("Write a message or attach a file."))
    if status is not None and not actor.is_officer:
        raise invalid("status", "OFFICERS_ONLY", N_("Only officers set the status of a reply."))
    return _reply(session, actor, ticket, body, uploads, now, status)


def add_attachments(
    session: Session, actor: Actor, number: str, uploads: Sequence[Upload], now: datetime
) -> TicketMessage:
    """Attach files to the actor's own last message when it is the last in the thread
    and has room, on a ticket not closed; otherwise they come as a new message (a reply
    like any other)."""
    ticket = get_ticket(session, actor, number, for_update=True)
    last = session.scalar(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.id.desc())
        .limit(1)
    )
    # Files for a closed ticket are a reply: they reopen it (or are refused to officers).
    if last is not None and last.author_id == actor.user_id and ticket.status != "closed":
        held = session.scalar(
            select(func.count())
            .select_from(TicketAttachment)
            .where(TicketAttachment.message_id == last.id)
        )
        if int(held or 0) + len(uploads) <= attachments.MAX_FILES:
            _attach(session, actor, ticket, last, uploads, now)
            ticket.updated_at = now
            return last
    return _reply(session, actor, ticket, "", uploads, now, None)


def close_ticket(session: Session, actor: Actor, number: str, now: datetime) -> Ticket:
    """Either side may close; closing a closed ticket changes nothing."""
    ticket = get_ticket(session, actor, number, for_update=True)
    if ticket.status != "closed":
        ticket.status = "closed"
        ticket.closed_at = now
        ticket.updated_at = now
    return ticket


def list_tickets(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    taxpayer_id: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[Ticket]:
    """Newest first, a page at a time (`before`: the id the last page ended at). A
    taxpayer's users get their taxpayer's tickets; officers everyone's, or one
    taxpayer's with `taxpayer_id`."""
    query = select(Ticket)
    if actor.is_officer:
        if taxpayer_id is not None:
            query = query.where(Ticket.taxpayer_id == taxpayer_id)
    else:
        if actor.taxpayer_id is None or taxpayer_id not in (None, actor.taxpayer_id):
            return []
        query = query.where(Ticket.taxpayer_id == actor.taxpayer_id)
    if status is not None:
        query = query.where(Ticket.status == status)
    if before is not None:
        query = query.where(Ticket.id < before)
    return list(session.scalars(query.order_by(Ticket.id.desc()).limit(limit)))


def get_attachment(
    session: Session, actor: Actor, number: str, attachment_id: int
) -> TicketAttachment:
    """An attachment of a ticket the actor may see; 404 otherwise."""
    ticket = get_ticket(session, actor, number)
    attachment = session.get(TicketAttachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        raise NotFound(
            "ATTACHMENT_NOT_FOUND",
            N_("Attachment {id} was not found."),
            params={"id": attachment_id},
        )
    return attachment


@contextmanager
def saved(root: Path, uploads: Sequence[Upload]) -> Iterator[None]:
    """Write the checked files before the transaction that records them; if the block
    fails (a refusal, a failed commit), they are deleted again, so no file is left
    without its row. A crash in between can leave an unreferenced file, never a row
    without its file."""
    written: list[str] = []
    try:
        for upload in uploads:
            attachments.write(root, upload.stored_name, upload.data)
            written.append(upload.stored_name)
        yield
    except BaseException:
        attachments.remove(root, written)
        raise


def _reply(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    body: str,
    uploads: Sequence[Upload],
    now: datetime,
    status: str | None,
) -> TicketMessage:
    if actor.is_officer:
        if ticket.status == "closed":
            raise Conflict(
                "TICKET_CLOSED",
                N_("Ticket {number} is closed; the user may reopen it by replying."),
                params={"number": ticket.number},
            )
        ticket.status = status or "answered"
    else:
        ticket.status = "open"
        ticket.closed_at = None
    message = _new_message(session, actor, ticket, body, uploads, now)
    if actor.is_officer and ticket.author_id != actor.user_id:
        _notify_author(session, ticket, now)
    return message


def _new_message(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    body: str,
    uploads: Sequence[Upload],
    now: datetime,
) -> TicketMessage:
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=actor.user_id,
        is_officer=actor.is_officer,
        body=body,
        created_at=now,
    )
    session.add(message)
    session.flush()
    _attach(session, actor, ticket, message, uploads, now)
    ticket.updated_at = now
    return message


def _attach(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    message: TicketMessage,
    uploads: Sequence[Upload],
    now: datetime,
) -> None:
    for upload in uploads:
        session.add(
            TicketAttachment(
                ticket_id=ticket.id,
                message_id=message.id,
                stored_name=upload.stored_name,
                filename=upload.filename,
                content_type=upload.content_type,
                size=len(upload.data),
                width=upload.width,
                height=upload.height,
                sha256=upload.sha256,
                uploaded_by=actor.user_id,
                created_at=now,
            )
        )


def _notify_author(session: Session, ticket: Ticket, now: datetime) -> None:
    """Queue the author's notice of an officer's reply in this transaction, in the
    author's language; an author with no address gets none (and that is no error)."""
    author = session.get(User, ticket.author_id)
    if author is None:
        return
    # Users carry no address of their own yet; one given later wins over the ticket's.
    address = getattr(author, "email", None) or ticket.contact_email
    if not address:
        return
    payload = {
        "type": REPLY_MAIL,
        "to": address,
        "number": ticket.number,
        "subject": ticket.subject,
        "locale": author.locale or ticket.locale,
    }
    session.add(
        MailMessage(
            event_id=str(uuid.uuid4()),
            taxpayer_id=ticket.taxpayer_id or 0,
            subject=ticket.number,
            to_address=address,
            payload=json.dumps(payload, ensure_ascii=False),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
