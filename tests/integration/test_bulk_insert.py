"""`dbsql.BulkInsert`: rows through the driver, with columns returned or a statement run
first in the same round trip."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    select,
)
from sqlalchemy.exc import DataError

from conftest import START
from fapiao.db import Cents, DecimalText, UTCDateTime
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


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_every_kind_of_value_comes_back_as_it_went_in(platform: Platform) -> None:
    """On PostgreSQL the rows travel as one array per column: NULLs (a whole column of
    them too), awkward text, big and small integers, money, exact decimals, times, dates,
    bytes and booleans arrive unchanged, with any number of rows, columns returned or
    not."""
    metadata = MetaData()
    table = Table(
        "bulk_kinds",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("label", String(40), nullable=True),
        Column("body", Text, nullable=True),
        Column("big", BigInteger, nullable=True),
        Column("money", Cents, nullable=True),
        Column("exact", DecimalText, nullable=True),
        Column("at", UTCDateTime, nullable=True),
        Column("day", Date, nullable=True),
        Column("raw", LargeBinary, nullable=True),
        Column("flag", Boolean, nullable=True),
        Column("never", String(10), nullable=True),
    )
    metadata.create_all(platform.database.write_engine)
    rows = [
        {
            "id": index,
            "label": ['a"b', "c,d", "{x}", "back\\slash", "中文", "", None][index % 7],
            "body": "NULL" if index % 2 else "x" * 3000,
            "big": [1, 2**40, None, -3][index % 4],
            "money": [Decimal("113.00"), Decimal("-0.01"), None][index % 3],
            "exact": [Decimal("0.0000000000001"), Decimal("12345678.5"), None][index % 3],
            "at": [START + timedelta(minutes=index), None][index % 2],
            "day": [date(2026, 11, 10), None][index % 2],
            "raw": [b"\x00\x01", b"", None][index % 3],
            "flag": [True, False, None][index % 3],
            "never": None,
        }
        for index in range(9)
    ]
    insert = BulkInsert(table)
    for count, returning in ((1, ("id",)), (9, ("id",)), (9, ())):
        with platform.database.transaction() as session:
            session.execute(table.delete())
            returned = insert.execute(session.connection(), rows[:count], returning=returning)
        assert sorted(returned) == [(index,) for index in range(count) if returning]
        with platform.database.transaction(write=False) as session:
            stored = [dict(row._mapping) for row in session.execute(select(table).order_by("id"))]
        assert stored == rows[:count]


def test_text_longer_than_its_column_is_refused_not_cut(platform: Platform) -> None:
    """PostgreSQL refuses text longer than a VARCHAR(n) column, as a plain INSERT does,
    with or without RETURNING, and through `arrays` (a cast to VARCHAR(n) would have cut
    it short in silence). SQLite does not limit lengths: the text is stored whole."""
    metadata = MetaData()
    table = Table(
        "bulk_sized",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("label", String(5)),
    )
    metadata.create_all(platform.database.write_engine)
    insert = BulkInsert(table)
    rows = [{"id": 1, "label": "12345"}, {"id": 2, "label": "123456"}]
    postgres = platform.database.dialect == "postgresql"
    for returning in ((), ("id",)):
        with platform.database.transaction() as session:
            session.execute(table.delete())
        try:
            with platform.database.transaction() as session:
                insert.execute(session.connection(), rows, returning=returning)
        except DataError as exc:
            assert postgres and "too long" in str(exc)
        else:
            assert not postgres
        with platform.database.transaction(write=False) as session:
            stored = list(session.scalars(select(table.c.label).order_by(table.c.id)))
        assert stored == ([] if postgres else ["12345", "123456"])
    if postgres:
        with platform.database.transaction() as session:
            arrays = insert.arrays(session.connection(), rows)
        columns, casts = arrays.columns, arrays.casts
        assert columns == ["id", "label"]
        assert casts == ["%b::INTEGER[]", "%b::TEXT[]"]
