"""Issuing, reading, listing and voiding invoices. Services never commit: the caller
opens the transaction (Database.transaction) at the edge."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.dbsql import insert_ignore
from fapiao.invoices import rules
from fapiao.invoices.buyer import BuyerInput, check_buyer
from fapiao.invoices.models import CreditUsage, IdempotencyKey, Invoice, InvoiceLine
from fapiao.invoices.numbering import prefix_for
from fapiao.kit import taxcodes
from fapiao.kit.clock import local_date, month_key
from fapiao.kit.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from fapiao.kit.taxid import classify_tax_id
from fapiao.outbox.models import OutboxEvent
from fapiao.outbox.service import emit, event_row
from fapiao.platform import Platform
from fapiao.taxpayers.models import Taxpayer


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


def replay(session: Session, taxpayer_id: int, key: str, request_hash: str) -> Invoice | None:
    """The invoice issued earlier under this idempotency key, if any; 409 when the key was
    used for a different request."""
    row = session.get(IdempotencyKey, (taxpayer_id, key))
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Conflict(
            "IDEMPOTENCY_KEY_REUSED",
            N_("This Idempotency-Key was already used for a different request."),
        )
    return session.scalar(select(Invoice).where(Invoice.number == row.invoice_number))


def issue(
    platform: Platform, actor: Actor, request: IssueRequest, idempotency_key: str | None
) -> tuple[Invoice, bool]:
    """Issue a blue invoice for the actor's taxpayer. Returns (invoice, replayed).

    Validation runs before any write; the number is reserved before the issuing
    transaction; the invoice, its credit use, the idempotency key and the outbox rows are
    written in one transaction."""
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

    db = platform.database
    number = platform.numbers.next(
        prefix_for(issue_date, platform.settings.region, platform.settings.channel)
    )
    try:
        with db.transaction() as session:
            if idempotency_key:
                # A retry gets the first answer; the number reserved above stays a gap.
                earlier = replay(session, seller_id, idempotency_key, request.fingerprint)
                if earlier is not None:
                    return earlier, True
            buyer_id = _check_registered_buyer(session, request.buyer)
            seller = session.connection().execute(_SELLER, {"seller": seller_id}).one()
            if idempotency_key:
                # Written first: a concurrent twin blocks here until this one commits.
                session.execute(
                    insert(IdempotencyKey).values(
                        taxpayer_id=seller_id,
                        key=idempotency_key,
                        request_hash=request.fingerprint,
                        invoice_number=number,
                        created_at=now,
                    )
                )
            invoice = _build_invoice(seller, request, number, issue_date, now, lines, totals, actor)
            _insert_invoice(session, invoice, buyer_id, now)
            consume_credit(session, seller, month_key(issue_date), totals.amount)
            return invoice, False
    except IntegrityError:
        if not idempotency_key:
            raise
        with db.transaction(write=False) as session:
            earlier = replay(session, seller_id, idempotency_key, request.fingerprint)
        if earlier is None:
            raise
        return earlier, True


# Built once: SQLAlchemy caches the compiled form, where a statement built per call costs
# more to hash than to run.
_INSERT_INVOICE = insert(Invoice).returning(Invoice.id)
_INSERT_LINE = insert(InvoiceLine)
_INSERT_EVENT = insert(OutboxEvent)
_BUYER_BY_TAX_ID = select(Taxpayer.id, Taxpayer.name).where(Taxpayer.tax_id == bindparam("tax_id"))
_CHARGE_CREDIT = (
    update(CreditUsage)
    .where(
        CreditUsage.taxpayer_id == bindparam("taxpayer"),
        CreditUsage.month == bindparam("b_month"),
        CreditUsage.used_cents + bindparam("cents") <= bindparam("limit"),
    )
    .values(used_cents=CreditUsage.used_cents + bindparam("cents"))
    .returning(CreditUsage.used_cents)
)
_SELLER = select(
    Taxpayer.id,
    Taxpayer.tax_id,
    Taxpayer.name,
    Taxpayer.address,
    Taxpayer.phone,
    Taxpayer.bank,
    Taxpayer.account,
    Taxpayer.credit_limit,
).where(Taxpayer.id == bindparam("seller"))


class Seller(Protocol):
    """What issuing needs of the seller: a Taxpayer, or a row of its columns."""

    id: int
    tax_id: str
    name: str
    address: str
    phone: str
    bank: str
    account: str
    credit_limit: Decimal


_INVOICE_COLUMNS = [column.key for column in Invoice.__table__.columns if column.key != "id"]
_LINE_COLUMNS = [
    column.key for column in InvoiceLine.__table__.columns if column.key not in ("id", "invoice_id")
]


def _insert_invoice(
    session: Session, invoice: Invoice, buyer_id: int | None, now: datetime
) -> None:
    """Write a new invoice, its lines and its outbox rows with three Core statements: the
    hot path of issuing, where the ORM's unit of work costs more than the database."""
    connection = session.connection()
    invoice.id = connection.execute(
        _INSERT_INVOICE,
        {key: getattr(invoice, key) for key in _INVOICE_COLUMNS},
    ).scalar_one()
    connection.execute(
        _INSERT_LINE,
        [
            {"invoice_id": invoice.id, **{key: getattr(line, key) for key in _LINE_COLUMNS}}
            for line in invoice.lines
        ],
    )
    payload = {"number": invoice.number, "total_with_tax": f"{invoice.total_with_tax:.2f}"}
    events = [event_row("invoice.issued", invoice.seller_id, invoice.number, payload, now)]
    if buyer_id is not None:
        events.append(event_row("invoice.received", buyer_id, invoice.number, payload, now))
    connection.execute(_INSERT_EVENT, events)


