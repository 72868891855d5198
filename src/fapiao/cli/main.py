"""The `fapiao` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fapiao.cli import (
    announcement,
    audit,
    db,
    demo,
    keys,
    ledger,
    maintenance,
    reconcile,
    serve,
    taxpayer,
    token,
    trace,
    user,
    webhook,
)
from fapiao.cli.context import state

app = typer.Typer(help="fapiao — electronic VAT invoice platform.", no_args_is_help=True)


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory (default FAPIAO_DATA_DIR or ./data)."),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of messages: zh-CN or en.")
    ] = None,
) -> None:
    cli_state = state(ctx)
    cli_state.data_dir = data_dir
    cli_state.lang = lang


serve.register(app)
app.add_typer(db.app, name="db")
app.add_typer(taxpayer.app, name="taxpayer")
app.add_typer(user.app, name="user")
demo.register(app)
trace.register(app)
reconcile.register(app)
app.add_typer(ledger.ledger_app, name="ledger")
app.add_typer(ledger.receipt_app, name="receipt")
app.add_typer(webhook.app, name="webhook")
app.add_typer(maintenance.app, name="maintenance")
app.add_typer(announcement.app, name="announcement")
app.add_typer(token.app, name="token")
app.add_typer(audit.app, name="audit")
app.add_typer(keys.app, name="keys")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
