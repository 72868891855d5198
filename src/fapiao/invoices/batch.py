"""Issuing many invoices in one statement per table.

Group commit (fapiao.writer) hands the issuing jobs that arrive together to
`IssueJob.run_batch`, which writes them with one INSERT per table (on PostgreSQL, one
statement for all the tables) instead of one per job, and charges each seller's credit
once. The serialised part of issuing (SQLite has one writer; a seller's credit row is
one row) then costs a fraction of a millisecond per invoice. The checks are the same as
`write_issue`'s, in the order the jobs arrived: replayed idempotency keys, the
registered buyer's name, and the credit limit, which is charged job by job so it is
never passed. A job refused by a check gets its error and writes nothing. If anything
unexpected fails (a twin idempotency key committed by another process a moment ago, say)
the caller runs every job again on its own, through `write_issue`.

The credit row is read without a lock (with the seller's row) and charged last, with one
conditional UPDATE per seller just before the commit, so on PostgreSQL concurrent batches
hold the row only for that UPDATE, the ledger append and the commit. If another
transaction used the credit in between so that the batch no longer fits, the UPDATE
matches nothing and the batch falls back to the single path, which charges job by job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from fapiao.crypto import personal
from fapiao.crypto.keyring import keyring_of
from fapiao.dbsql import BulkInsert, insert_ignore, next_ids
from fapiao.invoices import rows, service
from fapiao.invoices.credit import CHARGE_CREDIT, credit_exceeded
from fapiao.invoices.models import CreditUsage, IdempotencyKey, Invoice, InvoiceLine
from fapiao.kit.clock import month_key
from fapiao.kit.errors import FapiaoError
from fapiao.ledger import service as ledger
from fapiao.ledger.signing import Signer
from fapiao.mail.service import notice_event
from fapiao.outbox.models import OutboxEvent
from fapiao.outbox.service import event_row
from fapiao.taxpayers.models import Taxpayer

_INSERT_INVOICES = BulkInsert(Invoice)
_INSERT_LINES = BulkInsert(InvoiceLine)
_INSERT_EVENTS = BulkInsert(OutboxEvent)
_INSERT_KEYS = BulkInsert(IdempotencyKey)
_USED = select(CreditUsage.used_cents).where(
    CreditUsage.taxpayer_id == bindparam("taxpayer"), CreditUsage.month == bindparam("b_month")
)


class CreditRace(Exception):
    """Another transaction used the seller's credit while this batch was being written."""


# The batch's sellers and its registered buyers (id and name are what is checked) in one
# round trip, with each one's credit use in the batch's month (None if it has no row).
_MONTH_USE = (
    select(CreditUsage.used_cents)
    .where(CreditUsage.taxpayer_id == Taxpayer.id, CreditUsage.month == bindparam("b_month"))
    .scalar_subquery()
    .label("month_use")
)
_TAXPAYERS = select(*rows.SELLER_COLUMNS, _MONTH_USE).where(
    or_(
        Taxpayer.id.in_(bindparam("ids", expanding=True)),
        Taxpayer.tax_id.in_(bindparam("tax_ids", expanding=True)),
    )
)


@dataclass(frozen=True)
class IssueJob:
    """One invoice to write: a GroupCommit job, alone or in a batch."""

    prepared: service.PreparedIssue
    number: str
    signer: Signer | None = None

    def lock_order(self) -> tuple[int, str]:
        """The credit row this job charges: jobs sent one by one go in this order."""
        return (self.prepared.seller_id, month_key(self.prepared.issue_date))

    def __call__(self, session: Session) -> service.Issued:
        return service.write_issue(session, self.prepared, self.number, self.signer)

    @staticmethod
    def run_batch(session: Session, jobs: Sequence[IssueJob]) -> list[Any]:
        """Every job's Issued, or the FapiaoError that refused it, in order."""
        return _write_batch(session, jobs)


