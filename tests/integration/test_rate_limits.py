"""Abuse limits on sign-in and public verification, counted in the database so that
every process shares them (issue §5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import PASSWORD, World
from fapiao.app import create_app
from fapiao.db import Database
from fapiao.kit.clock import FixedClock
from fapiao.limits.models import RateCounter
from fapiao.platform import Platform
from fapiao.settings import Settings
from fapiao.worker import Worker

VERIFY = {"number": "26111000000012345678", "issue_date": "2026-11-10", "total_with_tax": "1.00"}


def client_from(world: World, ip: str, platform: Platform | None = None) -> TestClient:
    return TestClient(create_app(platform=platform or world.platform), client=(ip, 40000))


def login(client: TestClient, username: str = "seller", password: str = PASSWORD) -> int:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return response.status_code


def test_login_per_address_eleventh_is_429_until_the_window_passes(world: World) -> None:
    client = client_from(world, "203.0.113.7")
    # Successes and failures both count: guessing is attempts, not failures.
    codes = [login(client, password=PASSWORD if n % 2 else "wrong-password") for n in range(10)]
    assert codes == [401, 200] * 5
    refused = client.post(
        "/api/v1/auth/token",
        data={"username": "seller", "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "RATE_LIMITED"
    # The fixture's clock stands at 10:00:00, the start of a minute window.
    assert refused.headers["Retry-After"] == "60"
    assert body["detail"] == "Too many sign-in attempts; try again in 60 seconds."
    chinese = client.post("/api/v1/auth/token", data={"username": "seller", "password": "x"})
    assert chinese.status_code == 429 and "60" in chinese.json()["detail"]
    assert chinese.json()["detail"] != body["detail"]
    # Another address is not affected.
    assert login(client_from(world, "198.51.100.1")) == 200
    world.platform.clock.advance(timedelta(seconds=45))  # type: ignore[attr-defined]
    again = client.post("/api/v1/auth/token", data={"username": "seller", "password": PASSWORD})
    assert again.status_code == 429 and again.headers["Retry-After"] == "15"
    world.platform.clock.advance(timedelta(seconds=15))  # type: ignore[attr-defined]
    assert login(client) == 200


def test_login_per_account_across_addresses(world: World) -> None:
    codes = [login(client_from(world, f"192.0.2.{n}"), "seller", "wrong") for n in range(1, 21)]
    assert codes == [401] * 20
    refused = client_from(world, "192.0.2.99").post(
        "/api/v1/auth/token", data={"username": "seller", "password": PASSWORD}
    )
    assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) == 60
    # Other accounts sign in from the same addresses.
    assert login(client_from(world, "192.0.2.1"), "buyer") == 200


def test_unknown_usernames_share_a_bounded_set_of_rows(world: World) -> None:
    client = client_from(world, "203.0.113.8")
    for n in range(8):
        assert login(client, f"nobody-{n}", "wrong") == 401
    with world.platform.database.transaction(write=False) as session:
        buckets = session.scalars(
            select(RateCounter.bucket).where(RateCounter.bucket.like("login-account:%"))
        ).all()
    # Keyed hash of the name into 65536 buckets: no username is stored.
    assert len(buckets) <= 8
    assert all(len(bucket) == len("login-account:") + 4 for bucket in buckets)
    assert not any("nobody" in bucket for bucket in buckets)


def test_verify_per_address_on_top_of_the_per_invoice_rule(world: World) -> None:
    client = client_from(world, "203.0.113.9")
    for _ in range(60):
        response = client.post("/api/v1/verify", json=VERIFY)
        assert response.status_code == 200 and response.json()["result"] == "not_found"
    refused = client.post("/api/v1/verify", json=VERIFY, headers={"Accept-Language": "en"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert refused.json()["detail"] == (
        "Too many verification requests from your address; try again in 60 seconds."
    )
    assert client_from(world, "203.0.113.10").post("/api/v1/verify", json=VERIFY).status_code == 200
    world.platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    assert client.post("/api/v1/verify", json=VERIFY).status_code == 200


def test_limits_are_shared_by_two_processes_over_one_database(
    world: World, settings: Settings, clock: FixedClock
) -> None:
    database = Database(settings)
    second = Platform(settings=settings, database=database, clock=clock)
    try:
        first_client = client_from(world, "203.0.113.11")
        second_client = client_from(world, "203.0.113.11", second)
        codes = [login(first_client if n % 2 else second_client) for n in range(10)]
        assert codes == [200] * 10
        assert login(first_client) == 429 and login(second_client) == 429
    finally:
        second.close()


def test_trusted_proxy_names_the_client(world: World, settings: Settings) -> None:
    proxied = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
    platform = Platform(settings=proxied, database=Database(proxied), clock=world.platform.clock)
    try:
        through_proxy = client_from(world, "10.1.2.3", platform)
        # The client's own claim (left) is ignored; the proxy appended the real address.
        spoof = {"X-Forwarded-For": "198.51.100.77, 203.0.113.20, 10.9.9.9"}
        for _ in range(10):
            assert (
                through_proxy.post(
                    "/api/v1/auth/token",
                    data={"username": "seller", "password": PASSWORD},
                    headers=spoof,
                ).status_code
                == 200
            )
        other_claim = {"X-Forwarded-For": "198.51.100.78, 203.0.113.20"}
        assert (
            through_proxy.post(
                "/api/v1/auth/token",
                data={"username": "buyer", "password": PASSWORD},
                headers=other_claim,
            ).status_code
            == 429
        )
        another_client = {"X-Forwarded-For": "203.0.113.21"}
        assert (
            through_proxy.post(
                "/api/v1/auth/token",
                data={"username": "buyer", "password": PASSWORD},
                headers=another_client,
            ).status_code
            == 200
        )
        # A peer outside the trusted networks cannot choose its address by the header.
        direct = client_from(world, "192.0.2.50", platform)
        for n in range(10):
            assert (
                direct.post(
                    "/api/v1/auth/token",
                    data={"username": "buyer", "password": PASSWORD},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                ).status_code
                == 200
            )
        assert (
            direct.post(
                "/api/v1/auth/token",
                data={"username": "buyer", "password": PASSWORD},
                headers={"X-Forwarded-For": "198.51.100.200"},
            ).status_code
            == 429
        )
    finally:
        platform.close()


def test_limit_off_and_old_windows_pruned(world: World, settings: Settings) -> None:
    off = settings.model_copy(update={"rate_login_per_ip": "0", "rate_login_per_account": "0"})
    platform = Platform(settings=off, database=Database(off), clock=world.platform.clock)
    try:
        client = client_from(world, "203.0.113.30", platform)
        assert [login(client) for _ in range(12)] == [200] * 12
    finally:
        platform.close()
    client = client_from(world, "203.0.113.31")
    login(client)
    client.post("/api/v1/verify", json=VERIFY)

    def count() -> int:
        with world.platform.database.transaction(write=False) as session:
            return int(session.scalar(select(func.count()).select_from(RateCounter)) or 0)

    assert count() == 3
    assert Worker(world.platform).scheduled()["rate_counters_pruned"] == 0
    world.platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    assert Worker(world.platform).scheduled()["rate_counters_pruned"] == 3
    assert count() == 0


def test_issuing_is_not_rate_limited(world: World) -> None:
    from conftest import invoice_body

    for _ in range(12):
        response = world.client.post(
            "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
        )
        assert response.status_code == 201
    with world.platform.database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(RateCounter)) == 0


@pytest.mark.parametrize("value", ["ten/minute", "10/fortnight", "10", "-1/minute", "0/hour"])
def test_bad_rate_setting_fails_fast_naming_it(value: str) -> None:
    from fapiao.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="FAPIAO_RATE_VERIFY_PER_IP"):
        load_settings(rate_verify_per_ip=value)
