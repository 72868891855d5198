"""Settings fail fast with the name of the bad variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from fapiao.settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAPIAO_DATA_DIR", "FAPIAO_DATABASE_URL", "FAPIAO_REGION"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.region == "11"
    assert settings.data_dir == Path("./data")
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("/data/fapiao.db")
    assert settings.ticket_attachment_max_bytes == 5 * 1024 * 1024
    assert settings.attachments_dir == Path("./data") / "attachments"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FAPIAO_REGION", "Beijing"),
        ("FAPIAO_DATABASE_URL", "mysql://x"),
        ("FAPIAO_MAX_LINES", "many"),
        ("FAPIAO_CHANNEL", "12"),
        ("FAPIAO_SMTP_URL", "smtp://user:s3cret@mail.example.com:99999"),
        ("FAPIAO_SMTP_URL", "mailto:x@example.com"),
        ("FAPIAO_MAIL_FROM", "Fapiao <fapiao@example.com>"),
        ("FAPIAO_SMTP_CA_FILE", "/nonexistent/ca.pem"),
        ("FAPIAO_TOTP_REQUIRED_ROLES", "admin,boss"),
        ("FAPIAO_LOGIN_MAX_FAILURES", "0"),
        ("FAPIAO_LOGIN_LOCK_MINUTES", "-5"),
        ("FAPIAO_TICKET_ATTACHMENT_MAX_BYTES", "10"),
        ("FAPIAO_TICKET_ATTACHMENT_MAX_BYTES", "5MB"),
    ],
)
def test_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert name in str(exc.value)
    assert "s3cret" not in str(exc.value)


def test_mail_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAPIAO_SMTP_URL", "FAPIAO_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()  # no mail server is not a problem: notices wait for one
    assert settings.smtp_url == "" and settings.mail_from == "fapiao@localhost"
    monkeypatch.setenv("FAPIAO_SMTP_URL", " smtp+starttls://u:p@mail.example.com ")
    assert load_settings().smtp_url == "smtp+starttls://u:p@mail.example.com"


def test_secret_key_file_is_created_once(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first = settings.resolved_secret_key()
    assert len(first) > 40
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert load_settings(data_dir=tmp_path).resolved_secret_key() == first


def test_secret_rules(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="FAPIAO_SECRET_KEY"):
        load_settings(secret_key="short")
    with pytest.raises(SettingsError, match="required with PostgreSQL"):
        load_settings(database_url="postgresql+psycopg://x@127.0.0.1/db")
    (tmp_path / "secret.key").write_text("")
    with pytest.raises(SettingsError, match="empty or too short"):
        load_settings(data_dir=tmp_path).resolved_secret_key()


def test_concurrent_starters_share_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        keys = set(
            pool.map(lambda _: load_settings(data_dir=tmp_path).resolved_secret_key(), range(8))
        )
    assert len(keys) == 1 and not list(tmp_path.glob(".secret-*"))


def test_replica_urls_need_a_postgresql_primary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAPIAO_DATABASE_URL", raising=False)
    monkeypatch.setenv("FAPIAO_REPLICA_URLS", "postgresql+psycopg://r1/fapiao")
    with pytest.raises(SettingsError, match="FAPIAO_REPLICA_URLS needs a PostgreSQL primary"):
        load_settings()


def test_replica_urls_are_checked_and_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAPIAO_DATABASE_URL", "postgresql+psycopg://p/fapiao")
    monkeypatch.setenv("FAPIAO_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("FAPIAO_REPLICA_URLS", "postgresql+psycopg://r1/f, mysql://r2/f")
    with pytest.raises(SettingsError, match=r"FAPIAO_REPLICA_URLS: .*mysql"):
        load_settings()
    monkeypatch.setenv(
        "FAPIAO_REPLICA_URLS", " postgresql+psycopg://r1/f,postgresql+psycopg://r2/f,"
    )
    assert load_settings().replica_url_list == [
        "postgresql+psycopg://r1/f",
        "postgresql+psycopg://r2/f",
    ]
    monkeypatch.delenv("FAPIAO_REPLICA_URLS")
    assert load_settings().replica_url_list == []


def test_sign_in_protection_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAPIAO_LOGIN_MAX_FAILURES", "FAPIAO_LOGIN_LOCK_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("FAPIAO_TOTP_REQUIRED_ROLES", raising=False)
    settings = load_settings()
    assert (settings.login_max_failures, settings.login_lock_minutes) == (5, 15)
    assert settings.totp_role_set == {"admin", "officer"}
    monkeypatch.setenv("FAPIAO_TOTP_REQUIRED_ROLES", " officer , clerk ")
    assert load_settings().totp_role_set == {"officer", "clerk"}
    monkeypatch.setenv("FAPIAO_TOTP_REQUIRED_ROLES", "")
    assert load_settings().totp_role_set == frozenset()
