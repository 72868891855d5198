"""Reconciliations of an enterprise's own invoice list with the platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, BigId, UTCDateTime


class Reconciliation(Base):
    """One run. The findings are kept in the database, zlib-compressed JSON, not as a
    file under the data directory: every API process (on PostgreSQL, on any host) can
    serve them, they go with the database's backups and are never orphaned, and the
    XLSX is rendered from them in the language of whoever downloads it. Their size is
    bounded: each kind of finding keeps at most DETAIL_LIMIT rows."""

    __tablename__ = "reconciliations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    taxpayer_id: Mapped[int] = mapped_column(ForeignKey("taxpayers.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filename: Mapped[str] = mapped_column(String(255))
    clean: Mapped[bool] = mapped_column(Boolean)
    summary: Mapped[str] = mapped_column(Text)  # JSON: dates and counts
    findings: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed JSON
