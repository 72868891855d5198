"""`fapiao user …`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from fapiao.accounts import management, passwords, service
from fapiao.accounts.models import User
from fapiao.cli import twofactor
from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import N_, FapiaoError, NotFound
from fapiao.taxpayers.models import Taxpayer

app = typer.Typer(help="Users.", no_args_is_help=True)


@app.command()
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="Sign-in name.")],
    password: Annotated[
        str, typer.Option(help="Must satisfy the password policy (FAPIAO_PASSWORD_*).")
    ],
    role: Annotated[
        str, typer.Option(help="admin, clerk, viewer (need --taxpayer), officer or auditor.")
    ],
    taxpayer: Annotated[str | None, typer.Option(help="Tax ID of the user's taxpayer.")] = None,
    totp_secret: Annotated[
        str | None,
        typer.Option(help="Base32 TOTP secret: two-factor sign-in on from the start."),
    ] = None,
) -> None:
    """Create a user."""
    platform = state(ctx).platform()
    try:
        secret = twofactor.parse_secret(totp_secret) if totp_secret is not None else None
        with platform.database.transaction() as session:
            user = service.create_user(
                session,
                username=username,
                password=password,
                role=role,
                taxpayer_tax_id=taxpayer,
                now=platform.clock.now(),
                policy=passwords.PasswordPolicy.from_settings(platform.settings),
            )
            if secret is not None:
                twofactor.enrol(session, user, secret, platform.clock.now())
            console.print(f"user {user.username} ({user.role}) added")
    except FapiaoError as error:
        fail(ctx, error)


@app.command()
def passwd(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="Whose password to set.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new password, for scripts; asked for twice when omitted."),
    ] = None,
) -> None:
    """Set a user's password (it must satisfy the policy); the user's tokens end."""
    platform = state(ctx).platform()
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    policy = passwords.PasswordPolicy.from_settings(platform.settings)
    try:
        with platform.database.transaction(write=False) as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound("USER_NOT_FOUND", N_("No user has this username."))
            passwords.check_new_password(
                password,
                policy,
                field="password",
                username=user.username,
                tax_id=management.tax_id_of(session, user),
            )
            user_id = user.id
        new_hash = passwords.hash_password(password)
        with platform.database.transaction() as session:
            management.store_password(
                session, user_id, new_hash, platform.clock.now(), must_change=False
            )
    except FapiaoError as error:
        fail(ctx, error)
    console.print(f"password of {username} changed")


@app.command("list")
def list_users(
    ctx: typer.Context,
    taxpayer: Annotated[str | None, typer.Option(help="Only this taxpayer's users.")] = None,
) -> None:
    """List users with their role, taxpayer and password state."""
    platform = state(ctx).platform()
    query = (
        select(User, Taxpayer.tax_id)
        .outerjoin(Taxpayer, Taxpayer.id == User.taxpayer_id)
        .order_by(Taxpayer.tax_id, User.username)
    )
    if taxpayer is not None:
        query = query.where(Taxpayer.tax_id == taxpayer)
    table = Table("username", "role", "taxpayer", "active", "must change", "password set")
    with platform.database.transaction(write=False) as session:
        for user, tax_id in session.execute(query):
            changed = user.password_changed_at
            table.add_row(
                user.username,
                user.role,
                tax_id or "-",
                "yes" if user.is_active else "no",
                "yes" if user.must_change_password else "no",
                changed.strftime("%Y-%m-%d %H:%M") if changed else "-",
            )
    console.print(table)


twofactor.register(app)
