"""Proof of recording: the hash-chained ledger, signed receipts, `fapiao ledger check`
and `fapiao receipt verify`. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from test_redletter import form
from test_redletter import issue as issue_with_service_line
from typer.testing import CliRunner

from conftest import World, invoice_body
from fapiao.cli import ledger as ledger_cli
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.invoices.models import Invoice
from fapiao.ledger import service as ledger
from fapiao.ledger import signing
from fapiao.ledger.models import LedgerEntry


def issue(world: World, **overrides: object) -> dict[str, Any]:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def keys(world: World) -> list[dict[str, Any]]:
    response = world.client.get("/api/v1/keys")  # public: no token
    assert response.status_code == 200
    return list(response.json()["keys"])


def check(world: World) -> ledger.CheckResult:
    with world.platform.database.transaction(write=False) as session:

        def load(number: str) -> Invoice | None:
            return session.scalar(select(Invoice).where(Invoice.number == number))

        return ledger.check(session, load, chunk=3)  # small chunks: paging is walked too


def test_every_issue_response_carries_a_receipt_that_verifies(world: World) -> None:
    body = issue(world)
    receipt = body["receipt"]
    payload = receipt["payload"]
    assert payload["number"] == body["number"]
    assert payload["seller_tax_id"] == "91110108551385082Q"
    assert payload["buyer_tax_id"] == "91110105MA01ABCD13"
    assert payload["total_with_tax"] == body["total_with_tax"] == "226.00"
    assert payload["journal_seq"] == 1 and len(payload["entry_hash"]) == 64
    assert receipt["alg"] == "Ed25519" and receipt["kid"] == world.platform.signer.key_id
    published = keys(world)
    assert [key["kid"] for key in published] == [world.platform.signer.key_id]
    assert signing.verify(receipt, published) is None

    # The same receipt again, later, for the seller, the buyer and an officer; 404 for others.
    for who in ("seller", "buyer", "officer"):
        again = world.client.get(
            f"/api/v1/invoices/{body['number']}/receipt", headers=world.as_(who)
        )
        assert again.status_code == 200 and again.json() == receipt
    other = world.client.get(
        f"/api/v1/invoices/{body['number']}/receipt", headers=world.as_("other")
    )
    assert other.status_code == 404 and other.json()["code"] == "INVOICE_NOT_FOUND"


def test_a_changed_field_or_a_foreign_key_breaks_the_receipt(world: World) -> None:
    receipt = issue(world)["receipt"]
    published = keys(world)
    for field, value in (("total_with_tax", "2260.00"), ("buyer_tax_id", "91110108MA01R4KD2T"),
                         ("journal_seq", 2)):  # fmt: skip
        forged = json.loads(json.dumps(receipt))
        forged["payload"][field] = value
        problem = signing.verify(forged, published)
        assert problem is not None and "signature" in problem[0]
    foreign = {**receipt, "kid": "ed25519-0000000000000000"}
    assert signing.verify(foreign, published) == (
        "There is no public key with id {kid}.",
        {"kid": "ed25519-0000000000000000"},
    )
    extra = json.loads(json.dumps(receipt))
    extra["payload"]["note"] = "added"
    assert signing.verify(extra, published) is not None


def test_idempotent_replay_returns_the_first_receipt(world: World) -> None:
    headers = world.as_("seller", **{"Idempotency-Key": "order-77"})
    first = world.client.post("/api/v1/invoices", json=invoice_body(), headers=headers)
    again = world.client.post("/api/v1/invoices", json=invoice_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["receipt"] == first.json()["receipt"]


def test_every_accepted_document_is_chained(world: World) -> None:
    issued = [issue(world)["number"] for _ in range(3)]
    paper = issue(world, medium="paper")["number"]
    voided = world.client.post(f"/api/v1/invoices/{paper}/void", headers=world.as_("seller"))
    assert voided.status_code == 200, voided.text
    certified = world.client.post(
        f"/api/v1/invoices/{issued[0]}/certify",
        json={"period": "202611", "purpose": "deduct"},
        headers=world.as_("buyer"),
    )
    assert certified.status_code == 200, certified.text
    blue = issue_with_service_line(world)
    reversal = form(world, "seller", {"blue_number": blue, "reason": "01"})
    assert reversal.status_code == 201, reversal.text
    red = reversal.json()["red_invoice_number"]
    red_receipt = world.client.get(f"/api/v1/invoices/{red}/receipt", headers=world.as_("buyer"))
    assert red_receipt.status_code == 200
    assert red_receipt.json()["payload"]["total_with_tax"] == "-1286.00"
    assert signing.verify(red_receipt.json(), keys(world)) is None

    with world.platform.database.transaction(write=False) as session:
        entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
        kinds = [(entry.kind, entry.subject) for entry in entries]
    assert kinds == [
        *[("invoice.issued", number) for number in issued],
        ("invoice.issued", paper),
        ("invoice.voided", paper),
        ("certification.changed", issued[0]),
        ("invoice.issued", blue),
        ("invoice.issued", red),
    ]
    assert [entry.seq for entry in entries] == list(range(1, 9))
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(entries))
    result = check(world)
    assert result.problem is None and result.entries == 8 and result.head_seq == 8


def tamper(world: World, statement: Any) -> None:
    with world.platform.database.transaction() as session:
        session.execute(statement)


def test_check_finds_an_invoice_changed_behind_the_ledger(world: World) -> None:
    numbers = [issue(world)["number"] for _ in range(4)]
    tamper(
        world,
        update(Invoice).where(Invoice.number == numbers[2]).values(buyer_name="别的公司"),
    )
    result = check(world)
    assert result.problem == "Entry {seq}: invoice {subject} differs from what was recorded."
    assert result.params == {"seq": 3, "subject": numbers[2]}
    assert result.entries == 2  # the entries before the break were fine


def test_check_finds_an_edited_a_removed_and_a_relinked_entry(world: World) -> None:
    for _ in range(5):
        issue(world)
    tamper(world, update(LedgerEntry).where(LedgerEntry.seq == 4).values(content="{}"))
    assert check(world).problem == "Entry {seq}: its content does not match its content hash."
    tamper(world, text("DELETE FROM ledger_entries WHERE seq = 4"))
    result = check(world)
    assert result.problem == "Entry {missing} is missing (the next one is {seq})."
    assert result.params["missing"] == 4 and result.params["seq"] == 5
    tamper(world, update(LedgerEntry).where(LedgerEntry.seq == 2).values(prev_hash="f" * 64))
    assert check(world).problem == "Entry {seq} does not link to the entry before it."


def test_check_finds_a_recomputed_entry_hash_and_a_stale_head(world: World) -> None:
    for _ in range(3):
        issue(world)
    tamper(world, update(LedgerEntry).where(LedgerEntry.seq == 3).values(subject="x"))
    assert check(world).problem == "Entry {seq}: its hash does not match its fields."
    tamper(world, text("DELETE FROM ledger_entries WHERE seq = 3"))
    result = check(world)
    assert result.problem == "The ledger head points at entry {head}, but the last entry is {seq}."
    assert result.params == {"head": 3, "seq": 2}


def cli(world: World, tmp_path: Path, *args: str) -> Any:
    """The real commands, on the test's platform (its database and clock)."""
    state = CliState()
    state._platform = world.platform
    return CliRunner().invoke(app, ["--lang", "en", *args], obj=state)


