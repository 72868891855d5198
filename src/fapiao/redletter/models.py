"""Red-letter confirmation forms (红字发票信息确认单)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, BigId, Cents, UTCDateTime


class RedLetterForm(Base):
    __tablename__ = "red_letter_forms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    blue_number: Mapped[str] = mapped_column(String(20), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("taxpayers.id"), index=True)
    buyer_tax_id: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    initiator: Mapped[str] = mapped_column(String(8))  # seller | buyer
    initiator_taxpayer_id: Mapped[int] = mapped_column(ForeignKey("taxpayers.id"))
    reason: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(2))
    # JSON list of {"line_no", "quantity", "amount", "tax"} to reverse (positive values).
    lines_json: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Cents)
    tax: Mapped[Decimal] = mapped_column(Cents)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    red_invoice_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
