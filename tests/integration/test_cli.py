"""The `fapiao` command on a fresh data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fapiao.cli.main import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("FAPIAO_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--data-dir", str(tmp_path / "data"), *args], env=env)

    return invoke


def test_db_upgrade_on_a_fresh_dir(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "fapiao.db").exists()


def test_taxpayer_and_users(run) -> None:  # type: ignore[no-untyped-def]
    ok = run(
        "taxpayer",
        "add",
        "--tax-id",
        "91110108551385082Q",
        "--name",
        "北京示例科技有限公司",
        "--credit-limit",
        "500000.00",
        "--kind",
        "general",
    )
    assert ok.exit_code == 0, ok.output
    bad = run("--lang", "en", "taxpayer", "add", "--tax-id", "91110108551385082A", "--name", "X")
    assert bad.exit_code == 1
    assert (
        "USCC_CHECK_CHAR" in bad.output and "not a valid unified social credit code" in bad.output
    )
    assert (
        run(
            "user",
            "add",
            "--username",
            "clerk1",
            "--password",
            "long-enough-1",
            "--role",
            "clerk",
            "--taxpayer",
            "91110108551385082Q",
        ).exit_code
        == 0
    )
    assert (
        run(
            "user", "add", "--username", "off1", "--password", "long-enough-1", "--role", "officer"
        ).exit_code
        == 0
    )
    no_taxpayer = run(
        "user", "add", "--username", "c2", "--password", "long-enough-1", "--role", "clerk"
    )
    assert no_taxpayer.exit_code == 1 and "TAXPAYER_REQUIRED" in no_taxpayer.output
    listing = run("taxpayer", "list")
    assert "91110108551385082Q" in listing.output and "500000.00" in listing.output


def test_demo_is_idempotent(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "seller-clerk" in first.output and "demo data seeded" in first.output
    second = run("demo")
    assert second.exit_code == 0 and "already present" in second.output
    from sqlalchemy import func, select

    from fapiao.db import Database
    from fapiao.invoices.models import Invoice
    from fapiao.settings import load_settings

    database = Database(load_settings(data_dir=tmp_path / "data"))
    with database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 3
    database.dispose()


def test_bad_setting_stops_with_its_name(run) -> None:  # type: ignore[no-untyped-def]
    result = run("db", "upgrade", env={"FAPIAO_REGION": "xx"})
    assert result.exit_code == 2
    assert "FAPIAO_REGION" in result.output


def test_worker_once(run) -> None:  # type: ignore[no-untyped-def]
    result = run("worker", "--once")
    assert result.exit_code == 0 and "redletter_lapsed" in result.output
