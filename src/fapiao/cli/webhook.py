"""`fapiao webhook …`: operators look at subscriptions and send deliveries again."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import N_, FapiaoError, NotFound
from fapiao.kit.i18n import translate
from fapiao.taxpayers.models import Taxpayer
from fapiao.webhooks import service
from fapiao.webhooks.models import Delivery, Webhook

app = typer.Typer(help="Webhook subscriptions and deliveries.", no_args_is_help=True)


@app.command(name="list")
def list_webhooks(
    ctx: typer.Context,
    taxpayer: Annotated[str, typer.Option("--taxpayer", help="Tax ID of the subscriber.")],
) -> None:
    """A taxpayer's subscriptions with their pending, delivered and dead deliveries."""
    platform = state(ctx).platform()
    with platform.database.transaction(write=False) as session:
        taxpayer_id = session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == taxpayer))
        if taxpayer_id is None:
            fail(ctx, NotFound("TAXPAYER_NOT_FOUND", N_("Taxpayer {tax_id} is not registered."),
                               params={"tax_id": taxpayer}))  # fmt: skip
        table = Table("id", "url", "events", "active", "pending", "delivered", "dead")
        for webhook in session.scalars(
            select(Webhook).where(Webhook.taxpayer_id == taxpayer_id).order_by(Webhook.id)
        ):
            statuses = list(
                session.scalars(select(Delivery.status).where(Delivery.webhook_id == webhook.id))
            )
            table.add_row(
                str(webhook.id),
                webhook.url,
                webhook.events,
                str(webhook.active),
                *(str(statuses.count(name)) for name in ("pending", "delivered", "dead")),
            )
    console.print(table)


@app.command()
def redeliver(
    ctx: typer.Context,
    delivery_id: Annotated[int, typer.Argument(help="Delivery id (from the delivery log).")],
) -> None:
    """Send a delivery again now, with a fresh count of attempts."""
    cli = state(ctx)
    platform = cli.platform()
    try:
        with platform.database.transaction() as session:
            delivery = session.get(Delivery, delivery_id)
            webhook = session.get(Webhook, delivery.webhook_id) if delivery else None
            if webhook is None:
                raise service.delivery_not_found(delivery_id)
            service.redeliver(session, webhook.taxpayer_id, delivery_id, platform.clock.now())
    except FapiaoError as error:
        fail(ctx, error)
    message = N_("Delivery {id} will be sent again.")
    console.print(translate(message, cli.locale, id=delivery_id))
