"""`fapiao user …`."""

from __future__ import annotations

from typing import Annotated

import typer

from fapiao.accounts import service
from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import FapiaoError

app = typer.Typer(help="Users.", no_args_is_help=True)


@app.command()
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="Sign-in name.")],
    password: Annotated[str, typer.Option(help="8 to 128 characters.")],
    role: Annotated[
        str, typer.Option(help="admin, clerk, viewer (need --taxpayer), officer or auditor.")
    ],
    taxpayer: Annotated[str | None, typer.Option(help="Tax ID of the user's taxpayer.")] = None,
) -> None:
    """Create a user."""
    platform = state(ctx).platform()
    try:
        with platform.database.transaction() as session:
            user = service.create_user(
                session,
                username=username,
                password=password,
                role=role,
                taxpayer_tax_id=taxpayer,
                now=platform.clock.now(),
            )
            console.print(f"user {user.username} ({user.role}) added")
    except FapiaoError as error:
        fail(ctx, error)
