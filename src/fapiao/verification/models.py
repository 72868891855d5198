"""Public verification (查验) counters: checks per invoice per day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base


class VerificationCount(Base):
    __tablename__ = "verification_counts"

    invoice_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
