"""Platform roles: the auditor from the CLI to the API, officers across taxpayers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import PASSWORD, SELLER_ID, World, invoice_body, make_user
from fapiao.cli.main import app


def test_auditors_are_added_from_the_cli_without_a_taxpayer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAPIAO_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--data-dir", str(tmp_path), "--lang", "en", *args])

    assert (
        run("taxpayer", "add", "--tax-id", SELLER_ID, "--name", "北京示例科技有限公司").exit_code
        == 0
    )
    user = ["user", "add", "--username", "audit1", "--password", PASSWORD, "--role", "auditor"]
    refused = run(*user, "--taxpayer", SELLER_ID)
    assert refused.exit_code == 1 and "TAXPAYER_NOT_ALLOWED" in refused.output
    assert "auditors belong to no taxpayer" in refused.output
    added = run(*user)
    assert added.exit_code == 0 and "audit1 (auditor)" in added.output, added.output


def test_an_auditor_signs_in_and_is_refused_everything_but_who_they_are(world: World) -> None:
    make_user(world.platform, "audit1", "auditor", None)
    token = world.client.post(
        "/api/v1/auth/token", data={"username": "audit1", "password": PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = world.client.get("/api/v1/me", headers=headers).json()
    assert me == {"username": "audit1", "role": "auditor", "tax_id": None}
    refused = world.client.get("/api/v1/invoices", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_NOT_ALLOWED"
    assert "auditor" in refused.json()["detail"]


def test_officers_read_every_taxpayers_invoices_but_never_act_for_one(world: World) -> None:
    issued = world.client.post("/api/v1/invoices", json=invoice_body(), headers=world.as_("seller"))
    number = issued.json()["number"]
    for path in (f"/api/v1/invoices/{number}", f"/api/v1/invoices/{number}/trace"):
        assert world.client.get(path, headers=world.as_("officer")).status_code == 200, path
    for method, path, body in (
        ("POST", "/api/v1/invoices", invoice_body()),
        ("POST", f"/api/v1/invoices/{number}/void", None),
        ("POST", "/api/v1/red-letter-forms", {"blue_number": number, "reason": "01"}),
        ("POST", f"/api/v1/invoices/{number}/certify", {"period": "202611", "purpose": "deduct"}),
    ):
        refused = world.client.request(method, path, json=body, headers=world.as_("officer"))
        assert refused.status_code == 403 and refused.json()["code"] == "ROLE_NOT_ALLOWED", path
    # Nothing changed: the invoice is as issued.
    after = world.client.get(f"/api/v1/invoices/{number}", headers=world.as_("seller")).json()
    assert after["status"] == "normal" and after["certification"] is None
