"""`fapiao reconcile --internal`."""

from __future__ import annotations

from typing import Annotated

import typer

from fapiao.cli.context import console, err_console, state
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.reconcile.internal import reconcile as reconcile_internal


def register(app: typer.Typer) -> None:
    @app.command()
    def reconcile(
        ctx: typer.Context,
        internal: Annotated[
            bool,
            typer.Option(
                "--internal", help="Journal against invoices against outbox; re-queue lost events."
            ),
        ] = False,
    ) -> None:
        """Reconcile the platform's own records (exit 1 when something was wrong)."""
        cli = state(ctx)
        if not internal:
            err_console.print(
                translate(
                    N_("Give --internal (reconciling an enterprise's list is not built yet)."),
                    cli.locale,
                )
            )
            raise typer.Exit(2)
        platform = cli.platform()
        with platform.database.transaction() as session:
            report = reconcile_internal(session, platform.clock.now())
        for number in report.invoices_without_entry:
            err_console.print(
                translate(N_("Invoice {number} has no journal entry."), cli.locale, number=number)
            )
        for number in report.entries_without_invoice:
            err_console.print(
                translate(
                    N_("Journal entry for invoice {number} has no invoice."),
                    cli.locale,
                    number=number,
                )
            )
        for event_type, number in report.requeued:
            console.print(
                translate(
                    N_("Re-queued {event} for invoice {number}."),
                    cli.locale,
                    event=event_type,
                    number=number,
                )
            )
        message = N_("{dead} dead-lettered deliveries (redeliver with fapiao webhook redeliver).")
        console.print(translate(message, cli.locale, dead=report.dead_letters))
        if not report.clean:
            raise typer.Exit(1)
        console.print(translate(N_("Journal, invoices and outbox agree."), cli.locale))
