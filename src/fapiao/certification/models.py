"""Certification periods (勾选确认) per buyer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, UTCDateTime


class CertificationPeriod(Base):
    __tablename__ = "certification_periods"

    taxpayer_id: Mapped[int] = mapped_column(ForeignKey("taxpayers.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
