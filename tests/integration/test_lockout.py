"""Failed sign-ins lock an account; the answer never tells a lock from a wrong password."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import OTHER_ID, PASSWORD, World, make_user
from fapiao.accounts import passwords
from fapiao.accounts.login import sign_in
from fapiao.accounts.models import User
from fapiao.accounts.security import Origin
from fapiao.accounts.security_models import UserSecurity
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.kit.errors import Unauthorized
from fapiao.platform import Platform


@pytest.fixture(autouse=True)
def _no_rate_limits(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests sign in many times from one address: the lock, not the address
    limit (tests/integration/test_rate_limits.py), is what they are about."""
    monkeypatch.setattr(world.platform.settings, "rate_login_per_ip", "0")
    monkeypatch.setattr(world.platform.settings, "rate_login_per_account", "0")


def login(world: World, username: str, password: str = PASSWORD, **form: str) -> Any:
    return world.client.post(
        "/api/v1/auth/token", data={"username": username, "password": password, **form}
    )


def state(platform: Platform, username: str) -> UserSecurity | None:
    with platform.database.transaction(write=False) as session:
        return session.scalar(
            select(UserSecurity)
            .join(User, User.id == UserSecurity.user_id)
            .where(User.username == username)
        )


def lock(world: World, username: str) -> None:
    for _ in range(5):
        assert login(world, username, "wrong-password").status_code == 401


def test_five_failures_lock_and_the_right_password_then_looks_wrong(world: World) -> None:
    wrong = login(world, "seller", "wrong-password")
    for _ in range(4):
        assert login(world, "seller", "wrong-password").json() == wrong.json()
    locked = state(world.platform, "seller")
    assert locked is not None and locked.failed_logins == 5
    assert locked.locked_until == world.platform.clock.now() + timedelta(minutes=15)
    sixth = login(world, "seller")
    unknown = login(world, "nobody-at-all", "wrong-password")
    assert sixth.status_code == wrong.status_code == unknown.status_code == 401
    assert sixth.json() == wrong.json() == unknown.json()
    assert sixth.json()["code"] == "INVALID_CREDENTIALS"
    assert sixth.headers.get("www-authenticate") == wrong.headers.get("www-authenticate")
    # Other users are not affected.
    assert login(world, "buyer").status_code == 200


def test_a_locked_account_still_pays_for_the_password_check(world: World) -> None:
    """The lock is never a shortcut: the Argon2 verification runs as for a wrong password."""
    lock(world, "seller")
    calls = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(hash)
            return super().verify(hash, password)

    original = passwords._hasher
    passwords._hasher = Counting(time_cost=1, memory_cost=8, parallelism=1)
    try:
        assert login(world, "seller").json()["code"] == "INVALID_CREDENTIALS"
        assert login(world, "nobody-at-all").json()["code"] == "INVALID_CREDENTIALS"
    finally:
        passwords._hasher = original
    assert len(calls) == 2 and calls[0] != calls[1]  # the user's hash, then the dummy


def test_the_lock_ends_after_the_lock_time(world: World) -> None:
    lock(world, "seller")
    world.platform.clock.advance(timedelta(minutes=14, seconds=59))  # type: ignore[attr-defined]
    assert login(world, "seller").json()["code"] == "INVALID_CREDENTIALS"
    world.platform.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    assert login(world, "seller").status_code == 200
    after = state(world.platform, "seller")
    assert after is not None and after.failed_logins == 0 and after.locked_until is None


def test_attempts_while_locked_do_not_extend_it_and_a_new_count_starts_after(
    world: World,
) -> None:
    lock(world, "seller")
    world.platform.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    lock(world, "seller")  # five more while locked
    world.platform.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    assert login(world, "seller", "wrong-password").status_code == 401  # one of a new count
    fresh = state(world.platform, "seller")
    assert fresh is not None and fresh.failed_logins == 1 and fresh.locked_until is None
    assert login(world, "seller").status_code == 200


def test_success_resets_the_count(world: World) -> None:
    for _ in range(4):
        login(world, "seller", "wrong-password")
    assert login(world, "seller").status_code == 200
    for _ in range(4):
        login(world, "seller", "wrong-password")
    assert login(world, "seller").status_code == 200


def test_unknown_usernames_leave_no_rows(world: World) -> None:
    for index in range(20):
        assert login(world, f"guess-{index}", "wrong-password").status_code == 401
    for _ in range(6):
        login(world, "guess-0", "wrong-password")
    with world.platform.database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(UserSecurity)) == 0
        assert session.scalar(select(func.count()).select_from(User)) == 7


def test_admins_unlock_their_own_users_and_officers_anyone(world: World) -> None:
    other_admin = make_user(world.platform, "other_admin", "admin", OTHER_ID)
    lock(world, "seller")
    for headers, status in (
        (world.as_("seller_viewer"), 403),
        (world.as_("buyer"), 403),
        (other_admin, 404),  # another taxpayer's user: as if it did not exist
    ):
        response = world.client.post("/api/v1/users/seller/unlock", headers=headers)
        assert response.status_code == status, response.text
    assert login(world, "seller").json()["code"] == "INVALID_CREDENTIALS"
    assert (
        world.client.post(
            "/api/v1/users/officer/unlock", headers=world.as_("seller_admin")
        ).status_code
        == 404
    )
    assert (
        world.client.post("/api/v1/users/ghost/unlock", headers=world.as_("officer")).json()["code"]
        == "USER_NOT_FOUND"
    )
    done = world.client.post("/api/v1/users/seller/unlock", headers=world.as_("seller_admin"))
    assert done.json() == {"username": "seller", "was_locked": True}
    assert login(world, "seller").status_code == 200
    lock(world, "seller")
    done = world.client.post("/api/v1/users/seller/unlock", headers=world.as_("officer"))
    assert done.json() == {"username": "seller", "was_locked": True}
    assert login(world, "seller").status_code == 200


def test_cli_unlocks(world: World) -> None:
    lock(world, "seller")
    cli_state = CliState()
    cli_state._platform = world.platform  # the test's database and clock
    runner = CliRunner()
    args = ["--lang", "en", "user", "unlock", "--username"]
    result = runner.invoke(app, [*args, "seller"], obj=cli_state)
    assert result.exit_code == 0, result.output
    assert result.output == "user seller unlocked, failed sign-ins cleared\n"
    assert login(world, "seller").status_code == 200
    missing = runner.invoke(app, [*args, "ghost"], obj=cli_state)
    assert missing.exit_code == 1 and "USER_NOT_FOUND" in missing.output


@pytest.mark.parametrize(("max_failures", "expected"), [(50, 12), (5, 5)])
def test_concurrent_failures_are_all_counted(
    world: World, max_failures: int, expected: int
) -> None:
    """Twelve wrong passwords at once, from many threads (many processes would do the
    same: the count is kept in the database under a row lock)."""
    platform = world.platform
    platform.settings.login_max_failures = max_failures
    refused: list[str] = []
    start = threading.Barrier(12)

    def attempt(index: int) -> None:
        start.wait()
        try:
            sign_in(platform, "seller", "wrong-password", None, Origin(ip=f"10.0.0.{index}"))
        except Unauthorized as error:
            refused.append(error.code)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert refused == ["INVALID_CREDENTIALS"] * 12
    counted = state(platform, "seller")
    assert counted is not None and counted.failed_logins == expected
    assert (counted.locked_until is not None) == (expected == max_failures)
