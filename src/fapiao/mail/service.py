"""Buyer notices by e-mail, relayed from the outbox.

Issuing writes a `mail.invoice_notice` outbox event in its own transaction when the
invoice names a buyer address. The sender then works in short transactions, so no lock
is held while the SMTP server is talking: `take_events` turns pending notice events into
mail messages (one each), `claim` leases the due ones, `send` hands one to the server,
`record` stores the attempt and the new state. Failures retry with the webhooks'
back-off and dead-letter limit. Without a configured server, messages wait as pending."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.kit.mail import SmtpServer, domain_of
from fapiao.mail.models import MAIL_EVENT, MailAttempt, MailMessage
from fapiao.mail.notice import compose
from fapiao.outbox.models import OutboxEvent
from fapiao.outbox.service import event_row
from fapiao.webhooks.service import backoff

log = logging.getLogger("fapiao.mail")


def notice_event(invoice: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The outbox row of the buyer's notice for a just-issued invoice (a row dict)."""
    payload = {
        "number": invoice["number"],
        "to": invoice["buyer_email"],
        "buyer_name": invoice["buyer_name"],
        "seller_name": invoice["seller_name"],
        "seller_tax_id": invoice["seller_tax_id"],
        "issue_date": invoice["issue_date"].isoformat(),
        "total_with_tax": f"{invoice['total_with_tax']:.2f}",
    }
    return event_row(MAIL_EVENT, invoice["seller_id"], invoice["number"], payload, now)


def take_events(session: Session, now: datetime, limit: int = 500) -> int:
    """Pending notice events → one pending mail message each."""
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.status == "pending", OutboxEvent.event_type == MAIL_EVENT)
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    events = session.scalars(query).all()
    for event in events:
        payload = json.loads(event.payload)
        session.add(
            MailMessage(
                event_id=event.event_id,
                taxpayer_id=event.taxpayer_id,
                subject=event.subject,
                to_address=payload["to"],
                payload=event.payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=event.created_at,
            )
        )
        event.status = "dispatched"
        event.delivered_at = now
    return len(events)


@dataclass(frozen=True)
class Claimed:
    message_id: int
    event_id: str
    to: str
    payload: dict[str, Any]
    attempt: int


