"""The invoice's timeline: everything that happened to it, for its parties and officers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.invoices.models import Invoice
from fapiao.invoices.service import can_see, not_found
from fapiao.ledger.models import LedgerEntry
from fapiao.mail import service as mail
from fapiao.mail.models import MAIL_EVENT
from fapiao.maintenance.service import windows_since as maintenance_windows
from fapiao.outbox.models import OutboxEvent
from fapiao.redletter.models import RedLetterForm
from fapiao.trace.service import ReplicaLook, checks_today
from fapiao.webhooks.models import Delivery, Webhook


def timeline(
    session: Session,
    actor: Actor,
    number: str,
    now: datetime,
    replicas: ReplicaLook | None = None,
    mail_server: bool = True,
) -> dict[str, Any]:
    """Everything that happened to an invoice, oldest first (404 unless a party), and
    each read replica's lag at the time of asking. The buyer's e-mail notice is shown to
    every party; `mail_server` says whether one is configured (a notice waits for it
    otherwise)."""
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None or not can_see(actor, invoice):
        raise not_found(number)
    events: list[dict[str, Any]] = []
    for entry in session.scalars(
        select(LedgerEntry).where(LedgerEntry.subject == number).order_by(LedgerEntry.seq)
    ):
        events.append(
            {
                "at": entry.recorded_at.isoformat(),
                "kind": "recorded",
                "document": entry.kind,
                "journal_seq": entry.seq,
                "entry_hash": entry.entry_hash,
            }
        )
    own = None if actor.is_officer else actor.taxpayer_id
    delivery_query = (
        select(Delivery, Webhook.taxpayer_id)
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.subject == number)
        .order_by(Delivery.id)
    )
    if own is not None:
        delivery_query = delivery_query.where(Webhook.taxpayer_id == own)
    for delivery, _taxpayer in session.execute(delivery_query).all():
        events.append(
            {
                "at": delivery.created_at.isoformat(),
                "kind": "delivery",
                "event_type": delivery.event_type,
                "event_id": delivery.event_id,
                "webhook_id": delivery.webhook_id,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "last_error": delivery.last_error,
                "delivered_at": delivery.delivered_at.isoformat()
                if delivery.delivered_at
                else None,
                "dead_lettered": delivery.status == "dead",
            }
        )
    outbox_query = select(OutboxEvent).where(
        OutboxEvent.subject == number,
        OutboxEvent.status == "pending",
        OutboxEvent.event_type != MAIL_EVENT,  # shown below with the mail state
    )
    if own is not None:
        outbox_query = outbox_query.where(OutboxEvent.taxpayer_id == own)
    for event in session.scalars(outbox_query):
        events.append(
            {
                "at": event.created_at.isoformat(),
                "kind": "event_waiting",
                "event_type": event.event_type,
                "event_id": event.event_id,
                "pending_since": event.created_at.isoformat(),
            }
        )
    events.extend(mail.timeline_entries(session, number, mail_server))
    for window in maintenance_windows(session, invoice.issued_at, now):
        events.append(
            {
                "at": window.starts_at.isoformat(),
                "kind": "maintenance",
                "until": window.until.isoformat(),
                "ended_at": window.ended_at.isoformat() if window.ended_at else None,
            }
        )
    for form in session.scalars(
        select(RedLetterForm).where(RedLetterForm.blue_number == number).order_by(RedLetterForm.id)
    ):
        events.append(
            {
                "at": form.created_at.isoformat(),
                "kind": "red_letter_form",
                "form_id": form.id,
                "state": form.state,
                "initiator": form.initiator,
                "decided_at": form.decided_at.isoformat() if form.decided_at else None,
                "red_invoice_number": form.red_invoice_number,
            }
        )
    events.sort(key=lambda item: item["at"])
    certification = None
    if invoice.cert_period is not None:
        certification = {"period": invoice.cert_period, "purpose": invoice.cert_purpose}
    views = replicas(invoice) if replicas else []
    lags = [view.lag_seconds for view in views if view.lag_seconds is not None]
    return {
        "number": number,
        "status": invoice.status,
        "issued_at": invoice.issued_at.isoformat(),
        "voided_at": invoice.voided_at.isoformat() if invoice.voided_at else None,
        "certification": certification,
        "verification_checks_today": checks_today(session, number, now),
        # None without replicas; else the largest lag of those that answered.
        "replica_lag_seconds": max(lags) if lags else None,
        "replicas": [view.as_dict() for view in views],
        "timeline": events,
    }
