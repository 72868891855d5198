"""`fapiao audit check` and `fapiao audit export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from fapiao.audit import export as exporting
from fapiao.audit import service
from fapiao.audit.filters import filters
from fapiao.cli.context import console, err_console, fail, state
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate

app = typer.Typer(help="The audit log.", no_args_is_help=True)


@app.command()
def check(ctx: typer.Context) -> None:
    """Walk the audit chain from its anchor to its head; report the first broken entry
    (exit 1)."""
    cli = state(ctx)
    platform = cli.platform()
    with platform.database.transaction(write=False) as session:
        total = service.count_to_check(session)
    with platform.database.transaction(write=False) as session:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
        ) as progress:
            task = progress.add_task(
                translate(N_("Checking the audit log"), cli.locale), total=total
            )
            result = service.check(session, lambda n: progress.advance(task, n))
    if result.problem is not None:
        problem = result.problem
        err_console.print(f"[red]{translate(problem.message, cli.locale, **problem.params)}[/red]")
        raise typer.Exit(1)
    message = N_("The audit log is intact: {count} entries after {anchor}, head {seq} {hash}.")
    console.print(
        translate(
            message,
            cli.locale,
            count=result.entries,
            anchor=result.anchor_seq,
            seq=result.head_seq,
            hash=result.head_hash,
        )
    )


@app.command(name="export")
def export_entries(
    ctx: typer.Context,
    file_format: Annotated[str, typer.Option("--format", help="csv or json (an array).")] = "csv",
    time_from: Annotated[
        str | None, typer.Option("--from", help="From this date (Beijing) or ISO time.")
    ] = None,
    time_to: Annotated[
        str | None, typer.Option("--to", help="Up to this date (included) or ISO time.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this username.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. invoice.void.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write here (default: standard output).")
    ] = None,
) -> None:
    """Write the matching audit entries, oldest first, streamed (CSV cells that would start
    a spreadsheet formula are written as text)."""
    cli = state(ctx)
    if file_format not in ("csv", "json"):
        fail(
            ctx,
            FapiaoError(
                "INVALID_CHOICE",
                N_("Must be one of: {expected}."),
                params={"expected": "csv, json"},
            ),
            exit_code=2,
        )
    try:
        wanted = filters(actor=actor, action=action, time_from=time_from, time_to=time_to)
    except FapiaoError as error:
        fail(ctx, error, exit_code=2)
    platform = cli.platform()
    entries = service.stream(platform.database, wanted)
    chunks = (
        exporting.json_chunks(entries) if file_format == "json" else exporting.csv_lines(entries)
    )
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    count = 0
    with output.open("w", encoding="utf-8", newline="") as handle:
        for chunk in chunks:
            handle.write(chunk)
            count += 1
    written = max(count - 1 if file_format == "csv" else count - 2, 0)
    message = N_("{count} audit entries written to {path}.")
    err_console.print(translate(message, cli.locale, count=written, path=str(output)))
