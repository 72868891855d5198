"""GET /announcements.atom (Atom 1.0) and /announcements.rss (RSS 2.0): the published
announcements for feed readers, in zh-CN (default) or en. Built with ElementTree, which
escapes every text and attribute; characters XML cannot carry are dropped first."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from fapiao.announcements import service
from fapiao.announcements.rules import MAINTENANCE, Notice, local
from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PUBLIC_PROBLEMS
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate

router = APIRouter(tags=["announcements"], responses=PUBLIC_PROBLEMS)
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_NS = "http://www.w3.org/2005/Atom"
ENTRIES = 50
# XML 1.0 forbids these even escaped; the API refuses them, older rows may not have.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FEED_TITLE = N_("Announcements of the electronic invoice platform")
FEED_SUBTITLE = N_("Maintenance windows, release notes and notices.")
WINDOW_LINE = N_("Window: {starts} to {ends} (Beijing time).")
READ_ONLY_LINE = N_("Changes are paused then; reading and verification keep working.")

Lang = Annotated[Literal["zh-CN", "en"], Query(description="language of the feed")]


def _safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tag_uri(authority: str, item: Notice) -> str:
    """A permanent id (RFC 4151): the day it was written and its number never change."""
    day = item.created_at.astimezone(UTC).date().isoformat()
    return f"tag:{authority},{day}:announcement/{item.id}"


def text_of(item: Notice, lang: str) -> str:
    """The body, preceded for maintenance by its window in Beijing time."""
    lines = []
    if item.kind == MAINTENANCE and item.starts_at and item.ends_at:
        lines.append(
            translate(WINDOW_LINE, lang, starts=local(item.starts_at), ends=local(item.ends_at))
        )
        if item.read_only:
            lines.append(translate(READ_ONLY_LINE, lang))
    if item.body(lang):
        lines.append(item.body(lang))
    return "\n\n".join(lines)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, {key.rstrip("_"): value for key, value in attrs.items()})
    if text is not None:
        child.text = _safe(text)
    return child


def atom(items: list[Notice], lang: str, base: str, authority: str, now: datetime) -> bytes:
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": lang})
    _sub(feed, "title", translate(FEED_TITLE, lang))
    _sub(feed, "subtitle", translate(FEED_SUBTITLE, lang))
    _sub(feed, "id", f"tag:{authority},2026:announcements/{lang}")
    updated = max((item.updated_at for item in items), default=now)
    _sub(feed, "updated", _rfc3339(updated))
    _sub(feed, "link", rel="self", href=f"{base}/announcements.atom?lang={lang}")
    _sub(feed, "link", rel="alternate", href=f"{base}/ui/announcements")
    author = _sub(feed, "author")
    _sub(author, "name", translate(FEED_TITLE, lang))
    for item in items:
        assert item.published_at is not None
        entry = _sub(feed, "entry")
        _sub(entry, "id", tag_uri(authority, item))
        _sub(entry, "title", item.title(lang))
        _sub(entry, "published", _rfc3339(item.published_at))
        _sub(entry, "updated", _rfc3339(max(item.updated_at, item.published_at)))
        _sub(entry, "link", rel="alternate", href=f"{base}/ui/announcements/{item.id}")
        _sub(entry, "category", term=item.kind)
        _sub(entry, "content", text_of(item, lang), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def rss(items: list[Notice], lang: str, base: str, authority: str, now: datetime) -> bytes:
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", translate(FEED_TITLE, lang))
    _sub(channel, "link", f"{base}/ui/announcements")
    _sub(channel, "description", translate(FEED_SUBTITLE, lang))
    _sub(channel, "language", lang.lower())
    built = max((item.updated_at for item in items), default=now)
    _sub(channel, "lastBuildDate", format_datetime(built.astimezone(UTC), usegmt=True))
    for item in items:
        assert item.published_at is not None
        node = _sub(channel, "item")
        _sub(node, "title", item.title(lang))
        _sub(node, "link", f"{base}/ui/announcements/{item.id}")
        _sub(node, "description", text_of(item, lang))
        _sub(node, "guid", tag_uri(authority, item), isPermaLink="false")
        _sub(node, "pubDate", format_datetime(item.published_at.astimezone(UTC), usegmt=True))
        _sub(node, "category", item.kind)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _published(platform: PlatformDep) -> list[Notice]:
    with platform.database.transaction(write=False) as session:
        items, _ = service.published(session, limit=ENTRIES)
    return items


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _documented(media_type: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {media_type: {"schema": {"type": "string"}}}}}


@router.get(
    "/announcements.atom",
    response_class=Response,
    responses=_documented("application/atom+xml"),
)
def atom_feed(request: Request, platform: PlatformDep, lang: Lang = "zh-CN") -> Response:
    """The latest published announcements as an Atom 1.0 feed (no sign-in needed)."""
    body = atom(
        _published(platform),
        lang,
        _base(request),
        platform.settings.feed_tag_authority,
        platform.clock.now(),
    )
    return Response(body, media_type=ATOM_TYPE, headers={"Cache-Control": "max-age=60"})


@router.get(
    "/announcements.rss",
    response_class=Response,
    responses=_documented("application/rss+xml"),
)
def rss_feed(request: Request, platform: PlatformDep, lang: Lang = "zh-CN") -> Response:
    """The latest published announcements as an RSS 2.0 feed (no sign-in needed)."""
    body = rss(
        _published(platform),
        lang,
        _base(request),
        platform.settings.feed_tag_authority,
        platform.clock.now(),
    )
    return Response(body, media_type=RSS_TYPE, headers={"Cache-Control": "max-age=60"})
