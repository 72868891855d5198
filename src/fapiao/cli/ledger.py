"""`fapiao ledger …` and `fapiao receipt …`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from fapiao.cli.context import console, err_console, state
from fapiao.invoices.models import Invoice
from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.ledger import service as ledger
from fapiao.ledger import signing
from fapiao.ledger.models import LedgerEntry

NOT_VALID = N_("The receipt is not valid:")
CANNOT_READ = N_("Cannot read {path}:")
ledger_app = typer.Typer(help="The ledger journal.", no_args_is_help=True)
receipt_app = typer.Typer(help="Signed receipts.", no_args_is_help=True)


@ledger_app.command()
def check(ctx: typer.Context) -> None:
    """Walk the hash chain from the first entry; report the first break (exit 1)."""
    cli = state(ctx)
    platform = cli.platform()
    with platform.database.transaction(write=False) as session:
        total = int(session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)

        def load(number: str) -> Invoice | None:
            return session.scalar(select(Invoice).where(Invoice.number == number))

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
        ) as progress:
            task = progress.add_task(translate(N_("Checking the ledger"), cli.locale), total=total)
            result = ledger.check(session, load, lambda n: progress.advance(task, n))
    if result.problem is not None:
        err_console.print(f"[red]{translate(result.problem, cli.locale, **result.params)}[/red]")
        raise typer.Exit(1)
    message = N_("The ledger is intact: {count} entries, head {seq} {hash}.")
    console.print(
        translate(
            message, cli.locale, count=result.entries, seq=result.head_seq, hash=result.head_hash
        )
    )


@ledger_app.command(name="rotate-key")
def rotate_key(ctx: typer.Context) -> None:
    """Start signing receipts with a new key; the old public key stays published."""
    cli = state(ctx)
    platform = cli.platform()
    settings = platform.settings
    old = platform.signer.key_id
    retired = signing.rotate(settings.signing_key_path)
    new = signing.Signer.from_file(settings.signing_key_path)
    now = platform.clock.now()
    with platform.database.transaction() as session:
        new.register(session, now)
        signing.retire(session, old, now)
    message = N_("New signing key {new}; {old} is retired (kept in {path}).")
    console.print(translate(message, cli.locale, new=new.key_id, old=old, path=str(retired)))


@receipt_app.command()
def verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A receipt saved from the API (JSON).")],
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Keys saved from GET /api/v1/keys (default: this platform's)."),
    ] = None,
) -> None:
    """Check a receipt's signature; beside the platform's data, also check every signed
    field against the ledger. Exits 1 when anything does not match."""
    cli = state(ctx)
    receipt = _read_json(file, cli.locale)
    if "receipt" in receipt and "payload" not in receipt:
        receipt = receipt["receipt"]  # a whole 201 response body saved to a file
    if key is not None:
        keys = _read_json(key, cli.locale).get("keys", [])
        problem = signing.verify(receipt, keys)
    else:
        if not cli.existing_data():
            # No platform here: say so, rather than create an empty one with keys of its own.
            err_console.print(
                "[red]"
                + translate(
                    N_(
                        "No platform data in {path}: run beside the platform's data "
                        "directory (--data-dir), or pass the published keys with --key."
                    ),
                    cli.locale,
                    path=str(cli.settings().data_dir),
                )
                + "[/red]"
            )
            raise typer.Exit(2)
        platform = cli.platform()
        with platform.database.transaction(write=False) as session:
            problem = signing.verify(receipt, signing.published_keys(session))
            if problem is None:
                problem = _against_ledger(session, receipt)
    if problem is not None:
        err_console.print(
            f"[red]{translate(NOT_VALID, cli.locale)}[/red] "
            f"{translate(problem[0], cli.locale, **problem[1])}"
        )
        raise typer.Exit(1)
    payload = receipt["payload"]
    message = N_("The receipt is valid: invoice {number}, {total}, journal entry {seq}.")
    console.print(
        translate(
            message,
            cli.locale,
            number=payload["number"],
            total=payload["total_with_tax"],
            seq=payload["journal_seq"],
        )
    )


def _against_ledger(session: Any, receipt: dict[str, Any]) -> signing.Problem | None:
    number = str(receipt["payload"]["number"])
    recorded = ledger.receipt_of(session, number)
    if recorded is None:
        return N_("Invoice {number} is not in this platform's ledger."), {"number": number}
    for name in signing.RECEIPT_FIELDS:
        if recorded["payload"][name] != receipt["payload"][name]:
            return N_("The signed field {field} differs from the ledger."), {"field": name}
    return None


def _read_json(path: Path, locale: str) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        err_console.print(f"[red]{translate(CANNOT_READ, locale, path=str(path))}[/red] {exc}")
        raise typer.Exit(2) from None
    if not isinstance(value, dict):
        err_console.print(f"[red]{translate(CANNOT_READ, locale, path=str(path))}[/red]")
        raise typer.Exit(2)
    return value
