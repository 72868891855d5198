"""`fapiao trace NUMBER` and `fapiao trace --idempotency-key K --taxpayer ID`: the
diagnosis and timeline, as an officer sees them."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fapiao.accounts.service import Actor
from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import N_, FapiaoError, invalid
from fapiao.trace import keys, service
from fapiao.trace.timeline import timeline


def register(app: typer.Typer) -> None:
    @app.command()
    def trace(
        ctx: typer.Context,
        number: Annotated[
            str | None, typer.Argument(help="Invoice number (20 digits).", show_default=False)
        ] = None,
        buyer_tax_id: Annotated[
            str | None, typer.Option("--buyer-tax-id", help="The tax ID the buyer says is theirs.")
        ] = None,
        idempotency_key: Annotated[
            str | None,
            typer.Option("--idempotency-key", help="Instead of a number: the request's key."),
        ] = None,
        taxpayer: Annotated[
            str | None,
            typer.Option("--taxpayer", help="With --idempotency-key: the seller's tax ID."),
        ] = None,
    ) -> None:
        """Why an invoice cannot be seen, in plain words, and what happened to it; or what
        became of the issue requests a seller sent with one idempotency key."""
        cli = state(ctx)
        platform = cli.platform()
        operator = Actor(user_id=0, username="cli", role="officer", taxpayer_id=None, tax_id=None)
        now = platform.clock.now()
        window = platform.maintenance.current(now)
        if (number is None) == (idempotency_key is None):
            fail(
                ctx,
                invalid(
                    "number",
                    "NUMBER_OR_KEY",
                    N_("Give either number or idempotency_key, not both."),
                ),
            )
        if idempotency_key is not None:
            with platform.database.transaction(write=False) as session:
                try:
                    seller_id = keys.key_owner(session, operator, taxpayer)
                except FapiaoError as error:
                    fail(ctx, error)
                answer = keys.diagnose_key(session, seller_id, idempotency_key, window)
            described = answer.describe(cli.locale)
            console.print(f"[bold]{described['code']}[/bold]  {described['message']}")
            console.print(f"  {described['hint']}")
            for refusal in described["rejections"]:
                console.print(f"  {refusal['at']}  {refusal['code']}  {refusal['message']}")
            return
        assert number is not None
        look = service.replica_look(platform.database)
        with platform.database.transaction(write=False) as session:
            diagnosis = service.diagnose(
                session, operator, number, now, platform.settings, buyer_tax_id, look, window
            )
            try:
                story = timeline(
                    session, operator, number, now, look, bool(platform.settings.smtp_url)
                )
            except FapiaoError as error:
                if diagnosis.code in (
                    "NUMBER_MALFORMED",
                    "NOT_ISSUED",
                    "OTHER_REGION",
                    "MAINTENANCE",
                ):
                    story = None
                else:
                    fail(ctx, error)
        described = service.describe(diagnosis, cli.locale)
        console.print(f"[bold]{described['code']}[/bold]  {described['message']}")
        console.print(f"  {described['hint']}")
        if story is not None:
            for event in story["timeline"]:
                console.print("  " + json.dumps(event, ensure_ascii=False))
