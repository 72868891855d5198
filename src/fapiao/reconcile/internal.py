"""`fapiao reconcile --internal`: the journal, the invoices and the outbox agree.

Finds invoices without a journal entry and journal entries without an invoice (both are
reported: they mean the database was changed behind the platform), and issued invoices
whose outbox events are missing, which it writes again so the relay delivers them.
Receivers de-duplicate on the event id, so a re-queued event that did arrive is harmless;
the re-queued ones get new ids because the old ones never existed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from fapiao.invoices.models import Invoice
from fapiao.ledger.models import LedgerEntry
from fapiao.ledger.service import ISSUED
from fapiao.outbox.models import OutboxEvent
from fapiao.outbox.service import emit
from fapiao.taxpayers.models import Taxpayer
from fapiao.webhooks.models import Delivery


@dataclass
class InternalReport:
    invoices_without_entry: list[str] = field(default_factory=list)
    entries_without_invoice: list[str] = field(default_factory=list)
    requeued: list[tuple[str, str]] = field(default_factory=list)  # (event type, number)
    dead_letters: int = 0

    @property
    def clean(self) -> bool:
        return not (self.invoices_without_entry or self.entries_without_invoice or self.requeued)


def reconcile(session: Session, now: datetime, limit: int = 10000) -> InternalReport:
    report = InternalReport()
    entry = aliased(LedgerEntry)
    # Invoices issued before the ledger existed (a database upgraded to migration 0002)
    # have no entry and never will; the ledger's first entry marks where it starts.
    first = session.scalar(select(func.min(LedgerEntry.recorded_at)))
    if first is not None:
        report.invoices_without_entry = list(
            session.scalars(
                select(Invoice.number)
                .outerjoin(entry, and_(entry.subject == Invoice.number, entry.kind == ISSUED))
                .where(entry.seq.is_(None), Invoice.issued_at >= first)
                .order_by(Invoice.id)
                .limit(limit)
            )
        )
    report.entries_without_invoice = list(
        session.scalars(
            select(LedgerEntry.subject)
            .outerjoin(Invoice, Invoice.number == LedgerEntry.subject)
            .where(LedgerEntry.kind == ISSUED, Invoice.id.is_(None))
            .order_by(LedgerEntry.seq)
            .limit(limit)
        )
    )
    seller = (Invoice.seller_id, None)
    buyer = (Taxpayer.id, Taxpayer.tax_id == Invoice.buyer_tax_id)
    for event_type, (recipient, join) in (("invoice.issued", seller), ("invoice.received", buyer)):
        event = aliased(OutboxEvent)
        query = select(Invoice, recipient)
        if join is not None:
            query = query.join(Taxpayer, join)
        query = (
            query.outerjoin(
                event, and_(event.subject == Invoice.number, event.event_type == event_type)
            )
            .where(event.id.is_(None), Invoice.red_of.is_(None))
            .limit(limit)
        )
        for invoice, recipient_id in session.execute(query):
            total = f"{invoice.total_with_tax:.2f}"
            payload = {"number": invoice.number, "total_with_tax": total}
            emit(session, event_type, recipient_id, invoice.number, payload, now)
            report.requeued.append((event_type, invoice.number))
    report.dead_letters = len(
        list(session.scalars(select(Delivery.id).where(Delivery.status == "dead").limit(limit)))
    )
    return report