def test_receipt_verify_offline_and_beside_the_platform(world: World, tmp_path: Path) -> None:
    receipt_file = tmp_path / "receipt.json"
    response_file = tmp_path / "response.json"
    keys_file = tmp_path / "keys.json"
    body = issue(world)
    receipt_file.write_text(json.dumps(body["receipt"], ensure_ascii=False), encoding="utf-8")
    response_file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    keys_file.write_text(world.client.get("/api/v1/keys").text, encoding="utf-8")

    offline = cli(world, tmp_path, "receipt", "verify", str(receipt_file), "--key", str(keys_file))
    assert offline.exit_code == 0, offline.output
    assert f"The receipt is valid: invoice {body['number']}" in offline.output
    beside = cli(world, tmp_path, "receipt", "verify", str(response_file))
    assert beside.exit_code == 0, beside.output

    forged = json.loads(receipt_file.read_text(encoding="utf-8"))
    forged["payload"]["total_with_tax"] = "1.00"
    receipt_file.write_text(json.dumps(forged), encoding="utf-8")
    bad = cli(world, tmp_path, "receipt", "verify", str(receipt_file), "--key", str(keys_file))
    assert bad.exit_code == 1
    assert "The signature does not match the signed fields." in bad.output

    # Validly signed, but not what this platform recorded: another platform's receipt.
    stranger = signing.Signer.from_file(tmp_path / "stranger.pem")
    payload = {**body["receipt"]["payload"], "total_with_tax": "9.99"}
    foreign = {"payload": payload, "alg": "Ed25519", "kid": stranger.key_id,
               "signature": stranger.sign(payload)}  # fmt: skip
    with world.platform.database.transaction() as session:
        stranger.register(session, world.platform.clock.now())  # its key is even published
    receipt_file.write_text(json.dumps(foreign), encoding="utf-8")
    mismatch = cli(world, tmp_path, "receipt", "verify", str(receipt_file))
    assert mismatch.exit_code == 1
    assert "The signed field total_with_tax differs from the ledger." in mismatch.output

    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json", encoding="utf-8")
    unreadable = cli(world, tmp_path, "receipt", "verify", str(garbage))
    assert unreadable.exit_code == 2 and "Cannot read" in unreadable.output

    # Away from any platform data and without --key: said so, and nothing is created.
    elsewhere = tmp_path / "elsewhere"
    lonely = CliRunner().invoke(
        app,
        ["--lang", "en", "--data-dir", str(elsewhere), "receipt", "verify", str(receipt_file)],
        obj=CliState(),
        env={"FAPIAO_DATABASE_URL": ""},
    )
    assert lonely.exit_code == 2, lonely.output
    assert "No platform data in" in lonely.output and "--key" in lonely.output
    assert not elsewhere.exists()


