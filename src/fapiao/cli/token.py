"""`fapiao token …`: API tokens made, listed and revoked by operators."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from fapiao.accounts import apitokens
from fapiao.accounts.models import User
from fapiao.accounts.tokenmodels import ApiToken
from fapiao.cli.context import console, fail, state
from fapiao.kit.errors import N_, FapiaoError, NotFound, invalid
from fapiao.kit.i18n import translate
from fapiao.taxpayers.models import Taxpayer

app = typer.Typer(help="API tokens for machines.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    username: Annotated[str, typer.Option("--username", help="The user the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    scopes: Annotated[str, typer.Option("--scopes", help="Comma-separated: read, issue, admin.")],
    days: Annotated[int, typer.Option("--days", help="Days until it expires.")] = 90,
) -> None:
    """Make a token and print it. It is shown this once; only its digest is kept."""
    cli = state(ctx)
    platform = cli.platform()
    try:
        with platform.database.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise invalid("username", "USER_NOT_FOUND", N_("No user has this username."))
            token, text = apitokens.create_token(
                session,
                user,
                name=name,
                scopes=apitokens.parse_scopes(scopes.split(",")),
                days=days,
                max_days=platform.settings.api_token_max_days,
                now=platform.clock.now(),
            )
            public_id, expires_at = token.public_id, token.expires_at
    except FapiaoError as error:
        fail(ctx, error)
    message = N_("Token {id} expires {expires}. Store it now; it is not shown again:")
    console.print(translate(message, cli.locale, id=public_id, expires=expires_at.isoformat()))
    # Plain print: no wrapping or markup may change the token text.
    print(text)


@app.command(name="list")
def list_tokens(
    ctx: typer.Context,
    taxpayer: Annotated[
        str | None, typer.Option("--taxpayer", help="Tax ID; all taxpayers when omitted.")
    ] = None,
) -> None:
    """Tokens with their owner, scopes, status and last use (never their secrets)."""
    platform = state(ctx).platform()
    now = platform.clock.now()
    table = Table()
    table.add_column("id", no_wrap=True, min_width=12)
    for heading in ("name", "user", "tax ID", "scopes", "status", "expires", "last used"):
        table.add_column(heading, overflow="fold")
    with platform.database.transaction(write=False) as session:
        query = (
            select(ApiToken, User.username, Taxpayer.tax_id)
            .join(User, User.id == ApiToken.user_id)
            .join(Taxpayer, Taxpayer.id == ApiToken.taxpayer_id)
            .order_by(ApiToken.id)
        )
        if taxpayer is not None:
            if session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == taxpayer)) is None:
                fail(ctx, NotFound("TAXPAYER_NOT_FOUND", N_("Taxpayer {tax_id} is not registered."),
                                   params={"tax_id": taxpayer}))  # fmt: skip
            query = query.where(Taxpayer.tax_id == taxpayer)
        for token, username, tax_id in session.execute(query).all():
            table.add_row(
                token.public_id,
                token.name,
                username,
                tax_id,
                token.scopes,
                apitokens.status(token, now),
                token.expires_at.isoformat(timespec="minutes"),
                token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "-",
            )
    console.print(table)


@app.command()
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's public id (after fpt_).")],
) -> None:
    """Revoke a token. Running servers refuse it within FAPIAO_API_TOKEN_CACHE_SECONDS."""
    cli = state(ctx)
    platform = cli.platform()
    try:
        with platform.database.transaction() as session:
            apitokens.revoke_token(session, token_id, None, None, platform.clock.now())
    except FapiaoError as error:
        fail(ctx, error)
    platform.api_tokens.forget(token_id)
    console.print(translate(N_("Token {id} is revoked."), cli.locale, id=token_id))
