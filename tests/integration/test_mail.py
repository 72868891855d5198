"""E-mail notices to the buyer through a real SMTP server (aiosmtpd, in this process):
content and headers, retries, dead letters, TLS and authentication, the trace, and two
senders at once. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import SELLER_ID, World, invoice_body
from fapiao.mail.relay import MailSender
from fapiao.outbox.models import OutboxEvent
from fapiao.webhooks.relay import Relay

BUYER_MAIL = "finance@buyer.example.com"


class Inbox:
    """An aiosmtpd handler keeping every accepted message; `refuse` answers RCPT with
    that reply, `slow` delays the answer to DATA."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.refuse: str | None = None
        self.slow = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.slow:
            await asyncio.sleep(self.slow)
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(
                {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": parsed}
            )
        return "250 2.0.0 accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


def use_server(world: World, url: str) -> None:
    world.platform.settings.smtp_url = url


def issue(world: World, address: str | None = BUYER_MAIL) -> dict[str, Any]:
    body = invoice_body()
    if address is not None:
        body["buyer"]["email"] = address
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def mail_entries(world: World, number: str, who: str = "seller") -> list[dict[str, Any]]:
    story = world.client.get(f"/api/v1/invoices/{number}/trace", headers=world.as_(who))
    assert story.status_code == 200, story.text
    return [entry for entry in story.json()["timeline"] if entry["kind"] == "mail"]


def later(world: World, hours: float = 2) -> None:
    world.platform.clock.advance(timedelta(hours=hours))  # type: ignore[attr-defined]


def text_of(message: Message) -> str:
    part = message.get_body(("plain",))  # type: ignore[attr-defined]
    return str(part.get_content())


def test_the_buyer_gets_a_bilingual_notice(world: World, inbox: Inbox, smtp: Controller) -> None:
    use_server(world, f"smtp://127.0.0.1:{smtp.port}")
    invoice = issue(world)
    assert invoice["buyer"]["email"] == BUYER_MAIL
    fetched = world.client.get(f"/api/v1/invoices/{invoice['number']}", headers=world.as_("buyer"))
    assert fetched.json()["buyer"]["email"] == BUYER_MAIL
    done = MailSender(world.platform).run_once()
    assert done["queued"] == 1 and done["delivered"] == 1, (
        done,
        mail_entries(world, invoice["number"])[0]["last_error"],
    )
    (received,) = inbox.messages
    message = received["message"]
    assert received["from"] == "fapiao@localhost" and received["to"] == [BUYER_MAIL]
    assert message["From"] == "fapiao@localhost" and message["To"] == BUYER_MAIL
    number = invoice["number"]
    assert message["Subject"] == (
        f"北京示例科技有限公司开具的发票 {number} / Invoice {number} from 北京示例科技有限公司"
    )
    (entry,) = mail_entries(world, number)
    assert message["Message-ID"] == f"<{entry['event_id']}@localhost>"
    body = text_of(message)
    chinese, english = body.split("\n-----\n")
    for part in (chinese, english):
        for value in (number, "2026-11-10", "北京示例科技有限公司", SELLER_ID, "226.00"):
            assert value in part
        assert "/api/v1/verify" in part
    assert "发票号码" in chinese and "价税合计" in chinese and "查验" in chinese
    assert "Invoice number" in english and "verify it publicly" in english
    assert entry["status"] == "sent" and entry["attempts"] == 1 and entry["dead"] is False
    assert entry["sent_at"] == "2026-11-10T02:00:00+00:00"
    assert entry["log"][0]["reply_code"] == 250 and entry["log"][0]["error"] is None
    assert MailSender(world.platform).run_once()["sent"] == 0  # nothing twice


def test_no_address_no_mail(world: World, inbox: Inbox, smtp: Controller) -> None:
    use_server(world, f"smtp://127.0.0.1:{smtp.port}")
    invoice = issue(world, address=None)
    assert invoice["buyer"]["email"] == ""
    assert MailSender(world.platform).run_once() == {
        "queued": 0, "sent": 0, "delivered": 0, "retrying": 0, "dead": 0,
    }  # fmt: skip
    assert inbox.messages == [] and mail_entries(world, invoice["number"]) == []


@pytest.mark.parametrize(
    "address",
    [
        "finance",
        "finance@localhost",
        "finance@@buyer.example.com",
        "fin ance@buyer.example.com",
        "finance@buyer..example.com",
        ".finance@buyer.example.com",
        "finance@-buyer.example.com",
        "财务@buyer.example.com",
        "Finance <finance@buyer.example.com>",
        "a" * 250 + "@example.com",
    ],
)
def test_a_bad_address_is_refused_with_its_field(world: World, address: str) -> None:
    body = invoice_body()
    body["buyer"]["email"] = address
    response = world.client.post(
        "/api/v1/invoices", json=body, headers=world.as_("seller", **{"Accept-Language": "en"})
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "buyer.email"
    if len(address) <= 254:
        assert error["code"] == "BUYER_EMAIL_INVALID"
        assert error["message"].endswith("is not an e-mail address such as name@example.com.")


def test_a_server_down_then_up_gets_the_notice_once(world: World, inbox: Inbox) -> None:
    port = free_port()
    use_server(world, f"smtp://127.0.0.1:{port}")
    number = issue(world)["number"]
    sender = MailSender(world.platform)
    assert sender.run_once()["retrying"] == 1
    (entry,) = mail_entries(world, number, "buyer")  # the buyer sees it too
    assert entry["status"] == "pending" and entry["attempts"] == 1
    assert entry["pending_since"] == "2026-11-10T02:00:00+00:00"
    assert "ConnectionRefusedError" in entry["last_error"]
    assert entry["log"][0]["reply_code"] is None
    assert sender.run_once()["sent"] == 0  # backing off
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later(world)
        assert sender.run_once()["delivered"] == 1
        later(world)
        assert sender.run_once()["sent"] == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    (entry,) = mail_entries(world, number)
    assert entry["status"] == "sent" and entry["attempts"] == 2
    assert [item["reply_code"] for item in entry["log"]] == [None, 250]


def test_a_refused_recipient_is_dead_after_the_last_attempt(
    world: World, inbox: Inbox, smtp: Controller
) -> None:
    world.platform.settings.webhook_max_attempts = 3
    use_server(world, f"smtp://127.0.0.1:{smtp.port}")
    inbox.refuse = "550 5.1.1 No such mailbox"
    number = issue(world)["number"]
    sender = MailSender(world.platform)
    assert sender.run_once()["retrying"] == 1
    later(world)
    assert sender.run_once()["retrying"] == 1
    later(world)
    assert sender.run_once()["dead"] == 1
    later(world)
    assert sender.run_once()["sent"] == 0  # dead letters stay dead
    (entry,) = mail_entries(world, number, "officer")
    assert entry["status"] == "dead" and entry["dead"] is True and entry["attempts"] == 3
    assert entry["last_reply_code"] == 550 and entry["sent_at"] is None
    assert [item["reply_code"] for item in entry["log"]] == [550, 550, 550]
    assert entry["log"][0]["error"] == "550 5.1.1 No such mailbox"
    times = [item["attempted_at"] for item in entry["log"]]
    assert times == sorted(times) and len(set(times)) == 3
    assert inbox.messages == []
    metrics = world.client.get("/metrics").text
    assert "fapiao_mail_dead_letters 1" in metrics and "fapiao_mail_pending 0" in metrics


def test_without_a_server_notices_wait_and_are_not_dropped(
    world: World, inbox: Inbox, smtp: Controller
) -> None:
    assert world.platform.settings.smtp_url == ""
    number = issue(world)["number"]
    (waiting,) = mail_entries(world, number, "buyer")  # still in the outbox
    assert waiting["status"] == "pending" and waiting["waiting_for_mail_server"] is True
    # The webhook relay (no subscription anywhere) must leave the notice alone.
    Relay(world.platform).run_once()
    assert MailSender(world.platform).run_once() == {
        "queued": 1, "sent": 0, "delivered": 0, "retrying": 0, "dead": 0,
    }  # fmt: skip
    later(world, 24)
    (entry,) = mail_entries(world, number)
    assert entry["status"] == "pending" and entry["attempts"] == 0
    assert entry["waiting_for_mail_server"] is True
    assert "fapiao_mail_pending 1" in world.client.get("/metrics").text
    use_server(world, f"smtp://127.0.0.1:{smtp.port}")
    assert MailSender(world.platform).run_once()["delivered"] == 1
    assert len(inbox.messages) == 1
    with world.platform.database.transaction(write=False) as session:
        statuses = {event.event_type: event.status for event in session.query(OutboxEvent)}
    assert statuses["mail.invoice_notice"] == "dispatched"


def test_a_stranger_sees_no_mail_state(world: World) -> None:
    number = issue(world)["number"]
    story = world.client.get(f"/api/v1/invoices/{number}/trace", headers=world.as_("other"))
    assert story.status_code == 404


def test_two_senders_never_send_one_notice_twice(
    world: World, inbox: Inbox, smtp: Controller
) -> None:
    use_server(world, f"smtp://127.0.0.1:{smtp.port}")
    numbers = {issue(world)["number"] for _ in range(8)}
    inbox.slow = 0.05  # so the two senders' work overlaps
    senders = [MailSender(world.platform), MailSender(world.platform)]
    start = threading.Barrier(len(senders))
    errors: list[BaseException] = []

    def work(sender: MailSender) -> None:
        try:
            start.wait()
            while sender.run_once()["sent"]:
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = [item["message"]["Message-ID"] for item in inbox.messages]
    assert len(ids) == 8 and len(set(ids)) == 8
    subjects = {item["message"]["Subject"].split()[1] for item in inbox.messages}
    assert subjects == numbers
    for number in numbers:
        (entry,) = mail_entries(world, number)
        assert entry["status"] == "sent" and entry["attempts"] == 1


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a certificate for 127.0.0.1 signed by it."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def build(subject: str, issuer: x509.Name | None, key: Any, signer: Any) -> Any:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
        ), signer

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_builder, _ = build("fapiao test CA", None, ca_key, ca_key)
    ca_cert = (
        ca_builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    builder, _ = build("127.0.0.1", ca_cert.subject, key, ca_key)
    cert = (
        builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
# aiosmtpd itself touches its deprecated Session.login_data while authenticating.
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
# … and warns that AUTH without STARTTLS is unsafe, not knowing the smtps socket is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_tls_and_login(world: World, inbox: Inbox, tmp_path: Path, scheme: str) -> None:
    """The server demands TLS and a login; the platform trusts its private CA through
    FAPIAO_SMTP_CA_FILE. A wrong password is a logged 535, never a message in the clear."""
    ca, cert, key = _certificates(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"p@ss:word", handled=False)

    # aiosmtpd only counts STARTTLS as TLS for AUTH; an smtps connection is TLS throughout.
    tls = (
        {"tls_context": server_tls, "require_starttls": True, "auth_require_tls": True}
        if scheme == "smtp+starttls"
        else {"ssl_context": server_tls, "auth_require_tls": False}
    )
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_required=True,
        **tls,  # type: ignore[arg-type]
    )
    controller.start()
    try:
        world.platform.settings.smtp_ca_file = ca
        use_server(world, f"{scheme}://mailer:wrong@127.0.0.1:{controller.port}")
        number = issue(world)["number"]
        assert MailSender(world.platform).run_once()["retrying"] == 1
        (entry,) = mail_entries(world, number)
        assert entry["last_reply_code"] == 535, entry["last_error"]
        # The password is percent-encoded in the URL.
        use_server(world, f"{scheme}://mailer:p%40ss%3Aword@127.0.0.1:{controller.port}")
        later(world)
        assert MailSender(world.platform).run_once()["delivered"] == 1
    finally:
        controller.stop()
    # smtplib tries each offered mechanism (PLAIN, LOGIN) before giving up.
    assert set(logins) == {(b"mailer", b"wrong"), (b"mailer", b"p@ss:word")}
    assert logins[-1] == (b"mailer", b"p@ss:word")
    assert len(inbox.messages) == 1


def test_an_untrusted_certificate_is_an_error_not_a_fallback(
    world: World, inbox: Inbox, tmp_path: Path
) -> None:
    _, cert, key = _certificates(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_tls,
        require_starttls=True,
    )  # fmt: skip
    controller.start()
    try:
        use_server(world, f"smtp+starttls://127.0.0.1:{controller.port}")
        number = issue(world)["number"]
        assert MailSender(world.platform).run_once()["retrying"] == 1
    finally:
        controller.stop()
    (entry,) = mail_entries(world, number)
    assert "CERTIFICATE_VERIFY_FAILED" in entry["last_error"]
    assert inbox.messages == []


def test_batched_issuing_writes_a_notice_per_addressed_invoice(
    world: World, inbox: Inbox, smtp: Controller
) -> None:
    """Invoices written together by group commit (one INSERT per table) get their notices
    in the same statement as their other outbox rows; one without an address gets none."""
    from dataclasses import replace

    from test_group_commit import job, one_batch, request, submit

    use_server(world, f"smtp://127.0.0.1:{smtp.port}")
    addresses = ["a@buyer.example.com", "", "c@buyer.example.com"]
    jobs = []
    for index, address in enumerate(addresses):
        plain = request(f"{100 + index}.00")
        jobs.append(job(world, replace(plain, buyer=replace(plain.buyer, email=address))))
    before = world.platform.writer.batches
    with one_batch(world.platform):
        futures = [submit(world, item) for item in jobs]
    numbers = [future.result(10).result()[0].number for future in futures]
    assert world.platform.writer.batches - before == 2  # the gate's batch, then all three
    with world.platform.database.transaction(write=False) as session:
        notices = {
            event.subject: event
            for event in session.query(OutboxEvent).filter_by(event_type="mail.invoice_notice")
        }
    assert sorted(notices) == sorted([numbers[0], numbers[2]])
    assert MailSender(world.platform).run_once()["delivered"] == 2
    delivered = {item["to"][0]: item["message"]["Subject"] for item in inbox.messages}
    assert numbers[0] in delivered["a@buyer.example.com"]
    assert numbers[2] in delivered["c@buyer.example.com"]
