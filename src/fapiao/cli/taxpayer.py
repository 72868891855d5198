"""`fapiao taxpayer …`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import FapiaoError
from fapiao.kit.money import to_decimal
from fapiao.taxpayers import service
from fapiao.taxpayers.models import Taxpayer

app = typer.Typer(help="Taxpayers.", no_args_is_help=True)


@app.command()
def add(
    ctx: typer.Context,
    tax_id: Annotated[str, typer.Option("--tax-id", help="Unified social credit code.")],
    name: Annotated[str, typer.Option(help="Registered name.")],
    kind: Annotated[str, typer.Option(help="general or small_scale.")] = "general",
    credit_limit: Annotated[
        str | None, typer.Option("--credit-limit", help="Monthly credit, amount before tax.")
    ] = None,
    address: Annotated[str, typer.Option(help="Address.")] = "",
    phone: Annotated[str, typer.Option(help="Phone.")] = "",
    bank: Annotated[str, typer.Option(help="Bank name.")] = "",
    account: Annotated[str, typer.Option(help="Bank account number.")] = "",
) -> None:
    """Register a taxpayer."""
    platform = state(ctx).platform()
    limit = platform.settings.default_credit_limit
    if credit_limit is not None:
        parsed = to_decimal(credit_limit)
        if parsed is None:
            console.print("[red]--credit-limit must be an amount such as 1000000.00[/red]")
            raise typer.Exit(2)
        limit = parsed
    try:
        with platform.database.transaction() as session:
            taxpayer = service.add_taxpayer(
                session,
                tax_id=tax_id,
                name=name,
                kind=kind,
                credit_limit=Decimal(limit),
                now=platform.clock.now(),
                address=address,
                phone=phone,
                bank=bank,
                account=account,
            )
            console.print(f"taxpayer {taxpayer.tax_id} {taxpayer.name} added")
    except FapiaoError as error:
        fail(ctx, error)


@app.command(name="list")
def list_taxpayers(ctx: typer.Context) -> None:
    """List taxpayers."""
    platform = state(ctx).platform()
    table = Table("tax ID", "name", "kind", "credit limit")
    with platform.database.transaction(write=False) as session:
        for taxpayer in session.scalars(select(Taxpayer).order_by(Taxpayer.id)):
            table.add_row(
                taxpayer.tax_id, taxpayer.name, taxpayer.kind, f"{taxpayer.credit_limit:.2f}"
            )
    console.print(table)
