"""Reading the WAL position after a commit never turns a committed write into an error."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from fapiao.db import read_wal_position


class Unreachable:
    """An engine whose connect fails as given."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def connect(self) -> Any:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out"),
        OperationalError("SELECT pg_current_wal_lsn()", {}, Exception("server closed")),
    ],
    ids=["pool-timeout", "server-error"],
)
def test_no_position_when_it_cannot_be_read(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="fapiao.db")
    assert read_wal_position(Unreachable(error)) is None  # type: ignore[arg-type]
    assert "WAL position not available" in caplog.text


def test_a_bug_is_not_hidden() -> None:
    with pytest.raises(ZeroDivisionError):
        read_wal_position(Unreachable(ZeroDivisionError()))  # type: ignore[arg-type]
