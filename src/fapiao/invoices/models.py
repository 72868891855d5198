"""Invoices and their lines: the one source of truth. The buyer's inbox, queries and
verification are queries over these tables, never copies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fapiao.crypto.types import Encrypted
from fapiao.db import Base, BigId, Cents, DecimalText, UTCDateTime


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_seller_date", "seller_id", "issue_date", "id"),
        Index("ix_invoices_buyer_date", "buyer_tax_id", "issue_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # special | ordinary
    medium: Mapped[str] = mapped_column(String(10))  # electronic | paper
    is_red: Mapped[bool] = mapped_column(Boolean, default=False)
    red_of: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    red_form_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("taxpayers.id"))
    seller_tax_id: Mapped[str] = mapped_column(String(20))
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_address: Mapped[str] = mapped_column(Encrypted("invoices.seller_address"), default="")
    seller_phone: Mapped[str] = mapped_column(Encrypted("invoices.seller_phone"), default="")
    seller_bank: Mapped[str] = mapped_column(Encrypted("invoices.seller_bank"), default="")
    seller_account: Mapped[str] = mapped_column(Encrypted("invoices.seller_account"), default="")
    # A natural person's ID number is kept only encrypted, in buyer_id_number; here it is
    # replaced by its blind index (crypto/personal.py), which the buyer lookups match on.
    buyer_tax_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    buyer_id_number: Mapped[str] = mapped_column(Encrypted("invoices.buyer_id_number"), default="")
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_address: Mapped[str] = mapped_column(Encrypted("invoices.buyer_address"), default="")
    buyer_phone: Mapped[str] = mapped_column(Encrypted("invoices.buyer_phone"), default="")
    buyer_bank: Mapped[str] = mapped_column(Encrypted("invoices.buyer_bank"), default="")
    buyer_account: Mapped[str] = mapped_column(Encrypted("invoices.buyer_account"), default="")
    buyer_email: Mapped[str] = mapped_column(String(254), default="")
    buyer_natural_person: Mapped[bool] = mapped_column(Boolean, default=False)
    issue_date: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    total_amount: Mapped[Decimal] = mapped_column(Cents)
    total_tax: Mapped[Decimal] = mapped_column(Cents)
    total_with_tax: Mapped[Decimal] = mapped_column(Cents)
    total_in_words: Mapped[str] = mapped_column(String(80))
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False)
    remarks: Mapped[str] = mapped_column(String(500), default="")
    drawer: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(24), default="normal")
    # Running totals of red invoices against this blue one (positive numbers).
    reversed_amount: Mapped[Decimal] = mapped_column(Cents, default=Decimal("0"))
    reversed_tax: Mapped[Decimal] = mapped_column(Cents, default=Decimal("0"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cert_period: Mapped[str | None] = mapped_column(String(6), nullable=True)
    cert_purpose: Mapped[str | None] = mapped_column(String(12), nullable=True)
    cert_reason: Mapped[str | None] = mapped_column(String(2), nullable=True)
    cert_reason_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.line_no", lazy="selectin", cascade="all, delete-orphan"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "line_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    blue_line_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(300))
    tax_code: Mapped[str] = mapped_column(String(19))
    short_name: Mapped[str] = mapped_column(String(60))
    spec: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    quantity: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    unit_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    amount: Mapped[Decimal] = mapped_column(Cents)
    tax_rate: Mapped[str] = mapped_column(String(12))
    tax: Mapped[Decimal] = mapped_column(Cents)


class NumberSequence(Base):
    """Next free sequence per number prefix (YY + region + channel). Processes take
    blocks from it; numbers are unique forever and gaps are allowed."""

    __tablename__ = "number_sequences"

    prefix: Mapped[str] = mapped_column(String(5), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


class CreditUsage(Base):
    """Amount before tax issued per taxpayer per month, in cents, for the credit limit."""

    __tablename__ = "credit_usage"

    taxpayer_id: Mapped[int] = mapped_column(ForeignKey("taxpayers.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(6), primary_key=True)
    used_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    taxpayer_id: Mapped[int] = mapped_column(ForeignKey("taxpayers.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    invoice_number: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IssueRejection(Base):
    """An issue request with an Idempotency-Key that was refused (4xx), so its sender can
    later ask why that key produced no invoice. No request body is kept: only the error's
    code, message id and parameters. Pruned after 30 days."""

    __tablename__ = "issue_rejections"
    __table_args__ = (
        Index("ix_issue_rejections_key", "taxpayer_id", "idempotency_key", "id"),
        Index("ix_issue_rejections_rejected_at", "rejected_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    taxpayer_id: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    rejected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(String(500))  # msgid, translated when shown
    # JSON: the message's parameters, and the field errors [{field, code, message, params}].
    params: Mapped[str] = mapped_column(Text, default="{}")
    errors: Mapped[str] = mapped_column(Text, default="[]")
