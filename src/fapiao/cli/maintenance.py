"""`fapiao maintenance on|off|status`: pause changes through the API for a while."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Annotated

import typer

from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import N_, FapiaoError, invalid
from fapiao.kit.i18n import translate
from fapiao.maintenance import service

app = typer.Typer(help="Maintenance windows (changes through the API answer 503).")


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _show(ctx: typer.Context, window: service.Window | None) -> None:
    cli = state(ctx)
    if window is None:
        console.print(translate(N_("Not in maintenance."), cli.locale))
        return
    now = cli.platform().clock.now()
    console.print(
        translate(
            N_("In maintenance until {until} (Beijing time), {seconds} s from now; set by {who}."),
            cli.locale,
            until=window.until_local(),
            seconds=window.retry_after(now),
            who=window.set_by,
        )
    )
    message = window.message(cli.locale)
    if message:
        console.print(f"  {message}")


@app.command()
def on(
    ctx: typer.Context,
    until: Annotated[
        str,
        typer.Option(
            "--until", help="End of the window: 2026-12-01T06:00+08:00 (no offset: Beijing time)."
        ),
    ],
    message_zh: Annotated[str, typer.Option("--message-zh", help="Notice in Chinese.")] = "",
    message_en: Annotated[str, typer.Option("--message-en", help="Notice in English.")] = "",
) -> None:
    """Start maintenance now, until --until (replaces a window in force)."""
    platform = state(ctx).platform()
    try:
        try:
            end = datetime.fromisoformat(until)
        except ValueError:
            raise invalid(
                "until",
                "INVALID_DATETIME",
                N_("Must be a date and time such as 2026-12-01T06:00+08:00."),
            ) from None
        with platform.database.transaction() as session:
            window = service.start(
                session, platform.clock.now(), end, _operator(), message_zh, message_en
            )
    except FapiaoError as error:
        fail(ctx, error)
    platform.maintenance.forget()
    _show(ctx, window)


@app.command()
def off(ctx: typer.Context) -> None:
    """End maintenance now."""
    cli = state(ctx)
    platform = cli.platform()
    with platform.database.transaction() as session:
        ended = service.end(session, platform.clock.now())
    platform.maintenance.forget()
    if ended:
        console.print(translate(N_("Maintenance ended."), cli.locale))
    else:
        _show(ctx, None)


@app.command()
def status(ctx: typer.Context) -> None:
    """Whether the platform is in maintenance, and until when."""
    platform = state(ctx).platform()
    with platform.database.transaction(write=False) as session:
        window = service.current_window(session, platform.clock.now())
    _show(ctx, window)
