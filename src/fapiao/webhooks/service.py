"""Subscriptions, and the relay that delivers outbox events to them.

The relay works in three short transactions, so no lock is held while a receiver is
being called: fan-out turns pending outbox events into one delivery per matching
subscription; claim leases due deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
any number of relays share the work; a lease that runs out is claimed again); record
writes each attempt's outcome and schedules the next try with exponential back-off and
jitter, or dead-letters the delivery after the last one.

Receivers check `Fapiao-Signature: t=<unix seconds>,v1=<hex>`, where hex is
HMAC-SHA256(secret, "<t>.<raw body>"), and de-duplicate on the event id (the body's
`id`, also in `Fapiao-Event-Id`): a delivery may arrive more than once."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from fapiao.db import UTCDateTime
from fapiao.kit.errors import N_, NotFound, invalid
from fapiao.mail.models import MAIL_EVENT
from fapiao.outbox.models import OutboxEvent
from fapiao.webhooks.addresses import check_events, check_url, refused_address
from fapiao.webhooks.models import Delivery, DeliveryAttempt, Webhook

USER_AGENT = "fapiao-webhooks/1"


def subscribe(
    session: Session,
    taxpayer_id: int,
    url: str,
    events: list[str],
    secret: str | None,
    now: datetime,
    allow_private: bool = False,
) -> Webhook:
    url = check_url(url)
    if not allow_private:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if refused_address(parts.hostname or "", port) is not None:
            raise invalid(
                "url",
                "WEBHOOK_URL_NOT_PUBLIC",
                N_(
                    "The address must be reachable on the public internet: {host} is a "
                    "private, loopback or unknown address."
                ),
                host=parts.hostname,
            )
    webhook = Webhook(
        taxpayer_id=taxpayer_id,
        url=url,
        events=" ".join(check_events(events)),
        secret=secret or secrets.token_urlsafe(32),
        active=True,
        created_at=now,
    )
    session.add(webhook)
    session.flush()
    return webhook


def get_webhook(session: Session, taxpayer_id: int, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.taxpayer_id != taxpayer_id:
        raise NotFound(
            "WEBHOOK_NOT_FOUND", N_("Webhook {id} was not found."), params={"id": webhook_id}
        )
    return webhook


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before try `attempt + 1`: base·2^(attempt-1), capped, with full jitter in
    the upper half so a crowd of failures does not retry in step."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def fan_out(session: Session, now: datetime, limit: int = 500) -> int:
    """Pending outbox events → one delivery per matching active subscription. Events of
    taxpayers with no subscription are closed with one UPDATE (nobody to tell). A few
    statements whatever the number of events: the relay runs this many times a second."""
    hooks: dict[int, list[tuple[int, set[str]]]] = {}
    for webhook_id, taxpayer_id, chosen in session.execute(
        select(Webhook.id, Webhook.taxpayer_id, Webhook.events).where(Webhook.active.is_(True))
    ):
        hooks.setdefault(taxpayer_id, []).append((webhook_id, set(chosen.split())))
    # Buyers' e-mail notices are the mail sender's (fapiao.mail), never a webhook's.
    unheard = update(OutboxEvent).where(
        OutboxEvent.status == "pending", OutboxEvent.event_type != MAIL_EVENT
    )
    if hooks:
        unheard = unheard.where(OutboxEvent.taxpayer_id.not_in(list(hooks)))
    result = session.execute(
        unheard.values(status="no_consumer", delivered_at=now).execution_options(
            synchronize_session=False
        )
    )
    closed = int(getattr(result, "rowcount", 0) or 0)
    if not hooks:
        return closed
    query = (
        select(OutboxEvent)
        .where(
            OutboxEvent.status == "pending",
            OutboxEvent.event_type != MAIL_EVENT,
            OutboxEvent.taxpayer_id.in_(list(hooks)),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    events = session.scalars(query).all()
    if not events:
        return closed
    rows = [
        {
            "webhook_id": webhook_id,
            "event_id": event.event_id,
            "event_type": event.event_type,
            "subject": event.subject,
            "payload": _body(event),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        for webhook_id, types in hooks[event.taxpayer_id]
        if event.event_type in types
    ]
    if rows:
        session.execute(insert(Delivery), rows)
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_([event.id for event in events]))
        .values(status="dispatched", delivered_at=now)
        .execution_options(synchronize_session=False)
    )
    return closed + len(events)


def _body(event: OutboxEvent) -> str:
    return json.dumps(
        {
            "id": event.event_id,
            "type": event.event_type,
            "created_at": event.created_at.isoformat(),
            "data": json.loads(event.payload),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    webhook_id: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes
    attempt: int


def claim(session: Session, now: datetime, lease_seconds: float, limit: int = 20) -> list[Claimed]:
    """Lease the due deliveries (a lease that ran out — its relay died — is due again)."""
    query = (
        select(
            Delivery.id,
            Delivery.attempts,
            Delivery.event_id,
            Delivery.event_type,
            Delivery.payload,
            Webhook.id,
            Webhook.url,
            Webhook.secret,
        )
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            (Delivery.lease_until.is_(None)) | (Delivery.lease_until < now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Delivery, skip_locked=True)
    rows = session.execute(query).all()
    if not rows:
        return []
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_([row[0] for row in rows]))
        .values(attempts=Delivery.attempts + 1, lease_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return [
        Claimed(
            delivery_id, webhook_id, url, secret, event_id, event_type, payload.encode(), tries + 1
        )
        for delivery_id, tries, event_id, event_type, payload, webhook_id, url, secret in rows
    ]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(item: Claimed, now: datetime, timeout: float, allow_private: bool = False) -> Outcome:
    """POST one delivery; any 2xx is success. Never raises: every failure is an outcome."""
    started = time.monotonic()
    try:
        return _send(item, now, timeout, allow_private, started)
    except Exception as exc:  # a malformed URL, an encoding error …: a failed attempt
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))


def _send(
    item: Claimed, now: datetime, timeout: float, allow_private: bool, started: float
) -> Outcome:
    parts = urlsplit(item.url)
    scheme_port = 443 if parts.scheme == "https" else 80
    if not allow_private:
        refused = refused_address(parts.hostname or "", parts.port or scheme_port)
        if refused is not None:
            return Outcome(None, refused[:500], _ms(started))
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Fapiao-Event-Id": item.event_id,
        "Fapiao-Event": item.event_type,
        "Fapiao-Delivery-Attempt": str(item.attempt),
        "Fapiao-Signature": signature(item.secret, int(now.timestamp()), item.body),
    }
    try:
        connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
        try:
            connection.request("POST", path, body=item.body, headers=headers)
            response = connection.getresponse()
            response.read(65536)
            status = response.status
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))
    error = None if 200 <= status < 300 else f"HTTP {status}"
    return Outcome(status, error, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


_RECORD = (
    update(Delivery.__table__)  # type: ignore[arg-type]
    .where(Delivery.__table__.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        lease_until=None,
        last_status=bindparam("b_last_status"),
        last_error=bindparam("b_last_error"),
        delivered_at=func.coalesce(
            bindparam("b_delivered_at", type_=UTCDateTime()), Delivery.__table__.c.delivered_at
        ),
        next_attempt_at=func.coalesce(
            bindparam("b_next_attempt_at", type_=UTCDateTime()),
            Delivery.__table__.c.next_attempt_at,
        ),
    )
)


def record_all(
    session: Session,
    outcomes: list[tuple[Claimed, Outcome]],
    now: datetime,
    *,
    max_attempts: int,
    base: float,
    cap: float,
) -> list[str]:
    """Store attempts; the deliveries' new statuses, in order. An attempt whose lease was
    taken over meanwhile (another relay claimed the delivery again) only goes in the log.
    Three statements whatever the number: the rows are locked in id order (so relays
    recording at once never wait on each other in a circle), the log is appended, the
    deliveries are updated."""
    if not outcomes:
        return []
    ids = sorted({item.delivery_id for item, _ in outcomes})
    locked = session.execute(
        select(Delivery.id, Delivery.status, Delivery.attempts)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
        .with_for_update()
    ).all()
    current = {delivery_id: (status, tries) for delivery_id, status, tries in locked}
    log: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    statuses: list[str] = []
    for item, outcome in outcomes:
        if item.delivery_id not in current:
            statuses.append("gone")
            continue
        log.append(
            {
                "delivery_id": item.delivery_id,
                "webhook_id": item.webhook_id,
                "attempt": item.attempt,
                "attempted_at": now,
                "status_code": outcome.status_code,
                "latency_ms": outcome.latency_ms,
                "error": outcome.error,
            }
        )
        if current[item.delivery_id] != ("pending", item.attempt):
            statuses.append("superseded")
            continue
        change: dict[str, Any] = {
            "b_id": item.delivery_id,
            "b_last_status": outcome.status_code,
            "b_last_error": outcome.error,
            "b_delivered_at": None,
            "b_next_attempt_at": None,
        }
        if outcome.ok:
            change.update(b_status="delivered", b_delivered_at=now)
        elif item.attempt >= max_attempts:
            change.update(b_status="dead")
        else:
            wait = backoff(item.attempt, base, cap)
            change.update(b_status="pending", b_next_attempt_at=now + timedelta(seconds=wait))
        # Twice in one batch can only be a superseded try; the current one is final.
        current[item.delivery_id] = (str(change["b_status"]), -1)
        changes.append(change)
        statuses.append(str(change["b_status"]))
    if log:  # an empty list would be INSERT … DEFAULT VALUES
        session.execute(insert(DeliveryAttempt), log)
    if changes:
        session.connection().execute(_RECORD, changes)
    return statuses


def has_work(session: Session, now: datetime) -> bool:
    """Whether an event waits for fan-out or a delivery is due: a read-only look the
    relay takes before it opens a write transaction."""
    event = (
        select(OutboxEvent.id)
        .where(OutboxEvent.status == "pending", OutboxEvent.event_type != MAIL_EVENT)
        .limit(1)
    )
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            (Delivery.lease_until.is_(None)) | (Delivery.lease_until < now),
        )
        .limit(1)
    )
    return session.scalar(event) is not None or session.scalar(due) is not None


def record(
    session: Session,
    item: Claimed,
    outcome: Outcome,
    now: datetime,
    *,
    max_attempts: int,
    base: float,
    cap: float,
) -> str:
    """`record_all` of one attempt: the delivery's new status, "superseded" when its lease
    was taken over meanwhile, "gone" when it no longer exists."""
    (status,) = record_all(
        session, [(item, outcome)], now, max_attempts=max_attempts, base=base, cap=cap
    )
    return status


def delivery_not_found(delivery_id: int) -> NotFound:
    return NotFound(
        "DELIVERY_NOT_FOUND", N_("Delivery {id} was not found."), params={"id": delivery_id}
    )


def redeliver(session: Session, taxpayer_id: int, delivery_id: int, now: datetime) -> Delivery:
    """Send a delivery again (dead, delivered or waiting): due now, with fresh attempts."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    webhook = session.get(Webhook, delivery.webhook_id) if delivery else None
    if delivery is None or webhook is None or webhook.taxpayer_id != taxpayer_id:
        raise delivery_not_found(delivery_id)
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.lease_until = None
    return delivery


def deliveries_of(session: Session, webhook_id: int, limit: int = 100) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.webhook_id == webhook_id)
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )


def attempts_of(session: Session, delivery_ids: list[int]) -> dict[int, list[DeliveryAttempt]]:
    found: dict[int, list[DeliveryAttempt]] = {}
    if delivery_ids:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(delivery_ids))
            .order_by(DeliveryAttempt.id)
        ):
            found.setdefault(attempt.delivery_id, []).append(attempt)
    return found


def deactivate(session: Session, webhook: Webhook) -> None:
    webhook.active = False
    session.execute(
        update(Delivery)
        .where(Delivery.webhook_id == webhook.id, Delivery.status == "pending")
        .values(status="dead", last_error="subscription removed")
    )
