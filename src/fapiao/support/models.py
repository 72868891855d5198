"""Support tickets: a thread of messages between a taxpayer's users and the tax bureau,
with linked invoices and screenshots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, BigId, UTCDateTime

CATEGORIES = (
    "invoice_missing",
    "issuing",
    "red_letter",
    "certification",
    "verification",
    "account",
    "other",
)
STATUSES = ("open", "answered", "waiting_user", "closed")


class Ticket(Base):
    """open → answered / waiting_user (an officer replied) → open (the user replied) →
    closed (either side); a user's reply reopens a closed ticket."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # The author's taxpayer; None for a ticket an officer opened.
    taxpayer_id: Mapped[int | None] = mapped_column(
        ForeignKey("taxpayers.id"), nullable=True, index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    # Where the notice of a reply goes (users have no address of their own); None: none.
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # The language the author wrote in, for the notice when the user has set none.
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TicketInvoice(Base):
    """An invoice the author linked; by number, so the link says nothing the author could
    not see, and the invoice's current status is read when the ticket is shown."""

    __tablename__ = "ticket_invoices"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    invoice_number: Mapped[str] = mapped_column(String(20), primary_key=True)


class TicketMessage(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    is_officer: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)  # plain text; may be empty beside attachments
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketAttachment(Base):
    """A checked PNG or JPEG kept as `stored_name` under the attachments directory; the
    client's file name is only shown, never used as a path."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("ticket_messages.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketCounter(Base):
    """The last ticket number of a month; one conditional upsert draws the next."""

    __tablename__ = "ticket_counters"

    month: Mapped[str] = mapped_column(String(6), primary_key=True)  # YYYYMM, Beijing time
    last: Mapped[int] = mapped_column(Integer)
