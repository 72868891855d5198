"""The throwaway PostgreSQL cluster used by the PostgreSQL tests works as promised."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgcluster import ExternalPg, PgCluster, PgError, PgUnavailable, pg_required

pytestmark = pytest.mark.postgres


def _unavailable(exc: PgUnavailable) -> None:
    if pg_required():
        pytest.fail(f"PostgreSQL is required here (CI or FAPIAO_TEST_POSTGRES) but: {exc}")
    pytest.skip(f"PostgreSQL unavailable: {exc}")


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    pg = PgCluster()
    try:
        pg.start()
    except PgUnavailable as exc:
        _unavailable(exc)
    try:
        yield pg
    finally:
        pg.stop()


def test_cluster_lifecycle(cluster: PgCluster) -> None:
    data_dir = cluster.data_dir
    base_dir = cluster.base_dir
    assert cluster.running
    assert data_dir.is_dir()
    assert cluster.url("app") == f"postgresql+psycopg://fapiao@127.0.0.1:{cluster.port}/app"

    cluster.create_database("fapiao_pgcluster_check")
    with psycopg.connect(cluster.dsn("fapiao_pgcluster_check")) as connection:
        row = connection.execute("select version()").fetchone()
        assert row is not None
        version = str(row[0])
        assert version.startswith("PostgreSQL ")
        assert int(version.split()[1].split(".")[0]) >= 15, version
        assert connection.execute("SHOW fsync").fetchone() == ("on",)
        assert connection.execute("SHOW synchronous_commit").fetchone() == ("on",)
        assert connection.execute("SHOW max_connections").fetchone() == ("200",)
        assert connection.execute("SHOW server_encoding").fetchone() == ("UTF8",)
        assert connection.execute("select current_database()").fetchone() == (
            "fapiao_pgcluster_check",
        )

    cluster.drop_database("fapiao_pgcluster_check")
    with psycopg.connect(cluster.dsn()) as connection:
        rows = connection.execute(
            "select 1 from pg_database where datname = 'fapiao_pgcluster_check'"
        ).fetchall()
        assert rows == []

    if os.geteuid() == 0:
        # The server must not run as root: it runs as the postgres OS user.
        assert data_dir.stat().st_uid != 0
        assert cluster.owner == "postgres"

    cluster.stop()
    assert not cluster.running
    assert not data_dir.exists()
    assert not base_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.dsn(), connect_timeout=3)
    cluster.stop()  # a second stop is harmless


def test_run_as_owner_finds_programs(cluster: PgCluster) -> None:
    assert cluster.run_as_owner(["pg_ctl", "-D", cluster.data_dir, "status"]).returncode == 0
    assert cluster.run_as_owner(["pg_controldata", cluster.data_dir]).stdout.strip()
    target = cluster.owned_dir("scratch")
    assert target.is_dir() and not any(target.iterdir())


def test_context_manager_cleans_up() -> None:
    try:
        with PgCluster() as pg:
            base_dir = pg.base_dir
            with psycopg.connect(pg.dsn()) as connection:
                assert connection.execute("select 1").fetchone() == (1,)
    except PgUnavailable as exc:
        _unavailable(exc)
    assert not base_dir.exists()


def test_failed_command_reports_output(cluster: PgCluster) -> None:
    with pytest.raises(PgError, match="pg_ctl"):
        cluster.run_as_owner(["pg_ctl", "-D", cluster.base_dir / "missing", "status"])


def test_missing_binaries_raise_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAPIAO_PG_BIN", os.fspath(tmp_path))
    with pytest.raises(PgUnavailable, match="FAPIAO_PG_BIN"):
        PgCluster().start()


def test_pg_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("FAPIAO_TEST_POSTGRES", raising=False)
    assert not pg_required()
    monkeypatch.setenv("CI", "true")
    assert pg_required()
    monkeypatch.delenv("CI")
    monkeypatch.setenv("FAPIAO_TEST_POSTGRES", "required")
    assert pg_required()


def test_external_pg_urls() -> None:
    external = ExternalPg("postgresql+psycopg://me:secret@db.example:6543/maint?sslmode=disable")
    assert external.port == 6543
    assert external.url("t1") == "postgresql+psycopg://me:secret@db.example:6543/t1?sslmode=disable"
    assert external.dsn("t1") == "postgresql://me:secret@db.example:6543/t1?sslmode=disable"
    external.stop()  # nothing created, nothing to drop, no connection made


def test_external_pg_against_cluster(cluster: PgCluster) -> None:
    external = ExternalPg(cluster.url("postgres")).start()
    external.create_database("fapiao_external_check")
    with psycopg.connect(external.dsn("fapiao_external_check")) as connection:
        assert connection.execute("select 1").fetchone() == (1,)
    external.stop()  # drops what it created
    with psycopg.connect(cluster.dsn()) as connection:
        rows = connection.execute(
            "select 1 from pg_database where datname = 'fapiao_external_check'"
        ).fetchall()
        assert rows == []
