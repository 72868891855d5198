"""`fapiao db …`."""

from __future__ import annotations

import typer

from fapiao import migrate
from fapiao.cli.context import console, state
from fapiao.db import Database

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database to the newest schema."""
    settings = state(ctx).settings()
    database = Database(settings)
    try:
        migrate.upgrade(database)
        console.print(f"schema at {migrate.current_revision(database.write_engine)}")
    finally:
        database.dispose()
