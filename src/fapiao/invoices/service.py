"""Issuing and reading invoices. Services never commit: the caller
opens the transaction (Database.transaction) at the edge."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.crypto import personal
from fapiao.crypto.keyring import keyring_of
from fapiao.invoices import batch, rows, rules
from fapiao.invoices.buyer import BuyerInput, check_buyer
from fapiao.invoices.credit import consume_credit
from fapiao.invoices.models import IdempotencyKey, Invoice, InvoiceLine
from fapiao.invoices.numbering import prefix_for
from fapiao.kit import taxcodes
from fapiao.kit.clock import local_date, month_key
from fapiao.kit.errors import N_, Conflict, NotFound, ValidationFailed
from fapiao.kit.taxid import classify_tax_id
from fapiao.ledger import service as ledger
from fapiao.ledger.signing import Signer
from fapiao.mail.service import notice_event
from fapiao.outbox.models import OutboxEvent
from fapiao.outbox.service import event_row
from fapiao.platform import Platform
from fapiao.taxpayers.models import Taxpayer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssueRequest:
    kind: str
    buyer: BuyerInput
    lines: Sequence[rules.LineInput]
    medium: str = "electronic"
    prices_include_tax: bool = False
    remarks: str = ""
    drawer: str = ""
    # Canonical form of the request, for idempotency comparisons.
    fingerprint: str = field(default="", compare=False)


def short_name_of(code: str) -> str | None:
    entry = taxcodes.lookup(code)
    return entry.short_name if entry else None


def not_found(number: str) -> NotFound:
    return NotFound(
        "INVOICE_NOT_FOUND", N_("Invoice {number} was not found."), params={"number": number}
    )


def can_see(actor: Actor, invoice: Invoice) -> bool:
    """Seller, buyer (by tax ID) and officers see an invoice; nobody else."""
    if actor.is_officer:
        return True
    if actor.taxpayer_id is None:
        return False
    return invoice.seller_id == actor.taxpayer_id or (
        invoice.buyer_tax_id is not None and invoice.buyer_tax_id == actor.tax_id
    )


def get_visible(
    session: Session, actor: Actor, number: str, *, for_update: bool = False
) -> Invoice:
    """The invoice if the actor may see it; otherwise 404, exactly as if it did not exist."""
    query = select(Invoice).where(Invoice.number == number)
    if for_update:
        query = query.with_for_update()
    invoice = session.scalar(query)
    if invoice is None or not can_see(actor, invoice):
        raise not_found(number)
    return invoice


def fingerprint(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_reused() -> Conflict:
    return Conflict(
        "IDEMPOTENCY_KEY_REUSED",
        N_("This Idempotency-Key was already used for a different request."),
    )


def replay(session: Session, taxpayer_id: int, key: str, request_hash: str) -> Invoice | None:
    """The invoice issued earlier under this idempotency key, if any; 409 when the key was
    used for a different request."""
    row = session.get(IdempotencyKey, (taxpayer_id, key))
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise key_reused()
    return session.scalar(select(Invoice).where(Invoice.number == row.invoice_number))


@dataclass(frozen=True)
class PreparedIssue:
    """A checked request with its computed lines and totals, ready to be written."""

    seller_id: int
    actor: Actor
    request: IssueRequest
    idempotency_key: str | None
    issued_at: datetime
    issue_date: date
    lines: Sequence[rules.Line]
    totals: rules.Totals
    number_prefix: str


def prepare_issue(
    platform: Platform, actor: Actor, request: IssueRequest, idempotency_key: str | None
) -> PreparedIssue:
    """Everything about a new invoice that needs no database: permission, buyer and
    arithmetic checks, all field errors at once."""
    seller_id = actor.require_write()
    if len(request.lines) > platform.settings.max_lines:
        raise ValidationFailed(
            [
                rules.FieldError(
                    "lines",
                    "TOO_MANY_ITEMS",
                    N_("At most {max_length} items."),
                    {"max_length": platform.settings.max_lines},
                )
            ]
        )
    now = platform.clock.now()
    issue_date = local_date(now)
    assert actor.tax_id is not None and actor.taxpayer_kind is not None
    errors = check_buyer(
        request.kind,
        request.buyer,
        actor.tax_id,
        lambda value: classify_tax_id(value, today=issue_date),
    )
    try:
        lines, totals = rules.compute_invoice(
            request.lines,
            short_name_of,
            include_tax=request.prices_include_tax,
            taxpayer_kind=actor.taxpayer_kind,
            issue_date=issue_date,
            tolerances=rules.Tolerances(
                platform.settings.line_tax_tolerance, platform.settings.invoice_tax_tolerance
            ),
        )
    except ValidationFailed as exc:
        raise ValidationFailed(errors + exc.errors) from None
    if errors:
        raise ValidationFailed(errors)
    return PreparedIssue(
        seller_id=seller_id,
        actor=actor,
        request=request,
        idempotency_key=idempotency_key,
        issued_at=now,
        issue_date=issue_date,
        lines=lines,
        totals=totals,
        number_prefix=prefix_for(issue_date, platform.settings.region, platform.settings.channel),
    )


@dataclass(frozen=True)
class Issued:
    """What the issuing write produced: the rows of a new invoice, or an earlier invoice
    returned again for a repeated idempotency key."""

    invoice_row: dict[str, Any] | None = None
    line_rows: list[dict[str, Any]] = field(default_factory=list)
    earlier: Invoice | None = None
    receipt: dict[str, Any] | None = None  # the signed receipt (ledger.signing)

    def record(self) -> SimpleNamespace:
        """The new invoice as plain attributes, for `invoice_view` (cheaper than ORM
        objects, which the response does not need)."""
        assert self.invoice_row is not None
        lines = [SimpleNamespace(**row) for row in self.line_rows]
        return SimpleNamespace(**self.invoice_row, lines=lines)

    def result(self) -> tuple[Invoice, bool]:
        if self.earlier is not None:
            return self.earlier, True
        assert self.invoice_row is not None
        invoice = Invoice(**self.invoice_row)
        invoice.lines = [InvoiceLine(**row) for row in self.line_rows]
        return invoice, False


def issue(
    platform: Platform, actor: Actor, request: IssueRequest, idempotency_key: str | None
) -> tuple[Invoice, bool]:
    """Issue a blue invoice for the actor's taxpayer. Returns (invoice, replayed).

    Validation runs before any write; the number is reserved before the issuing
    transaction; the invoice, its credit use, the idempotency key and the outbox rows are
    written in one transaction, shared with other invoices by group commit."""
    prepared = prepare_issue(platform, actor, request, idempotency_key)
    number = platform.numbers.next(prepared.number_prefix)
    return platform.writer.run(batch.IssueJob(prepared, number, platform.signer)).result()


async def issue_async(
    platform: Platform, actor: Actor, request: IssueRequest, idempotency_key: str | None
) -> Issued:
    """`issue` for the event loop: checks run here, the write waits for group commit."""
    prepared = prepare_issue(platform, actor, request, idempotency_key)
    numbers, prefix = platform.numbers, prepared.number_prefix
    number = numbers.next_nowait(prefix)
    if number is None:  # a new block must be reserved: a short write of its own
        number = await asyncio.to_thread(numbers.next, prefix)
    if numbers.wants_block(prefix):  # reserve the next block before this one runs out
        _background(asyncio.to_thread(numbers.reserve, prefix))
    return await platform.writer.run_async(batch.IssueJob(prepared, number, platform.signer))


_pending: set[asyncio.Task[None]] = set()


def _background(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` without waiting for it; a failure is logged, not lost."""
    task = asyncio.ensure_future(work)
    _pending.add(task)

    def done(finished: asyncio.Task[None]) -> None:
        _pending.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.warning("number block reservation failed: %r", finished.exception())

    task.add_done_callback(done)


