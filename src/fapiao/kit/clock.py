"""Clocks. Every piece of code that needs the time takes a Clock, so tests and the
training sandbox can move time."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

# Invoices carry the local date of issue; the platform runs on China Standard Time.
CST = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to. Thread-safe."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now = self._now + delta

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


def local_date(instant: datetime) -> date:
    """The calendar date in China Standard Time of an aware instant."""
    return instant.astimezone(CST).date()


def month_key(day: date) -> str:
    """`yyyyMM` of a date, the key of credit months and tax periods."""
    return f"{day.year:04d}{day.month:02d}"
