"""Re-encrypting stored values in batches: the first-run sweep of rows written before
encryption, and `fapiao keys rotate`.

Every batch is its own short transaction, and each value is replaced only if it is still
the value that was read (`WHERE id = :id AND column = :old`), so a sweep can be killed at
any moment and run again, and it never overwrites a change made meanwhile. It needs no
bookkeeping of where it stopped: what is left is exactly what is not yet under the target
key, and it is found again by a query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, bindparam, case, column, func, or_, select, table, update
from sqlalchemy.orm import Session

from fapiao.crypto import cipher as c
from fapiao.crypto.fields import TABLES, Table
from fapiao.crypto.keyring import KeyRing

Progress = Callable[[int], None]


def _raw(spec: Table) -> Any:
    """The table with its encrypted columns as plain text (no sealing on the way)."""
    return table(spec.name, column(spec.key), *(column(name, Text) for name in spec.columns))


def _starts(col: Any, prefix: str) -> Any:
    """`col` begins with `prefix`, case-sensitively on both databases (SQLite's LIKE is
    not)."""
    return func.substr(col, 1, len(prefix)) == prefix


def _not_under(col: Any, key_id: int | None) -> Any:
    """Non-empty and not sealed by `key_id` (None: not sealed at all)."""
    prefix = c.PREFIX if key_id is None else f"{c.PREFIX}{key_id}:"
    return and_(col.is_not(None), col != "", ~_starts(col, prefix))


def _pending(raw: Any, spec: Table, key_id: int | None) -> Any:
    return or_(*(_not_under(raw.c[name], key_id) for name in spec.columns))


def count_pending(session: Session, key_id: int | None) -> int:
    """Rows with a value not under `key_id` (None: rows with plaintext)."""
    total = 0
    for spec in TABLES:
        raw = _raw(spec)
        query = select(func.count()).select_from(raw).where(_pending(raw, spec, key_id))
        total += session.scalar(query) or 0
    return total


def sweep(
    database: Any,
    keyring: KeyRing,
    target: int,
    *,
    batch: int,
    only_plaintext: bool = False,
    progress: Progress | None = None,
    max_batches: int | None = None,
) -> int:
    """Re-encrypt every value not under data key `target` (with `only_plaintext`: every
    value not encrypted yet) under `target`, `batch` rows per transaction; the number of
    rows changed. `max_batches` stops early (for tests of restarting)."""
    done = 0
    batches = 0
    match = None if only_plaintext else target
    for spec in TABLES:
        raw = _raw(spec)
        last = 0
        while max_batches is None or batches < max_batches:
            with database.transaction() as session:
                rows = session.execute(
                    select(raw)
                    .where(raw.c[spec.key] > last, _pending(raw, spec, match))
                    .order_by(raw.c[spec.key])
                    .limit(batch)
                ).all()
                if not rows:
                    break
                _rewrite(session, keyring, spec, raw, rows, target, match)
            last = getattr(rows[-1], spec.key)
            done += len(rows)
            batches += 1
            if progress is not None:
                progress(len(rows))
    return done


def _rewrite(
    session: Session,
    keyring: KeyRing,
    spec: Table,
    raw: Any,
    rows: Any,
    target: int,
    match: int | None,
) -> None:
    for name in spec.columns:
        field = spec.field(name)
        changes = []
        for row in rows:
            old = getattr(row, name)
            if not old or (c.is_sealed(old) and (match is None or c.key_id_of(old) == match)):
                continue
            plaintext = keyring.decrypt(field, old)
            changes.append(
                {
                    "row_id": getattr(row, spec.key),
                    "old": old,
                    "new": keyring.encrypt(field, plaintext, target),
                }
            )
        if changes:
            statement = (
                update(raw)
                .where(raw.c[spec.key] == bindparam("row_id"), raw.c[name] == bindparam("old"))
                .values({name: bindparam("new")})
            )
            session.connection().execute(statement, changes)


def protect_natural_persons(database: Any, keyring: KeyRing, batch: int) -> int:
    """Invoices to natural persons written before encryption: move the ID number into
    `buyer_id_number` (encrypted) and put its blind index in `buyer_tax_id`."""
    raw = table(
        "invoices",
        column("id"),
        column("buyer_tax_id", Text),
        column("buyer_natural_person"),
        column("buyer_id_number", Text),
    )
    field = "invoices.buyer_id_number"
    done = 0
    while True:
        with database.transaction() as session:
            rows = session.execute(
                select(raw.c.id, raw.c.buyer_tax_id)
                .where(
                    raw.c.buyer_natural_person.is_(True),
                    raw.c.buyer_tax_id.is_not(None),
                    ~_starts(raw.c.buyer_tax_id, c.BLIND_PREFIX),
                )
                .order_by(raw.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return done
            session.connection().execute(
                update(raw)
                .where(raw.c.id == bindparam("row_id"), raw.c.buyer_tax_id == bindparam("old"))
                .values(buyer_tax_id=bindparam("blind"), buyer_id_number=bindparam("sealed")),
                [
                    {
                        "row_id": row.id,
                        "old": row.buyer_tax_id,
                        "blind": keyring.blind(row.buyer_tax_id),
                        "sealed": keyring.encrypt(field, row.buyer_tax_id),
                    }
                    for row in rows
                ],
            )
        done += len(rows)


@dataclass(frozen=True)
class Usage:
    """How many stored values each data key seals, and how many are plaintext."""

    by_key: dict[int, int]
    plaintext: int


def usage(session: Session, key_ids: list[int]) -> Usage:
    by_key = dict.fromkeys(key_ids, 0)
    plaintext = 0
    for spec in TABLES:
        raw = _raw(spec)
        sums = []
        for name in spec.columns:
            col = raw.c[name]
            sums.append(func.sum(case((_not_under(col, None), 1), else_=0)))
            for key_id in key_ids:
                under = _starts(col, f"{c.PREFIX}{key_id}:")
                sums.append(func.sum(case((under, 1), else_=0)))
        row = session.execute(select(*sums).select_from(raw)).one()
        values = [int(value or 0) for value in row]
        step = 1 + len(key_ids)
        for offset in range(0, len(values), step):
            plaintext += values[offset]
            for position, key_id in enumerate(key_ids, 1):
                by_key[key_id] += values[offset + position]
    return Usage(by_key, plaintext)
