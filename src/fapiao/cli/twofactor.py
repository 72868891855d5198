"""`fapiao user unlock` and `fapiao user totp-code`: sign-in locks and second factors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts import totp, twofactor
from fapiao.accounts.lockout import unlock
from fapiao.accounts.models import User
from fapiao.accounts.security import Origin
from fapiao.accounts.security_models import UserSecurity
from fapiao.cli.context import console, err_console, fail, state
from fapiao.kit.errors import N_, FapiaoError, NotFound, invalid

CLI = Origin(ip=None, user_agent="fapiao-cli")


def parse_secret(text: str) -> str:
    """The canonical base32 secret, or a 422 naming --totp-secret."""
    secret = totp.normalise_secret(text)
    if secret is None:
        raise invalid(
            "totp_secret",
            "TOTP_SECRET_INVALID",
            N_(
                "A TOTP secret is base32 (letters A–Z and digits 2–7) of at least 112 bits "
                "(23 characters)."
            ),
        )
    return secret


def enrol(session: Session, user: User, secret: str, now: datetime) -> None:
    """Turn on the second factor of a user just created with --totp-secret."""
    twofactor.enable(session, user, secret, now=now, origin=CLI)


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("USER_NOT_FOUND", N_("No such user."))
    return user


def register(app: typer.Typer) -> None:
    @app.command("unlock")
    def unlock_command(
        ctx: typer.Context,
        username: Annotated[str, typer.Option(help="The user to unlock.")],
    ) -> None:
        """Lift a sign-in lock and clear the failed-sign-in count."""
        platform = state(ctx).platform()
        try:
            with platform.database.transaction() as session:
                user = _user(session, username)
                was_locked = unlock(session, user, by="cli", origin=CLI, now=platform.clock.now())
        except FapiaoError as error:
            fail(ctx, error)
        note = "" if was_locked else " (it was not locked)"
        console.print(f"user {username} unlocked, failed sign-ins cleared{note}")

    @app.command("totp-code")
    def totp_code(
        ctx: typer.Context,
        username: Annotated[str, typer.Option(help="A user with two-factor sign-in on.")],
    ) -> None:
        """Print the current one-time code of a user (embedded database only: for the demo
        and local testing, never a server database)."""
        platform = state(ctx).platform()
        if not platform.settings.is_sqlite:
            err_console.print(
                "[red]totp-code works only on the embedded database of a data directory[/red]"
            )
            raise typer.Exit(2)
        try:
            with platform.database.transaction(write=False) as session:
                user = _user(session, username)
                secret = session.scalar(
                    select(UserSecurity.totp_secret).where(UserSecurity.user_id == user.id)
                )
        except FapiaoError as error:
            fail(ctx, error)
        if secret is None:
            err_console.print(f"[red]user {username} has no two-factor sign-in[/red]")
            raise typer.Exit(1)
        console.print(totp.current_code(secret, platform.clock.now()))
