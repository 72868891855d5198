"""`fapiao user add|passwd|list` against the policy, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import PASSWORD, SELLER_ID, World
from fapiao.accounts import passwords
from fapiao.accounts.models import User
from fapiao.accounts.passwords import PasswordPolicy
from fapiao.cli import demo
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.settings import Settings


@pytest.fixture
def run(world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI on the world fixture's database."""
    monkeypatch.delenv("FAPIAO_DATABASE_URL", raising=False)
    env = {"FAPIAO_DATABASE_URL": settings.database_url, "FAPIAO_SECRET_KEY": settings.secret_key}
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        cli = CliState()
        try:
            return runner.invoke(
                app,
                ["--data-dir", str(settings.data_dir), "--lang", "en", *args],
                env=env,
                input=input,
                obj=cli,
            )
        finally:
            if cli._platform is not None:
                cli._platform.close()

    return invoke


def stored(world: World, username: str) -> User:
    with world.platform.database.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        session.expunge(user)
        return user


def test_user_add_applies_the_policy(run: Any, world: World) -> None:
    common = run(
        "user",
        "add",
        "--username",
        "c9",
        "--password",
        "Woaini1314",
        "--role",
        "clerk",
        "--taxpayer",
        SELLER_ID,
    )
    assert common.exit_code == 1
    assert "PASSWORD_TOO_COMMON" in common.output and "most common" in common.output
    named = run(
        "user",
        "add",
        "--username",
        "clerk9",
        "--password",
        "i-am-clerk9",
        "--role",
        "clerk",
        "--taxpayer",
        SELLER_ID,
    )
    assert named.exit_code == 1 and "PASSWORD_CONTAINS_USERNAME" in named.output
    ok = run(
        "user",
        "add",
        "--username",
        "clerk9",
        "--password",
        "apricot-hill-31",
        "--role",
        "clerk",
        "--taxpayer",
        SELLER_ID,
    )
    assert ok.exit_code == 0, ok.output


def test_passwd_with_an_option_and_with_prompts(run: Any, world: World) -> None:
    before = stored(world, "seller")
    done = run("user", "passwd", "--username", "seller", "--password", "apricot-hill-31")
    assert done.exit_code == 0, done.output
    after = stored(world, "seller")
    assert passwords.check_password("apricot-hill-31", after.password_hash)
    assert after.token_version == before.token_version + 1
    assert world.client.get("/api/v1/me", headers=world.as_("seller")).status_code == 401
    prompted = run("user", "passwd", "--username", "seller", input="plum-orchard-77\n" * 2)
    assert prompted.exit_code == 0, prompted.output
    assert "apricot" not in prompted.output and "plum-orchard-77" not in prompted.output
    assert passwords.check_password("plum-orchard-77", stored(world, "seller").password_hash)
    login = world.client.post(
        "/api/v1/auth/token", data={"username": "seller", "password": "plum-orchard-77"}
    )
    assert login.status_code == 200


def test_passwd_refuses_weak_passwords_and_unknown_users(run: Any, world: World) -> None:
    weak = run("user", "passwd", "--username", "seller", "--password", "12345678")
    assert weak.exit_code == 1 and "PASSWORD_TOO_COMMON" in weak.output
    ghost = run("user", "passwd", "--username", "ghost", "--password", "apricot-hill-31")
    assert ghost.exit_code == 1 and "USER_NOT_FOUND" in ghost.output
    assert passwords.check_password(PASSWORD, stored(world, "seller").password_hash)


def test_list_all_and_by_taxpayer(run: Any) -> None:
    everyone = run("user", "list")
    assert everyone.exit_code == 0, everyone.output
    for name in ("seller_admin", "buyer", "officer"):
        assert name in everyone.output
    seller = run("user", "list", "--taxpayer", SELLER_ID)
    assert "seller_viewer" in seller.output and "buyer" not in seller.output


def test_demo_passwords_pass_the_policy() -> None:
    for username, _, tax_id in demo.USERS:
        found = passwords.problems(
            demo.PASSWORD, PasswordPolicy(), field="password", username=username, tax_id=tax_id
        )
        assert found == []
