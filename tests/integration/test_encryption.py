"""Encryption at rest on both backends: nothing sensitive is on disk in plaintext, the API
still shows it to those entitled, and tampering is refused."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from conftest import SELLER_ID, World, invoice_body, make_user
from fapiao import migrate
from fapiao.app import create_app
from fapiao.crypto.cipher import DecryptionError
from fapiao.db import Database
from fapiao.invoices.models import Invoice
from fapiao.kit.clock import FixedClock
from fapiao.ledger import service as ledger
from fapiao.platform import Platform
from fapiao.settings import Settings
from fapiao.taxpayers import service as taxpayers
from fapiao.taxpayers.models import Taxpayer

PERSON_ID = "11010519491231002X"
SECRETS = {
    "seller address": "海淀区密文测试路88号",
    "seller phone": "010-88776655",
    "seller bank": "密文测试银行北京分行",
    "seller account": "6222020200112233445",
    "buyer address": "朝阳区隐私街9号",
    "buyer phone": "13912345678",
    "buyer bank": "隐私测试银行上海分行",
    "buyer account": "6217000010099887766",
    "person id": PERSON_ID,
    "new taxpayer address": "东城区保密胡同3号",
    "new taxpayer account": "9558801234567012345",
}


def raw(platform: Platform, sql: str, **params: Any) -> list[Any]:
    with platform.database.write_engine.begin() as connection:
        result = connection.execute(text(sql), params)
        return list(result) if result.returns_rows else []


def _issue_sensitive(world: World) -> tuple[str, str]:
    """A taxpayer, an invoice to a registered buyer and one to a natural person, all
    carrying the distinctive values of SECRETS; the two invoice numbers."""
    platform = world.platform
    with platform.database.transaction() as session:
        seller = taxpayers.by_tax_id(session, SELLER_ID)
        assert seller is not None
        seller.address, seller.phone = SECRETS["seller address"], SECRETS["seller phone"]
        seller.bank, seller.account = SECRETS["seller bank"], SECRETS["seller account"]
        taxpayers.add_taxpayer(
            session,
            tax_id="91110101MA01ABCD2C",
            name="北京保密有限公司",
            kind="general",
            credit_limit=Decimal("1000.00"),
            now=platform.clock.now(),
            address=SECRETS["new taxpayer address"],
            account=SECRETS["new taxpayer account"],
        )
    body = invoice_body()
    body["buyer"].update(
        address=SECRETS["buyer address"],
        phone=SECRETS["buyer phone"],
        bank=SECRETS["buyer bank"],
        account=SECRETS["buyer account"],
    )
    company = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert company.status_code == 201, company.text
    person_body = invoice_body(kind="ordinary")
    person_body["buyer"] = {
        "name": "张三",
        "tax_id": PERSON_ID,
        "natural_person": True,
        "address": SECRETS["buyer address"],
        "phone": SECRETS["buyer phone"],
    }
    person = world.client.post("/api/v1/invoices", json=person_body, headers=world.as_("seller"))
    assert person.status_code == 201, person.text
    assert person.json()["buyer"]["tax_id"] == PERSON_ID
    return company.json()["number"], person.json()["number"]


def _stored_bytes(settings: Settings, tmp_path: Path) -> bytes:
    if not settings.database_url:
        path = Path(settings.effective_database_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        assert path.exists()
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    from pgcluster import find_bin_dir

    dump = tmp_path / "dump.sql"
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run(
        [str(find_bin_dir() / "pg_dump"), "--dbname", url, "--file", str(dump)], check=True
    )
    return dump.read_bytes()


def test_no_plaintext_in_the_database_files_or_dump(world: World, tmp_path: Path) -> None:
    company, _person = _issue_sensitive(world)
    platform = world.platform
    platform.writer.close()  # every queued write is on disk
    stored = _stored_bytes(platform.settings, tmp_path)
    assert b"INSERT INTO" in stored or b"COPY public.invoices" in stored or len(stored) > 4096
    # The proof that the search can find something: public values are there.
    assert "北京样例贸易有限公司".encode() in stored and SELLER_ID.encode() in stored
    for name, value in SECRETS.items():
        assert value.encode() not in stored, f"{name} found in plaintext"
    (value,) = raw(platform, "SELECT buyer_account FROM invoices WHERE number = :n", n=company)[0]
    assert value.startswith("e1:")


def test_entitled_users_see_the_plaintext(world: World) -> None:
    company, person = _issue_sensitive(world)
    seen = world.client.get(f"/api/v1/invoices/{company}", headers=world.as_("seller")).json()
    assert seen["seller"]["account"] == SECRETS["seller account"]
    assert seen["seller"]["address"] == SECRETS["seller address"]
    assert seen["buyer"]["bank"] == SECRETS["buyer bank"]
    inbox = world.client.get(
        "/api/v1/invoices", params={"direction": "received"}, headers=world.as_("buyer")
    ).json()
    (received,) = [item for item in inbox["items"] if item["number"] == company]
    assert received["buyer"]["account"] == SECRETS["buyer account"]
    shown = world.client.get(f"/api/v1/invoices/{person}", headers=world.as_("seller")).json()
    assert shown["buyer"]["tax_id"] == PERSON_ID
    assert shown["buyer"]["phone"] == SECRETS["buyer phone"]
    # The natural person's invoices are still found by the ID number.
    found = world.client.get(
        "/api/v1/invoices",
        params={"direction": "issued", "counterparty": PERSON_ID},
        headers=world.as_("seller"),
    ).json()
    assert [item["number"] for item in found["items"]] == [person]
    (stored_id,) = raw(
        world.platform, "SELECT buyer_tax_id FROM invoices WHERE number = :n", n=person
    )[0]
    assert stored_id.startswith("b1:") and len(stored_id) == 20
    ledger = raw(world.platform, "SELECT content FROM ledger_entries")
    assert ledger
    assert all(PERSON_ID not in row[0] for row in ledger)
    with world.platform.database.transaction(write=False) as session:
        taxpayer = taxpayers.by_tax_id(session, "91110101MA01ABCD2C")
        assert taxpayer is not None and taxpayer.account == SECRETS["new taxpayer account"]


def test_tampered_or_swapped_values_are_refused(world: World) -> None:
    platform = world.platform
    ((phone, account),) = raw(
        platform, "SELECT phone, account FROM taxpayers WHERE tax_id = :t", t=SELLER_ID
    )
    assert account.startswith("e1:") and phone == ""
    # Flip one character of the ciphertext.
    flipped = account[:-3] + ("A" if account[-3] != "A" else "B") + account[-2:]
    raw(platform, "UPDATE taxpayers SET account = :v WHERE tax_id = :t", v=flipped, t=SELLER_ID)
    with pytest.raises(DecryptionError, match=r"taxpayers\.account .*refused"):
        with platform.database.transaction(write=False) as session:
            taxpayers.by_tax_id(session, SELLER_ID)
    # The real value, moved into another column of the same row.
    raw(
        platform,
        "UPDATE taxpayers SET account = '', bank = :v WHERE tax_id = :t",
        v=account,
        t=SELLER_ID,
    )
    with pytest.raises(DecryptionError, match=r"taxpayers\.bank"):
        with platform.database.transaction(write=False) as session:
            taxpayers.by_tax_id(session, SELLER_ID)


def test_two_platforms_in_one_process_keep_their_keys(
    world: World, tmp_path: Path, clock: FixedClock
) -> None:
    """A second platform (SQLite, its own data dir and master key) beside the world's:
    issuing and reading alternate between them, each with its own keys."""

    other_settings = Settings(data_dir=tmp_path / "other", secret_key="other-" + "y" * 32)
    database = Database(other_settings)
    migrate.upgrade(database)
    other = Platform(settings=other_settings, database=database, clock=clock)
    try:
        with other.database.transaction() as session:
            taxpayers.add_taxpayer(
                session,
                tax_id=SELLER_ID,
                name="北京示例科技有限公司",
                kind="general",
                credit_limit=Decimal("1000000.00"),
                now=clock.now(),
                account="OTHER-ACCOUNT-1",
            )
        headers = make_user(other, "seller", "clerk", SELLER_ID)
        numbers = []
        with TestClient(create_app(platform=other)) as other_client:
            for _ in range(2):
                for client, auth in ((world.client, world.as_("seller")), (other_client, headers)):
                    body = invoice_body()
                    body["buyer"]["account"] = "BUYER-OF-" + str(id(client))
                    response = client.post("/api/v1/invoices", json=body, headers=auth)
                    assert response.status_code == 201, response.text
                    numbers.append((client, auth, response.json()["number"], id(client)))
            for client, auth, number, marker in numbers:
                shown = client.get(f"/api/v1/invoices/{number}", headers=auth).json()
                assert shown["buyer"]["account"] == f"BUYER-OF-{marker}"
            mine = other_client.get(f"/api/v1/invoices/{numbers[1][2]}", headers=headers).json()
            assert mine["seller"]["account"] == "OTHER-ACCOUNT-1"
        # A value sealed by one platform's keys does not open with the other's.
        ((sealed,),) = raw(other, "SELECT account FROM taxpayers")
        raw(
            world.platform,
            "UPDATE taxpayers SET account = :v WHERE tax_id = :t",
            v=sealed,
            t=SELLER_ID,
        )
        with pytest.raises(DecryptionError):
            with world.platform.database.transaction(write=False) as session:
                taxpayers.by_tax_id(session, SELLER_ID)
    finally:
        other.close()


def test_rows_written_before_encryption_are_encrypted_at_start(
    world: World, clock: FixedClock
) -> None:
    """The first start after the migration encrypts old plaintext rows (and moves a
    natural person's ID behind its blind index)."""
    _company, person = _issue_sensitive(world)
    platform = world.platform
    raw(
        platform,
        "UPDATE taxpayers SET address = :a, account = :b WHERE tax_id = :t",
        a="旧明文地址1号",
        b="1234500000",
        t=SELLER_ID,
    )
    raw(
        platform,
        "UPDATE invoices SET buyer_tax_id = :p, buyer_id_number = '' WHERE number = :n",
        p=PERSON_ID,
        n=person,
    )
    raw(platform, "INSERT INTO encryption_state (name, value) VALUES ('plaintext', 'pending')")
    again = Platform(settings=platform.settings, database=Database(platform.settings), clock=clock)
    try:
        ((address, account),) = raw(
            again, "SELECT address, account FROM taxpayers WHERE tax_id = :t", t=SELLER_ID
        )
        assert address.startswith("e1:") and account.startswith("e1:")
        ((buyer, sealed),) = raw(
            again, "SELECT buyer_tax_id, buyer_id_number FROM invoices WHERE number = :n", n=person
        )
        assert buyer.startswith("b1:") and sealed.startswith("e1:")
        assert raw(again, "SELECT name FROM encryption_state") == []
        with again.database.transaction(write=False) as session:
            seller = session.query(Taxpayer).filter_by(tax_id=SELLER_ID).one()
            assert (seller.address, seller.account) == ("旧明文地址1号", "1234500000")
            checked = ledger.check(
                session, lambda n: session.query(Invoice).filter_by(number=n).one_or_none()
            )
            assert checked.problem is None and checked.entries >= 2
        found = world.client.get(
            "/api/v1/invoices",
            params={"direction": "issued", "counterparty": PERSON_ID},
            headers=world.as_("seller"),
        ).json()
        assert [item["number"] for item in found["items"]] == [person]
    finally:
        again.close()


def test_red_invoice_to_a_natural_person_keeps_the_id_encrypted(world: World) -> None:
    _company, person = _issue_sensitive(world)
    response = world.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": person, "reason": "01"},
        headers=world.as_("seller"),
    )
    assert response.status_code == 201, response.text
    red = response.json()["red_invoice_number"]
    shown = world.client.get(f"/api/v1/invoices/{red}", headers=world.as_("seller")).json()
    assert shown["buyer"]["tax_id"] == PERSON_ID and shown["buyer"]["natural_person"]
    assert shown["buyer"]["phone"] == SECRETS["buyer phone"]
    ((buyer, sealed),) = raw(
        world.platform,
        "SELECT buyer_tax_id, buyer_id_number FROM invoices WHERE number = :n",
        n=red,
    )
    ((blue_buyer,),) = raw(
        world.platform, "SELECT buyer_tax_id FROM invoices WHERE number = :n", n=person
    )
    assert buyer == blue_buyer and buyer.startswith("b1:") and sealed.startswith("e1:")
    forms = raw(world.platform, "SELECT buyer_tax_id FROM red_letter_forms")
    assert forms == [(buyer,)]
    assert all(
        PERSON_ID not in row[0] for row in raw(world.platform, "SELECT content FROM ledger_entries")
    )
