"""`fapiao reconcile FILE --taxpayer ID` and `fapiao reconcile --internal`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from fapiao.cli.context import CliState, console, err_console, fail, state
from fapiao.kit.clock import local_date
from fapiao.kit.errors import N_, FapiaoError, NotFound
from fapiao.kit.i18n import translate
from fapiao.reconcile.file import Progress as ProgressCallback
from fapiao.reconcile.internal import reconcile as reconcile_internal
from fapiao.reconcile.report import summary_rows, write_xlsx
from fapiao.reconcile.service import run
from fapiao.taxpayers.service import by_tax_id

# Files smaller than this finish before a bar would be worth drawing.
PROGRESS_FROM_BYTES = 1 << 20
_PHASES = {"read": N_("Reading the list"), "compare": N_("Comparing with the platform")}


def register(app: typer.Typer) -> None:
    @app.command()
    def reconcile(
        ctx: typer.Context,
        file: Annotated[
            Path | None,
            typer.Argument(help="The seller's own invoice list, CSV or XLSX.", show_default=False),
        ] = None,
        taxpayer: Annotated[
            str | None, typer.Option("--taxpayer", help="Tax ID of the seller whose list it is.")
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", help="Report file (default: FILE-reconciliation.xlsx)."),
        ] = None,
        lang: Annotated[
            str | None, typer.Option("--lang", help="Language of the report: zh-CN or en.")
        ] = None,
        internal: Annotated[
            bool,
            typer.Option(
                "--internal", help="Journal against invoices against outbox; re-queue lost events."
            ),
        ] = False,
    ) -> None:
        """Reconcile a seller's own invoice list with the platform (exit 1 when they
        differ, 2 when the file is unusable), or with --internal the platform's records."""
        cli = state(ctx)
        if lang:
            cli.lang = lang
        if internal:
            _internal(cli)
            return
        if file is None or not taxpayer:
            err_console.print(translate(N_("Give FILE and --taxpayer, or --internal."), cli.locale))
            raise typer.Exit(2)
        _from_file(ctx, cli, file, taxpayer, output)


def _from_file(
    ctx: typer.Context, cli: CliState, file: Path, taxpayer: str, output: Path | None
) -> None:
    locale = cli.locale
    if not file.is_file():
        err_console.print(translate(N_("No such file: {path}"), locale, path=str(file)))
        raise typer.Exit(2)
    platform = cli.platform()
    with platform.database.transaction(write=False) as session:
        seller = by_tax_id(session, taxpayer)
        seller_id = seller.id if seller is not None else None
    if seller_id is None:
        message = N_("Taxpayer {tax_id} is not registered.")
        fail(ctx, NotFound("TAXPAYER_NOT_FOUND", message, params={"tax_id": taxpayer}), 2)
        return
    large = file.stat().st_size >= PROGRESS_FROM_BYTES and err_console.is_terminal
    try:
        with file.open("rb") as handle, _progress(large, locale) as progress:
            today = local_date(platform.clock.now())
            findings = run(platform.database, seller_id, handle, file.name, today, progress)
    except FapiaoError as error:
        fail(ctx, error, 2)  # unusable input; 1 means differences
        return
    target = output or file.with_name(f"{file.stem}-reconciliation.xlsx")
    target.write_bytes(write_xlsx(findings, locale, taxpayer, file.name))
    for label, value in summary_rows(findings, locale, taxpayer, file.name):
        console.print(f"{label}: {value}" if label else str(value))
    console.print(translate(N_("Report written to {path}"), locale, path=str(target)))
    if not findings.clean:
        raise typer.Exit(1)


@contextmanager
def _progress(show: bool, locale: str) -> Iterator[ProgressCallback | None]:
    if not show:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in _PHASES:
            return
        if phase not in tasks:
            tasks[phase] = bar.add_task(translate(_PHASES[phase], locale), total=total)
        bar.update(tasks[phase], completed=done, total=total)

    with bar:
        yield update


def _internal(cli: CliState) -> None:
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
