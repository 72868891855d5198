"""Users of the platform and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base, BigId, UTCDateTime

TAXPAYER_ROLES = ("admin", "clerk", "viewer")
# Platform roles belong to no taxpayer: officers of the tax bureau, and auditors, who
# read the audit log and nothing else.
PLATFORM_ROLES = ("officer", "auditor")
ROLES = TAXPAYER_ROLES + PLATFORM_ROLES


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    taxpayer_id: Mapped[int | None] = mapped_column(ForeignKey("taxpayers.id"), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set with every new password; rotation (FAPIAO_PASSWORD_MAX_AGE_DAYS) counts from it.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set by a reset: the user must choose a new password before signing in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Carried in bearer tokens; raised on a password change or reset, which ends every
    # token issued before it.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
