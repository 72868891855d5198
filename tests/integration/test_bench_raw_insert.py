"""The benchmark's raw-limit writer stores what the product stores: freshly sealed
values of the encrypted columns, which the product reads back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from conftest import World, invoice_body
from fapiao.invoices.models import Invoice

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import raw_insert


def _connect(world: World) -> tuple[Any, str]:
    settings = world.platform.settings
    if settings.is_sqlite:
        path = settings.effective_database_url.removeprefix("sqlite:///")
        return raw_insert.sqlite_connect(path), "?"
    import psycopg

    dsn = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(dsn, autocommit=True), "%s"


def test_raw_writer_seals_each_invoice_afresh(world: World) -> None:
    body = invoice_body()
    body["lines"].append({**body["lines"][0], "name": "服务器"})
    body["buyer"].update(address="北京市朝阳区测试路1号", account="6217000010099887766")
    issued = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert issued.status_code == 201, issued.text
    world.platform.writer.close()
    connection, mark = _connect(world)
    try:
        template = raw_insert.read_template(
            connection, mark, raw_insert.master_key_of(world.platform.settings.data_dir)
        )
        assert template.reseal is not None
        cursor = connection.cursor()
        if mark == "?":
            cursor.execute("BEGIN IMMEDIATE")
        raw_insert.InvoiceWriter(template, mark).write(cursor, "99000000000000000001")
        if mark == "?":
            cursor.execute("COMMIT")
        cursor.close()
    finally:
        connection.close()
    stored = template.invoice["buyer_account"]
    assert stored.startswith("e1:")
    with world.platform.database.transaction(write=False) as session:
        copy = session.scalar(select(Invoice).where(Invoice.number == "99000000000000000001"))
        assert copy is not None
        assert copy.buyer_account == "6217000010099887766"
        assert copy.buyer_address == "北京市朝阳区测试路1号"
        assert copy.seller_account == "0200001234567890123"
        raw_value = (
            session.connection()
            .exec_driver_sql(
                "SELECT buyer_account FROM invoices WHERE number = '99000000000000000001'"
            )
            .scalar()
        )
    assert raw_value.startswith("e1:") and raw_value != stored
