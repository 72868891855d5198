"""Rate settings, proxy lists and the client address (pure functions)."""

from __future__ import annotations

import ipaddress

import pytest

from fapiao.http.clientip import bucket_of, client_ip
from fapiao.kit.rates import Rate, parse_networks, parse_rate
from fapiao.settings import SettingsError, hide_password, load_settings


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("10/minute", Rate(10, 60)),
        ("600/hour", Rate(600, 3600)),
        (" 5 / seconds ", Rate(5, 1)),
        ("1000/DAY", Rate(1000, 86400)),
        ("0", None),
        ("off", None),
    ],
)
def test_rates(text: str, rate: Rate | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "10", "ten/minute", "10/week", "0/minute", "/minute"])
def test_bad_rates(text: str) -> None:
    with pytest.raises(ValueError, match="10/minute"):
        parse_rate(text)


def test_settings_name_the_bad_limit() -> None:
    with pytest.raises(SettingsError, match="FAPIAO_RATE_LOGIN_PER_IP"):
        load_settings(rate_login_per_ip="lots")
    with pytest.raises(SettingsError, match=r"FAPIAO_TRUSTED_PROXIES.*'10\.0\.0\.300'"):
        load_settings(trusted_proxies="10.0.0.0/8, 10.0.0.300")
    settings = load_settings(rate_login_per_ip="3/second", rate_verify_per_ip="0")
    assert settings.rate("rate_login_per_ip") == Rate(3, 1)
    assert settings.rate("rate_verify_per_ip") is None
    assert settings.rate("rate_login_per_account") == Rate(20, 60)


def test_networks() -> None:
    assert parse_networks("") == ()
    assert parse_networks("10.0.0.0/8, 192.168.1.7,::1") == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
        ipaddress.ip_network("::1/128"),
    )


TRUSTED = parse_networks("10.0.0.0/8, fd00::/8")


def test_client_ip_without_trusted_proxies_is_the_peer() -> None:
    assert client_ip("203.0.113.5", ["198.51.100.1"], ()) == "203.0.113.5"
    assert client_ip("203.0.113.5", ["198.51.100.1"], TRUSTED) == "203.0.113.5"
    assert client_ip(None, [], TRUSTED) == "unknown"


def test_client_ip_through_trusted_proxies() -> None:
    assert client_ip("10.0.0.1", ["203.0.113.5"], TRUSTED) == "203.0.113.5"
    # The client's own claim sits left of the address the proxy appended.
    assert client_ip("10.0.0.1", ["1.2.3.4, 203.0.113.5"], TRUSTED) == "203.0.113.5"
    # Two proxies, and the header split over two lines.
    assert client_ip("10.0.0.1", ["1.2.3.4, 203.0.113.5", "10.0.0.2"], TRUSTED) == "203.0.113.5"
    assert client_ip("fd00::1", ["2001:db8::7"], TRUSTED) == "2001:db8::7"
    # No header, or only proxies: the nearest address there is.
    assert client_ip("10.0.0.1", [], TRUSTED) == "10.0.0.1"
    assert client_ip("10.0.0.1", ["10.0.0.9"], TRUSTED) == "10.0.0.9"
    # Garbage never becomes the client's address.
    assert client_ip("10.0.0.1", ["<script>, 10.0.0.3"], TRUSTED) == "10.0.0.3"


def test_ipv6_callers_are_counted_per_64() -> None:
    assert bucket_of("2001:db8:1:2:aaaa::1") == bucket_of("2001:db8:1:2:bbbb::9")
    assert bucket_of("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert bucket_of("::ffff:203.0.113.5") == "203.0.113.5"
    assert bucket_of("203.0.113.5") == "203.0.113.5"


def test_urls_lose_their_password() -> None:
    assert hide_password("smtps://me:p%40ss@mail.example.com:465") == (
        "smtps://me:***@mail.example.com:465"
    )
    assert hide_password("postgresql+psycopg://a:b@h1/x, postgresql+psycopg://c:d@h2/x") == (
        "postgresql+psycopg://a:***@h1/x, postgresql+psycopg://c:***@h2/x"
    )
    assert hide_password("smtp://127.0.0.1:25") == "smtp://127.0.0.1:25"
