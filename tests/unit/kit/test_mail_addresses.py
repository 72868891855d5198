"""E-mail addresses and SMTP URLs."""

from __future__ import annotations

import pytest

from fapiao.kit.mail import SmtpServer, is_mail_address, parse_smtp_url


@pytest.mark.parametrize(
    "address",
    ["finance@buyer.example.com", "a.b+invoices@x.cn", "o'neil@mail.example.org", "x@a-b.co"],
)
def test_plain_addresses_pass(address: str) -> None:
    assert is_mail_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "finance",
        "finance@localhost",
        "finance@example.123",
        "a@b@example.com",
        "a..b@example.com",
        "a.@example.com",
        "a b@example.com",
        "a@exa_mple.com",
        "a@example-.com",
        "a@[127.0.0.1]",
        "Name <a@example.com>",
        "a@example.com\r\nBcc: x@example.com",
        "财务@example.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 64 + ".com",
        "a@" + ".".join(["b" * 60] * 5) + ".com",
    ],
)
def test_unroutable_or_unsafe_addresses_fail(address: str) -> None:
    assert not is_mail_address(address)


def test_a_sender_may_use_a_local_domain() -> None:
    assert is_mail_address("fapiao@localhost", dotted_domain=False)
    assert not is_mail_address("fapiao@", dotted_domain=False)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25, "plain")),
        ("smtp://127.0.0.1:2525", SmtpServer("127.0.0.1", 2525, "plain")),
        # A login in the clear only to a server on this machine.
        ("smtp://u:p@localhost:2525", SmtpServer("localhost", 2525, "plain", "u", "p")),
        (
            "smtp+starttls://u:p@mail.example.com",
            SmtpServer("mail.example.com", 587, "starttls", "u", "p"),
        ),
        (
            "smtps://u%40x:p%3Aw@mail.example.com:4650/",
            SmtpServer("mail.example.com", 4650, "tls", "u@x", "p:w"),
        ),
    ],
)
def test_smtp_urls(url: str, expected: SmtpServer) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.com",
        "smtp://",
        "smtp://mail.example.com:99999",
        "smtp://mail.example.com:0",
        "smtp://mail.example.com/path",
        "smtp://mail.example.com?tls=1",
        "smtp://:secret@mail.example.com",
        "smtp://me:secret@mail.example.com",  # the password would cross the network in clear
    ],
)
def test_bad_smtp_urls(url: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_smtp_url(url)
    assert "secret" not in str(error.value)


def test_the_password_is_not_in_the_repr() -> None:
    assert "hunter2" not in repr(parse_smtp_url("smtps://me:hunter2@mail.example.com"))
