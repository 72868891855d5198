"""`dbsql.BulkInsert`: rows through the driver, with columns returned or a statement run
first in the same round trip."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from fapiao.dbsql import BulkInsert
from fapiao.invoices.models import NumberSequence
from fapiao.platform import Platform

SEQUENCES = BulkInsert(NumberSequence)


def sequences(platform: Platform) -> dict[str, int]:
    with platform.database.transaction(write=False) as session:
        rows = session.execute(select(NumberSequence.prefix, NumberSequence.next_value))
        return {prefix: value for prefix, value in rows}


def test_rows_go_in_and_returned_columns_come_back(platform: Platform) -> None:
    rows = [{"prefix": f"2611{index}", "next_value": index * 10} for index in range(5)]
    with platform.database.transaction() as session:
        nothing = SEQUENCES.execute(session.connection(), rows[:2])
        returned = SEQUENCES.execute(
            session.connection(), rows[2:], returning=("prefix", "next_value")
        )
    assert nothing == []
    assert sorted(returned) == [("26112", 20), ("26113", 30), ("26114", 40)]
    assert sequences(platform) == {row["prefix"]: row["next_value"] for row in rows}


def test_no_rows_no_statement(platform: Platform) -> None:
    with platform.database.transaction() as session:
        assert SEQUENCES.execute(session.connection(), [], returning=("prefix",)) == []
    assert sequences(platform) == {}


def test_rows_naming_different_columns_are_refused(platform: Platform) -> None:
    with platform.database.transaction() as session, pytest.raises(ValueError):
        SEQUENCES.execute(session.connection(), [{"prefix": "26110", "next_value": 1}, {}])


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_statement_run_first_in_the_same_round_trip(platform: Platform) -> None:
    with platform.database.transaction() as session:
        SEQUENCES.execute(session.connection(), [{"prefix": "26110", "next_value": 1}])
    move = "UPDATE number_sequences SET next_value = %s WHERE prefix = %s"
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        with platform.database.transaction() as session:
            SEQUENCES.execute(
                session.connection(),
                [{"prefix": "26111", "next_value": 5}, {"prefix": "26112", "next_value": 6}],
                first=(move, (9, "26110")),
            )
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert len([statement for statement in sent if "number_sequences" in statement]) == 1
    assert sequences(platform) == {"26110": 9, "26111": 5, "26112": 6}