def claim(session: Session, now: datetime, lease_seconds: float, limit: int = 20) -> list[Claimed]:
    """Lease the due messages; a row another sender holds is skipped (PostgreSQL) or
    waited for and then seen as leased (SQLite's single writer)."""
    query = (
        select(MailMessage)
        .where(
            MailMessage.status == "pending",
            MailMessage.next_attempt_at <= now,
            (MailMessage.lease_until.is_(None)) | (MailMessage.lease_until < now),
        )
        .order_by(MailMessage.next_attempt_at, MailMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for message in session.scalars(query).all():
        message.attempts += 1
        message.lease_until = now + timedelta(seconds=lease_seconds)
        payload = json.loads(message.payload)
        claimed.append(
            Claimed(message.id, message.event_id, message.to_address, payload, message.attempts)
        )
    return claimed


@dataclass(frozen=True)
class Outcome:
    reply_code: int | None
    error: str | None
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.reply_code == 250 and self.error is None


def send(
    item: Claimed,
    server: SmtpServer,
    sender: str,
    now: datetime,
    timeout: float,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """Hand one notice to the SMTP server; accepted means 250 after the data. Never
    raises: a refusal is its reply code, anything else an error text."""
    started = time.monotonic()
    reply: bytes | str
    try:
        # SMTP wants CRLF line ends; smtplib sends bytes as they are.
        body = compose(item.payload, item.event_id, sender, now).as_bytes(policy=policy.SMTP)
        code, reply = _transfer(server, sender, item.to, body, timeout, tls)
    except smtplib.SMTPResponseException as exc:
        code, reply = exc.smtp_code, exc.smtp_error
    except Exception as exc:  # refused, unreachable, TLS failed, a broken payload …
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))
    if code == 250:
        return Outcome(code, None, _ms(started))
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return Outcome(code, f"{code} {text}"[:500], _ms(started))


def _transfer(
    server: SmtpServer,
    sender: str,
    to: str,
    body: bytes,
    timeout: float,
    tls: ssl.SSLContext | None,
) -> tuple[int, bytes]:
    context = tls or ssl.create_default_context()
    # Named by the sender's domain: the default (a reverse DNS lookup) can stall.
    helo = domain_of(sender)
    smtp: smtplib.SMTP
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(
            server.host, server.port, local_hostname=helo, timeout=timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(server.host, server.port, local_hostname=helo, timeout=timeout)
    try:
        smtp.ehlo_or_helo_if_needed()
        if server.security == "starttls":
            smtp.starttls(context=context)  # refuses to go on in the clear
            smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password)
        code, reply = smtp.mail(sender)
        if code == 250:
            code, reply = smtp.rcpt(to)
            if code in (250, 251):
                code, reply = smtp.data(body)
        return code, reply
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


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
    """Store an attempt; returns the message's new status. The result of a lease taken
    over meanwhile (another sender claimed the message again) only goes in the log."""
    message = session.get(MailMessage, item.message_id, with_for_update=True)
    if message is None:
        return "gone"
    session.add(
        MailAttempt(
            message_id=message.id,
            attempt=item.attempt,
            attempted_at=now,
            reply_code=outcome.reply_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
        )
    )
    if not (message.status == "pending" and message.attempts == item.attempt):
        return "superseded"
    message.lease_until = None
    message.last_reply_code = outcome.reply_code
    message.last_error = outcome.error
    if outcome.ok:
        message.status = "sent"
        message.sent_at = now
    elif message.attempts >= max_attempts:
        message.status = "dead"
    else:
        message.next_attempt_at = now + timedelta(seconds=backoff(message.attempts, base, cap))
    return message.status


def timeline_entries(
    session: Session, number: str, server_configured: bool
) -> list[dict[str, Any]]:
    """The notice of an invoice, for its trace: waiting in the outbox, or a message with
    its state and every attempt."""
    entries: list[dict[str, Any]] = []
    for event in session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.subject == number,
            OutboxEvent.event_type == MAIL_EVENT,
            OutboxEvent.status == "pending",
        )
    ):
        entries.append(
            _entry(event.created_at, event.event_id, json.loads(event.payload)["to"], "pending")
            | {"waiting_for_mail_server": not server_configured}
        )
    messages = list(
        session.scalars(
            select(MailMessage).where(MailMessage.subject == number).order_by(MailMessage.id)
        )
    )
    attempts: dict[int, list[MailAttempt]] = {}
    if messages:
        for attempt in session.scalars(
            select(MailAttempt)
            .where(MailAttempt.message_id.in_([message.id for message in messages]))
            .order_by(MailAttempt.id)
        ):
            attempts.setdefault(attempt.message_id, []).append(attempt)
    for message in messages:
        entry = _entry(message.created_at, message.event_id, message.to_address, message.status)
        entry.update(
            {
                "attempts": message.attempts,
                "next_attempt_at": message.next_attempt_at.isoformat()
                if message.status == "pending"
                else None,
                "last_reply_code": message.last_reply_code,
                "last_error": message.last_error,
                "sent_at": message.sent_at.isoformat() if message.sent_at else None,
                "waiting_for_mail_server": message.status == "pending" and not server_configured,
                "log": [
                    {
                        "attempt": item.attempt,
                        "attempted_at": item.attempted_at.isoformat(),
                        "reply_code": item.reply_code,
                        "latency_ms": item.latency_ms,
                        "error": item.error,
                    }
                    for item in attempts.get(message.id, [])
                ],
            }
        )
        entries.append(entry)
    return entries


def _entry(created_at: datetime, event_id: str, to: str, status: str) -> dict[str, Any]:
    return {
        "at": created_at.isoformat(),
        "kind": "mail",
        "event_id": event_id,
        "to": to,
        "status": status,
        "pending_since": created_at.isoformat() if status == "pending" else None,
        "attempts": 0,
        "next_attempt_at": None,
        "last_reply_code": None,
        "last_error": None,
        "sent_at": None,
        "dead": status == "dead",
        "waiting_for_mail_server": False,
        "log": [],
    }
