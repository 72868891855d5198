"""Consistency headers without replicas, on SQLite and PostgreSQL: every write response
carries the commit's WAL position on PostgreSQL (none on SQLite, which has no replicas),
reads say they were served by the primary, and a bad token is a 400 naming the header."""

from __future__ import annotations

import re

from conftest import World, invoice_body
from fapiao.consistency import format_lsn, parse_lsn

TOKEN = "X-Fapiao-Consistency"
SERVED_BY = "X-Fapiao-Served-By"
LSN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")


def issue(world: World, **overrides: object) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def test_every_write_response_carries_the_commit_position(world: World, backend: str) -> None:
    client, as_ = world.client, world.as_
    issued = client.post(
        "/api/v1/invoices", json=invoice_body(medium="paper"), headers=as_("seller")
    )
    number = issued.json()["number"]
    other = issue(world)
    writes = [
        issued,
        client.post(
            f"/api/v1/invoices/{other}/certify",
            json={"period": "202611", "purpose": "deduct"},
            headers=as_("buyer"),
        ),
        client.post(
            "/api/v1/red-letter-forms",
            json={"blue_number": other, "reason": "01"},
            headers=as_("seller"),
        ),
        client.delete(f"/api/v1/invoices/{other}/certify", headers=as_("buyer")),
        client.post("/api/v1/invoices/" + number + "/void", headers=as_("seller")),
        client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/x", "events": ["invoice.issued"], "secret": "s" * 32},
            headers=as_("seller_admin"),
        ),
        client.post(
            "/api/v1/verify",
            json={"number": other, "issue_date": "2026-11-10", "total_with_tax": "226.00"},
        ),
    ]
    form_id = writes[2].json()["id"]
    writes.append(
        client.post(
            f"/api/v1/red-letter-forms/{form_id}/decision",
            json={"decision": "N"},
            headers=as_("buyer"),
        )
    )
    assert [response.status_code for response in writes] == [201, 200, 201, 200, 200, 201, 200, 200]
    tokens = [response.headers.get(TOKEN) for response in writes]
    if backend == "sqlite":
        assert tokens == [None] * len(writes)  # one database, nothing to wait for
        return
    positions = []
    for token in tokens:
        assert token is not None and LSN.match(token), token
        position = parse_lsn(token)
        assert position is not None and format_lsn(position) == token
        positions.append(position)
    # Each write commits after the one before it.
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert positions[-1] <= (world.platform.database.wal_position() or 0)


def test_reads_are_served_by_the_primary_and_carry_no_token(world: World) -> None:
    number = issue(world)
    for path in (f"/api/v1/invoices/{number}", "/api/v1/invoices"):
        response = world.client.get(path, headers=world.as_("seller"))
        assert response.status_code == 200
        assert response.headers[SERVED_BY] == "primary"
        assert TOKEN not in response.headers


def test_a_token_is_honoured_without_replicas(world: World) -> None:
    issued = world.client.post("/api/v1/invoices", json=invoice_body(), headers=world.as_("seller"))
    number = issued.json()["number"]
    # On SQLite there is no token to send back; any well-formed one is accepted.
    token = issued.headers.get(TOKEN, "0/0")
    response = world.client.get(
        f"/api/v1/invoices/{number}", headers=world.as_("buyer", **{TOKEN: token})
    )
    assert response.status_code == 200 and response.headers[SERVED_BY] == "primary"


def test_a_malformed_token_is_refused_naming_the_header(world: World) -> None:
    number = issue(world)
    for bad in ("yesterday", "0/", "G/1", "1/2/3", "0/" + "F" * 40):
        for path, method in (
            (f"/api/v1/invoices/{number}", "GET"),
            ("/api/v1/invoices", "GET"),
            ("/api/v1/verify", "POST"),
        ):
            response = world.client.request(
                method,
                path,
                json={"number": number, "issue_date": "2026-11-10", "total_with_tax": "226.00"}
                if method == "POST"
                else None,
                headers=world.as_("seller", **{TOKEN: bad, "Accept-Language": "en"}),
            )
            assert response.status_code == 400, (bad, path, response.text)
            problem = response.json()
            assert problem["code"] == "CONSISTENCY_TOKEN_INVALID"
            assert problem["errors"][0]["field"] == TOKEN
            assert "X-Fapiao-Consistency" in problem["detail"]
    chinese = world.client.get(
        f"/api/v1/invoices/{number}", headers=world.as_("seller", **{TOKEN: "nonsense"})
    )
    assert chinese.status_code == 400
    assert re.search(r"[\u4e00-\u9fff]", chinese.json()["detail"])
