"""One row per limited subject and time window; old windows are pruned by the jobs."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fapiao.db import Base


class RateCounter(Base):
    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_expires", "expires"),)

    # "<scope>:<subject>", e.g. "login-ip:203.0.113.7" or "verify-ip:2001:db8::/64".
    bucket: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Start of the fixed window, in seconds since the epoch.
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # End of the window (epoch seconds): the row can be deleted from then on.
    expires: Mapped[int] = mapped_column(BigInteger)
