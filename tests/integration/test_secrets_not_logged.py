"""Secrets never reach the log: every record of every logger, at DEBUG, is searched for
the password, the bearer token, a webhook secret and the SMTP password."""

from __future__ import annotations

import base64
import logging
import socket

import pytest

from conftest import PASSWORD, World, invoice_body
from fapiao.mail.relay import MailSender
from fapiao.settings import Settings, SettingsError, load_settings
from fapiao.webhooks.relay import Relay

WEBHOOK_SECRET = "whsec-Qm9vLWJhci1iYXotcXV4LTQy"
SMTP_PASSWORD = "smtp-Pa55w0rd-7f3k"
SECRET_KEY = "key-" + "Zq" * 20


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def all_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        parts.append(repr(record.__dict__))
    return "\n".join(parts)


def test_no_secret_in_any_log_record(world: World, caplog: pytest.LogCaptureFixture) -> None:
    for name in ["", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    client = world.client
    # Sign-in, right and wrong.
    token = client.post("/api/v1/auth/token", data={"username": "seller", "password": PASSWORD})
    assert token.status_code == 200
    bearer = token.json()["access_token"]
    wrong = client.post(
        "/api/v1/auth/token", data={"username": "seller", "password": PASSWORD + "-typo"}
    )
    assert wrong.status_code == 401
    # Requests with the bearer token, a good one and a broken one.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"}).is_success
    broken = client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}x"})
    assert broken.status_code == 401
    # A webhook with its secret, and a delivery attempt that fails.
    port = closed_port()
    hook = client.post(
        "/api/v1/webhooks",
        json={
            "url": f"http://127.0.0.1:{port}/hook",
            "events": ["invoice.issued"],
            "secret": WEBHOOK_SECRET,
        },
        headers=world.as_("seller_admin"),
    )
    assert hook.status_code == 201, hook.text
    # An SMTP server with a password in the settings, which refuses the connection.
    world.platform.settings.smtp_url = f"smtp://fapiao:{SMTP_PASSWORD}@127.0.0.1:{port}"
    body = invoice_body()
    body["buyer"]["email"] = "ap@buyer.example.com"
    issued = client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert issued.status_code == 201
    relayed = Relay(world.platform).run_once()
    assert sum(relayed.values()) >= 1
    mailed = MailSender(world.platform).run_once()
    assert mailed["sent"] == 1 and mailed["delivered"] == 0
    # Settings shown whole (as a crash report or a debug line would), and refused.
    logging.getLogger("fapiao").debug(
        "settings: %r / %s", world.platform.settings, world.platform.settings
    )
    with pytest.raises(SettingsError) as refused:
        load_settings(
            smtp_url=f"smtp://fapiao:{SMTP_PASSWORD}@mail.example.com", secret_key=SECRET_KEY
        )
    logging.getLogger("fapiao").error("refused: %s", refused.value)
    logging.getLogger("fapiao").debug(
        "%r",
        load_settings(
            secret_key=SECRET_KEY, database_url=f"postgresql+psycopg://u:{SMTP_PASSWORD}@db/x"
        ),
    )

    text = all_text(caplog)
    assert "mail" in text and len(caplog.records) >= 4  # the capture saw the work
    for secret in (
        PASSWORD,
        bearer,
        bearer.split(".")[-1],
        WEBHOOK_SECRET,
        SMTP_PASSWORD,
        SECRET_KEY,
    ):
        assert secret not in text, secret
    shown = repr(world.platform.settings)
    assert "smtp_url='smtp://fapiao:***@127.0.0.1" in shown and "secret_key='**********'" in shown


def test_the_master_key_is_hidden_in_the_settings_repr() -> None:
    master = base64.b64encode(b"m" * 32).decode()
    shown = repr(Settings(master_key=master, secret_key=SECRET_KEY))
    assert master not in shown and "master_key='**********'" in shown
