"""`fapiao ticket list|show`: the support queue, for operators at the console."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from fapiao.accounts.service import Actor
from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import N_, FapiaoError, invalid
from fapiao.kit.i18n import translate
from fapiao.support import schemas, service
from fapiao.support.models import STATUSES
from fapiao.taxpayers.service import by_tax_id

app = typer.Typer(help="Support tickets (read-only; officers answer through the API).")
# The console reads like an officer: every taxpayer's tickets.
OPERATOR = Actor(user_id=0, username="cli", role="officer", taxpayer_id=None, tax_id=None)


@app.command(name="list")
def list_tickets(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="open, answered, waiting_user or closed.")
    ] = None,
    taxpayer: Annotated[
        str | None, typer.Option("--taxpayer", help="Tax ID: only this taxpayer's tickets.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
) -> None:
    """The newest tickets first."""
    cli = state(ctx)
    platform = cli.platform()
    try:
        if status is not None and status not in STATUSES:
            raise invalid(
                "status",
                "INVALID_CHOICE",
                N_("Must be one of: {expected}."),
                expected=", ".join(STATUSES),
            )
        with platform.database.transaction(write=False) as session:
            taxpayer_id = None
            if taxpayer is not None:
                found = by_tax_id(session, taxpayer)
                if found is None:
                    raise invalid(
                        "taxpayer", "TAXPAYER_NOT_FOUND", N_("No taxpayer has this tax ID.")
                    )
                taxpayer_id = found.id
            tickets = service.list_tickets(
                session, OPERATOR, status=status, taxpayer_id=taxpayer_id, limit=limit
            )
            rows = schemas.summaries(session, tickets)
    except FapiaoError as error:
        fail(ctx, error)
    table = Table()
    for title, keep in (
        (N_("number"), True),
        (N_("status"), True),
        (N_("category"), False),
        (N_("taxpayer"), False),
        (N_("author"), False),
        (N_("updated"), False),
        (N_("subject"), False),
    ):
        # Numbers and states are what an operator acts on: never cut them.
        table.add_column(translate(title, cli.locale), no_wrap=keep, overflow="fold")
    for row in rows:
        table.add_row(
            row["number"],
            row["status"],
            row["category"],
            row["taxpayer_tax_id"] or "-",
            escape(row["author"]),
            row["updated_at"].isoformat(timespec="minutes"),
            escape(row["subject"]),
        )
    console.print(table)


@app.command()
def show(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. T202612-000001.")],
) -> None:
    """One ticket: its linked invoices and the whole thread."""
    cli = state(ctx)
    platform = cli.platform()
    try:
        with platform.database.transaction(write=False) as session:
            view = schemas.detail(session, service.get_ticket(session, OPERATOR, number))
    except FapiaoError as error:
        fail(ctx, error)
    console.print(f"[bold]{view['number']}[/bold]  {escape(view['subject'])}")
    console.print(
        translate(
            N_("Status {status}, category {category}, taxpayer {taxpayer}, by {author}."),
            cli.locale,
            status=view["status"],
            category=view["category"],
            taxpayer=view["taxpayer_tax_id"] or "-",
            author=escape(view["author"]),
        )
    )
    for invoice in view["invoices"]:
        console.print(
            translate(
                N_("Linked invoice {number}: {status}"),
                cli.locale,
                number=invoice["number"],
                status=invoice["status"] or "-",
            )
        )
    for message in view["messages"]:
        who = escape(message["author"])
        if message["is_officer"]:
            who += " (" + translate(N_("officer"), cli.locale) + ")"
        console.rule(f"{message['created_at'].isoformat(timespec='minutes')}  {who}")
        if message["body"]:
            console.print(escape(message["body"]))
        for item in message["attachments"]:
            console.print(
                f"  📎 {escape(item['filename'])}  {item['content_type']}  "
                f"{item['width']}x{item['height']}  {item['size']} B  sha256 {item['sha256']}"
            )
