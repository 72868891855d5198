"""Taxpayers (纳税人): the enterprises that issue and receive invoices. Address, phone,
bank and account are encrypted at rest (docs/encryption.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.crypto.types import Encrypted
from fapiao.db import Base, BigId, Cents, UTCDateTime


class Taxpayer(Base):
    __tablename__ = "taxpayers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tax_id: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # general | small_scale
    credit_limit: Mapped[Decimal] = mapped_column(Cents)
    address: Mapped[str] = mapped_column(Encrypted("taxpayers.address"), default="")
    phone: Mapped[str] = mapped_column(Encrypted("taxpayers.phone"), default="")
    bank: Mapped[str] = mapped_column(Encrypted("taxpayers.bank"), default="")
    account: Mapped[str] = mapped_column(Encrypted("taxpayers.account"), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An officer can suspend a taxpayer: its users can then neither sign in nor act.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
