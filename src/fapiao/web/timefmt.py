"""Times on pages: shown in Beijing time (the platform's local time), and the time left
until a deadline in words."""

from __future__ import annotations

from datetime import datetime

from fapiao.kit.clock import CST
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate


def local_time(instant: datetime) -> str:
    """`2026-12-07 09:30` in Beijing time."""
    return instant.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def time_left(deadline: datetime, now: datetime, locale: str) -> str:
    """ "70 h 12 min left", or that the time is up."""
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return translate(N_("Time is up"), locale)
    minutes = seconds // 60
    return translate(
        N_("{hours} h {minutes} min left"), locale, hours=minutes // 60, minutes=minutes % 60
    )
