"""What every CLI command shares: settings from the environment and --data-dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
import typer
from rich.console import Console

from fapiao.kit.errors import FapiaoError
from fapiao.kit.i18n import negotiate, translate
from fapiao.platform import Platform, build_platform
from fapiao.settings import Settings, SettingsError, load_settings

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class CliState:
    data_dir: Path | None = None
    lang: str | None = None
    _platform: Platform | None = None

    def settings(self) -> Settings:
        overrides = {"data_dir": self.data_dir} if self.data_dir else {}
        try:
            return load_settings(**overrides)
        except SettingsError as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None

    def existing_data(self) -> bool:
        """Whether there is a platform to open: a server database, or an embedded one
        that already exists (opening a missing one would create it)."""
        if self._platform is not None:
            return True
        settings = self.settings()
        url = settings.effective_database_url
        return not settings.is_sqlite or Path(url.removeprefix("sqlite:///")).exists()

    def platform(self) -> Platform:
        if self._platform is None:
            try:
                self._platform = build_platform(self.settings())
            except SettingsError as exc:  # e.g. a master key that does not open the data keys
                err_console.print(f"[red]{exc}[/red]")
                raise typer.Exit(2) from None
            # Connections and the writer thread end with the command, not at exit.
            ctx = click.get_current_context(silent=True)
            if ctx is not None:
                ctx.find_root().call_on_close(self._platform.close)
        return self._platform

    @property
    def locale(self) -> str:
        return negotiate(None, self.lang) if self.lang else "zh-CN"


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def fail(ctx: typer.Context, error: FapiaoError, exit_code: int = 1) -> None:
    """Print a domain error the way the API would say it, and exit (1 unless told)."""
    locale = state(ctx).locale
    err_console.print(
        f"[red]{error.code}[/red]: {translate(error.message, locale, **error.params)}"
    )
    for item in error.errors:
        err_console.print(
            f"  {item.field}: {item.code} — {translate(item.message, locale, **item.params)}"
        )
    raise typer.Exit(exit_code)
