"""Small portable SQL helpers for the statements SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import re
import weakref
from typing import Any, NamedTuple

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: Any, values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on either database."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).values(**values).on_conflict_do_nothing()


class BulkInsert:
    """Many rows into one table in one round trip, for the hot path: on PostgreSQL one
    INSERT … SELECT FROM unnest(one array per column), on SQLite the driver's
    `executemany` (or, to return columns, one INSERT naming every row).

    A Core `insert()` with a list of rows binds every value of every row through
    SQLAlchemy's per-parameter machinery; on the issuing path that was a third of the
    write. This compiles the INSERT once per dialect and column list, converts each value
    with the column type's own bind processor (so values are stored exactly as the ORM
    stores them: cents, UTC datetimes, decimal text), and hands the driver plain tuples.
    Rows are dicts naming the columns to write; all rows of one call name the same ones."""

    def __init__(self, table: Any) -> None:
        self.table = table.__table__ if hasattr(table, "__table__") else table
        # Per dialect object, not per dialect name: the bind processors are bound to the
        # dialect they were made for, and an encrypted column's processor uses the keys
        # attached to that engine's dialect (several databases may share a process).
        self._compiled: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], _Compiled]] = (
            weakref.WeakKeyDictionary()
        )

    def _prepare(self, dialect: Any, names: tuple[str, ...]) -> _Compiled:
        """The statement's parts for `names` on `dialect` (see `_Compiled`)."""
        by_names = self._compiled.get(dialect)
        if by_names is None:
            by_names = self._compiled.setdefault(dialect, {})
        compiled = by_names.get(names)
        if compiled is None:
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            quote = dialect.identifier_preparer.quote
            columns = [self.table.c[name] for name in names]
            quoted = [quote(column.name) for column in columns]
            head = "INSERT INTO {} ({})".format(quote(self.table.name), ", ".join(quoted))
            row = "({})".format(", ".join([marker] * len(columns)))
            casts = unnest = None
            if dialect.name == "postgresql":
                casts = [f"%b::{_array_type(column, dialect)}[]" for column in columns]
                unnest = f"{head} SELECT * FROM unnest({', '.join(casts)})"
            processors = [
                column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns
            ]
            compiled = by_names[names] = _Compiled(head, row, quoted, casts, unnest, processors)
        return compiled

    def _rows(
        self, connection: Any, rows: list[dict[str, Any]]
    ) -> tuple[_Compiled, list[tuple[Any, ...]]]:
        """The statement's parts, and each row's values in column order, converted by
        the columns' bind processors."""
        names = tuple(rows[0])
        if any(len(row) != len(names) for row in rows):
            raise ValueError(f"rows for {self.table.name} name different columns")
        compiled = self._prepare(connection.dialect, names)
        # Only the columns that have a bind processor are converted (None stays None):
        # per value work only where there is any.
        converted = [
            (index, process) for index, process in enumerate(compiled.processors) if process
        ]
        params: list[tuple[Any, ...]] = []
        for row in rows:
            values = [row[name] for name in names]
            for index, process in converted:
                value = values[index]
                if value is not None:
                    values[index] = process(value)
            params.append(tuple(values))
        return compiled, params

    def arrays(self, connection: Any, rows: list[dict[str, Any]]) -> ColumnArrays:
        """`rows` (not empty) as one array per column, for a statement of the caller's
        own on PostgreSQL (see `ColumnArrays`)."""
        compiled, params = self._rows(connection, rows)
        if compiled.casts is None or compiled.unnest is None:
            raise ValueError("column arrays are for PostgreSQL")
        return ColumnArrays(compiled.unnest, compiled.columns, compiled.casts, _by_column(params))

    def execute(
        self,
        connection: Any,
        rows: list[dict[str, Any]],
        *,
        first: tuple[str, tuple[Any, ...]] | None = None,
        returning: tuple[str, ...] = (),
    ) -> list[tuple[Any, ...]]:
        """Insert `rows` in one round trip. With `first` (a data-modifying statement of the
        product's own, never built from input, in the driver's paramstyle, with its
        parameters; PostgreSQL only) it runs in the INSERT's WITH clause; with
        `returning` (column names) the returned columns of each row are the answer, in
        no particular order."""
        if not rows:
            return []
        compiled, params = self._rows(connection, rows)
        arguments: tuple[Any, ...]
        if compiled.unnest is not None:
            # One array per column: the statement's text is the same for any number of
            # rows, so the driver parses it once (psycopg re-parses a statement of more
            # than 50 parameters every time) and the server may keep it prepared; and
            # one statement costs psycopg's asyncio connection far less than an
            # `executemany` of as many rows.
            statement = compiled.unnest
            arguments = _by_column(params)
        elif first is None and not returning:
            connection.exec_driver_sql(f"{compiled.head} VALUES {compiled.row}", params)
            return []
        else:
            statement = f"{compiled.head} VALUES " + ", ".join([compiled.row] * len(params))
            arguments = tuple(value for row in params for value in row)
        if first is not None:
            statement = f"WITH first AS ({first[0]}) {statement}"
            arguments = (*first[1], *arguments)
        if returning:
            quote = connection.dialect.identifier_preparer.quote
            statement += " RETURNING " + ", ".join(quote(name) for name in returning)
        result = connection.exec_driver_sql(statement, arguments)
        return [tuple(row) for row in result] if returning else []


