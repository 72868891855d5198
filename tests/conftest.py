"""Shared fixtures: a fresh platform per test on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from fapiao import migrate
from fapiao.accounts import passwords
from fapiao.accounts import service as accounts
from fapiao.app import create_app
from fapiao.db import Database
from fapiao.kit.clock import FixedClock
from fapiao.platform import Platform
from fapiao.settings import Settings
from fapiao.taxpayers import service as taxpayers

# 2026-11-10 10:00 in Beijing.
START = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
SELLER_ID = "91110108551385082Q"
BUYER_ID = "91110105MA01ABCD13"
OTHER_ID = "91110108MA01R4KD2T"
SMALL_ID = "92110108MA01XYW129"
PASSWORD = "correct-horse-42"


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Argon2 at production cost makes every created user take ~50 ms; tests use the
    same algorithm at minimal cost."""
    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = original


class _PgTemplate:
    """A migrated template database; each test gets a fresh copy of it. Names carry the
    process id so runs against a shared server (FAPIAO_TEST_PG_URL) do not collide."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.counter = itertools.count()
        self.prefix = f"fapiao_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self.created = [self.template]
        cluster.create_database(self.template)
        database = Database(Settings(database_url=cluster.url(self.template), secret_key="x" * 32))
        migrate.upgrade(database)
        database.dispose()

    def fresh(self) -> str:
        import psycopg

        name = f"{self.prefix}_test_{next(self.counter)}"
        dsn = self.cluster.url("postgres").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return str(self.cluster.url(name))

    def drop_all(self) -> None:
        for name in reversed(self.created):
            self.cluster.drop_database(name)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[_PgTemplate]:
    import os

    from pgcluster import ExternalPg, PgCluster, PgUnavailable, pg_required

    try:
        cluster: Any = (
            ExternalPg(os.environ["FAPIAO_TEST_PG_URL"])
            if os.environ.get("FAPIAO_TEST_PG_URL")
            else PgCluster()
        )
        if isinstance(cluster, PgCluster):
            cluster.start()
    except PgUnavailable as exc:
        if pg_required():
            pytest.fail(f"PostgreSQL is required here but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    template = None
    try:
        template = _PgTemplate(cluster)
        yield template
    finally:
        if template is not None and not isinstance(cluster, PgCluster):
            template.drop_all()
        cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    url = ""
    if backend == "postgresql":
        url = request.getfixturevalue("pg_template").fresh()
    return Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        secret_key="test-secret-" + "x" * 32,
        webhook_allow_private=True,  # the tests' receivers listen on 127.0.0.1
    )


@pytest.fixture
def platform(settings: Settings, clock: FixedClock) -> Iterator[Platform]:
    database = Database(settings)
    if not migrate.is_current(database):
        migrate.upgrade(database)
    platform = Platform(settings=settings, database=database, clock=clock)
    yield platform
    platform.close()


@dataclass
class World:
    """Three taxpayers and users of every role, with bearer headers ready to use."""

    platform: Platform
    client: TestClient
    headers: dict[str, dict[str, str]]

    def as_(self, username: str, **extra: str) -> dict[str, str]:
        return {**self.headers[username], **extra}


def make_user(platform: Platform, username: str, role: str, tax_id: str | None) -> dict[str, str]:
    with platform.database.transaction() as session:
        user = accounts.create_user(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            taxpayer_tax_id=tax_id,
            now=platform.clock.now(),
        )
        token = accounts.issue_token(
            user, platform.secret, platform.clock.now(), timedelta(days=30)
        )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(platform: Platform) -> Iterator[World]:
    with platform.database.transaction() as session:
        for tax_id, name, kind in (
            (SELLER_ID, "北京示例科技有限公司", "general"),
            (BUYER_ID, "北京样例贸易有限公司", "general"),
            (OTHER_ID, "北京其他有限公司", "general"),
            (SMALL_ID, "北京小规模餐饮店", "small_scale"),
        ):
            taxpayers.add_taxpayer(
                session,
                tax_id=tax_id,
                name=name,
                kind=kind,
                credit_limit=Decimal("1000000.00"),
                now=platform.clock.now(),
                bank="工商银行",
                account="0200001234567890123",
            )
    headers = {
        name: make_user(platform, name, role, tax_id)
        for name, role, tax_id in (
            ("seller", "clerk", SELLER_ID),
            ("seller_admin", "admin", SELLER_ID),
            ("seller_viewer", "viewer", SELLER_ID),
            ("buyer", "clerk", BUYER_ID),
            ("other", "clerk", OTHER_ID),
            ("small", "clerk", SMALL_ID),
            ("officer", "officer", None),
        )
    }
    with TestClient(create_app(platform=platform)) as client:
        yield World(platform=platform, client=client, headers=headers)


def invoice_body(**overrides: Any) -> dict[str, Any]:
    """A valid special invoice from SELLER to BUYER: 2 × 100.00 at 13%."""
    body: dict[str, Any] = {
        "kind": "special",
        "buyer": {"tax_id": BUYER_ID, "name": "北京样例贸易有限公司"},
        "lines": [
            {
                "name": "数据库软件",
                "tax_code": "1060301010200000000",
                "unit": "套",
                "quantity": "2",
                "unit_price": "100",
                "tax_rate": "0.13",
            }
        ],
    }
    body.update(overrides)
    return body
