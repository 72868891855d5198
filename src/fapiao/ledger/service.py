"""Appending to the ledger and checking it.

Each entry holds the canonical JSON of a document as accepted, its SHA-256, the previous
entry's hash and its own hash over (seq, kind, subject, recorded_at, content hash,
previous hash). Appends lock the head row, so entries chain in commit order on
PostgreSQL too; a batch of invoices locks it once, as the last thing before its commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from fapiao.dbsql import BulkInsert, insert_ignore
from fapiao.kit.errors import N_
from fapiao.ledger.models import GENESIS_HASH, LedgerEntry, LedgerHead
from fapiao.ledger.signing import Signer, canonical

ISSUED = "invoice.issued"

_HEAD = select(LedgerHead.seq, LedgerHead.entry_hash).where(LedgerHead.id == 1)
_MOVE_HEAD = (
    update(LedgerHead)
    .where(LedgerHead.id == 1)
    .values(seq=bindparam("b_seq"), entry_hash=bindparam("b_hash"))
)
_MOVE_HEAD_SQL = f"UPDATE {LedgerHead.__tablename__} SET seq = %s, entry_hash = %s WHERE id = 1"
_INSERT = BulkInsert(LedgerEntry)


@dataclass(frozen=True)
class Document:
    """A document to record: what it is, what it is about, and its content."""

    kind: str
    subject: str
    taxpayer_id: int | None
    content: dict[str, Any]
    recorded_at: datetime
    receipt: dict[str, Any] | None = None  # fields to sign, for issued invoices


@dataclass(frozen=True)
class Recorded:
    seq: int
    entry_hash: str
    receipt: dict[str, Any] | None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_hash(
    seq: int, kind: str, subject: str, recorded_at: datetime, content_hash: str, prev_hash: str
) -> str:
    stamp = recorded_at.astimezone(UTC).isoformat()
    return sha256(f"{seq}|{kind}|{subject}|{stamp}|{content_hash}|{prev_hash}".encode())


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def invoice_content(invoice: Any, lines: Iterable[Any]) -> dict[str, Any]:
    """The parts of an invoice that never change after issue, in canonical form. Takes an
    Invoice and its lines, or the rows written for them (dicts via `_Attrs`)."""
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "medium": invoice.medium,
        "red_of": invoice.red_of,
        "issue_date": invoice.issue_date.isoformat(),
        "issued_at": invoice.issued_at.astimezone(UTC).isoformat(),
        "seller_tax_id": invoice.seller_tax_id,
        "seller_name": invoice.seller_name,
        "buyer_tax_id": invoice.buyer_tax_id,
        "buyer_name": invoice.buyer_name,
        "total_amount": _money(invoice.total_amount),
        "total_tax": _money(invoice.total_tax),
        "total_with_tax": _money(invoice.total_with_tax),
        "lines": [
            [
                line.line_no,
                line.name,
                line.tax_code,
                _plain(line.quantity),
                _plain(line.unit_price),
                _money(line.amount),
                line.tax_rate,
                _money(line.tax),
            ]
            for line in lines
        ],
    }


class Attrs:
    """Attribute access over a row dict, for `invoice_content`."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)


def invoice_document(
    row: dict[str, Any], lines: Sequence[dict[str, Any]], seller_id: int
) -> Document:
    """The ledger document of an invoice just written as `row` and `lines`."""
    return issued_document(Attrs(row), [Attrs(line) for line in lines], seller_id)


def issued_document(invoice: Any, lines: Sequence[Any], seller_id: int) -> Document:
    """The ledger document of a new invoice (an Invoice, or `Attrs` over its row)."""
    content = invoice_content(invoice, lines)
    return Document(
        kind=ISSUED,
        subject=invoice.number,
        taxpayer_id=seller_id,
        content=content,
        recorded_at=invoice.issued_at,
        receipt={
            "number": invoice.number,
            "seller_tax_id": invoice.seller_tax_id,
            "buyer_tax_id": invoice.buyer_tax_id,
            "total_with_tax": content["total_with_tax"],
            "issued_at": content["issued_at"],
        },
    )