def _write_batch(session: Session, jobs: Sequence[IssueJob]) -> list[Any]:
    connection = session.connection()
    results: list[Any] = [None] * len(jobs)
    cache: dict[Any, Any] = session.info.setdefault("fapiao.issue", {})

    # 1. Idempotency keys: earlier requests, and twins within this batch.
    first_with_key: dict[tuple[int, str], int] = {}
    twins: list[tuple[int, int]] = []
    for index, job in enumerate(jobs):
        prepared = job.prepared
        if not prepared.idempotency_key:
            continue
        slot = (prepared.seller_id, prepared.idempotency_key)
        if slot in first_with_key:
            twins.append((index, first_with_key[slot]))
            continue
        try:
            earlier = service.replay(
                session, prepared.seller_id, prepared.idempotency_key, prepared.request.fingerprint
            )
        except FapiaoError as exc:
            results[index] = exc
            continue
        if earlier is not None:
            receipt = ledger.receipt_of(session, earlier.number)
            results[index] = service.Issued(earlier=earlier, receipt=receipt)
        else:
            first_with_key[slot] = index

    # 2. Sellers and registered buyers, read once, with one statement.
    sellers = {
        job.prepared.seller_id for job in jobs if ("seller", job.prepared.seller_id) not in cache
    }
    wanted = {
        tax_id
        for job in jobs
        if (tax_id := job.prepared.request.buyer.tax_id) and ("buyer", tax_id) not in cache
    }
    month = month_key(jobs[0].prepared.issue_date)
    month_use: dict[tuple[int, str], int] = {}
    if sellers or wanted:
        found = connection.execute(
            _TAXPAYERS, {"ids": sorted(sellers), "tax_ids": sorted(wanted), "b_month": month}
        ).all()
        for taxpayer in found:
            if taxpayer.id in sellers:
                cache[("seller", taxpayer.id)] = taxpayer
                if taxpayer.month_use is not None:
                    month_use[(taxpayer.id, month)] = taxpayer.month_use
        by_tax_id = {taxpayer.tax_id: taxpayer for taxpayer in found}
        for tax_id in wanted:
            cache[("buyer", tax_id)] = by_tax_id.get(tax_id)
        missing = sellers - {taxpayer.id for taxpayer in found}
        if missing:  # a seller is always registered: say so as the single path would
            raise LookupError(f"sellers not found: {sorted(missing)}")
    buyer_ids: dict[int, int | None] = {}
    twin_indexes = {index for index, _ in twins}
    for index, job in enumerate(jobs):
        if results[index] is not None or index in twin_indexes:
            continue
        try:
            buyer_ids[index] = service._check_registered_buyer(
                session, job.prepared.request.buyer, cache
            )
        except FapiaoError as exc:
            results[index] = exc

    # 3. Credit: each seller's month use read once, each job charged in turn.
    used: dict[tuple[int, str], int] = {}
    start: dict[tuple[int, str], int] = {}
    limits: dict[tuple[int, str], int] = {}
    for index, job in enumerate(jobs):
        if index not in buyer_ids:
            continue
        prepared = job.prepared
        seller = cache[("seller", prepared.seller_id)]
        slot = (prepared.seller_id, month_key(prepared.issue_date))
        cents = int(prepared.totals.amount.scaleb(2))
        limit = int(seller.credit_limit.scaleb(2))
        if slot not in used:
            used[slot] = start[slot] = _credit_used(session, *slot, month_use.get(slot))
            limits[slot] = limit
        if used[slot] + cents > limit:
            results[index] = credit_exceeded(limit, used[slot])
            del buyer_ids[index]
            continue
        used[slot] += cents

    # 4. The rows, one statement per table.
    accepted = sorted(buyer_ids)
    if accepted:
        keyring = keyring_of(connection.dialect)
        invoice_rows = [
            personal.protect_row(
                rows.invoice_row(
                    cache[("seller", jobs[i].prepared.seller_id)], jobs[i].prepared, jobs[i].number
                ),
                keyring,
            )
            for i in accepted
        ]
        line_rows = [[rows.line_row(line) for line in jobs[i].prepared.lines] for i in accepted]
        events = []
        for i, row in zip(accepted, invoice_rows, strict=True):
            now = jobs[i].prepared.issued_at
            payload = {"number": row["number"], "total_with_tax": f"{row['total_with_tax']:.2f}"}
            events.append(
                event_row("invoice.issued", row["seller_id"], row["number"], payload, now)
            )
            buyer_id = buyer_ids[i]
            if buyer_id is not None:
                events.append(event_row("invoice.received", buyer_id, row["number"], payload, now))
            if row["buyer_email"]:
                events.append(notice_event(row, now))
        keys = [
            {
                "taxpayer_id": jobs[i].prepared.seller_id,
                "key": jobs[i].prepared.idempotency_key,
                "request_hash": jobs[i].prepared.request.fingerprint,
                "invoice_number": jobs[i].number,
                "created_at": jobs[i].prepared.issued_at,
            }
            for i in accepted
            if jobs[i].prepared.idempotency_key
        ]
        if connection.dialect.name == "postgresql":
            _insert_together(connection, invoice_rows, line_rows, events, keys)
        else:  # under SQLite's write lock, the next ids are known
            ids = next_ids(connection, Invoice, len(invoice_rows))
            numbered_rows = zip(ids, invoice_rows, strict=True)
            _INSERT_INVOICES.execute(
                connection, [{"id": invoice_id, **row} for invoice_id, row in numbered_rows]
            )
            _INSERT_LINES.execute(
                connection,
                [
                    {"invoice_id": invoice_id, **line}
                    for invoice_id, lines in zip(ids, line_rows, strict=True)
                    for line in lines
                ],
            )
            _INSERT_EVENTS.execute(connection, events)
            _INSERT_KEYS.execute(connection, keys)
        # The credit after the idempotency keys, as on the single path (a twin key held
        # by another transaction is waited for before any credit row is locked), each
        # seller in one order for every batch.
        for slot, cents in sorted(used.items()):
            if cents == start[slot]:
                continue
            values = {
                "taxpayer": slot[0],
                "b_month": slot[1],
                "cents": cents - start[slot],
                "limit": limits[slot],
            }
            if connection.execute(CHARGE_CREDIT, values).scalar_one_or_none() is None:
                raise CreditRace(slot)
        # Last: the ledger entries (appended, under the head lock, just before the commit
        # when group commit defers them; see ledger.defer_appends).
        documents = [
            ledger.invoice_document(row, lines, jobs[i].prepared.seller_id)
            for i, row, lines in zip(accepted, invoice_rows, line_rows, strict=True)
        ]
        receipts = ledger.append_or_defer(session, documents, jobs[0].signer)
        for i, row, lines, receipt in zip(accepted, invoice_rows, line_rows, receipts, strict=True):
            results[i] = service.Issued(invoice_row=row, line_rows=lines, receipt=receipt)

    # 5. Twins answer with their first's invoice (or its refusal).
    for index, first in twins:
        prepared, first_result = jobs[index].prepared, results[first]
        if prepared.request.fingerprint != jobs[first].prepared.request.fingerprint:
            results[index] = service.key_reused()
        elif isinstance(first_result, service.Issued):
            invoice, _ = first_result.result()
            results[index] = service.Issued(earlier=invoice, receipt=first_result.receipt)
        else:
            results[index] = first_result
    return results