def _check_registered_buyer(session: Session, buyer: BuyerInput) -> int | None:
    """The buyer's taxpayer id when it is registered here, after checking its name: a
    registered buyer receives the invoice in its tax account, so the name must be the
    registered one, or the wrong company would appear on the invoice."""
    if not buyer.tax_id:
        return None
    row = session.connection().execute(_BUYER_BY_TAX_ID, {"tax_id": buyer.tax_id}).one_or_none()
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


def _build_invoice(
    seller: Seller,
    request: IssueRequest,
    number: str,
    issue_date: date,
    now: datetime,
    lines: Sequence[rules.Line],
    totals: rules.Totals,
    actor: Actor,
    *,
    red_of: str | None = None,
) -> Invoice:
    buyer = request.buyer
    invoice = Invoice(
        number=number,
        kind=request.kind,
        medium=request.medium,
        is_red=red_of is not None,
        red_of=red_of,
        seller_id=seller.id,
        seller_tax_id=seller.tax_id,
        seller_name=seller.name,
        seller_address=seller.address,
        seller_phone=seller.phone,
        seller_bank=seller.bank,
        seller_account=seller.account,
        buyer_tax_id=buyer.tax_id or None,
        buyer_name=buyer.name,
        buyer_address=buyer.address,
        buyer_phone=buyer.phone,
        buyer_bank=buyer.bank,
        buyer_account=buyer.account,
        buyer_email=buyer.email,
        buyer_natural_person=buyer.natural_person,
        issue_date=issue_date,
        issued_at=now,
        total_amount=totals.amount,
        total_tax=totals.tax,
        total_with_tax=totals.with_tax,
        total_in_words=totals.in_words,
        prices_include_tax=request.prices_include_tax,
        remarks=request.remarks,
        drawer=request.drawer,
        status="normal",
        reversed_amount=Decimal("0"),
        reversed_tax=Decimal("0"),
        created_by=actor.user_id,
    )
    invoice.lines = [
        InvoiceLine(
            line_no=line.line_no,
            blue_line_no=line.blue_line_no,
            name=line.name,
            tax_code=line.tax_code,
            short_name=line.short_name,
            spec=line.spec,
            unit=line.unit,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_rate=line.tax_rate,
            tax=line.tax,
        )
        for line in lines
    ]
    return invoice


def consume_credit(session: Session, seller: Seller, month: str, amount: Decimal) -> None:
    """Add `amount` to the month's credit use, atomically refusing to pass the limit."""
    cents = int(amount.scaleb(2))
    limit_cents = int(seller.credit_limit.scaleb(2))
    values = {"taxpayer": seller.id, "b_month": month, "cents": cents, "limit": limit_cents}
    result = session.connection().execute(_CHARGE_CREDIT, values).scalar_one_or_none()
    if result is None:
        # The month's first invoice (or a refusal): make sure the row exists, try again.
        session.execute(
            insert_ignore(
                session, CreditUsage, {"taxpayer_id": seller.id, "month": month, "used_cents": 0}
            )
        )
        result = session.connection().execute(_CHARGE_CREDIT, values).scalar_one_or_none()
    if result is None:
        used = session.scalar(
            select(CreditUsage.used_cents).where(
                CreditUsage.taxpayer_id == seller.id, CreditUsage.month == month
            )
        )
        remaining = Decimal(limit_cents - int(used or 0)).scaleb(-2)
        raise Conflict(
            "CREDIT_LIMIT_EXCEEDED",
            N_(
                "This invoice would exceed the monthly credit limit; "
                "{remaining} is left this month."
            ),
            params={"remaining": f"{remaining:.2f}"},
        )


def release_credit(session: Session, taxpayer_id: int, month: str, amount: Decimal) -> None:
    """Give credit back (a void, or a red invoice within the blue invoice's month)."""
    cents = int(amount.scaleb(2))
    session.execute(
        update(CreditUsage)
        .where(CreditUsage.taxpayer_id == taxpayer_id, CreditUsage.month == month)
        .values(used_cents=CreditUsage.used_cents - cents)
    )


def credit_used(session: Session, taxpayer_id: int, month: str) -> Decimal:
    used = session.scalar(
        select(CreditUsage.used_cents).where(
            CreditUsage.taxpayer_id == taxpayer_id, CreditUsage.month == month
        )
    )
    return Decimal(int(used or 0)).scaleb(-2)


def buyer_taxpayer_id(session: Session, invoice: Invoice) -> int | None:
    if not invoice.buyer_tax_id:
        return None
    return session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == invoice.buyer_tax_id))


