"""Announcements by the tax bureau's officers; a draft has no `published_at`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, BigId, UTCDateTime


class Announcement(Base):
    __tablename__ = "announcements"
    # The public list and the feeds page through published ones, newest first.
    __table_args__ = (Index("ix_announcements_published", "published_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Maintenance only: writes through the API are refused from starts_at to ends_at.
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Notices and release notes: shown as a banner for a few days after publishing.
    banner: Mapped[bool] = mapped_column(Boolean, default=False)
    # The maintenance window scheduled by publishing a read-only notice (no foreign key:
    # a window not yet begun is removed when the notice is withdrawn).
    window_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
