"""The text of the notice a ticket's author gets when an officer replies: the author's
language first, then the other one. It names the ticket and asks the author to sign in;
the reply itself stays on the platform, not in a mailbox."""

from __future__ import annotations

from typing import Any

from fapiao.kit.errors import N_
from fapiao.kit.i18n import LOCALES, translate

SUBJECT = N_("Reply to your support ticket {number}")
BODY = (
    N_("The tax bureau has replied to your support ticket."),
    "",
    N_("Ticket: {number}"),
    N_("Subject: {subject}"),
    "",
    N_("Sign in to the platform to read the reply and answer it."),
    "",
    N_("This notice was sent automatically; please do not reply."),
)


def languages(preferred: str | None) -> list[str]:
    first = preferred if preferred in LOCALES else "zh-CN"
    return [first, *(locale for locale in ("zh-CN", "en") if locale != first)]


def render(payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, plain-text body) of a reply notice."""
    params = {"number": payload["number"], "subject": payload["subject"]}
    order = languages(payload.get("locale"))
    subject = " / ".join(translate(SUBJECT, locale, **params) for locale in order)
    sections = [
        "\n".join(translate(line, locale, **params) if line else "" for line in BODY)
        for locale in order
    ]
    return subject, "\n\n-----\n\n".join(sections) + "\n"
