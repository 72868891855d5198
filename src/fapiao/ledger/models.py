"""The ledger journal: every accepted document, hash-chained, in commit order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(40), index=True)
    taxpayer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The platform's signature over the receipt of an issued invoice (base64url).
    signature: Mapped[str | None] = mapped_column(String(100), nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class LedgerHead(Base):
    """One row: the last entry, locked by every append so entries chain in order."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))


class SigningKey(Base):
    """Public keys of the platform's receipt signatures. Each server keeps its private
    key in its data directory and registers the public half here, so every server lists
    every key and a rotated key keeps verifying old receipts."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
