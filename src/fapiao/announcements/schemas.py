"""Announcement bodies and views for the API (times go out in UTC and Beijing time)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from fapiao.announcements.rules import BODY_MAX, TITLE_MAX, Draft, Notice, as_utc, iso, local
from fapiao.http.types import Text

Kind = Literal["maintenance", "release", "notice"]


def _plausible(value: datetime | None) -> datetime | None:
    # Far-off years would overflow when moved between time zones or by the banner lead.
    if value is not None and not 2000 <= value.year <= 2999:
        raise PydanticCustomError(
            "time_out_of_range", "Must be a time between the years 2000 and 2999."
        )
    return value


When = Annotated[datetime | None, AfterValidator(_plausible)]


class AnnouncementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    # Blank titles are refused by the service with the same problem as missing ones.
    title_zh: Text = Field("", max_length=TITLE_MAX)
    title_en: Text = Field("", max_length=TITLE_MAX)
    body_zh: Text = Field("", max_length=BODY_MAX, description="plain text")
    body_en: Text = Field("", max_length=BODY_MAX, description="plain text")
    starts_at: When = Field(None, description="required for maintenance; no offset: Beijing time")
    ends_at: When = Field(None, description="required for maintenance, after starts_at")
    read_only: bool = Field(
        False, description="maintenance only: publishing pauses changes from starts_at to ends_at"
    )
    banner: bool = Field(False, description="notices and release notes: show as a banner")

    def draft(self) -> Draft:
        return Draft(
            kind=self.kind,
            title_zh=self.title_zh,
            title_en=self.title_en,
            body_zh=self.body_zh,
            body_en=self.body_en,
            starts_at=as_utc(self.starts_at),
            ends_at=as_utc(self.ends_at),
            read_only=self.read_only,
            banner=self.banner,
        )


class AnnouncementOut(BaseModel):
    id: int
    kind: str
    status: Literal["draft", "published"]
    title: str
    body: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    starts_at: str | None
    ends_at: str | None
    starts_local: str | None
    ends_local: str | None
    read_only: bool
    banner: bool
    published_at: str | None
    updated_at: str
    created_by: str | None = None


class AnnouncementPage(BaseModel):
    items: list[AnnouncementOut]
    next_cursor: str | None


def view(notice: Notice, locale: str, *, officer: bool = False) -> dict[str, Any]:
    """An announcement in `locale` (`title`, `body`) with both languages' fields; who
    wrote it only for officers."""
    out: dict[str, Any] = {
        "id": notice.id,
        "kind": notice.kind,
        "status": "draft" if notice.published_at is None else "published",
        "title": notice.title(locale),
        "body": notice.body(locale),
        "title_zh": notice.title_zh,
        "title_en": notice.title_en,
        "body_zh": notice.body_zh,
        "body_en": notice.body_en,
        "starts_at": iso(notice.starts_at),
        "ends_at": iso(notice.ends_at),
        "starts_local": local(notice.starts_at),
        "ends_local": local(notice.ends_at),
        "read_only": notice.read_only,
        "banner": notice.banner,
        "published_at": iso(notice.published_at),
        "updated_at": iso(notice.updated_at),
    }
    if officer:
        out["created_by"] = notice.created_by
    return out
