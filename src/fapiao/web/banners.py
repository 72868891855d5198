"""Banners above every page: published announcements, and the maintenance window in
force.

`banners(request)` asks every registered provider; a provider takes the request and its
language and returns Banner values. Register one with `register(provider)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from fapiao.announcements import views
from fapiao.announcements.rules import MAINTENANCE
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.platform import Platform
from fapiao.web.locale import request_locale

LEVELS = ("info", "warning", "danger")


@dataclass(frozen=True)
class Banner:
    level: str  # one of LEVELS: the colour and the ARIA role of the banner
    text: str  # already in the page's language


Provider = Callable[[Request, str], list[Banner]]
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def banners(request: Request) -> list[Banner]:
    locale = request_locale(request)
    found: list[Banner] = []
    for provider in PROVIDERS:
        found.extend(provider(request, locale))
    return found


def announcements(request: Request, locale: str) -> list[Banner]:
    """Published announcements: maintenance notices before and during their window,
    recent notices and release notes marked as banners (announcements/views.py)."""
    platform: Platform = request.app.state.platform
    found = views.banners_now(platform, locale)
    now = platform.clock.now()
    # A maintenance notice already under way says what the window banner would.
    request.state.web_maintenance_announced = any(
        item["kind"] == MAINTENANCE
        and item["starts_at"] is not None
        and datetime.fromisoformat(item["starts_at"]) <= now
        for item in found
    )
    return [Banner(item["level"], item["text"]) for item in found]


def maintenance(request: Request, locale: str) -> list[Banner]:
    """The maintenance window in force (it may be set without an announcement), with the
    officer's own words when given."""
    platform: Platform = request.app.state.platform
    window = platform.maintenance.current()
    if window is None or getattr(request.state, "web_maintenance_announced", False):
        return []
    text = translate(
        N_("The platform is under maintenance until {until} (Beijing time)."),
        locale,
        until=window.until_local(),
    )
    message = window.message(locale)
    return [Banner("warning", f"{text} {message}".strip())]


register(announcements)
register(maintenance)
