"""Keep secrets out of the log even when an operator turns on SQL debugging.

Engines are built with `hide_parameters=True`, so statement parameters are never logged
nor repeated in error messages. At DEBUG, SQLAlchemy also logs every result row, which
would write password hashes, webhook secrets and personal data into the log; the filter
here drops those records and keeps the rest (statements, transactions, pool events)."""

from __future__ import annotations

import logging

ENGINE_LOGGER = "sqlalchemy.engine.Engine"


class _NoResultRows(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Row %r"


def quiet_result_rows() -> None:
    """Install the filter on SQLAlchemy's engine logger (once per process)."""
    logger = logging.getLogger(ENGINE_LOGGER)
    if not any(isinstance(existing, _NoResultRows) for existing in logger.filters):
        logger.addFilter(_NoResultRows())
