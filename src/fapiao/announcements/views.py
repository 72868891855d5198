"""What web pages show of announcements, in one call each: the banners of the moment and
a page of the list (read-only transactions; times in UTC and Beijing time)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fapiao.announcements import service
from fapiao.announcements.schemas import view
from fapiao.platform import Platform


def banners_now(platform: Platform, locale: str) -> list[dict[str, Any]]:
    """The banners to show now, most urgent first: each `{id, kind, level (info|warning),
    text (in `locale`), starts_at, ends_at, starts_local, ends_local}`."""
    settings = platform.settings
    now = platform.clock.now()
    with platform.database.transaction(write=False) as session:
        found = service.current_banners(
            session,
            now,
            locale,
            lead=timedelta(hours=settings.announcement_lead_hours),
            recent=timedelta(days=settings.announcement_banner_days),
        )
    return [banner.as_dict() for banner in found]


def list_page(
    platform: Platform,
    locale: str,
    *,
    kind: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """A page of published announcements, newest first, as the API gives it:
    `{items: [...], next_cursor}` (422 `CURSOR_INVALID` for a bad cursor)."""
    with platform.database.transaction(write=False) as session:
        items, next_cursor = service.published(session, kind=kind, limit=limit, cursor=cursor)
    return {"items": [view(item, locale) for item in items], "next_cursor": next_cursor}
