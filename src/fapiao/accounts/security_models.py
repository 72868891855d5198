"""Per-user sign-in protection: the failed-login counter, the lock, the TOTP second
factor and its one-time recovery codes. Kept beside `users` (one row per user, created
when first needed) so the bearer-token path, which reads `users`, never touches it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.crypto.types import Encrypted
from fapiao.db import Base, BigId, UTCDateTime


class UserSecurity(Base):
    __tablename__ = "user_security"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The active TOTP secret (base32), encrypted at rest like the other sensitive fields
    # (a sealed value is about 90 characters).
    totp_secret: Mapped[str | None] = mapped_column(
        Encrypted("user_security.totp_secret"), nullable=True
    )
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A secret handed out by POST /me/totp and not yet confirmed with a code.
    totp_pending_secret: Mapped[str | None] = mapped_column(
        Encrypted("user_security.totp_pending_secret"), nullable=True
    )
    # The last 30-second time step a code was accepted for: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RecoveryCode(Base):
    """A one-time code that stands in for a TOTP code; only its SHA-256 is kept."""

    __tablename__ = "totp_recovery_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
