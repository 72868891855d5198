"""Turning maintenance on and off, and knowing cheaply whether it is on.

The window lives in the database so every server process sees the same one; each
process keeps the current window for at most `MaintenanceState.ttl` seconds of the
injected clock, so the issue path never pays a query for it. A window ends by itself at
`until`, exactly on time, whatever the cache holds."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fapiao.kit.clock import CST, Clock
from fapiao.kit.errors import N_, invalid
from fapiao.maintenance.models import MaintenanceWindow

MESSAGE_MAX = 500
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """A maintenance window as plain values (safe to share between threads)."""

    starts_at: datetime
    until: datetime
    message_zh: str = ""
    message_en: str = ""
    set_by: str = ""
    ended_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and self.starts_at <= now < self.until

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, math.ceil((self.until - now).total_seconds()))

    def until_local(self) -> str:
        """The end in Beijing time, as people read it: 2026-12-01 06:00."""
        return self.until.astimezone(CST).strftime("%Y-%m-%d %H:%M")

    def message(self, locale: str) -> str:
        """The officer's own words in `locale` (the other language when only it was given)."""
        if locale == "en":
            return self.message_en or self.message_zh
        return self.message_zh or self.message_en

    def describe(self, locale: str, *, with_author: bool = False) -> dict[str, Any]:
        described: dict[str, Any] = {
            "starts_at": self.starts_at.isoformat(),
            "until": self.until.isoformat(),
            "until_local": self.until_local(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "message": self.message(locale),
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }
        if with_author:
            described["set_by"] = self.set_by
        return described


REFUSAL = N_(
    "The platform is in maintenance until {until} (Beijing time): changes are paused, "
    "reading and verification keep working. Try again after that."
)


def _window(row: MaintenanceWindow) -> Window:
    return Window(
        starts_at=row.starts_at,
        until=row.until,
        message_zh=row.message_zh,
        message_en=row.message_en,
        set_by=row.set_by,
        ended_at=row.ended_at,
    )


def _open_rows(now: datetime) -> Any:
    return select(MaintenanceWindow).where(
        MaintenanceWindow.ended_at.is_(None),
        MaintenanceWindow.until > now,
        MaintenanceWindow.starts_at <= now,
    )


def current_window(
    session: Session, now: datetime, ahead: timedelta = timedelta(0)
) -> Window | None:
    """The window in force at `now`, if any (the latest one set). With `ahead`, when none
    is in force, the first scheduled to start within `ahead` of `now`: a process that
    keeps the answer for a while then closes writes at the window's start, not up to
    `ahead` late (`Window.active` says when it is in force)."""
    row = session.scalar(_open_rows(now).order_by(MaintenanceWindow.id.desc()).limit(1))
    if row is None and ahead > timedelta(0):
        row = session.scalar(
            select(MaintenanceWindow)
            .where(
                MaintenanceWindow.ended_at.is_(None),
                MaintenanceWindow.starts_at > now,
                MaintenanceWindow.starts_at <= now + ahead,
            )
            .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
            .limit(1)
        )
    return None if row is None else _window(row)


def start(
    session: Session,
    now: datetime,
    until: datetime,
    set_by: str,
    message_zh: str = "",
    message_en: str = "",
) -> Window:
    """Put the platform in maintenance from now until `until` (replacing a window in
    force); 422 when `until` is not in the future or a message is too long."""
    if until.tzinfo is None:
        until = until.replace(tzinfo=CST)  # a bare time is Beijing time
    try:
        until = until.astimezone(UTC)
    except OverflowError:  # a time at the very edge of the calendar: long past
        until = now
    if until <= now:
        raise invalid(
            "until",
            "MAINTENANCE_UNTIL_PAST",
            N_("The end of maintenance ({until}) must be in the future."),
            until=until.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
        )
    if until - now > timedelta(days=31):
        raise invalid(
            "until",
            "MAINTENANCE_TOO_LONG",
            N_("A maintenance window lasts at most 31 days."),
        )
    for name, text in (("message_zh", message_zh), ("message_en", message_en)):
        if len(text) > MESSAGE_MAX:
            raise invalid(name, "TOO_LONG", N_("At most {max_length} characters."), max_length=500)
    end(session, now)
    row = MaintenanceWindow(
        starts_at=now,
        until=until,
        message_zh=message_zh.strip(),
        message_en=message_en.strip(),
        set_by=set_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _window(row)


def schedule(
    session: Session,
    now: datetime,
    starts_at: datetime,
    until: datetime,
    set_by: str,
    message_zh: str = "",
    message_en: str = "",
) -> int:
    """Schedule a window from `starts_at` (now when earlier) until `until`, leaving any
    window in force alone; its id, for `cancel`. 422 when `until` is not after both."""
    starts_at = max(starts_at.astimezone(UTC), now)
    until = until.astimezone(UTC)
    if until <= starts_at:
        raise invalid(
            "ends_at",
            "MAINTENANCE_UNTIL_PAST",
            N_("The end of maintenance ({until}) must be in the future."),
            until=until.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
        )
    if until - starts_at > timedelta(days=31):
        raise invalid(
            "ends_at", "MAINTENANCE_TOO_LONG", N_("A maintenance window lasts at most 31 days.")
        )
    row = MaintenanceWindow(
        starts_at=starts_at,
        until=until,
        message_zh=message_zh.strip()[:MESSAGE_MAX],
        message_en=message_en.strip()[:MESSAGE_MAX],
        set_by=set_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def cancel(session: Session, now: datetime, window_id: int) -> None:
    """Call off a scheduled window: one not yet begun is removed (it was never in force,
    so no history would say it was), one in force ends now, one over stays as it was."""
    row = session.get(MaintenanceWindow, window_id)
    if row is None or row.ended_at is not None or row.until <= now:
        return
    if row.starts_at > now:
        session.delete(row)
    else:
        row.ended_at = now
    session.flush()


def end(session: Session, now: datetime) -> bool:
    """End the window in force now, if any; True when there was one."""
    ended = session.execute(
        update(MaintenanceWindow)
        .where(
            MaintenanceWindow.ended_at.is_(None),
            MaintenanceWindow.until > now,
            MaintenanceWindow.starts_at <= now,
        )
        .values(ended_at=now)
    )
    return bool(getattr(ended, "rowcount", 0))


def windows_since(session: Session, since: datetime, now: datetime) -> list[Window]:
    """Every window that was in force at some time between `since` and `now`, oldest first."""
    rows = session.scalars(
        select(MaintenanceWindow)
        .where(
            MaintenanceWindow.starts_at <= now,
            MaintenanceWindow.until > since,
            or_(MaintenanceWindow.ended_at.is_(None), MaintenanceWindow.ended_at > since),
        )
        .order_by(MaintenanceWindow.id)
    )
    return [_window(row) for row in rows]


class MaintenanceState:
    """The current window as this process knows it: read from the database at most once
    per `ttl` seconds of the clock, and forgotten at once when this process changes it."""

    def __init__(
        self, load: Callable[[datetime], Window | None], clock: Clock, ttl: float = 1.0
    ) -> None:
        self._load = load
        self._clock = clock
        self._ttl = timedelta(seconds=ttl)
        self._lock = threading.Lock()
        self._fetched_at: datetime | None = None
        self._window: Window | None = None
        self._refreshing = False

    def cached(self, now: datetime) -> tuple[bool, Window | None]:
        """(fresh, window): whether the cached answer may be used at `now`, and it. When
        it is stale, one caller is told so (and refreshes); the others use the cached
        answer meanwhile, so a busy process does not queue a query per request."""
        with self._lock:
            fetched_at, window = self._fetched_at, self._window
            fresh = fetched_at is not None and fetched_at <= now < fetched_at + self._ttl
            if not fresh and fetched_at is not None and self._refreshing:
                fresh = True
            elif not fresh:
                self._refreshing = True
        if window is not None and not window.active(now):
            window = None  # ends on time, not up to a second late
        return fresh, window

    def current(self, now: datetime | None = None) -> Window | None:
        """The window in force now, or None; a query only when the cache is stale."""
        now = now or self._clock.now()
        fresh, window = self.cached(now)
        if fresh:
            return window
        return self.refresh(now)

    def refresh(self, now: datetime) -> Window | None:
        """Read the window in force at `now`. When the database does not answer, the last
        known window stands (a write then fails on its own, with its own error)."""
        try:
            window = self._load(now)
        except Exception:
            log.warning("could not read the maintenance window", exc_info=True)
            with self._lock:
                self._fetched_at, self._refreshing = now, False
                window = self._window
            return window if window is not None and window.active(now) else None
        with self._lock:
            self._fetched_at, self._window, self._refreshing = now, window, False
        # The loader may name a window about to start; it is in force only from its start.
        return window if window is not None and window.active(now) else None

    def forget(self) -> None:
        with self._lock:
            self._fetched_at, self._window, self._refreshing = None, None, False
