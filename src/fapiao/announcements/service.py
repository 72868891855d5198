"""Announcements: officers write, publish, withdraw and delete them; anyone reads the
published ones. A published read-only maintenance notice schedules the maintenance
window (fapiao.maintenance) that pauses changes from its start to its end; withdrawing,
changing or deleting it calls that window off. Never commits."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from fapiao.announcements.models import Announcement
from fapiao.announcements.rules import (
    MAINTENANCE,
    Banner,
    Draft,
    Notice,
    banners,
    local,
    problems,
)
from fapiao.kit.errors import N_, FieldError, NotFound, ValidationFailed
from fapiao.maintenance import service as maintenance

PAGE_MAX = 100


def notice(row: Announcement) -> Notice:
    return Notice(
        id=row.id,
        kind=row.kind,
        title_zh=row.title_zh,
        title_en=row.title_en,
        body_zh=row.body_zh,
        body_en=row.body_en,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        read_only=row.read_only,
        banner=row.banner,
        published_at=row.published_at,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _clean(draft: Draft) -> Draft:
    errors = problems(draft)
    if errors:
        raise ValidationFailed(errors)
    return Draft(
        kind=draft.kind,
        title_zh=draft.title_zh.strip(),
        title_en=draft.title_en.strip(),
        body_zh=draft.body_zh.strip(),
        body_en=draft.body_en.strip(),
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        read_only=draft.read_only and draft.kind == MAINTENANCE,
        banner=draft.banner,
    )


def _row(session: Session, announcement_id: int) -> Announcement:
    row = session.get(Announcement, announcement_id)
    if row is None:
        raise _not_found(announcement_id)
    return row


def _not_found(announcement_id: int) -> NotFound:
    return NotFound(
        "ANNOUNCEMENT_NOT_FOUND",
        N_("There is no announcement {id}."),
        params={"id": announcement_id},
    )


def _schedule(session: Session, now: datetime, row: Announcement) -> None:
    """Schedule the window of a published read-only maintenance notice that has none."""
    if not row.read_only or row.published_at is None or row.window_id is not None:
        return
    assert row.starts_at is not None and row.ends_at is not None  # checked by problems()
    if row.ends_at <= now:
        return  # over already: a record of past maintenance pauses nothing
    row.window_id = maintenance.schedule(
        session, now, row.starts_at, row.ends_at, row.created_by, row.title_zh, row.title_en
    )


def _call_off(session: Session, now: datetime, row: Announcement) -> None:
    if row.window_id is not None:
        maintenance.cancel(session, now, row.window_id)
        row.window_id = None


def create(session: Session, now: datetime, draft: Draft, by: str) -> Notice:
    """A new draft (422 naming every invalid field)."""
    draft = _clean(draft)
    row = Announcement(
        kind=draft.kind,
        title_zh=draft.title_zh,
        title_en=draft.title_en,
        body_zh=draft.body_zh,
        body_en=draft.body_en,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        read_only=draft.read_only,
        banner=draft.banner,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return notice(row)


def update(session: Session, now: datetime, announcement_id: int, draft: Draft) -> Notice:
    """Replace an announcement's content; a published one stays published, and its
    maintenance window follows the new times (or is called off)."""
    draft = _clean(draft)
    row = _row(session, announcement_id)
    _call_off(session, now, row)
    for name in (
        "kind",
        "title_zh",
        "title_en",
        "body_zh",
        "body_en",
        "starts_at",
        "ends_at",
        "read_only",
        "banner",
    ):
        setattr(row, name, getattr(draft, name))
    row.updated_at = now
    session.flush()
    _schedule(session, now, row)
    return notice(row)


def publish(session: Session, now: datetime, announcement_id: int) -> Notice:
    """Publish a draft now (publishing a published one changes nothing)."""
    row = _row(session, announcement_id)
    if row.published_at is None:
        if row.read_only and row.ends_at is not None and row.ends_at <= now:
            raise ValidationFailed(
                [
                    FieldError(
                        "ends_at",
                        "MAINTENANCE_UNTIL_PAST",
                        N_("The end of maintenance ({until}) must be in the future."),
                        {"until": local(row.ends_at)},
                    )
                ]
            )
        row.published_at = now
        row.updated_at = now
        _schedule(session, now, row)
    session.flush()
    return notice(row)


def withdraw(session: Session, now: datetime, announcement_id: int) -> Notice:
    """Make a published announcement a draft again, calling off its window."""
    row = _row(session, announcement_id)
    _call_off(session, now, row)
    if row.published_at is not None:
        row.published_at = None
        row.updated_at = now
    session.flush()
    return notice(row)


def delete(session: Session, now: datetime, announcement_id: int) -> None:
    """Delete an announcement, calling off its window."""
    row = _row(session, announcement_id)
    _call_off(session, now, row)
    session.delete(row)
    session.flush()


def get(session: Session, announcement_id: int, *, drafts: bool = False) -> Notice:
    """One announcement; a draft is 404 unless `drafts` (officers)."""
    row = session.get(Announcement, announcement_id)
    if row is None or (row.published_at is None and not drafts):
        raise _not_found(announcement_id)
    return notice(row)


def encode_cursor(item: Notice) -> str:
    assert item.published_at is not None
    raw = f"{item.published_at.isoformat()}|{item.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        number = int(ident)
        moment = datetime.fromisoformat(when)
        if not 0 < number < 2**63 or moment.tzinfo is None:
            raise ValueError("out of range")
        return moment, number
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            [FieldError("cursor", "CURSOR_INVALID", N_("The cursor is not valid."))]
        ) from None


def published(
    session: Session,
    *,
    kind: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Notice], str | None]:
    """A page of published announcements, newest first, and the cursor of the next page."""
    limit = max(1, min(limit, PAGE_MAX))
    query = select(Announcement).where(Announcement.published_at.is_not(None))
    if kind:
        query = query.where(Announcement.kind == kind)
    if cursor:
        when, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                Announcement.published_at < when,
                and_(Announcement.published_at == when, Announcement.id < ident),
            )
        )
    rows = session.scalars(
        query.order_by(Announcement.published_at.desc(), Announcement.id.desc()).limit(limit + 1)
    ).all()
    items = [notice(row) for row in rows[:limit]]
    return items, encode_cursor(items[-1]) if len(rows) > limit else None


def every(session: Session, limit: int = 200) -> list[Notice]:
    """Drafts and published ones alike, newest first (for officers)."""
    rows = session.scalars(
        select(Announcement)
        .order_by(Announcement.created_at.desc(), Announcement.id.desc())
        .limit(limit)
    ).all()
    return [notice(row) for row in rows]


def current_banners(
    session: Session,
    now: datetime,
    locale: str,
    *,
    lead: timedelta = timedelta(hours=72),
    recent: timedelta = timedelta(days=7),
) -> list[Banner]:
    """The banners to show at `now` (see rules.banners), read from the database."""
    rows = session.scalars(
        select(Announcement).where(
            Announcement.published_at.is_not(None),
            or_(
                and_(
                    Announcement.kind == MAINTENANCE,
                    Announcement.ends_at > now,
                    Announcement.starts_at <= now + lead,
                ),
                and_(
                    Announcement.kind != MAINTENANCE,
                    Announcement.banner.is_(True),
                    Announcement.published_at > now - recent,
                ),
            ),
        )
    ).all()
    return banners((notice(row) for row in rows), now, locale, lead=lead, recent=recent)
