"""Support tickets: linked invoices, who sees which, the status flow, reply notices,
numbering under concurrency, and the operators' CLI."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from email import policy
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from test_mail import Inbox, free_port
from typer.testing import CliRunner

from conftest import World, invoice_body
from fapiao.accounts.models import User
from fapiao.accounts.service import load_actor
from fapiao.audit.models import AuditEntry
from fapiao.cli.main import app as cli_app
from fapiao.mail.models import MailMessage
from fapiao.mail.notice import compose
from fapiao.mail.relay import MailSender
from fapiao.support import service
from fapiao.support.models import Ticket, TicketCounter
from pictures import png

TICKETS = "/api/v1/tickets"


def issue(world: World, who: str = "seller") -> str:
    response = world.client.post("/api/v1/invoices", json=invoice_body(), headers=world.as_(who))
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def open_ticket(world: World, who: str = "seller", **fields: Any) -> Any:
    body = {"subject": "发票查不到", "category": "invoice_missing", "body": "买方说看不到。"}
    body.update(fields)
    return world.client.post(
        TICKETS, json=body, headers=world.as_(who, **{"Accept-Language": "en"})
    )


def reply(world: World, who: str, number: str, **body: Any) -> Any:
    return world.client.post(f"{TICKETS}/{number}/messages", json=body, headers=world.as_(who))


def mails(world: World) -> list[MailMessage]:
    with world.platform.database.transaction(write=False) as session:
        rows = list(session.scalars(select(MailMessage).order_by(MailMessage.id)))
        session.expunge_all()
        return rows


def test_a_ticket_links_invoices_its_taxpayer_sees(world: World) -> None:
    number = issue(world)
    created = open_ticket(world, invoice_numbers=[number, number])
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert re.fullmatch(r"T202611-\d{6}", ticket["number"])  # November 2026, Beijing time
    assert created.headers["Location"] == f"{TICKETS}/{ticket['number']}"
    assert ticket["status"] == "open" and ticket["author"] == "seller"
    assert ticket["invoices"] == [{"number": number, "status": "normal"}]
    assert [m["body"] for m in ticket["messages"]] == ["买方说看不到。"]
    # The buyer sees the same invoice, and may link it from its side.
    as_buyer = open_ticket(world, "buyer", invoice_numbers=[number])
    assert as_buyer.status_code == 201, as_buyer.text
    # Any user of the author's taxpayer reads and answers; officers too; others get 404.
    path = f"{TICKETS}/{ticket['number']}"
    for who in ("seller_admin", "seller_viewer", "officer"):
        assert world.client.get(path, headers=world.as_(who)).status_code == 200
    assert reply(world, "seller_viewer", ticket["number"], body="补充").status_code == 201
    hidden = world.client.get(path, headers=world.as_("buyer"))
    assert hidden.status_code == 404 and hidden.json()["code"] == "TICKET_NOT_FOUND"
    assert reply(world, "other", ticket["number"], body="x").status_code == 404
    # Lists: one's own taxpayer's; officers every ticket, or one taxpayer's.
    mine = world.client.get(TICKETS, headers=world.as_("seller_viewer")).json()["items"]
    assert [item["number"] for item in mine] == [ticket["number"]]
    assert world.client.get(TICKETS, headers=world.as_("other")).json()["items"] == []
    queue = world.client.get(TICKETS, headers=world.as_("officer")).json()["items"]
    assert len(queue) == 2
    one = world.client.get(
        TICKETS, params={"taxpayer_id": ticket["taxpayer_id"]}, headers=world.as_("officer")
    ).json()["items"]
    assert [item["number"] for item in one] == [ticket["number"]]


def test_linking_an_invoice_of_someone_else_is_not_found(world: World) -> None:
    number = issue(world)
    refused = open_ticket(world, "other", invoice_numbers=[number])
    missing = open_ticket(world, "other", invoice_numbers=["26111000000999999999"])
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["code"] == missing.json()["code"] == "INVOICE_NOT_FOUND"
    # The same sentence but for the number asked about: nothing says it exists.
    assert refused.json()["detail"].replace(number, "N") == missing.json()["detail"].replace(
        "26111000000999999999", "N"
    )
    with world.platform.database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert session.scalar(select(func.count()).select_from(TicketCounter)) == 0


def test_status_flow_and_the_authors_notice(world: World) -> None:
    created = open_ticket(world, contact_email="finance@example.com").json()
    number = created["number"]
    assert mails(world) == []
    answered = reply(world, "officer", number, body="请查看追踪页面。")
    assert answered.status_code == 201 and answered.json()["status"] == "answered"
    assert answered.json()["messages"][-1]["is_officer"] is True
    (mail,) = mails(world)
    assert mail.to_address == "finance@example.com" and mail.status == "pending"
    assert mail.subject == number
    payload = json.loads(mail.payload)
    assert payload["locale"] == "en"  # the language the author wrote in
    text = compose(payload, mail.event_id, "fapiao@example.com", world.platform.clock.now())
    body = text.get_content()
    assert text["Subject"].startswith(f"Reply to your support ticket {number} / ")
    assert body.index("has replied") < body.index("税务机关") and "请查看" not in body
    assert text.as_bytes(policy=policy.SMTP)
    # The user answers: open again. Asking the user for something: waiting_user.
    assert reply(world, "seller", number, body="好的").json()["status"] == "open"
    waiting = reply(world, "officer", number, body="请上传截图", status="waiting_user")
    assert waiting.json()["status"] == "waiting_user"
    refused = reply(world, "seller", number, body="x", status="answered")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "status"
    # Either side closes; officers cannot answer a closed ticket; the user reopens it.
    closed = world.client.post(f"{TICKETS}/{number}/close", headers=world.as_("seller"))
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    late = reply(world, "officer", number, body="x")
    assert late.status_code == 409 and late.json()["code"] == "TICKET_CLOSED"
    reopened = reply(world, "seller", number, body="问题又出现了")
    assert reopened.json()["status"] == "open" and reopened.json()["closed_at"] is None
    assert len(mails(world)) == 2
    again = world.client.post(f"{TICKETS}/{number}/close", headers=world.as_("officer"))
    assert again.json()["status"] == "closed"


def test_no_address_no_mail_and_no_error(world: World) -> None:
    number = open_ticket(world).json()["number"]
    assert reply(world, "officer", number, body="已处理").json()["status"] == "answered"
    assert mails(world) == []


def test_fields_are_checked_by_name(world: World) -> None:
    bad = world.client.post(
        TICKETS,
        json={
            "subject": "",
            "category": "weather",
            "body": "x" * 10001,
            "invoice_numbers": ["123"],
            "contact_email": "not an address",
        },
        headers=world.as_("seller"),
    )
    assert bad.status_code == 422
    fields = {error["field"]: error["code"] for error in bad.json()["errors"]}
    assert fields == {
        "subject": "TOO_SHORT",
        "category": "INVALID_CHOICE",
        "body": "TOO_LONG",
        "invoice_numbers.0": "INVALID_FORMAT",
        "contact_email": "INVALID_VALUE",
    }
    zh = world.client.post(
        TICKETS, json={}, headers=world.as_("seller", **{"Accept-Language": "zh-CN"})
    )
    assert zh.status_code == 422 and zh.json()["title"] != "Invalid request"
    empty = reply(world, "seller", open_ticket(world).json()["number"], body="  ")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"


def test_numbers_are_unique_under_concurrent_writers(world: World) -> None:
    platform = world.platform
    with platform.database.transaction(write=False) as session:
        seller = session.scalar(select(User.id).where(User.username == "seller"))
        assert seller is not None
        actor = load_actor(session, seller)

    def one(_: int) -> str:
        with platform.database.transaction() as session:
            return service.create_ticket(
                session,
                actor,
                subject="s",
                category="other",
                body="b",
                invoice_numbers=[],
                contact_email=None,
                locale="zh-CN",
                now=platform.clock.now(),
            ).number

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(one, range(40)))
    assert sorted(numbers) == [f"T202611-{n:06d}" for n in range(1, 41)]


def test_officers_may_open_their_own_tickets(world: World) -> None:
    created = open_ticket(world, "officer", category="other")
    assert created.status_code == 201 and created.json()["taxpayer_id"] is None
    number = created.json()["number"]
    assert world.client.get(f"{TICKETS}/{number}", headers=world.as_("seller")).status_code == 404


def test_cli_lists_and_shows_tickets(world: World, monkeypatch: Any) -> None:
    number = open_ticket(world, invoice_numbers=[issue(world)]).json()["number"]
    reply(world, "officer", number, body="已回复")
    settings = world.platform.settings
    monkeypatch.setenv("FAPIAO_SECRET_KEY", settings.secret_key)
    if settings.database_url:
        monkeypatch.setenv("FAPIAO_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("FAPIAO_DATABASE_URL", raising=False)
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir), "--lang", "en"]
    listed = runner.invoke(cli_app, [*base, "ticket", "list", "--status", "answered"])
    assert listed.exit_code == 0, listed.output
    assert number in listed.output and "answered" in listed.output
    shown = runner.invoke(cli_app, [*base, "ticket", "show", number])
    assert shown.exit_code == 0, shown.output
    assert "已回复" in shown.output and "Linked invoice" in shown.output
    missing = runner.invoke(cli_app, [*base, "ticket", "show", "T202611-999999"])
    assert missing.exit_code == 1 and "TICKET_NOT_FOUND" in missing.output
    bad = runner.invoke(cli_app, [*base, "ticket", "list", "--status", "lost"])
    assert bad.exit_code == 1


def test_ticket_writes_are_audited(world: World) -> None:
    number = open_ticket(world).json()["number"]
    reply(world, "officer", number, body="收到")
    world.client.post(f"{TICKETS}/{number}/close", headers=world.as_("seller"))
    world.client.app.state.audit.flush()  # type: ignore[attr-defined]
    with world.platform.database.transaction(write=False) as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.username, AuditEntry.object_id)
            .where(AuditEntry.action.like("ticket.%"))
            .order_by(AuditEntry.seq)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("ticket.create", "seller", number),
        ("ticket.reply", "officer", number),
        ("ticket.close", "seller", number),
    ]


def test_the_notice_reaches_the_mail_server(world: World) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        world.platform.settings.smtp_url = f"smtp://127.0.0.1:{controller.port}"
        number = open_ticket(world, contact_email="finance@example.com").json()["number"]
        reply(world, "officer", number, body="已处理")
        done = MailSender(world.platform).run_once()
        assert done["delivered"] == 1, done
    finally:
        controller.stop()
    (received,) = inbox.messages
    assert received["to"] == ["finance@example.com"]
    message = received["message"]
    assert message["Subject"] == (
        f"Reply to your support ticket {number} / 您的工单 {number} 有新回复"
    )
    text = str(message.get_body(("plain",)).get_content()).replace("\r\n", "\n")
    english, chinese = text.split("\n-----\n")
    assert "has replied" in english and "发票查不到" in english
    assert "税务机关已回复" in chinese and "已处理" not in chinese
    assert mails(world)[0].status == "sent"


def test_a_screenshot_larger_than_the_general_body_limit_is_taken(world: World) -> None:
    settings = world.platform.settings
    assert settings.ticket_attachment_max_bytes > settings.max_body_bytes
    number = open_ticket(world).json()["number"]
    shot = png(padding=settings.max_body_bytes + 1000)
    sent = world.client.post(
        f"{TICKETS}/{number}/messages",
        files=[("files", ("big.png", shot, "image/png"))],
        headers=world.as_("seller"),
    )
    assert sent.status_code == 201, sent.text[:300]
    assert sent.json()["messages"][-1]["attachments"][0]["size"] == len(shot)
