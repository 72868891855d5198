"""The data keys, wrapped by the master key, and the state of encryption jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, UTCDateTime


class DataKey(Base):
    """A random 32-byte key, stored only encrypted by the master key. `purpose` is
    `field` (encrypts values; the newest one encrypts new values) or `index` (the one key
    of the natural persons' ID blind index, never rotated: equal IDs must keep equal
    indexes). `master_id` names the master key that wrapped it."""

    __tablename__ = "data_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    purpose: Mapped[str] = mapped_column(String(8))
    cipher: Mapped[str] = mapped_column(String(16))
    wrapped: Mapped[str] = mapped_column(String(200))
    master_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EncryptionState(Base):
    """Named markers: `plaintext` while rows written before encryption wait for the
    first-run sweep; `rotation` (value: the target key id) while `fapiao keys rotate`
    has not finished re-encrypting."""

    __tablename__ = "encryption_state"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(40))
