"""The audit log through the real app: what is recorded, the chain, tampering, retention,
search, export and who may read it. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from conftest import PASSWORD, SELLER_ID, World, invoice_body, make_user
from fapiao.app import create_app
from fapiao.audit import service as audit
from fapiao.audit.buffer import AuditBuffer
from fapiao.audit.models import AuditEntry
from fapiao.cli.context import CliState
from fapiao.cli.main import app as cli_app
from fapiao.db import Database
from fapiao.http.deps import ActorDep
from fapiao.platform import Platform
from fapiao.worker import Worker

UA = {"User-Agent": "audit-test/1.0"}


def flush(world: World) -> None:
    world.client.app.state.audit.flush()  # type: ignore[attr-defined]


def entries(platform: Platform, **where: Any) -> list[AuditEntry]:
    with platform.database.transaction(write=False) as session:
        query = select(AuditEntry).filter_by(**where).order_by(AuditEntry.seq)
        return list(session.scalars(query))


def check(platform: Platform) -> audit.CheckResult:
    with platform.database.transaction(write=False) as session:
        return audit.check(session, chunk=3)  # small chunks: paging is walked too


def issue(world: World, user: str = "seller", **overrides: Any) -> dict[str, Any]:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_(user, **UA)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def login(world: World, username: str, password: str) -> int:
    response = world.client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}, headers=UA
    )
    return response.status_code


def cli(platform: Platform, *args: str) -> Any:
    state = CliState()
    state._platform = platform
    return CliRunner().invoke(cli_app, ["--lang", "en", *args], obj=state)


def test_issuing_through_the_api_is_audited_once_the_buffer_flushes(world: World) -> None:
    response = world.client.post(
        "/api/v1/invoices",
        json=invoice_body(),
        headers=world.as_("seller", **UA, **{"X-Request-ID": "req-42"}),
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "req-42"
    number = response.json()["number"]
    deadline = time.monotonic() + 10  # FAPIAO_AUDIT_FLUSH_SECONDS is 0.5 s
    while not entries(world.platform, action="invoice.issue") and time.monotonic() < deadline:
        time.sleep(0.05)
    [entry] = entries(world.platform, action="invoice.issue")
    seller = entries(world.platform)  # nothing else was written
    assert len(seller) == 1
    assert (entry.result, entry.object_type, entry.object_id) == ("ok", "invoice", number)
    assert (entry.username, entry.role, entry.request_id) == ("seller", "clerk", "req-42")
    assert entry.taxpayer_id is not None and entry.user_agent == "audit-test/1.0"
    assert entry.ip == "testclient"
    assert json.loads(entry.detail) == {"route": "/api/v1/invoices", "status": 201}
    assert entry.recorded_at == world.platform.clock.now()


def test_sign_in_success_and_failure_are_recorded_with_address_and_agent(world: World) -> None:
    assert login(world, "seller", PASSWORD) == 200
    assert login(world, "seller", "wrong-password") == 401
    assert login(world, "nobody", "wrong-password") == 401
    ok, wrong, unknown = entries(world.platform)  # committed at once, no flush needed
    assert (ok.action, ok.result, ok.username, ok.role) == ("auth.login", "ok", "seller", "clerk")
    assert ok.actor_id is not None and ok.taxpayer_id is not None
    assert (wrong.action, wrong.result, wrong.code) == (
        "auth.login_failed",
        "refused",
        "INVALID_CREDENTIALS",
    )
    assert wrong.actor_id is None and wrong.object_id == str(ok.actor_id)
    assert unknown.username == "nobody" and unknown.object_id is None
    for entry in (ok, wrong, unknown):
        assert (entry.ip, entry.user_agent) == ("testclient", "audit-test/1.0")
        assert entry.request_id and PASSWORD not in entry.detail
        assert "wrong-password" not in entry.detail


def test_a_refused_write_is_recorded_with_its_code(world: World) -> None:
    number = issue(world)["number"]
    refused = world.client.post(f"/api/v1/invoices/{number}/void", headers=world.as_("seller"))
    assert refused.status_code == 409
    bad = world.client.post("/api/v1/invoices", json={"kind": "x"}, headers=world.as_("seller"))
    assert bad.status_code == 422
    anonymous = world.client.post(f"/api/v1/invoices/{number}/void")
    assert anonymous.status_code == 401
    flush(world)
    void, anonymous_void = entries(world.platform, action="invoice.void")
    assert (void.result, void.code, void.object_id) == (
        "refused",
        "ELECTRONIC_NOT_VOIDABLE",
        number,
    )
    assert void.username == "seller" and json.loads(void.detail)["status"] == 409
    assert (anonymous_void.code, anonymous_void.actor_id) == ("NOT_AUTHENTICATED", None)
    invalid = entries(world.platform, action="invoice.issue", result="refused")
    assert invalid[0].code == "VALIDATION_FAILED"
    assert json.loads(invalid[0].detail)["errors"][0]["code"]


def test_an_officer_reading_a_taxpayers_invoice_is_recorded(world: World) -> None:
    number = issue(world)["number"]
    for path in (f"/api/v1/invoices/{number}", f"/api/v1/invoices/{number}/trace"):
        assert world.client.get(path, headers=world.as_("officer")).status_code == 200
    assert world.client.get(f"/api/v1/trace?number={number}", headers=world.as_("officer"))
    # The seller's own reads, and an officer's read of nothing, are not recorded.
    assert world.client.get(f"/api/v1/invoices/{number}", headers=world.as_("seller"))
    assert world.client.get("/api/v1/me", headers=world.as_("officer")).status_code == 200
    missing = world.client.get("/api/v1/invoices/" + "9" * 20, headers=world.as_("officer"))
    assert missing.status_code == 404
    flush(world)
    reads = entries(world.platform, action="officer.read")
    assert [(read.object_type, read.object_id) for read in reads] == [("invoice", number)] * 3
    assert {read.username for read in reads} == {"officer"}
    assert json.loads(reads[2].detail)["query"] == {"number": number}


def test_chain_is_valid_after_mixed_activity_and_tampering_is_found(world: World) -> None:
    assert login(world, "seller", PASSWORD) == 200
    numbers = [issue(world)["number"] for _ in range(3)]
    world.client.post(f"/api/v1/invoices/{numbers[0]}/void", headers=world.as_("seller"))
    world.client.get(f"/api/v1/invoices/{numbers[1]}", headers=world.as_("officer"))
    webhook = world.client.post(
        "/api/v1/webhooks",
        json={"url": "https://erp.example.com/hook", "events": ["invoice.issued"]},
        headers=world.as_("seller_admin"),
    )
    assert webhook.status_code == 201
    assert login(world, "seller", "nope-nope-nope") == 401
    flush(world)
    created = entries(world.platform, action="webhook.create")
    assert created[0].object_id == str(webhook.json()["id"])
    assert webhook.json()["secret"] not in created[0].detail
    result = check(world.platform)
    assert result.problem is None and result.entries == 8 and result.head_seq == 8
    intact = cli(world.platform, "audit", "check")
    assert intact.exit_code == 0, intact.output
    assert "The audit log is intact: 8 entries" in intact.output

    with world.platform.database.transaction() as session:
        session.execute(text("UPDATE audit_entries SET username = 'someone' WHERE seq = 5"))
    broken = check(world.platform)
    assert broken.problem is not None and broken.problem.seq == 5
    assert broken.entries == 4  # the entries before the break were fine
    failed = cli(world.platform, "audit", "check")
    assert failed.exit_code == 1
    assert "Audit entry 5 has been changed" in failed.output


def test_a_removed_entry_and_a_stale_head_are_found(world: World) -> None:
    for name in ("a", "b", "c"):
        login(world, name, "x" * 8)
    with world.platform.database.transaction() as session:
        session.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    problem = check(world.platform).problem
    assert problem is not None and problem.params == {"missing": 2, "seq": 3}
    with world.platform.database.transaction() as session:
        session.execute(text("DELETE FROM audit_entries WHERE seq >= 2"))
    problem = check(world.platform).problem
    assert problem is not None and problem.params == {"head": 3, "seq": 1}


def test_retention_purge_keeps_the_chain_checkable(world: World) -> None:
    platform = world.platform
    for name in ("old-1", "old-2", "old-3"):
        login(world, name, "x" * 8)
    platform.clock.advance(timedelta(days=100))  # type: ignore[attr-defined]
    login(world, "newer", "x" * 8)
    platform.clock.advance(timedelta(days=81))  # type: ignore[attr-defined]
    assert Worker(platform).scheduled()["audit_purged"] == 3
    left = entries(platform)
    assert [entry.username for entry in left] == ["newer", None]
    purge = left[-1]
    assert purge.action == "audit.purge"
    assert json.loads(purge.detail)["deleted"] == 3 and json.loads(purge.detail)["anchor_seq"] == 3
    result = check(platform)
    assert result.problem is None and (result.anchor_seq, result.entries) == (3, 2)
    assert Worker(platform).scheduled()["audit_purged"] == 0  # nothing more is due
    # A change after the anchor is still found.
    with platform.database.transaction() as session:
        session.execute(text("UPDATE audit_entries SET ip = '10.0.0.1' WHERE seq = 4"))
    problem = check(platform).problem
    assert problem is not None and problem.seq == 4


def _seed_search(world: World) -> None:
    for name in ("alice", "bob", "alice", "carol", "alice"):
        login(world, name, "x" * 8)
        world.platform.clock.advance(timedelta(hours=10))  # type: ignore[attr-defined]


def test_search_filters_and_paging(world: World) -> None:
    _seed_search(world)
    officer = world.as_("officer")
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"actor": "alice", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = world.client.get("/api/v1/audit", params=params, headers=officer).json()
        seen += [item["seq"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 3, 1]  # newest first, every page
    one = world.client.get("/api/v1/audit?action=auth.login_failed&limit=1", headers=officer)
    assert one.json()["items"][0]["username"] == "alice" and one.json()["next_cursor"]
    # 2026-11-10 10:00 Beijing + 10 h steps: bob at 20:00 on the 10th, carol the 11th.
    day = world.client.get("/api/v1/audit?from=2026-11-11&to=2026-11-11", headers=officer)
    assert [item["username"] for item in day.json()["items"]] == ["carol", "alice"]
    timed = world.client.get(
        "/api/v1/audit",
        params={"from": "2026-11-10T19:00+08:00", "to": "2026-11-10T21:00+08:00"},
        headers=officer,
    )
    assert [item["username"] for item in timed.json()["items"]] == ["bob"]
    assert world.client.get("/api/v1/audit?object_type=user", headers=officer).json()["items"]
    none = world.client.get("/api/v1/audit?result=ok&actor=alice", headers=officer)
    assert none.json()["items"] == []
    bad_cursor = world.client.get("/api/v1/audit?cursor=bm9wZQ", headers=officer)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["field"] == "cursor"
    bad_time = world.client.get("/api/v1/audit?from=yesterday", headers=officer)
    assert bad_time.status_code == 422
    assert bad_time.json()["errors"][0] == {
        "field": "from",
        "code": "INVALID_TIME",
        "message": bad_time.json()["errors"][0]["message"],
    }
    flush(world)
    assert entries(world.platform, action="audit.search", username="officer")


def test_export_csv_and_json_through_the_api_and_the_cli(world: World, tmp_path: Path) -> None:
    _seed_search(world)
    login(world, '=HYPERLINK("http://evil")', "x" * 8)
    officer = world.as_("officer")
    exported = world.client.get("/api/v1/audit/export?format=csv", headers=officer)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["seq"] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    assert rows[-1]["username"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["entry_hash"] == rows[1]["prev_hash"]
    as_json = world.client.get(
        "/api/v1/audit/export", params={"format": "json", "actor": "alice"}, headers=officer
    )
    items = as_json.json()
    assert [item["seq"] for item in items] == [1, 3, 5]
    assert items[0]["detail"] == {"reason": "unknown_user"}

    out = tmp_path / "audit.json"
    done = cli(
        world.platform,
        "audit",
        "export",
        "--format",
        "json",
        "--actor",
        "bob",
        "--output",
        str(out),
    )
    assert done.exit_code == 0, done.output
    assert [item["username"] for item in json.loads(out.read_text())] == ["bob"]
    csv_out = tmp_path / "audit.csv"
    ranged = cli(
        world.platform,
        "audit",
        "export",
        "--from",
        "2026-11-11",
        "--action",
        "auth.login_failed",
        "--output",
        str(csv_out),
    )
    assert ranged.exit_code == 0, ranged.output
    with csv_out.open(encoding="utf-8") as handle:
        names = [row["username"] for row in csv.DictReader(handle)]
    assert names == ["alice", "carol", "alice", '\'=HYPERLINK("http://evil")']
    wrong = cli(world.platform, "audit", "export", "--format", "xml")
    assert wrong.exit_code == 2


def test_only_officers_and_auditors_read_the_audit_log(world: World) -> None:
    auditor = make_user(world.platform, "auditor1", "auditor", None)
    for user in ("seller", "seller_admin", "seller_viewer"):
        for path in ("/api/v1/audit", "/api/v1/audit/export"):
            refused = world.client.get(path, headers=world.as_(user))
            assert refused.status_code == 403, (user, path)
            assert refused.json()["code"] == "ROLE_NOT_ALLOWED"
    assert world.client.get("/api/v1/audit").status_code == 401
    assert world.client.get("/api/v1/audit", headers=auditor).status_code == 200
    assert world.client.get("/api/v1/audit", headers=world.as_("officer")).status_code == 200
    assert world.client.get("/api/v1/audit/export", headers=auditor).status_code == 200
    # An auditor sees nothing else: no invoices, no issuing.
    number = issue(world)["number"]
    assert world.client.get(f"/api/v1/invoices/{number}", headers=auditor).status_code == 403
    assert world.client.get("/api/v1/invoices", headers=auditor).status_code == 403
    issued = world.client.post("/api/v1/invoices", json=invoice_body(), headers=auditor)
    assert issued.status_code == 403


def test_user_add_takes_the_auditor_role(world: World) -> None:
    added = cli(
        world.platform,
        "user",
        "add",
        "--username",
        "aud",
        "--password",
        PASSWORD,
        "--role",
        "auditor",
    )
    assert added.exit_code == 0, added.output
    refused = cli(
        world.platform,
        "user",
        "add",
        "--username",
        "aud2",
        "--password",
        PASSWORD,
        "--role",
        "auditor",
        "--taxpayer",
        SELLER_ID,
    )
    assert refused.exit_code == 1 and "TAXPAYER_NOT_ALLOWED" in refused.output
    assert login(world, "aud", PASSWORD) == 200


def test_a_route_added_later_is_audited_without_code_of_its_own(platform: Platform) -> None:
    make_user(platform, "officer1", "officer", None)
    headers = make_user(platform, "officer2", "officer", None)
    app = create_app(platform=platform)

    @app.post("/api/v1/gadgets/{gadget_id}/polish")
    def polish(gadget_id: int, actor: ActorDep) -> dict[str, Any]:
        return {"polished": gadget_id}

    @app.post("/api/v1/gadgets", status_code=201)
    def make_gadget(actor: ActorDep) -> dict[str, Any]:
        return {"id": 77}

    @app.delete("/api/v1/gadgets/{gadget_id}")
    def break_gadget(gadget_id: int, actor: ActorDep) -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/v1/gadgets/5/polish", headers=headers).status_code == 200
        assert client.post("/api/v1/gadgets", headers=headers).status_code == 201
        assert client.delete("/api/v1/gadgets/6", headers=headers).status_code == 500
    # Leaving the client shut the app down, which flushed the buffer.
    polished, made, broken = entries(platform)
    assert (broken.action, broken.result, broken.code) == (
        "gadget.delete",
        "error",
        "INTERNAL_ERROR",
    )
    assert (polished.action, polished.object_type, polished.object_id) == (
        "gadget.polish",
        "gadget",
        "5",
    )
    assert (made.action, made.object_id, made.username) == ("gadget.create", "77", "officer2")


def test_concurrent_writers_make_one_valid_chain(platform: Platform) -> None:
    """Threads appending on their own and through buffers at once (on PostgreSQL each
    transaction locks the head row; on SQLite writers take turns)."""
    buffers = [AuditBuffer(platform.database, delay=0.01) for _ in range(2)]
    errors: list[BaseException] = []

    def standalone(index: int) -> None:
        try:
            for n in range(15):
                audit.record_standalone(
                    platform.database,
                    action="test.standalone",
                    at=platform.clock.now(),
                    object_id=f"{index}-{n}",
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    def buffered(index: int) -> None:
        for n in range(40):
            buffers[index % 2].submit(
                audit.make_entry(
                    action="test.buffered", at=platform.clock.now(), object_id=f"{index}-{n}"
                )
            )
            time.sleep(0.001)

    threads = [threading.Thread(target=standalone, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=buffered, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for buffer in buffers:
        buffer.close()
    assert errors == []
    with platform.database.transaction(write=False) as session:
        total = session.scalar(select(func.count()).select_from(AuditEntry))
    assert total == 4 * 15 + 2 * 40
    result = check(platform)
    assert result.problem is None and result.head_seq == total


def test_record_in_a_transaction_is_written_only_if_it_commits(platform: Platform) -> None:
    now = platform.clock.now()
    with platform.database.transaction() as session:
        audit.record(session, action="test.kept", at=now, detail={"n": 1})
        audit.record(session, action="test.kept", at=now, detail={"n": 2})
    try:
        with platform.database.transaction() as session:
            audit.record(session, action="test.lost", at=now)
            raise RuntimeError("the work failed")
    except RuntimeError:
        pass
    assert [json.loads(e.detail)["n"] for e in entries(platform)] == [1, 2]
    assert check(platform).problem is None


def test_access_log_lines_hold_no_secrets(platform: Platform, tmp_path: Path) -> None:
    headers = make_user(platform, "officer1", "officer", None)
    log_file = tmp_path / "access.log"
    app = create_app(platform=platform, access_log=str(log_file))
    try:
        with TestClient(app) as client:
            client.get(
                "/api/v1/me?access_token=sekrit", headers={**headers, **UA, "Cookie": "s=c00kie"}
            )
            client.post("/api/v1/auth/token", data={"username": "officer1", "password": PASSWORD})
    finally:
        create_app(platform=platform, access_log="")  # the logger back off
    text_ = log_file.read_text()
    lines = [json.loads(line) for line in text_.splitlines()]
    me, token = lines
    assert (me["method"], me["path"], me["status"]) == ("GET", "/api/v1/me", 200)
    assert me["user_agent"] == "audit-test/1.0" and me["ip"] == "testclient"
    assert me["user_id"] is not None and len(me["request_id"]) == 32
    assert me["duration_ms"] >= 0 and me["time"].startswith("2026-11-10T02:00")
    assert (token["path"], token["user_id"]) == ("/api/v1/auth/token", None)
    for secret in ("sekrit", "c00kie", PASSWORD, "Bearer", headers["Authorization"][7:]):
        assert secret not in text_


def test_sign_ins_through_a_trusted_proxy_name_the_client(world: World) -> None:
    """Behind a reverse proxy, the audit log names the client, not the proxy."""
    settings = world.platform.settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
    platform = Platform(settings=settings, database=Database(settings), clock=world.platform.clock)
    try:
        client = TestClient(create_app(platform=platform), client=("10.1.2.3", 40000))
        signed = client.post(
            "/api/v1/auth/token",
            data={"username": "seller", "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.21"},
        )
        assert signed.status_code == 200, signed.text
        with platform.database.transaction(write=False) as session:
            ips = session.scalars(
                select(AuditEntry.ip).where(AuditEntry.action == "auth.login")
            ).all()
        assert list(ips) == ["203.0.113.21"]
    finally:
        platform.close()
