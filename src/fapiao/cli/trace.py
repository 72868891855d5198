"""`fapiao trace NUMBER`: the diagnosis and timeline, as an officer sees them."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fapiao.accounts.service import Actor
from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import FapiaoError
from fapiao.trace import service


def register(app: typer.Typer) -> None:
    @app.command()
    def trace(
        ctx: typer.Context,
        number: Annotated[str, typer.Argument(help="Invoice number (20 digits).")],
        buyer_tax_id: Annotated[
            str | None, typer.Option("--buyer-tax-id", help="The tax ID the buyer says is theirs.")
        ] = None,
    ) -> None:
        """Why an invoice cannot be seen, in plain words, and what happened to it."""
        cli = state(ctx)
        platform = cli.platform()
        operator = Actor(user_id=0, username="cli", role="officer", taxpayer_id=None, tax_id=None)
        now = platform.clock.now()
        look = service.replica_look(platform.database)
        with platform.database.transaction(write=False) as session:
            diagnosis = service.diagnose(
                session, operator, number, now, platform.settings, buyer_tax_id, look
            )
            try:
                story = service.timeline(
                    session, operator, number, now, look, bool(platform.settings.smtp_url)
                )
            except FapiaoError as error:
                if diagnosis.code in ("NUMBER_MALFORMED", "NOT_ISSUED", "OTHER_REGION"):
                    story = None
                else:
                    fail(ctx, error)
        described = service.describe(diagnosis, cli.locale)
        console.print(f"[bold]{described['code']}[/bold]  {described['message']}")
        console.print(f"  {described['hint']}")
        if story is not None:
            for event in story["timeline"]:
                console.print("  " + json.dumps(event, ensure_ascii=False))