def write_issue(
    session: Session, prepared: PreparedIssue, number: str, signer: Signer | None = None
) -> Issued:
    """The issuing write, inside a transaction (a savepoint of a group commit). This part
    is serialised (SQLite has one writer; a seller's credit row is one row), so it does
    no more than it must: the seller and the registered buyer are read once per
    transaction, and rows are plain values written with Core statements."""
    request, key, now = prepared.request, prepared.idempotency_key, prepared.issued_at
    seller_id = prepared.seller_id
    if key:
        # A retry gets the first answer; the number reserved for it stays a gap.
        earlier = replay(session, seller_id, key, request.fingerprint)
        if earlier is not None:
            return Issued(earlier=earlier, receipt=ledger.receipt_of(session, earlier.number))
    cache: dict[Any, Any] = session.info.setdefault("fapiao.issue", {})
    buyer_id = _check_registered_buyer(session, request.buyer, cache)
    seller = cache.get(("seller", seller_id))
    if seller is None:
        seller = cache[("seller", seller_id)] = (
            session.connection().execute(_SELLER, {"seller": seller_id}).one()
        )
    if key:
        # Written first: a concurrent twin blocks here until this one commits, then fails
        # on the primary key and answers with this one's invoice.
        try:
            with session.begin_nested():
                session.execute(
                    insert(IdempotencyKey).values(
                        taxpayer_id=seller_id,
                        key=key,
                        request_hash=request.fingerprint,
                        invoice_number=number,
                        created_at=now,
                    )
                )
        except IntegrityError:
            earlier = replay(session, seller_id, key, request.fingerprint)
            if earlier is None:
                raise
            return Issued(earlier=earlier, receipt=ledger.receipt_of(session, earlier.number))
    invoice_row = personal.protect_row(
        rows.invoice_row(seller, prepared, number), keyring_of(session.get_bind().dialect)
    )
    line_rows = [rows.line_row(line) for line in prepared.lines]
    _insert_invoice(session, invoice_row, line_rows, buyer_id, now)
    consume_credit(session, seller, month_key(prepared.issue_date), prepared.totals.amount)
    document = ledger.invoice_document(invoice_row, line_rows, seller_id)
    (receipt,) = ledger.append_or_defer(session, [document], signer)
    return Issued(invoice_row=invoice_row, line_rows=line_rows, receipt=receipt)


