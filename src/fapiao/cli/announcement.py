"""`fapiao announcement add|list|publish|withdraw`: notices for the platform's users.
What is done here is recorded in the audit log like the same act through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from fapiao.announcements import service
from fapiao.announcements.rules import Draft, Notice, as_utc, local
from fapiao.audit import service as audit
from fapiao.cli.context import console, fail, state
from fapiao.cli.maintenance import _operator
from fapiao.kit.errors import N_, FapiaoError, invalid
from fapiao.kit.i18n import translate

app = typer.Typer(help="Announcements: maintenance notices, release notes, notices.")


def _when(name: str, text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise invalid(
            name, "INVALID_DATETIME", N_("Must be a date and time such as 2026-12-01T06:00+08:00.")
        ) from None


def _record(session: Session, action: str, item_id: int, now: datetime) -> None:
    audit.record(
        session,
        action=action,
        at=now,
        username=_operator(),
        object_type="announcement",
        object_id=item_id,
        detail={"via": "cli"},
    )


def _say(ctx: typer.Context, message: str, item: Notice) -> None:
    console.print(translate(message, state(ctx).locale, id=item.id, title=item.title_zh))


@app.command()
def add(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option(help="maintenance, release or notice.")],
    title_zh: Annotated[str, typer.Option("--title-zh", help="Title in Chinese.")],
    title_en: Annotated[str, typer.Option("--title-en", help="Title in English.")],
    body_zh: Annotated[str, typer.Option("--body-zh", help="Text in Chinese.")] = "",
    body_en: Annotated[str, typer.Option("--body-en", help="Text in English.")] = "",
    starts: Annotated[
        str | None, typer.Option(help="Start: 2026-12-01T00:00+08:00 (no offset: Beijing time).")
    ] = None,
    ends: Annotated[str | None, typer.Option(help="End, after the start.")] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Maintenance: pause changes during the window.")
    ] = False,
    banner: Annotated[bool, typer.Option("--banner", help="Show as a banner for a while.")] = False,
    publish: Annotated[bool, typer.Option("--publish", help="Publish at once.")] = False,
) -> None:
    """Write an announcement (a draft unless --publish)."""
    platform = state(ctx).platform()
    now = platform.clock.now()
    try:
        draft = Draft(
            kind=kind,
            title_zh=title_zh,
            title_en=title_en,
            body_zh=body_zh,
            body_en=body_en,
            starts_at=_when("starts_at", starts),
            ends_at=_when("ends_at", ends),
            read_only=read_only,
            banner=banner,
        )
        with platform.database.transaction() as session:
            item = service.create(session, now, draft, _operator())
            _record(session, "announcement.create", item.id, now)
            if publish:
                item = service.publish(session, now, item.id)
                _record(session, "announcement.publish", item.id, now)
    except FapiaoError as error:
        fail(ctx, error)
    platform.maintenance.forget()
    _say(ctx, N_("Announcement {id} written: {title}"), item)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every announcement, drafts included, newest first."""
    platform = state(ctx).platform()
    with platform.database.transaction(write=False) as session:
        items = service.every(session)
    table = Table("id", "kind", "status", "title", "window (Beijing time)", "published")
    for item in items:
        window = f"{local(item.starts_at)} – {local(item.ends_at)}" if item.starts_at else ""
        status = "draft" if item.published_at is None else "published"
        if item.read_only:
            status += ", read-only"
        table.add_row(
            str(item.id), item.kind, status, item.title_zh, window, local(item.published_at) or ""
        )
    console.print(table)


def _act(ctx: typer.Context, announcement_id: int, action: str) -> Notice:
    platform = state(ctx).platform()
    now = platform.clock.now()
    act = service.publish if action == "publish" else service.withdraw
    try:
        with platform.database.transaction() as session:
            item = act(session, now, announcement_id)
            _record(session, f"announcement.{action}", announcement_id, now)
    except FapiaoError as error:
        fail(ctx, error)
    platform.maintenance.forget()
    return item


@app.command()
def publish(
    ctx: typer.Context, announcement_id: Annotated[int, typer.Argument(help="Its id.")]
) -> None:
    """Publish a draft now (a read-only maintenance notice schedules its window)."""
    _say(ctx, N_("Announcement {id} published: {title}"), _act(ctx, announcement_id, "publish"))


@app.command()
def withdraw(
    ctx: typer.Context, announcement_id: Annotated[int, typer.Argument(help="Its id.")]
) -> None:
    """Make a published announcement a draft again (calls off its maintenance window)."""
    _say(ctx, N_("Announcement {id} withdrawn: {title}"), _act(ctx, announcement_id, "withdraw"))
