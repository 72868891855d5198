"""The raw limit: the rows one issued invoice writes, inserted straight through the driver,
one transaction per invoice, with the durability the product uses.

The product stores seller and buyer addresses, phones, banks and accounts encrypted
(AES-256-GCM, a fresh nonce per value; docs/encryption.md). The raw writer does the same
work: it opens the template's values with the data keys of the server's data directory
and seals them again for every invoice, so both sides pay for encryption."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fapiao.crypto import cipher as crypto
from fapiao.crypto.fields import TABLES

Row = dict[str, Any]
SKIP = {"id", "invoice_id"}


@dataclass(frozen=True)
class Template:
    """The rows of one invoice the server issued, copied column for column."""

    invoice: Row
    lines: list[Row]
    events: list[Row]
    credit: Row  # taxpayer_id, month, amount_cents, limit_cents
    # Fresh sealed values of the invoice's encrypted columns, made per invoice.
    reseal: Callable[[], Row] | None = None


@dataclass
class RawResult:
    ok: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    threads: int = 1


def _rows(cursor: Any, sql: str, params: tuple[Any, ...]) -> list[Row]:
    cursor.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _strip(row: Row) -> Row:
    return {key: value for key, value in row.items() if key not in SKIP}


def read_template(connection: Any, mark: str, master: bytes | None = None) -> Template:
    """The first invoice in the database and its lines, outbox rows and credit row.
    `mark` is the driver's placeholder ('?' or '%s'). With the `master` key, the invoice's
    encrypted values are sealed afresh for every invoice written (`Template.reseal`)."""
    cursor = connection.cursor()
    invoice = _rows(cursor, "SELECT * FROM invoices ORDER BY id LIMIT 1", ())[0]
    seller = (invoice["seller_id"],)
    lines = _rows(
        cursor, f"SELECT * FROM invoice_lines WHERE invoice_id = {mark}", (invoice["id"],)
    )
    events = _rows(
        cursor, f"SELECT * FROM outbox_events WHERE subject = {mark}", (invoice["number"],)
    )
    taxpayer = _rows(cursor, f"SELECT credit_limit FROM taxpayers WHERE id = {mark}", seller)[0]
    usage = _rows(cursor, f"SELECT month FROM credit_usage WHERE taxpayer_id = {mark}", seller)[0]
    cursor.close()
    if len(lines) != 2 or len(events) != 2:
        raise RuntimeError(f"expected 2 lines and 2 outbox rows, got {len(lines)}, {len(events)}")
    credit = {
        "taxpayer_id": invoice["seller_id"],
        "month": usage["month"],
        "amount_cents": invoice["total_amount"],
        "limit_cents": taxpayer["credit_limit"],
    }
    reseal = _resealer(connection, mark, invoice, master) if master is not None else None
    return Template(
        _strip(invoice), [_strip(r) for r in lines], [_strip(r) for r in events], credit, reseal
    )


ENCRYPTED = next(table for table in TABLES if table.name == "invoices")


def _resealer(connection: Any, mark: str, invoice: Row, master: bytes) -> Callable[[], Row]:
    """Seals the template's plaintexts again, as the product seals each new invoice's."""
    cursor = connection.cursor()
    keys = _rows(cursor, "SELECT id, purpose, cipher, wrapped FROM data_keys", ())
    cursor.close()
    ciphers = {
        key["id"]: crypto.make_cipher(
            key["cipher"],
            crypto.unwrap_key(master, key["id"], key["purpose"], key["cipher"], key["wrapped"]),
        )
        for key in keys
        if key["purpose"] == "field" and key["wrapped"]
    }
    plain: dict[str, tuple[int, str]] = {}
    for name in ENCRYPTED.columns:
        stored = invoice.get(name) or ""
        if crypto.is_sealed(stored):
            key_id = crypto.key_id_of(stored)
            field_name = ENCRYPTED.field(name)
            plain[name] = (key_id, crypto.open_value(ciphers[key_id], key_id, field_name, stored))

    def reseal() -> Row:
        return {
            name: crypto.seal_value(ciphers[key_id], key_id, ENCRYPTED.field(name), text)
            for name, (key_id, text) in plain.items()
        }

    return reseal


def _insert_sql(table: str, columns: list[str], mark: str, extra: str = "") -> str:
    names = ", ".join(columns)
    values = ", ".join([mark] * len(columns))
    return f"INSERT INTO {table} ({names}) VALUES ({values}){extra}"


class InvoiceWriter:
    """Writes one invoice's rows in the caller's open transaction."""

    def __init__(self, template: Template, mark: str) -> None:
        self.t = template
        self.invoice_sql = _insert_sql("invoices", list(template.invoice), mark, " RETURNING id")
        self.line_sql = _insert_sql("invoice_lines", ["invoice_id", *template.lines[0]], mark)
        self.event_sql = _insert_sql("outbox_events", list(template.events[0]), mark)
        self.credit_insert = _insert_sql(
            "credit_usage", ["taxpayer_id", "month", "used_cents"], mark, " ON CONFLICT DO NOTHING"
        )
        self.credit_update = (
            f"UPDATE credit_usage SET used_cents = used_cents + {mark} "
            f"WHERE taxpayer_id = {mark} AND month = {mark} AND used_cents + {mark} <= {mark} "
            "RETURNING used_cents"
        )

    def write(self, cursor: Any, number: str) -> None:
        old = self.t.invoice["number"]
        invoice = {**self.t.invoice, "number": number}
        if self.t.reseal is not None:
            invoice.update(self.t.reseal())
        cursor.execute(self.invoice_sql, tuple(invoice.values()))
        invoice_id = cursor.fetchone()[0]
        for line in self.t.lines:
            cursor.execute(self.line_sql, (invoice_id, *line.values()))
        for event in self.t.events:
            payload = event["payload"].replace(old, number)
            row = {**event, "event_id": str(uuid.uuid4()), "subject": number, "payload": payload}
            cursor.execute(self.event_sql, tuple(row.values()))
        c = self.t.credit
        cursor.execute(self.credit_insert, (c["taxpayer_id"], c["month"], 0))
        cursor.execute(
            self.credit_update,
            (c["amount_cents"], c["taxpayer_id"], c["month"], c["amount_cents"], c["limit_cents"]),
        )
        if cursor.fetchone() is None:
            raise RuntimeError("credit limit reached")


def _numbers() -> Callable[[], str]:
    """Unique 20-digit numbers outside the server's range (they start with 99), distinct
    between runs too."""
    counter = itertools.count(time.time_ns() // 1000 % 10**17)
    return lambda: f"99{next(counter):018d}"


def _loop(
    one: Callable[[], None], deadline: float, result: RawResult, lock: threading.Lock
) -> None:
    latencies: list[float] = []
    errors = 0
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        try:
            one()
        except Exception:
            errors += 1
            continue
        latencies.append((time.perf_counter() - began) * 1000)
    with lock:
        result.latencies_ms += latencies
        result.ok += len(latencies)
        result.errors += errors


def _run_threads(workers: list[Callable[[], None]], seconds: float) -> RawResult:
    result, lock = RawResult(threads=len(workers)), threading.Lock()
    began = time.perf_counter()
    deadline = began + seconds
    threads = [threading.Thread(target=_loop, args=(w, deadline, result, lock)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def sqlite_connect(path: str) -> sqlite3.Connection:
    """The product's connection settings (fapiao.db._sqlite_engine)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def run_sqlite(template: Template, path: str, seconds: float) -> RawResult:
    """One writer (SQLite has one), BEGIN IMMEDIATE … COMMIT per invoice."""
    connection = sqlite_connect(path)
    writer, number = InvoiceWriter(template, "?"), _numbers()
    cursor = connection.cursor()

    def one() -> None:
        cursor.execute("BEGIN IMMEDIATE")
        try:
            writer.write(cursor, number())
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise

    try:
        return _run_threads([one], seconds)
    finally:
        connection.close()


def run_postgresql(template: Template, dsn: str, seconds: float, threads: int) -> RawResult:
    """`threads` connections, each committing one invoice per transaction."""
    import psycopg

    writer, number = InvoiceWriter(template, "%s"), _numbers()
    connections = [psycopg.connect(dsn, autocommit=True) for _ in range(threads)]

    def worker(connection: Any) -> Callable[[], None]:
        def one() -> None:
            with connection.transaction(), connection.cursor() as cursor:
                writer.write(cursor, number())

        return one

    try:
        return _run_threads([worker(c) for c in connections], seconds)
    finally:
        for connection in connections:
            connection.close()


def master_key_of(data_dir: Path) -> bytes:
    """The master key the server created in its data directory."""
    from fapiao.settings import decode_master_key

    return decode_master_key((data_dir / "master.key").read_text())


def read_template_from(backend: str, dsn: str, data_dir: Path | None = None) -> Template:
    """The template of the server run whose database is `dsn` (and whose data directory,
    holding its master key, is `data_dir`)."""
    master = master_key_of(data_dir) if data_dir is not None else None
    if backend == "sqlite":
        connection = sqlite_connect(dsn)
        try:
            return read_template(connection, "?", master)
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(dsn) as pg:
        return read_template(pg, "%s", master)