# Built once: SQLAlchemy caches the compiled form, where a statement built per call costs
# more to hash than to run.
_INSERT_INVOICE = insert(Invoice).returning(Invoice.id)
_INSERT_LINE = insert(InvoiceLine)
_INSERT_EVENT = insert(OutboxEvent)
_BUYER_BY_TAX_ID = select(Taxpayer.id, Taxpayer.name).where(Taxpayer.tax_id == bindparam("tax_id"))
_SELLER = select(*rows.SELLER_COLUMNS).where(Taxpayer.id == bindparam("seller"))


def _insert_invoice(
    session: Session,
    invoice: dict[str, Any],
    lines: list[dict[str, Any]],
    buyer_id: int | None,
    now: datetime,
) -> None:
    """Write a new invoice, its lines and its outbox rows with three Core statements: the
    hot path of issuing, where the ORM's unit of work costs more than the database."""
    connection = session.connection()
    invoice_id = connection.execute(_INSERT_INVOICE, invoice).scalar_one()
    connection.execute(_INSERT_LINE, [{"invoice_id": invoice_id, **line} for line in lines])
    payload = {"number": invoice["number"], "total_with_tax": f"{invoice['total_with_tax']:.2f}"}
    events = [event_row("invoice.issued", invoice["seller_id"], invoice["number"], payload, now)]
    if buyer_id is not None:
        events.append(event_row("invoice.received", buyer_id, invoice["number"], payload, now))
    if invoice["buyer_email"]:
        events.append(notice_event(invoice, now))
    connection.execute(_INSERT_EVENT, events)


def _check_registered_buyer(
    session: Session, buyer: BuyerInput, cache: dict[Any, Any]
) -> int | None:
    """The buyer's taxpayer id when it is registered here, after checking its name: a
    registered buyer receives the invoice in its tax account, so the name must be the
    registered one, or the wrong company would appear on the invoice."""
    if not buyer.tax_id:
        return None
    cache_key = ("buyer", buyer.tax_id)
    if cache_key in cache:
        row = cache[cache_key]
    else:
        row = cache[cache_key] = (
            session.connection().execute(_BUYER_BY_TAX_ID, {"tax_id": buyer.tax_id}).one_or_none()
        )
    if row is None:
        return None
    if row.name != buyer.name.strip():
        raise ValidationFailed(
            [
                rules.FieldError(
                    "buyer.name",
                    "BUYER_NAME_MISMATCH",
                    N_("The taxpayer with this ID is registered as {name}."),
                    {"name": row.name},
                )
            ]
        )
    return int(row.id)


def buyer_taxpayer_id(session: Session, invoice: Invoice) -> int | None:
    if not invoice.buyer_tax_id:
        return None
    return session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == invoice.buyer_tax_id))
