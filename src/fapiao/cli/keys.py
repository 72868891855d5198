"""`fapiao keys …`: the data keys of encrypted fields (docs/encryption.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from fapiao.cli.context import console, err_console, fail, state
from fapiao.crypto import service as keys
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.settings import SettingsError

app = typer.Typer(help="Data keys of the encrypted fields.", no_args_is_help=True)


@app.command()
def rotate(
    ctx: typer.Context,
    master: Annotated[
        bool, typer.Option("--master", help="Also replace the master key (re-wraps every key).")
    ] = False,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch", min=1, max=100000, help="Rows per transaction (FAPIAO_KEYS_BATCH_SIZE)."
        ),
    ] = None,
) -> None:
    """Encrypt new values with a new data key and re-encrypt every stored value with it,
    in batches. Safe to stop and run again: it continues the unfinished rotation."""
    cli = state(ctx)
    platform = cli.platform()
    database = platform.database
    size = batch or platform.settings.keys_batch_size
    if master:
        try:
            fingerprint = keys.rotate_master(database)
        except SettingsError as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        message = N_("New master key {id}; every data key is wrapped with it.")
        console.print(translate(message, cli.locale, id=fingerprint))
    target, continued = keys.begin_rotation(database, platform.clock.now())
    if continued:
        message = N_("Continuing the unfinished rotation to data key {id}.")
    else:
        message = N_("New data key {id} encrypts new values from now on.")
    console.print(translate(message, cli.locale, id=target))
    total = keys.pending_count(database, target)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        label = translate(N_("Re-encrypting"), cli.locale)
        task = progress.add_task(label, total=total)
        done = keys.sweep.sweep(
            database,
            database.keyring,
            target,
            batch=size,
            progress=lambda rows: progress.advance(task, rows),
        )
    if not keys.finish_rotation(database, target):
        message = N_(
            "Some values changed while re-encrypting; run fapiao keys rotate again to finish."
        )
        err_console.print(translate(message, cli.locale))
        raise typer.Exit(1)
    message = N_("Done: {count} rows re-encrypted; every value is under data key {id}.")
    console.print(translate(message, cli.locale, count=done, id=target))


@app.command()
def status(ctx: typer.Context) -> None:
    """The data keys and how many stored values each one encrypts."""
    cli = state(ctx)
    result = keys.status(cli.platform().database)
    locale = cli.locale
    table = Table(
        translate(N_("Key"), locale),
        translate(N_("Purpose"), locale),
        translate(N_("Cipher"), locale),
        translate(N_("Master key"), locale),
        translate(N_("Created"), locale),
        translate(N_("Values"), locale),
        translate(N_("State"), locale),
    )
    for key in result.keys:
        if key.retired_at is not None:
            shown = translate(N_("retired"), locale)
        elif key.current:
            shown = translate(N_("current"), locale)
        elif key.purpose == "index":
            shown = translate(N_("blind index"), locale)
        elif key.values:
            shown = translate(N_("in use"), locale)
        else:
            shown = translate(N_("unused"), locale)
        table.add_row(
            str(key.id),
            key.purpose,
            key.cipher,
            key.master_id,
            key.created_at.isoformat(timespec="seconds"),
            str(key.values) if key.purpose == "field" else "",
            shown,
        )
    console.print(table)
    console.print(
        translate(N_("Keys in use still decrypt old values; unused ones can be retired."), locale)
    )
    if result.plaintext:
        message = N_("{count} values are not encrypted yet.")
        console.print(translate(message, locale, count=result.plaintext))
    if result.rotation_target is not None:
        message = N_("A rotation to data key {id} is unfinished: run fapiao keys rotate.")
        console.print(translate(message, locale, id=result.rotation_target))


@app.command()
def retire(
    ctx: typer.Context,
    key_id: Annotated[int, typer.Argument(metavar="ID", help="The data key to destroy.")],
) -> None:
    """Destroy an old data key; refused while any stored value still uses it."""
    cli = state(ctx)
    platform = cli.platform()
    try:
        keys.retire(platform.database, key_id, platform.clock.now())
    except FapiaoError as error:
        fail(ctx, error)
    console.print(translate(N_("Data key {id} is retired."), cli.locale, id=key_id))
