"""The column type of encrypted fields: values are sealed when bound and opened when
read, by the key ring of the engine running the statement. ORM flushes, Core inserts and
selects, and `dbsql.BulkInsert` (which uses the columns' bind processors) all pass
through it, so no code path writes or reads the plaintext by mistake.

Empty strings and NULL are stored as they are: an empty field says nothing, and the
issuing path writes many of them."""

from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from fapiao.crypto.keyring import keyring_of


class Encrypted(TypeDecorator[str]):
    """Text sealed with the newest data key; `field` ("table.column") is bound into each
    value's associated data, so a value copied to another column does not open."""

    impl = Text
    cache_ok = True

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if not value:
            return value
        return keyring_of(dialect).encrypt(self.field, value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if not value:
            return value
        return keyring_of(dialect).decrypt(self.field, value)