def _credit_used(session: Session, seller_id: int, month: str, known: int | None) -> int:
    """The month's credit use in cents: `known` if read already with the seller, else
    read now (its row created if need be: once a month)."""
    if known is not None:
        return known
    connection = session.connection()
    params = {"taxpayer": seller_id, "b_month": month}
    value = connection.execute(_USED, params).scalar_one_or_none()
    if value is None:
        session.execute(
            insert_ignore(
                session, CreditUsage, {"taxpayer_id": seller_id, "month": month, "used_cents": 0}
            )
        )
        value = connection.execute(_USED, params).scalar_one()
    return int(value)


def _insert_together(
    connection: Any,
    invoice_rows: list[dict[str, Any]],
    line_rows: list[list[dict[str, Any]]],
    events: list[dict[str, Any]],
    keys: list[dict[str, Any]],
) -> None:
    """PostgreSQL: the invoices, their lines, the outbox events and the idempotency keys
    in one statement (one round trip). The invoices' ids come from their sequence; each
    line finds its invoice's id by the invoice's number."""
    invoices = _INSERT_INVOICES.arrays(connection, invoice_rows)
    parts = [f"new_invoices AS ({invoices.insert} RETURNING id, number)"]
    arguments: list[Any] = [*invoices.values]
    lines = [line for lines in line_rows for line in lines]
    in_lines = _INSERT_LINES.arrays(connection, lines)
    named = ", ".join(in_lines.columns)
    table = connection.dialect.identifier_preparer.quote(InvoiceLine.__tablename__)
    parts.append(
        f"new_lines AS (INSERT INTO {table} (invoice_id, {named}) "
        f"SELECT new_invoices.id, {', '.join(f'x.{name}' for name in in_lines.columns)} "
        f"FROM unnest(%b::text[], {', '.join(in_lines.casts)}) AS x(invoice_number, {named}) "
        "JOIN new_invoices ON new_invoices.number = x.invoice_number RETURNING 1)"
    )
    line_numbers = [
        row["number"] for row, lines in zip(invoice_rows, line_rows, strict=True) for _ in lines
    ]
    arguments += [line_numbers, *in_lines.values]
    for name, insert, table_rows in (
        ("new_events", _INSERT_EVENTS, events),
        ("new_keys", _INSERT_KEYS, keys),
    ):
        if table_rows:
            more = insert.arrays(connection, table_rows)
            parts.append(f"{name} AS ({more.insert})")
            arguments += more.values
    counts = connection.exec_driver_sql(
        f"WITH {', '.join(parts)} "
        "SELECT (SELECT count(*) FROM new_invoices), (SELECT count(*) FROM new_lines)",
        tuple(arguments),
    ).one()
    if tuple(counts) != (len(invoice_rows), len(lines)):  # the batch goes job by job
        raise RuntimeError(f"batch insert wrote {tuple(counts)} invoices and lines")
