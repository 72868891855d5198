"""The audit and access-log settings."""

from __future__ import annotations

import pytest

from fapiao.settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAPIAO_AUDIT_RETENTION_DAYS", "FAPIAO_ACCESS_LOG", "FAPIAO_AUDIT_FLUSH_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.audit_retention_days == 180
    assert settings.access_log is None  # off, except under `fapiao serve`
    assert settings.audit_flush_seconds == 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FAPIAO_AUDIT_RETENTION_DAYS", "179"),
        ("FAPIAO_AUDIT_RETENTION_DAYS", "forever"),
        ("FAPIAO_AUDIT_FLUSH_SECONDS", "0"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_retention_of_a_year(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAPIAO_AUDIT_RETENTION_DAYS", "365")
    monkeypatch.setenv("FAPIAO_ACCESS_LOG", "-")
    settings = load_settings()
    assert (settings.audit_retention_days, settings.access_log) == (365, "-")
