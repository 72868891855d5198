"""Maintenance windows, kept as history: every server process reads the current one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, BigId, UTCDateTime


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_until", "until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when an officer ends the window before `until`.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_zh: Mapped[str] = mapped_column(String(500), default="")
    message_en: Mapped[str] = mapped_column(String(500), default="")
    set_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
