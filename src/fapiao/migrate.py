"""Schema migrations, run programmatically on the process's own engine."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from fapiao.db import Database


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("fapiao") / "migrations"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    config = _config()
    # Migrations run outside BEGIN IMMEDIATE's write engine event on purpose: DDL on
    # SQLite is still serialised by the database lock.
    with database.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_current(database: Database) -> bool:
    return current_revision(database.write_engine) == head_revision()
