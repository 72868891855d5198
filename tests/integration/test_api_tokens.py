"""API tokens: made, listed, revoked, stored hashed, scoped, expiring, cached for a bounded
time. On SQLite and PostgreSQL, with the injected clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from conftest import SELLER_ID, World, invoice_body
from fapiao import models
from fapiao.accounts.tokenmodels import ApiToken
from fapiao.app import create_app
from fapiao.cli.context import CliState
from fapiao.cli.main import app as cli_app
from fapiao.platform import Platform

HOOK = {"url": "http://127.0.0.1:9/hooks", "events": ["invoice.issued"]}


def make_token(world: World, username: str, scopes: list[str], **extra: Any) -> dict[str, Any]:
    response = world.client.post(
        "/api/v1/api-tokens",
        json={"name": f"{username} {'+'.join(scopes)}", "scopes": scopes, **extra},
        headers=world.as_(username),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: dict[str, Any] | str) -> dict[str, str]:
    text_ = token if isinstance(token, str) else token["token"]
    return {"Authorization": f"Bearer {text_}"}


def test_create_list_revoke(world: World) -> None:
    made = make_token(world, "seller_admin", ["read", "issue"], expires_in_days=30)
    assert made["token"].startswith(f"fpt_{made['id']}_")
    assert made["scopes"] == ["issue", "read"] and made["status"] == "active"
    assert made["expires_at"].startswith("2026-12-10")  # 30 days after START
    listed = world.client.get("/api/v1/api-tokens", headers=world.as_("seller_admin")).json()
    assert [item["id"] for item in listed] == [made["id"]]
    assert listed[0].get("token") is None and listed[0]["last_used_at"] is None
    assert listed[0]["username"] == "seller_admin"

    gone = world.client.delete(
        f"/api/v1/api-tokens/{made['id']}", headers=world.as_("seller_admin")
    )
    assert gone.status_code == 204
    listed = world.client.get("/api/v1/api-tokens", headers=world.as_("seller_admin")).json()
    assert listed[0]["status"] == "revoked" and listed[0]["revoked_at"] is not None
    refused = world.client.get("/api/v1/invoices", headers=bearer(made))
    assert refused.status_code == 401 and refused.json()["code"] == "TOKEN_INVALID"


def test_the_secret_is_shown_once_and_stored_only_hashed(world: World) -> None:
    made = make_token(world, "seller_admin", ["issue"])
    secret = made["token"].split("_", 2)[2]
    assert world.client.get("/api/v1/invoices", headers=bearer(made)).status_code == 200
    texts = []
    with world.platform.database.transaction(write=False) as session:
        for table in models.Base.metadata.sorted_tables:
            texts.extend(str(row) for row in session.execute(select(table)))
    everything = "\n".join(texts)
    assert made["id"] in everything  # the public id is kept, so the search is meaningful
    assert secret not in everything and made["token"] not in everything
    if world.platform.database.dialect == "sqlite":
        world.platform.writer.close()
        url = world.platform.settings.effective_database_url.removeprefix("sqlite:///")
        for path in (Path(url), Path(url + "-wal")):
            if path.exists():
                assert secret.encode() not in path.read_bytes()


def test_scopes_limit_what_a_token_may_do(world: World) -> None:
    read = make_token(world, "seller", ["read"])
    issue = make_token(world, "seller", ["issue"])
    admin = make_token(world, "seller_admin", ["admin"])

    refused = world.client.post("/api/v1/invoices", json=invoice_body(), headers=bearer(read))
    assert refused.status_code == 403 and refused.json()["code"] == "TOKEN_SCOPE"
    issued = world.client.post("/api/v1/invoices", json=invoice_body(), headers=bearer(issue))
    assert issued.status_code == 201, issued.text
    number = issued.json()["number"]
    assert world.client.get(f"/api/v1/invoices/{number}", headers=bearer(read)).status_code == 200
    assert world.client.get(f"/api/v1/invoices/{number}", headers=bearer(issue)).status_code == 200

    hook = world.client.post("/api/v1/webhooks", json=HOOK, headers=bearer(admin))
    assert hook.status_code == 201, hook.text
    not_issue = world.client.post("/api/v1/invoices", json=invoice_body(), headers=bearer(admin))
    assert not_issue.status_code == 403 and not_issue.json()["code"] == "TOKEN_SCOPE"
    not_hook = world.client.post("/api/v1/webhooks", json=HOOK, headers=bearer(issue))
    assert not_hook.status_code == 403 and not_hook.json()["code"] == "TOKEN_SCOPE"
    # Officers' routes refuse every token, whatever its scopes.
    body = {"until": "2026-11-10T04:00:00Z", "message_zh": "维护", "message_en": "upkeep"}
    put = world.client.put("/api/v1/maintenance", json=body, headers=bearer(admin))
    assert put.status_code == 403 and put.json()["code"] == "TOKEN_SCOPE"


def test_a_role_cannot_hand_a_token_more_than_it_may_do(world: World) -> None:
    for username, scopes in (("seller_viewer", ["issue"]), ("seller", ["admin"])):
        response = world.client.post(
            "/api/v1/api-tokens",
            json={"name": "too much", "scopes": scopes},
            headers=world.as_(username),
        )
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["field"] == "scopes"
    officer = world.client.post(
        "/api/v1/api-tokens", json={"name": "x", "scopes": ["read"]}, headers=world.as_("officer")
    )
    assert officer.status_code == 403
    # A token may make tokens (admin scope) but none with scopes it lacks itself.
    admin = make_token(world, "seller_admin", ["admin"])
    wider = world.client.post(
        "/api/v1/api-tokens", json={"name": "w", "scopes": ["issue"]}, headers=bearer(admin)
    )
    assert wider.status_code == 403 and wider.json()["code"] == "TOKEN_SCOPE_NOT_ALLOWED"


def test_bad_requests_name_the_field(world: World) -> None:
    cases = (
        ({"name": "x", "scopes": ["write"]}, "scopes", "SCOPE_UNKNOWN"),
        ({"name": "x", "scopes": []}, "scopes", None),
        ({"name": "x", "scopes": ["read"], "expires_in_days": 400}, "expires_in_days", None),
        ({"name": "x", "scopes": ["read"], "expires_in_days": 0}, "expires_in_days", None),
        ({"name": "", "scopes": ["read"]}, "name", None),
    )
    for body, field, code in cases:
        response = world.client.post(
            "/api/v1/api-tokens", json=body, headers=world.as_("seller_admin")
        )
        assert response.status_code == 422, (body, response.text)
        error = response.json()["errors"][0]
        assert field in error["field"], (body, error)
        if code:
            assert error["code"] == code
    with world.platform.database.transaction(write=False) as session:
        assert session.scalars(select(ApiToken)).first() is None


def test_tokens_expire_by_the_clock(world: World) -> None:
    made = make_token(world, "seller", ["read"], expires_in_days=1)
    assert world.client.get("/api/v1/invoices", headers=bearer(made)).status_code == 200
    world.platform.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    expired = world.client.get("/api/v1/invoices", headers=bearer(made))
    assert expired.status_code == 401 and expired.json()["code"] == "TOKEN_INVALID"
    listed = world.client.get("/api/v1/api-tokens", headers=world.as_("seller")).json()
    assert listed[0]["status"] == "expired"


def test_revocation_reaches_another_process_within_the_cache_bound(world: World) -> None:
    made = make_token(world, "seller", ["read"])
    # A second server process on the same database, with its own token cache.
    other = Platform(
        settings=world.platform.settings,
        database=world.platform.database,
        clock=world.platform.clock,
    )
    with TestClient(create_app(platform=other)) as second:
        assert second.get("/api/v1/invoices", headers=bearer(made)).status_code == 200
        gone = world.client.delete(f"/api/v1/api-tokens/{made['id']}", headers=world.as_("seller"))
        assert gone.status_code == 204
        # The revoking process refuses it at once; the other trusts its cache a while.
        assert world.client.get("/api/v1/invoices", headers=bearer(made)).status_code == 401
        assert second.get("/api/v1/invoices", headers=bearer(made)).status_code == 200
        world.platform.clock.advance(timedelta(seconds=4.9))  # type: ignore[attr-defined]
        assert second.get("/api/v1/invoices", headers=bearer(made)).status_code == 200
        world.platform.clock.advance(timedelta(seconds=0.1))  # type: ignore[attr-defined]
        assert second.get("/api/v1/invoices", headers=bearer(made)).status_code == 401
    other.writer.close()


def test_last_used_is_written_at_most_once_a_minute(world: World) -> None:
    made = make_token(world, "seller", ["read"])
    clock = world.platform.clock

    def last_used() -> str | None:
        listed = world.client.get("/api/v1/api-tokens", headers=world.as_("seller")).json()
        value: str | None = listed[0]["last_used_at"]
        return value

    world.client.get("/api/v1/invoices", headers=bearer(made))
    first = last_used()
    assert first is not None and first.startswith("2026-11-10T02:00:00")
    for _ in range(5):  # past the 5 s cache each time, but within the minute
        clock.advance(timedelta(seconds=10))  # type: ignore[attr-defined]
        assert world.client.get("/api/v1/invoices", headers=bearer(made)).status_code == 200
    assert last_used() == first
    clock.advance(timedelta(seconds=10))  # type: ignore[attr-defined]
    world.client.get("/api/v1/invoices", headers=bearer(made))
    assert last_used() != first and last_used().startswith("2026-11-10T02:01:00")  # type: ignore[union-attr]


def test_cached_tokens_cost_no_database_round_trip(world: World) -> None:
    made = make_token(world, "seller", ["read"])
    assert world.client.get("/api/v1/me", headers=bearer(made)).status_code == 200
    calls: list[bool] = []
    original = world.platform.database.transaction

    def counting(**kwargs: Any) -> Any:
        calls.append(True)
        return original(**kwargs)

    world.platform.database.transaction = counting  # type: ignore[method-assign]
    try:
        for _ in range(20):
            assert world.client.get("/api/v1/me", headers=bearer(made)).status_code == 200
    finally:
        world.platform.database.transaction = original  # type: ignore[method-assign]
    assert calls == []


def test_another_taxpayers_token_is_not_found(world: World) -> None:
    made = make_token(world, "seller_admin", ["read"])
    mine = make_token(world, "seller", ["read"])
    for username in ("buyer", "other"):
        response = world.client.delete(
            f"/api/v1/api-tokens/{made['id']}", headers=world.as_(username)
        )
        assert response.status_code == 404 and response.json()["code"] == "TOKEN_NOT_FOUND"
        listed = world.client.get("/api/v1/api-tokens", headers=world.as_(username)).json()
        assert listed == []
    # A clerk sees and revokes only their own; the admin sees and revokes all.
    clerk_list = world.client.get("/api/v1/api-tokens", headers=world.as_("seller")).json()
    assert [item["id"] for item in clerk_list] == [mine["id"]]
    clerk = world.client.delete(f"/api/v1/api-tokens/{made['id']}", headers=world.as_("seller"))
    assert clerk.status_code == 404
    admin = world.client.delete(
        f"/api/v1/api-tokens/{mine['id']}", headers=world.as_("seller_admin")
    )
    assert admin.status_code == 204
    assert world.client.get("/api/v1/invoices", headers=bearer(made)).status_code == 200


def test_malformed_and_unknown_tokens_are_refused(world: World) -> None:
    made = make_token(world, "seller", ["read"])
    for token in ("fpt_", "fpt_zz_" + "a" * 43, made["token"][:-1] + "x", made["token"] + "x"):
        response = world.client.get("/api/v1/invoices", headers=bearer(token))
        assert response.status_code == 401 and response.json()["code"] == "TOKEN_INVALID"


def test_cli_create_list_revoke(world: World) -> None:
    state = CliState()
    state._platform = world.platform
    runner = CliRunner()
    made = runner.invoke(
        cli_app,
        ["--lang", "en", "token", "create", "--username", "seller", "--name", "ERP",
         "--scopes", "read,issue", "--days", "10"],
        obj=state,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert token.startswith("fpt_") and "Store it now" in made.output
    issued = world.client.post("/api/v1/invoices", json=invoice_body(), headers=bearer(token))
    assert issued.status_code == 201, issued.text
    public_id = token.split("_")[1]

    listed = runner.invoke(cli_app, ["token", "list", "--taxpayer", SELLER_ID], obj=state)
    assert listed.exit_code == 0 and public_id in listed.output and "active" in listed.output
    assert token.split("_", 2)[2] not in listed.output
    unknown = runner.invoke(
        cli_app, ["token", "list", "--taxpayer", "91110108MA0000000X"], obj=state
    )
    assert unknown.exit_code == 1

    revoked = runner.invoke(cli_app, ["--lang", "en", "token", "revoke", public_id], obj=state)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert world.client.get("/api/v1/invoices", headers=bearer(token)).status_code == 401
    missing = runner.invoke(cli_app, ["token", "revoke", "0123456789ab"], obj=state)
    assert missing.exit_code == 1 and "TOKEN_NOT_FOUND" in missing.output

    too_much = runner.invoke(
        cli_app,
        ["token", "create", "--username", "seller_viewer", "--name", "x", "--scopes", "issue"],
        obj=state,
    )
    assert too_much.exit_code == 1 and "TOKEN_SCOPE_NOT_ALLOWED" in too_much.output
    with world.platform.database.transaction(write=False) as session:
        assert session.execute(text("select count(*) from api_tokens")).scalar_one() == 1
