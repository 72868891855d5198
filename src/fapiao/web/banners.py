"""Banners above every page (maintenance now; announcements later).

`banners(request)` asks every registered provider; a provider takes the request and its
language and returns Banner values. Register one with `register(provider)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

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


def maintenance(request: Request, locale: str) -> list[Banner]:
    """The maintenance window in force, with the officer's own words when given."""
    platform: Platform = request.app.state.platform
    window = platform.maintenance.current()
    if window is None:
        return []
    text = translate(
        N_("The platform is under maintenance until {until} (Beijing time)."),
        locale,
        until=window.until_local(),
    )
    message = window.message(locale)
    return [Banner("warning", f"{text} {message}".strip())]


register(maintenance)