def test_ledger_check_command_and_key_rotation(world: World, tmp_path: Path) -> None:
    first = issue(world)
    intact = cli(world, tmp_path, "ledger", "check")
    assert intact.exit_code == 0, intact.output
    assert "The ledger is intact: 1 entries" in intact.output

    rotated = cli(world, tmp_path, "ledger", "rotate-key")
    assert rotated.exit_code == 0, rotated.output
    published = keys(world)
    assert len(published) == 2
    old = next(key for key in published if key["kid"] == first["receipt"]["kid"])
    assert old["retired_at"] is not None
    # Receipts signed with the retired key still verify.
    assert signing.verify(first["receipt"], published) is None

    tamper(world, update(Invoice).values(total_with_tax=1))
    broken = cli(world, tmp_path, "ledger", "check")
    assert broken.exit_code == 1
    assert "differs from what was recorded" in broken.output
    assert ledger_cli.NOT_VALID  # the module's messages are importable for the catalogue


def test_a_retired_key_does_not_verify_receipts_dated_after_it_retired(world: World) -> None:
    receipt = issue(world)["receipt"]
    published = keys(world)
    retired = [{**key, "retired_at": "2000-01-01T00:00:00+00:00"} for key in published]
    problem = signing.verify(receipt, retired)
    assert problem == ("Key {kid} was retired before this receipt's time.", {"kid": receipt["kid"]})
    later = [{**key, "retired_at": "2999-01-01T00:00:00+00:00"} for key in published]
    assert signing.verify(receipt, later) is None
