"""Announcement rules (pure): what a valid one is, and which show as banners when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fapiao.kit.clock import CST
from fapiao.kit.errors import N_, FieldError
from fapiao.kit.i18n import translate

MAINTENANCE = "maintenance"
RELEASE = "release"
NOTICE = "notice"
KINDS = (MAINTENANCE, RELEASE, NOTICE)
TITLE_MAX = 200
BODY_MAX = 5000
TITLE_REQUIRED = N_("An announcement needs a title in both languages.")
TOO_LONG = N_("At most {max_length} characters.")
# The maintenance window a read-only notice schedules may last this long at most.
WINDOW_MAX = timedelta(days=31)


@dataclass(frozen=True)
class Draft:
    """What an officer writes; times are aware (UTC) or None."""

    kind: str
    title_zh: str
    title_en: str
    body_zh: str = ""
    body_en: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    read_only: bool = False
    banner: bool = False


@dataclass(frozen=True)
class Notice:
    """A stored announcement as plain values (what banners and feeds are made from)."""

    id: int
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    starts_at: datetime | None
    ends_at: datetime | None
    read_only: bool
    banner: bool
    published_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_zh

    def body(self, locale: str) -> str:
        """The body in `locale` (the other language when only it was written)."""
        if locale == "en":
            return self.body_en or self.body_zh
        return self.body_zh or self.body_en


@dataclass(frozen=True)
class Banner:
    """One banner for the web pages: level `info` or `warning`, text in one language."""

    id: int
    kind: str
    level: str
    text: str
    starts_at: datetime | None
    ends_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "level": self.level,
            "text": self.text,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "starts_local": local(self.starts_at),
            "ends_local": local(self.ends_at),
        }


def as_utc(value: datetime | None) -> datetime | None:
    """An aware time in UTC; a time without an offset is Beijing time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=CST)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def local(value: datetime | None) -> str | None:
    """Beijing time as people read it: 2026-12-01 06:00."""
    return None if value is None else value.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def problems(draft: Draft) -> list[FieldError]:
    """Every field error of a draft (empty when it is valid)."""
    errors: list[FieldError] = []
    if draft.kind not in KINDS:
        errors.append(
            FieldError(
                "kind",
                "INVALID_CHOICE",
                N_("Must be one of: {expected}."),
                {"expected": ", ".join(KINDS)},
            )
        )
    for name, value, limit in (
        ("title_zh", draft.title_zh, TITLE_MAX),
        ("title_en", draft.title_en, TITLE_MAX),
        ("body_zh", draft.body_zh, BODY_MAX),
        ("body_en", draft.body_en, BODY_MAX),
    ):
        if name.startswith("title") and not value.strip():
            errors.append(
                FieldError(
                    name, "FIELD_REQUIRED", N_("An announcement needs a title in both languages.")
                )
            )
        if len(value) > limit:
            errors.append(
                FieldError(
                    name, "TOO_LONG", N_("At most {max_length} characters."), {"max_length": limit}
                )
            )
    if draft.kind == MAINTENANCE:
        for name, moment in (("starts_at", draft.starts_at), ("ends_at", draft.ends_at)):
            if moment is None:
                errors.append(
                    FieldError(
                        name,
                        "FIELD_REQUIRED",
                        N_("A maintenance notice needs the start and the end of its window."),
                    )
                )
    if draft.starts_at is not None and draft.ends_at is not None:
        if draft.ends_at <= draft.starts_at:
            errors.append(
                FieldError(
                    "ends_at",
                    "ANNOUNCEMENT_ENDS_BEFORE_STARTS",
                    N_("The end ({ends}) must be after the start ({starts})."),
                    {"ends": local(draft.ends_at), "starts": local(draft.starts_at)},
                )
            )
        elif draft.read_only and draft.ends_at - draft.starts_at > WINDOW_MAX:
            errors.append(
                FieldError(
                    "ends_at",
                    "MAINTENANCE_TOO_LONG",
                    N_("A maintenance window lasts at most 31 days."),
                )
            )
    if draft.read_only and draft.kind != MAINTENANCE:
        errors.append(
            FieldError(
                "read_only",
                "READ_ONLY_NOT_MAINTENANCE",
                N_("Only a maintenance notice can pause changes."),
            )
        )
    return errors


MAINTENANCE_BANNER = N_("{title}: {starts} to {ends} (Beijing time)")
READ_ONLY_BANNER = N_(
    "{title}: {starts} to {ends} (Beijing time). Changes are paused then; "
    "reading and verification keep working."
)


def banners(
    notices: Iterable[Notice],
    now: datetime,
    locale: str,
    *,
    lead: timedelta = timedelta(hours=72),
    recent: timedelta = timedelta(days=7),
) -> list[Banner]:
    """The banners to show at `now` in `locale`, maintenance first (soonest first), then
    the newest notices. A published maintenance notice shows from `lead` before its
    start until its end (`warning` once its window has begun or when it pauses changes);
    a published notice or release note flagged `banner` shows for `recent` after it was
    published, within its own start and end when it has them. Drafts never show."""
    shown: list[tuple[tuple[int, float], Banner]] = []
    for notice in notices:
        if notice.published_at is None or notice.published_at > now:
            continue
        if notice.kind == MAINTENANCE:
            if notice.starts_at is None or notice.ends_at is None:
                continue
            if not notice.starts_at - lead <= now < notice.ends_at:
                continue
            template = READ_ONLY_BANNER if notice.read_only else MAINTENANCE_BANNER
            text = translate(
                template,
                locale,
                title=notice.title(locale),
                starts=local(notice.starts_at),
                ends=local(notice.ends_at),
            )
            level = "warning" if notice.read_only or notice.starts_at <= now else "info"
            key = (0, notice.starts_at.timestamp())
        else:
            if not notice.banner or now >= notice.published_at + recent:
                continue
            if notice.starts_at is not None and now < notice.starts_at:
                continue
            if notice.ends_at is not None and now >= notice.ends_at:
                continue
            text, level = notice.title(locale), "info"
            key = (1, -notice.published_at.timestamp())
        shown.append(
            (key, Banner(notice.id, notice.kind, level, text, notice.starts_at, notice.ends_at))
        )
    return [banner for _, banner in sorted(shown, key=lambda item: item[0])]