def append(
    session: Session, documents: Sequence[Document], signer: Signer | None
) -> list[Recorded]:
    """Record `documents` in order, at the end of the chain; sign their receipts."""
    if not documents:
        return []
    # What does not depend on the chain is worked out before the head is locked.
    contents = [canonical(document.content).decode() for document in documents]
    content_hashes = [sha256(content.encode()) for content in contents]
    connection = session.connection()
    head = connection.execute(_locked_head(session)).one_or_none()
    if head is None:
        session.execute(
            insert_ignore(session, LedgerHead, {"id": 1, "seq": 0, "entry_hash": GENESIS_HASH})
        )
        head = connection.execute(_locked_head(session)).one()
    seq, prev = int(head.seq), str(head.entry_hash)
    rows, recorded = [], []
    for document, content, content_hash in zip(documents, contents, content_hashes, strict=True):
        seq += 1
        this = entry_hash(
            seq, document.kind, document.subject, document.recorded_at, content_hash, prev
        )
        receipt = None
        signature = key_id = None
        if document.receipt is not None and signer is not None:
            payload = {**document.receipt, "journal_seq": seq, "entry_hash": this}
            signature, key_id = signer.sign(payload), signer.key_id
            receipt = {"payload": payload, "alg": "Ed25519", "kid": key_id, "signature": signature}
        rows.append(
            {
                "seq": seq,
                "kind": document.kind,
                "subject": document.subject,
                "taxpayer_id": document.taxpayer_id,
                "recorded_at": document.recorded_at,
                "content": content,
                "content_hash": content_hash,
                "prev_hash": prev,
                "entry_hash": this,
                "signature": signature,
                "key_id": key_id,
            }
        )
        recorded.append(Recorded(seq, this, receipt))
        prev = this
    if connection.dialect.name == "postgresql":
        # One round trip for the entries and the head, which is locked until the commit.
        _INSERT.execute(connection, rows, first=(_MOVE_HEAD_SQL, (seq, prev)))
    else:
        _INSERT.execute(connection, rows)
        connection.execute(_MOVE_HEAD, {"b_seq": seq, "b_hash": prev})
    return recorded


_DEFERRED = "fapiao.ledger.deferred"


def defer_appends(session: Session) -> None:
    """From now on in this transaction, `append_or_defer` keeps its documents, and
    `flush_deferred` appends them all just before the commit. Group commit does this, so
    a transaction that writes many jobs locks the ledger head once, as its very last
    lock: a job never holds the head while it locks a credit row, which could deadlock
    with another process's batch that locked that row first."""
    session.info[_DEFERRED] = []


def append_or_defer(
    session: Session, documents: Sequence[Document], signer: Signer | None
) -> list[dict[str, Any] | None]:
    """The receipts of `documents` (None where nothing is signed). When appends are
    deferred, each receipt is an empty dict that `flush_deferred` fills in place."""
    pending = session.info.get(_DEFERRED)
    if pending is None:
        return [entry.receipt for entry in append(session, documents, signer)]
    receipts: list[dict[str, Any] | None] = [
        {} if document.receipt is not None and signer is not None else None
        for document in documents
    ]
    pending.append((list(documents), signer, receipts))
    return receipts


def deferred_mark(session: Session) -> int:
    """Where the deferred documents end now; see `drop_deferred`."""
    return len(session.info.get(_DEFERRED, ()))


def drop_deferred(session: Session, mark: int) -> None:
    """Forget documents deferred after `mark`: their savepoint was rolled back."""
    pending = session.info.get(_DEFERRED)
    if pending is not None:
        del pending[mark:]


def flush_deferred(session: Session) -> None:
    """Append every deferred document, in the order deferred, and fill their receipts."""
    pending = session.info.pop(_DEFERRED, None)
    for documents, signer, receipts in pending or ():
        for entry, receipt in zip(append(session, documents, signer), receipts, strict=True):
            if receipt is not None and entry.receipt is not None:
                receipt.update(entry.receipt)


def record(
    session: Session,
    kind: str,
    subject: str,
    taxpayer_id: int | None,
    content: dict[str, Any],
    now: datetime,
) -> Recorded:
    """Record one document (a void, a red-letter decision, a certification change…)."""
    document = Document(kind, subject, taxpayer_id, content, now)
    return append(session, [document], None)[0]


def _locked_head(session: Session) -> Any:
    return _HEAD.with_for_update() if session.get_bind().dialect.name == "postgresql" else _HEAD


