"""Plain words for invoice fields and for the events of an invoice's timeline, as the
invoice pages show them (English msgids, translated per page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from fapiao.invoices.rules import RATE_DISPLAY
from fapiao.kit.clock import CST
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.redletter import rules as redletter

KINDS: Final = {"special": N_("special"), "ordinary": N_("ordinary")}
MEDIA: Final = {"electronic": N_("electronic"), "paper": N_("paper")}
STATUSES: Final = {
    "normal": N_("normal"),
    "partially_reversed": N_("partially reversed"),
    "fully_reversed": N_("fully reversed"),
    "voided": N_("voided"),
}
PURPOSES: Final = {"deduct": N_("deduct input tax"), "no_deduct": N_("not deducted")}
SORTS: Final = {
    "-issue_date": N_("Issue date, newest first"),
    "issue_date": N_("Issue date, oldest first"),
    "-total_with_tax": N_("Total with tax, largest first"),
    "total_with_tax": N_("Total with tax, smallest first"),
}
DOCUMENTS: Final = {
    "invoice.issued": N_("Issued and recorded in the ledger (entry {seq})."),
    "invoice.voided": N_("Voided; recorded in the ledger (entry {seq})."),
    "certification.changed": N_("Certification changed; recorded in the ledger (entry {seq})."),
}
EVENTS: Final = {
    "invoice.issued": N_("invoice issued"),
    "invoice.received": N_("invoice received"),
    "invoice.voided": N_("invoice voided"),
    "invoice.reversed": N_("invoice reversed"),
    "certification.changed": N_("certification changed"),
    "redletter.requested": N_("red-letter form filed"),
    "redletter.decided": N_("red-letter form answered"),
}
FORM_STATES: Final = {
    redletter.NO_CONFIRMATION: N_("issued without confirmation"),
    redletter.SELLER_AWAITING_BUYER: N_("waiting for the buyer"),
    redletter.BUYER_AWAITING_SELLER: N_("waiting for the seller"),
    redletter.CONFIRMED: N_("agreed"),
    redletter.VOID_BUYER_REFUSED: N_("refused by the buyer"),
    redletter.VOID_SELLER_REFUSED: N_("refused by the seller"),
    redletter.VOID_LAPSED: N_("lapsed"),
    redletter.VOID_WITHDRAWN: N_("withdrawn"),
}


CONFIRM_VOID: Final = N_("Tick the box to confirm that this invoice is to be voided.")


def rate(value: str) -> str:
    return RATE_DISPLAY.get(value, value)


def local_time(text: str | None) -> str:
    """An ISO instant as Beijing time, to the minute."""
    if not text:
        return ""
    return datetime.fromisoformat(text).astimezone(CST).strftime("%Y-%m-%d %H:%M")


def _event_name(event_type: str, locale: str) -> str:
    name = EVENTS.get(event_type)
    return f"“{translate(name, locale)}”" if name else event_type


def event_text(event: dict[str, Any], locale: str) -> str:
    """One timeline entry (trace/timeline.py) as a sentence."""
    kind = event["kind"]
    if "event_type" in event:
        event = {**event, "event_type": _event_name(event["event_type"], locale)}
    if kind == "recorded":
        message = DOCUMENTS.get(
            event["document"], N_("Recorded in the ledger as {document} (entry {seq}).")
        )
        return translate(message, locale, seq=event["journal_seq"], document=event["document"])
    if kind == "delivery":
        if event["status"] == "delivered":
            message = N_("Event {event} delivered to your webhook.")
        elif event["status"] == "dead":
            message = N_("Event {event} could not be delivered to your webhook: {error}.")
        else:
            message = N_("Event {event} is being delivered to your webhook ({attempts} tries).")
        return translate(
            message,
            locale,
            event=event["event_type"],
            error=event.get("last_error") or "-",
            attempts=event.get("attempts", 0),
        )
    if kind == "event_waiting":
        return translate(
            N_("Event {event} is waiting to be sent."), locale, event=event["event_type"]
        )
    if kind == "mail":
        messages = {
            "sent": N_("E-mail notice sent to {to}."),
            "dead": N_("E-mail notice to {to} failed: {error}."),
        }
        message = messages.get(event["status"], N_("E-mail notice to {to} is waiting to be sent."))
        return translate(message, locale, to=event["to"], error=event.get("last_error") or "-")
    if kind == "maintenance":
        return translate(
            N_("Platform maintenance until {until}."), locale, until=local_time(event["until"])
        )
    if kind == "red_letter_form":
        state = FORM_STATES.get(event["state"], event["state"])
        text = translate(
            N_("Red-letter form {id}: {state}."),
            locale,
            id=event["form_id"],
            state=translate(state, locale),
        )
        if event.get("red_invoice_number"):
            text += " " + translate(
                N_("Red invoice {number}."), locale, number=event["red_invoice_number"]
            )
        return text
    return translate(N_("Event: {kind}."), locale, kind=kind)