# An explicit cast to VARCHAR(n) or CHAR(n) cuts a longer text short without a word; the
# INSERT's own conversion to the column's type refuses it, as a plain INSERT would.
_SIZED_TEXT = re.compile(r"^(?:VARCHAR|CHAR|CHARACTER VARYING|CHARACTER)\(\d+\)$", re.IGNORECASE)


def _array_type(column: Any, dialect: Any) -> str:
    """The element type of a column's array on PostgreSQL: the column's own type, but
    TEXT for text of a limited length."""
    compiled = str(column.type.compile(dialect=dialect))
    return "TEXT" if _SIZED_TEXT.match(compiled) else compiled


def _by_column(params: list[tuple[Any, ...]]) -> tuple[list[Any], ...]:
    """Rows of values as one list per column."""
    return tuple(list(column) for column in zip(*params, strict=True))


class ColumnArrays(NamedTuple):
    """Rows as one array per column (PostgreSQL): the whole `INSERT … SELECT * FROM
    unnest(…)` of them, the columns' quoted names, each column's `%b::type[]` marker
    (for a statement that reads the arrays otherwise) and the arrays, in column order."""

    insert: str
    columns: list[str]
    casts: list[str]
    values: tuple[list[Any], ...]


class _Compiled(NamedTuple):
    """One column list's INSERT on one dialect: the INSERT up to its rows, one row's
    `(…)` of markers, the columns' quoted names, on PostgreSQL each column's
    `%b::type[]` marker and the whole INSERT from `unnest` of them (the rows go as one
    array per column, in binary: no text escaping of every value), and each column's
    bind processor."""

    head: str
    row: str
    columns: list[str]
    casts: list[str] | None
    unnest: str | None
    processors: list[Any]


def next_ids(connection: Any, table: Any, count: int) -> list[int]:
    """`count` fresh primary keys for `table`, for rows inserted with explicit ids.

    PostgreSQL: drawn from the column's sequence. SQLite: following the largest id in the
    table, which is safe only while the caller holds the database's write lock (every
    SQLite write transaction here starts with BEGIN IMMEDIATE) and no row is ever deleted
    from the table."""
    table = table.__table__ if hasattr(table, "__table__") else table
    name = table.name
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (name, count),
        )
        return [int(value) for (value,) in rows]
    quote = connection.dialect.identifier_preparer.quote
    last = connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {quote(name)}").scalar()
    return list(range(int(last) + 1, int(last) + 1 + count))