def void(platform: Platform, actor: Actor, number: str) -> Invoice:
    """Void a paper invoice (domain.md §6); every refusal names its reason."""
    seller_id = actor.require_write()
    now = platform.clock.now()
    with platform.database.transaction() as session:
        invoice = get_visible(session, actor, number, for_update=True)
        if invoice.seller_id != seller_id:
            raise Forbidden("ONLY_SELLER_MAY_VOID", N_("Only the seller may void an invoice."))
        check_voidable(invoice, local_date(now))
        if has_open_redletter_form(session, number):
            raise Conflict(
                "REDLETTER_FORM_PENDING",
                N_("A red-letter form for this invoice is waiting for an answer."),
            )
        invoice.status = "voided"
        invoice.voided_at = now
        if not invoice.is_red:
            release_credit(session, seller_id, month_key(invoice.issue_date), invoice.total_amount)
        payload = {"number": invoice.number}
        emit(session, "invoice.voided", invoice.seller_id, invoice.number, payload, now)
        buyer_id = buyer_taxpayer_id(session, invoice)
        if buyer_id is not None:
            emit(session, "invoice.voided", buyer_id, invoice.number, payload, now)
        session.flush()
        return invoice


def has_open_redletter_form(session: Session, number: str) -> bool:
    from fapiao.redletter.models import RedLetterForm
    from fapiao.redletter.rules import PENDING

    query = select(RedLetterForm.id).where(
        RedLetterForm.blue_number == number, RedLetterForm.state.in_(PENDING)
    )
    return session.scalar(query.limit(1)) is not None


def check_voidable(invoice: Invoice, today: date) -> None:
    if invoice.medium != "paper":
        raise Conflict(
            "ELECTRONIC_NOT_VOIDABLE",
            N_(
                "Electronic invoices cannot be voided; reverse them with a red-letter form instead."
            ),
        )
    if invoice.status == "voided":
        raise Conflict("ALREADY_VOIDED", N_("The invoice is already voided."))
    if invoice.is_red:
        raise Conflict("RED_NOT_VOIDABLE", N_("Red invoices cannot be voided here."))
    if (invoice.issue_date.year, invoice.issue_date.month) != (today.year, today.month):
        raise Conflict(
            "VOID_PERIOD_CLOSED",
            N_(
                "Paper invoices can only be voided in the month they were issued; "
                "use a red-letter form."
            ),
        )
    if invoice.cert_period is not None:
        raise Conflict(
            "CERTIFIED_NOT_VOIDABLE",
            N_("The buyer has certified this invoice; it can no longer be voided."),
        )
    if invoice.status != "normal":
        raise Conflict("REVERSED_NOT_VOIDABLE", N_("A reversed invoice cannot be voided."))


@dataclass(frozen=True)
class ListFilter:
    direction: str = "issued"
    date_from: date | None = None
    date_to: date | None = None
    counterparty: str | None = None
    status: str | None = None
    kind: str | None = None
    limit: int = 50
    cursor: str | None = None


def encode_cursor(invoice: Invoice) -> str:
    raw = f"{invoice.issue_date.isoformat()}|{invoice.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, _, ident = raw.partition("|")
        number = int(ident)
        if not 0 < number < 2**63:
            raise ValueError("id out of range")
        return date.fromisoformat(day), number
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            [rules.FieldError("cursor", "CURSOR_INVALID", N_("The cursor is not valid."))]
        ) from None


def list_invoices(
    session: Session, actor: Actor, filters: ListFilter
) -> tuple[list[Invoice], str | None]:
    """A page of the actor's issued or received invoices, newest first (keyset paging)."""
    if actor.taxpayer_id is None or actor.tax_id is None:
        if not actor.is_officer:
            return [], None
        raise Forbidden(
            "TAXPAYER_REQUIRED",
            N_("Only users of a taxpayer can do this; officers look up invoices by number."),
        )
    query = select(Invoice)
    if filters.direction == "received":
        query = query.where(Invoice.buyer_tax_id == actor.tax_id)
        if filters.counterparty:
            query = query.where(Invoice.seller_tax_id == filters.counterparty)
    else:
        query = query.where(Invoice.seller_id == actor.taxpayer_id)
        if filters.counterparty:
            query = query.where(Invoice.buyer_tax_id == filters.counterparty)
    if filters.date_from:
        query = query.where(Invoice.issue_date >= filters.date_from)
    if filters.date_to:
        query = query.where(Invoice.issue_date <= filters.date_to)
    if filters.status:
        query = query.where(Invoice.status == filters.status)
    if filters.kind:
        query = query.where(Invoice.kind == filters.kind)
    if filters.cursor:
        day, ident = decode_cursor(filters.cursor)
        query = query.where(
            or_(Invoice.issue_date < day, and_(Invoice.issue_date == day, Invoice.id < ident))
        )
    query = query.order_by(Invoice.issue_date.desc(), Invoice.id.desc()).limit(filters.limit + 1)
    items = list(session.scalars(query))
    next_cursor = None
    if len(items) > filters.limit:
        items = items[: filters.limit]
        next_cursor = encode_cursor(items[-1])
    return items, next_cursor
