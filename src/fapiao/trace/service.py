""" "Where is my invoice, and why can't I see it?" (domain.md §12).

`diagnose` answers any signed-in user with one stable code per case, saying no more than
the caller may know: someone who is neither party learns only that they are not a party.
`timeline` is the whole story of an invoice, for its seller, its buyer and officers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.crypto.personal import shown_buyer_id
from fapiao.db import Database
from fapiao.invoices.models import Invoice
from fapiao.invoices.service import can_see
from fapiao.kit.clock import local_date
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.maintenance.service import Window
from fapiao.outbox.models import OutboxEvent
from fapiao.settings import Settings
from fapiao.taxpayers.models import Taxpayer
from fapiao.verification.models import VerificationCount
from fapiao.webhooks.models import Delivery, Webhook

NUMBER = re.compile(r"^\d{20}$")


@dataclass(frozen=True)
class Diagnosis:
    code: str
    message: str  # translatable, with {params}
    hint: str  # translatable, with {params}
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplicaView:
    """One read replica at the time of asking, and what it shows of one invoice."""

    name: str
    up: bool
    lag_bytes: int | None = None
    lag_seconds: float | None = None
    status: str | None = None  # the invoice's status there; None when it is not there
    current: bool = False  # it shows the invoice as the primary does

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "up": self.up,
            "lag_bytes": self.lag_bytes,
            "lag_seconds": self.lag_seconds,
            "has_invoice": self.status is not None,
            "current": self.current,
        }


def replica_views(database: Database, number: str, status: str | None) -> list[ReplicaView]:
    """Every replica's lag now, and whether it shows invoice `number` with `status` (as
    the primary does). A replica that is down or passed over is reported as not up."""
    if not database.replicas:
        return []
    primary = database.wal_position()
    serving = {replica.name for replica in database.replicas.candidates()}
    views = []
    for replica in database.replicas.replicas:
        measured = replica.status(primary)
        if not measured.up or replica.name not in serving:
            views.append(ReplicaView(replica.name, up=False))
            continue
        try:
            with replica.session() as session:
                seen = session.scalar(select(Invoice.status).where(Invoice.number == number))
        except DBAPIError:
            views.append(ReplicaView(replica.name, up=False))
            continue
        views.append(
            ReplicaView(
                replica.name,
                True,
                measured.lag_bytes,
                measured.lag_seconds,
                seen,
                seen is not None and seen == status,
            )
        )
    return views


ReplicaLook = Callable[[Invoice], list[ReplicaView]]


def replica_look(database: Database) -> ReplicaLook:
    """`replica_views` for an invoice, asked once however often it is called."""
    seen: dict[str, list[ReplicaView]] = {}

    def look(invoice: Invoice) -> list[ReplicaView]:
        if invoice.number not in seen:
            seen[invoice.number] = replica_views(database, invoice.number, invoice.status)
        return seen[invoice.number]

    return look


def diagnose(
    session: Session,
    actor: Actor,
    number: str,
    now: datetime,
    settings: Settings,
    expected_buyer: str | None = None,
    replicas: ReplicaLook | None = None,
    maintenance: Window | None = None,
) -> Diagnosis:
    params: dict[str, Any] = {"number": number}
    if not NUMBER.match(number):
        return Diagnosis(
            "NUMBER_MALFORMED",
            N_("{number} is not an invoice number: a fully digital invoice number has 20 digits."),
            N_("Copy the number from the invoice itself (发票号码), not the order or tax ID."),
            params,
        )
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        region = number[2:4]
        if region != settings.region:
            return Diagnosis(
                "OTHER_REGION",
                N_("Invoice {number} was not issued on this platform."),
                N_("Its digits 3–4 ({region}) name another region; ask that region's platform."),
                {**params, "region": region},
            )
        if maintenance is not None:
            return in_maintenance(maintenance, params)
        return Diagnosis(
            "NOT_ISSUED",
            N_("No invoice {number} has been issued."),
            N_(
                "A rejected request never becomes an invoice. Ask the seller for the number "
                "in their 201 answer or receipt, and check it digit by digit."
            ),
            params,
        )
    if not can_see(actor, invoice):
        return Diagnosis(
            "NOT_A_PARTY",
            N_("You are neither the seller nor the buyer of invoice {number}."),
            N_(
                "Only the seller, the buyer named on it and tax officers can see an invoice. "
                "If it should be yours, ask the seller which buyer tax ID they entered."
            ),
            params,
        )
    behind = [
        view for view in (replicas(invoice) if replicas else []) if view.up and not view.current
    ]
    if behind:
        worst = max(behind, key=lambda view: (view.lag_seconds or 0.0, view.lag_bytes or 0))
        return Diagnosis(
            "REPLICA_BEHIND",
            N_(
                "Invoice {number} is issued, but read replica {replica}, which may serve your "
                "reads, has not caught up with it yet: it is {seconds} s ({bytes} bytes) behind."
            ),
            N_(
                "Reads that send the X-Fapiao-Consistency header of the write that issued or "
                "changed it always see it; others see it once the replica catches up."
            ),
            {
                **params,
                "replica": worst.name,
                "seconds": "?" if worst.lag_seconds is None else f"{worst.lag_seconds:.1f}",
                "bytes": "?" if worst.lag_bytes is None else worst.lag_bytes,
                "lag_seconds": worst.lag_seconds,
                "lag_bytes": worst.lag_bytes,
            },
        )
    return _visible_case(session, actor, invoice, now, settings, expected_buyer)


def in_maintenance(window: Window, params: dict[str, Any]) -> Diagnosis:
    return Diagnosis(
        "MAINTENANCE",
        N_(
            "The platform is in maintenance until {until} (Beijing time) and issues no "
            "invoice until then; invoice {number} has not been issued."
        ),
        N_(
            "Requests to issue are refused with 503 during maintenance; send them again "
            "after {until}. Reading and verification keep working."
        ),
        {**params, "until": window.until_local(), "until_at": window.until.isoformat()},
    )


def _visible_case(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    now: datetime,
    settings: Settings,
    expected_buyer: str | None,
) -> Diagnosis:
    buyer_id = shown_buyer_id(invoice)
    params: dict[str, Any] = {"number": invoice.number, "buyer_tax_id": buyer_id}
    is_seller = actor.is_officer or invoice.seller_id == actor.taxpayer_id
    if invoice.status == "voided":
        return Diagnosis(
            "VOIDED",
            N_("Invoice {number} was voided on {date}."),
            N_("A voided invoice stays on record but is no longer valid; ask for a new one."),
            {**params, "date": local_date(invoice.voided_at or now).isoformat()},
        )
    if invoice.status == "fully_reversed":
        reds = list(session.scalars(select(Invoice.number).where(Invoice.red_of == invoice.number)))
        return Diagnosis(
            "REVERSED",
            N_("Invoice {number} was fully reversed by red invoice(s) {reds}."),
            N_("Its amount is cancelled; the red invoices are in your lists too."),
            {**params, "reds": ", ".join(reds)},
        )
    if is_seller and expected_buyer and expected_buyer != buyer_id:
        return Diagnosis(
            "WRONG_BUYER_TAX_ID",
            N_("Invoice {number} was issued to buyer tax ID {buyer_tax_id}, not {expected}."),
            N_(
                "The buyer cannot see it under {expected}. Reverse it with a red-letter form "
                "and issue a new invoice to the right tax ID."
            ),
            {**params, "expected": expected_buyer},
        )
    if is_seller and not invoice.buyer_tax_id:
        return Diagnosis(
            "NO_BUYER_ACCOUNT",
            N_("Invoice {number} has no buyer tax ID, so no taxpayer account receives it."),
            N_(
                "A natural person gets the file or link from you; a company needs its tax ID on it."
            ),
            params,
        )
    if is_seller and invoice.buyer_tax_id:
        registered = session.scalar(
            select(Taxpayer.id).where(Taxpayer.tax_id == invoice.buyer_tax_id)
        )
        if registered is None:
            return Diagnosis(
                "BUYER_NOT_REGISTERED",
                N_("Buyer tax ID {buyer_tax_id} has no account on this platform."),
                N_("The invoice is valid; the buyer sees it once their tax ID is registered."),
                params,
            )
    pending = _pending_delivery(session, actor, invoice.number)
    if pending is not None:
        return pending
    checks = checks_today(session, invoice.number, now)
    if checks >= settings.verify_daily_limit:
        return Diagnosis(
            "VERIFY_LIMIT_REACHED",
            N_("Invoice {number} is issued, but today's {limit} public checks are used up."),
            N_("Public verification works again tomorrow; signed-in parties can see it now."),
            {**params, "limit": settings.verify_daily_limit},
        )
    return Diagnosis(
        "VISIBLE",
        N_("Invoice {number} is issued and you can see it."),
        N_(
            "If a list does not show it, check the filters: the issue date ({date}) and the "
            "amount with tax ({total}), not before tax."
        ),
        {
            **params,
            "status": invoice.status,
            "date": invoice.issue_date.isoformat(),
            "total": f"{invoice.total_with_tax:.2f}",
        },
    )


def _pending_delivery(session: Session, actor: Actor, number: str) -> Diagnosis | None:
    """The caller's own systems have not received the event yet (or gave up)."""
    if actor.taxpayer_id is None:
        return None
    subscribed = {
        event_type
        for events in session.scalars(
            select(Webhook.events).where(
                Webhook.taxpayer_id == actor.taxpayer_id, Webhook.active.is_(True)
            )
        )
        for event_type in events.split()
    }
    undispatched = subscribed and session.scalar(
        select(func.count())
        .select_from(OutboxEvent)
        .where(
            OutboxEvent.subject == number,
            OutboxEvent.taxpayer_id == actor.taxpayer_id,
            OutboxEvent.status == "pending",
            OutboxEvent.event_type.in_(subscribed),
        )
    )
    rows = session.execute(
        select(Delivery.status, Delivery.attempts, Delivery.last_error, Delivery.created_at)
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.subject == number, Webhook.taxpayer_id == actor.taxpayer_id)
    ).all()
    dead = [row for row in rows if row.status == "dead"]
    if dead:
        return Diagnosis(
            "DELIVERY_FAILED",
            N_(
                "Your system was not told about invoice {number}: delivery failed {attempts} times."
            ),
            N_("Last error: {error}. Fix the receiver, then redeliver from the webhook log."),
            {"number": number, "attempts": dead[0].attempts, "error": dead[0].last_error or "-"},
        )
    waiting = [row for row in rows if row.status == "pending"]
    if undispatched or waiting:
        since = min((row.created_at for row in waiting), default=None)
        return Diagnosis(
            "PENDING_DELIVERY",
            N_("Invoice {number} is issued; delivery to your system is under way."),
            N_(
                "It is on the platform now; your own system receives it shortly "
                "({attempts} tries so far)."
            ),
            {
                "number": number,
                "attempts": max((row.attempts for row in waiting), default=0),
                "since": since.isoformat() if since else None,
            },
        )
    return None


def checks_today(session: Session, number: str, now: datetime) -> int:
    count = session.scalar(
        select(VerificationCount.count).where(
            VerificationCount.invoice_number == number,
            VerificationCount.day == local_date(now),
        )
    )
    return int(count or 0)


def describe(diagnosis: Diagnosis, locale: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "code": diagnosis.code,
        "message": translate(diagnosis.message, locale, **diagnosis.params),
        "hint": translate(diagnosis.hint, locale, **diagnosis.params),
    }
    if diagnosis.code == "MAINTENANCE":  # for programs
        described["until"] = diagnosis.params["until_at"]
    if diagnosis.code == "REPLICA_BEHIND":  # the measurement, for programs
        params = diagnosis.params
        described["replica"] = {
            "name": params["replica"],
            "lag_seconds": params["lag_seconds"],
            "lag_bytes": params["lag_bytes"],
        }
    return described
