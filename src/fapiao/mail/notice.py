"""The text of the buyer's notice: zh-CN first, then English, in one plain-text part."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.kit.mail import domain_of
from fapiao.support import notice as ticket_notice

# Payload type of a support-ticket reply notice (written by fapiao.support.service).
TICKET_REPLY = "mail.ticket_reply"

SUBJECT = N_("Invoice {number} from {seller}")
BODY = (
    N_("Dear {buyer},"),
    "",
    N_("An electronic invoice has been issued to you."),
    "",
    N_("Invoice number: {number}"),
    N_("Issue date: {date}"),
    N_("Seller: {seller}"),
    N_("Seller's taxpayer ID: {seller_tax_id}"),
    N_("Total with tax: CNY {total}"),
    "",
    N_(
        "Anyone can verify it publicly, without an account, through the platform's invoice "
        "verification (查验, POST /api/v1/verify) with the invoice number, the issue date and "
        "the total with tax."
    ),
    "",
    N_("This notice was sent automatically; please do not reply."),
)
LANGUAGES = ("zh-CN", "en")


def message_id(event_id: str, sender: str) -> str:
    """The same for every attempt of one notice, so a receiver can drop repeats."""
    return f"<{event_id}@{domain_of(sender)}>"


def compose(payload: dict[str, Any], event_id: str, sender: str, now: datetime) -> EmailMessage:
    if payload.get("type") == TICKET_REPLY:
        subject, text = ticket_notice.render(payload)
        return _message(payload["to"], subject, text, event_id, sender, now)
    params = {
        "number": payload["number"],
        "buyer": payload["buyer_name"],
        "seller": payload["seller_name"],
        "seller_tax_id": payload["seller_tax_id"],
        "date": payload["issue_date"],
        "total": payload["total_with_tax"],
    }
    subject = " / ".join(translate(SUBJECT, locale, **params) for locale in LANGUAGES)
    sections = [
        "\n".join(translate(line, locale, **params) if line else "" for line in BODY)
        for locale in LANGUAGES
    ]
    return _message(
        payload["to"], subject, "\n\n-----\n\n".join(sections) + "\n", event_id, sender, now
    )


def _message(
    to: str, subject: str, text: str, event_id: str, sender: str, now: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(event_id, sender)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, charset="utf-8")
    return message