def receipt_of(session: Session, number: str) -> dict[str, Any] | None:
    """The receipt of an issued invoice, exactly as signed when it was issued (or, for
    one issued earlier in this very transaction, the receipt its append will fill)."""
    for documents, _signer, receipts in session.info.get(_DEFERRED, ()):
        for document, receipt in zip(documents, receipts, strict=True):
            if document.kind == ISSUED and document.subject == number:
                return receipt
    entry = session.scalar(
        select(LedgerEntry).where(LedgerEntry.subject == number, LedgerEntry.kind == ISSUED)
    )
    if entry is None or entry.signature is None:
        return None
    content = json.loads(entry.content)
    payload = {
        "number": content["number"],
        "seller_tax_id": content["seller_tax_id"],
        "buyer_tax_id": content["buyer_tax_id"],
        "total_with_tax": content["total_with_tax"],
        "issued_at": content["issued_at"],
        "journal_seq": entry.seq,
        "entry_hash": entry.entry_hash,
    }
    return {"payload": payload, "alg": "Ed25519", "kid": entry.key_id, "signature": entry.signature}


@dataclass(frozen=True)
class CheckResult:
    entries: int
    head_seq: int
    head_hash: str
    # The first break: a message (translatable) and its parameters; None when intact.
    problem: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def check(
    session: Session,
    load_invoice: Callable[[str], Any],
    progress: Callable[[int], None] = lambda _n: None,
    chunk: int = 2000,
) -> CheckResult:
    """Walk the chain from the start and report the first break: a gap in the sequence, a
    link to the wrong previous entry, an entry whose hash does not match its fields, a
    content hash that does not match its content, an invoice whose stored fields differ
    from what was recorded, or a head that is not the last entry."""
    # The head first: entries appended while the check runs (PostgreSQL reads each
    # statement's own snapshot) lie beyond it and are left for the next check.
    head = session.execute(_HEAD).one_or_none()
    head_seq, head_hash = (int(head.seq), str(head.entry_hash)) if head else (0, GENESIS_HASH)
    prev, expected_seq, count = GENESIS_HASH, 1, 0
    last = 0
    while True:
        entries = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.seq >= expected_seq, LedgerEntry.seq <= head_seq)
            .order_by(LedgerEntry.seq)
            .limit(chunk)
        ).all()
        if not entries:
            break
        for entry in entries:
            problem = _entry_problem(entry, expected_seq, prev, load_invoice)
            if problem:
                message, params = problem
                return CheckResult(count, last, prev, message, params)
            prev, last, expected_seq = entry.entry_hash, entry.seq, entry.seq + 1
            count += 1
        progress(len(entries))
        session.expunge_all()
    if (head_seq, head_hash) != (last, prev):
        message = N_("The ledger head points at entry {head}, but the last entry is {seq}.")
        return CheckResult(count, last, prev, message, {"head": head_seq, "seq": last})
    return CheckResult(count, last, prev)


def _entry_problem(
    entry: LedgerEntry, expected_seq: int, prev: str, load_invoice: Callable[[str], Any]
) -> tuple[str, dict[str, Any]] | None:
    at = {"seq": entry.seq, "subject": entry.subject}
    if entry.seq != expected_seq:
        return N_("Entry {missing} is missing (the next one is {seq})."), {
            "missing": expected_seq,
            **at,
        }
    if entry.prev_hash != prev:
        return N_("Entry {seq} does not link to the entry before it."), at
    if sha256(entry.content.encode()) != entry.content_hash:
        return N_("Entry {seq}: its content does not match its content hash."), at
    expected = entry_hash(
        entry.seq, entry.kind, entry.subject, entry.recorded_at, entry.content_hash, prev
    )
    if entry.entry_hash != expected:
        return N_("Entry {seq}: its hash does not match its fields."), at
    if entry.kind == ISSUED:
        invoice = load_invoice(entry.subject)
        if invoice is None:
            return N_("Entry {seq}: invoice {subject} is missing from the invoices."), at
        content = invoice_content(invoice, invoice.lines)
        stored = canonical(content).decode()
        id_number: Any = getattr(invoice, "buyer_id_number", None)
        if stored != entry.content and id_number:
            # Recorded before encryption at rest: the natural person's ID number itself,
            # where the invoice now holds its blind index (docs/encryption.md).
            stored = canonical({**content, "buyer_tax_id": id_number}).decode()
        if stored != entry.content:
            return N_("Entry {seq}: invoice {subject} differs from what was recorded."), at
    return None
