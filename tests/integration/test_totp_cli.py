"""Second factors from the command line: --totp-secret, totp-code and the demo users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import PASSWORD, SELLER_ID, World
from fapiao.accounts import totp
from fapiao.app import create_app
from fapiao.cli import demo
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.platform import build_platform
from fapiao.settings import load_settings

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def cli(world: World, *args: str) -> Any:
    """The command on the test's platform (its database and clock)."""
    cli_state = CliState()
    cli_state._platform = world.platform
    return CliRunner().invoke(app, ["--lang", "en", *args], obj=cli_state)


def test_user_add_with_a_totp_secret(world: World) -> None:
    add = ["user", "add", "--password", PASSWORD, "--role", "admin", "--taxpayer", SELLER_ID]
    bad = cli(world, *add, "--username", "admin2", "--totp-secret", "not base32!")
    assert bad.exit_code == 1
    assert "TOTP_SECRET_INVALID" in bad.output and "totp_secret" in bad.output
    short = cli(world, *add, "--username", "admin2", "--totp-secret", "JBSWY3DPEHPK3PXP")
    assert short.exit_code == 1 and "TOTP_SECRET_INVALID" in short.output
    assert (
        world.client.post(  # nothing was created
            "/api/v1/auth/token", data={"username": "admin2", "password": PASSWORD}
        ).json()["code"]
        == "INVALID_CREDENTIALS"
    )

    done = cli(world, *add, "--username", "admin2", "--totp-secret", SECRET.lower())
    assert done.exit_code == 0, done.output
    form = {"username": "admin2", "password": PASSWORD}
    needs = world.client.post("/api/v1/auth/token", data=form)
    assert needs.json()["code"] == "TOTP_REQUIRED"
    code = totp.current_code(SECRET, world.platform.clock.now())
    signed = world.client.post("/api/v1/auth/token", data={**form, "totp": code})
    assert signed.status_code == 200 and signed.json()["scope"] == "full"


def test_totp_code_only_on_the_embedded_database(world: World, backend: str) -> None:
    add = ["user", "add", "--password", PASSWORD, "--role", "officer", "--username", "off2"]
    assert cli(world, *add, "--totp-secret", SECRET).exit_code == 0
    shown = cli(world, "user", "totp-code", "--username", "off2")
    if backend == "postgresql":
        assert shown.exit_code == 2 and "embedded database" in shown.output
        return
    assert shown.exit_code == 0, shown.output
    assert shown.output.strip() == pyotp.TOTP(SECRET).at(world.platform.clock.now())
    plain = cli(world, "user", "totp-code", "--username", "seller")
    assert plain.exit_code == 1 and "no two-factor" in plain.output


def test_demo_admin_and_officer_sign_in_with_printed_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAPIAO_DATABASE_URL", raising=False)
    runner = CliRunner()
    data = str(tmp_path / "data")
    seeded = runner.invoke(app, ["--data-dir", data, "demo"])
    assert seeded.exit_code == 0, seeded.output
    for secret in demo.TOTP_SECRETS.values():
        assert secret in seeded.output
    platform = build_platform(load_settings(data_dir=tmp_path / "data"))
    try:
        with TestClient(create_app(platform=platform)) as client:
            for username in ("seller-admin", "officer"):
                form = {"username": username, "password": demo.PASSWORD}
                needs = client.post("/api/v1/auth/token", data=form)
                assert needs.json()["code"] == "TOTP_REQUIRED"
                shown = runner.invoke(
                    app, ["--data-dir", data, "user", "totp-code", "--username", username]
                )
                assert shown.exit_code == 0, shown.output
                signed = client.post(
                    "/api/v1/auth/token", data={**form, "totp": shown.output.strip()}
                )
                # (A code of the step before is still taken if the step turned over.)
                assert signed.status_code == 200, signed.text
                assert signed.json()["scope"] == "full"
            clerk = client.post(
                "/api/v1/auth/token",
                data={"username": "seller-clerk", "password": demo.PASSWORD},
            )
            assert clerk.json()["scope"] == "full"
    finally:
        platform.close()
