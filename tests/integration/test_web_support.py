"""The support, announcement, maintenance and dashboard pages through the real app, on
SQLite and PostgreSQL: tickets with screenshots and linked invoices, refusals next to
their field, another taxpayer's ticket a 404 page; announcements public and written by
officers; the maintenance switch; the dashboard's chart, waiting forms and certification."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from test_web import HTML, sign_in, web  # noqa: F401  (the browser-like client fixture)

from conftest import SELLER_ID, World, invoice_body
from fapiao.kit.clock import CST, FixedClock, local_date
from fapiao.maintenance import service as maintenance
from fapiao.taxpayers.models import Taxpayer
from fapiao.webhooks.models import Delivery, Webhook
from pictures import png

NUMBER = re.compile(r"/ui/tickets/(T\d{6}-\d{6,12})")


def issue(world: World) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def open_ticket(world: World, token: str, invoice: str, files: list[tuple[str, bytes]]) -> object:
    return world.client.post(
        "/ui/tickets/new",
        data={
            "csrf_token": token,
            "subject": "开票时报错",
            "category": "issuing",
            "body": "点击开具后页面显示错误。",
            "invoices": invoice,
            "contact_email": "",
        },
        files=[("files", (name, data, "image/png")) for name, data in files],
        follow_redirects=False,
    )


def test_a_ticket_with_a_screenshot_answered_by_an_officer(web: World) -> None:  # noqa: F811
    invoice = issue(web)
    token = sign_in(web, "seller")
    form = web.client.get(f"/ui/tickets/new?invoice={invoice}")
    assert form.status_code == 200 and f'value="{invoice}"' in form.text
    assert 'accept="image/png,image/jpeg"' in form.text and "5 MB" in form.text
    # A text file named .png is refused next to the field; nothing is written.
    refused = open_ticket(web, token, invoice, [("shot.png", b"just some text, no picture")])
    assert refused.status_code == 422  # type: ignore[attr-defined]
    text = refused.text  # type: ignore[attr-defined]
    assert 'id="f-files-error"' in text and "“shot.png”不是 PNG 或 JPEG 图片" in text
    assert 'aria-invalid="true" autofocus' in text and "开票时报错" in text
    assert web.client.get("/ui/tickets").text.count("/ui/tickets/T") == 0
    created = open_ticket(web, token, invoice, [("screen.png", png(40, 30))])
    assert created.status_code == 303, created.text  # type: ignore[attr-defined]
    where = created.headers["location"]  # type: ignore[attr-defined]
    found = NUMBER.search(where)
    assert found is not None
    number = found.group(1)
    page = web.client.get(where)
    assert page.status_code == 200 and "点击开具后页面显示错误。" in page.text
    assert f'href="/ui/invoices/{invoice}"' in page.text and "正常" in page.text
    shot = re.search(rf'<img src="(/ui/tickets/{number}/attachments/\d+)"', page.text)
    assert shot is not None and "/static/" not in shot.group(1)
    picture = web.client.get(shot.group(1))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content == png(40, 30)
    assert number in web.client.get("/ui/tickets").text
    # Another taxpayer: the ticket and its picture do not exist.
    web.client.cookies.clear()
    sign_in(web, "other")
    for path in (where, shot.group(1)):
        missing = web.client.get(path)
        assert missing.status_code == 404 and missing.headers["content-type"] == HTML
    assert number not in web.client.get("/ui/tickets").text
    # The officer sees it in the queue and answers, asking for something.
    web.client.cookies.clear()
    officer = sign_in(web, "officer")
    queue = web.client.get("/ui/tickets?status=open").text
    assert number in queue
    answered = web.client.post(
        f"/ui/tickets/{number}/messages",
        data={
            "csrf_token": officer,
            "body": "请提供发票号码对应的错误截图。",
            "status": "answered",
        },
        files=[("files", ("", b"", "application/octet-stream"))],  # the empty file input
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    assert number not in web.client.get("/ui/tickets?status=open").text
    assert number in web.client.get("/ui/tickets?status=answered").text
    # The author sees the answer and its status.
    web.client.cookies.clear()
    sign_in(web, "seller")
    thread = web.client.get(where).text
    assert "请提供发票号码对应的错误截图。" in thread and "已答复" in thread
    assert "officer" in thread and "from-officer" in thread


def test_a_ticket_refused_field_by_field_and_closed(web: World) -> None:  # noqa: F811
    token = sign_in(web, "seller")
    response = web.client.post(
        "/ui/tickets/new",
        data={
            "csrf_token": token,
            "subject": "",
            "category": "nonsense",
            "body": "x",
            "invoices": "123",
            "contact_email": "not-an-address",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    for field in ("subject", "category", "invoices", "contact_email"):
        assert f'id="f-{field}-error"' in response.text, field
    # An invoice the taxpayer cannot see is reported as not found, next to the field.
    hidden = web.client.post(
        "/ui/tickets/new",
        data={
            "csrf_token": token,
            "subject": "s",
            "category": "other",
            "body": "b",
            "invoices": "0" * 20,
        },
    )
    assert hidden.status_code == 422 and 'id="f-invoices-error"' in hidden.text
    created = web.client.post(
        "/ui/tickets/new",
        data={"csrf_token": token, "subject": "s", "category": "other", "body": "b"},
        follow_redirects=False,
    )
    where = created.headers["location"]
    closed = web.client.post(f"{where}/close", data={"csrf_token": token}, follow_redirects=False)
    assert closed.status_code == 303
    assert "已关闭" in web.client.get(where).text
    without_token = web.client.post(
        f"{where}/messages", files=[("files", ("a.png", png(), "image/png"))]
    )
    assert without_token.status_code == 403


def test_announcements_public_pages_and_officer_writing(web: World) -> None:  # noqa: F811
    token = sign_in(web, "officer")
    form = web.client.get("/ui/announcements/new")
    assert form.status_code == 200
    written = web.client.post(
        "/ui/announcements/new",
        data={
            "csrf_token": token,
            "kind": "release",
            "title_zh": "新版本上线",
            "title_en": "New release",
            "body_zh": "支持工单截图。",
            "body_en": "Ticket screenshots.",
        },
        follow_redirects=False,
    )
    assert written.status_code == 303, written.text
    where = written.headers["location"]
    item_id = where.rsplit("/", 1)[1]
    assert "新版本上线" in web.client.get("/ui/announcements").text  # a draft, for officers
    published = web.client.post(
        f"{where}/publish", data={"csrf_token": token}, follow_redirects=False
    )
    assert published.status_code == 303
    untitled = web.client.post(
        "/ui/announcements/new",
        data={
            "csrf_token": token,
            "kind": "maintenance",
            "title_zh": "维护",
            "title_en": "",
            "starts_at": "not a time",
        },
    )
    assert untitled.status_code == 422 and 'id="f-starts_at-error"' in untitled.text
    web.client.cookies.clear()  # anyone reads the published list, in the page's language
    listing = web.client.get("/ui/announcements?kind=release")
    assert listing.status_code == 200 and "新版本上线" in listing.text
    assert 'rel="alternate" type="application/atom+xml"' in listing.text
    english = web.client.get(where, headers={"Accept-Language": "en"})
    assert english.status_code == 200 and "New release" in english.text
    assert "Ticket screenshots." in english.text
    assert "新版本上线" not in web.client.get("/ui/announcements?kind=notice").text
    assert web.client.get("/ui/announcements/999999").status_code == 404
    feed = web.client.get("/announcements.atom").text
    assert f"/ui/announcements/{item_id}" in feed and "/api/v1/announcements/" not in feed
    sign_in(web, "seller")
    assert web.client.get("/ui/announcements/new").status_code == 403


def test_maintenance_switch_pauses_form_writes_then_allows_them(web: World) -> None:  # noqa: F811
    clock = web.platform.clock
    assert isinstance(clock, FixedClock)
    officer = sign_in(web, "officer")
    until = (clock.now() + timedelta(hours=2)).astimezone(CST).strftime("%Y-%m-%dT%H:%M")
    past = web.client.post(
        "/ui/maintenance", data={"csrf_token": officer, "until": "2000-01-01T00:00"}
    )
    assert past.status_code == 422 and 'id="f-until-error"' in past.text
    # A time at the calendar's edge is refused as any past time, not a server error.
    edge = web.client.post(
        "/ui/maintenance", data={"csrf_token": officer, "until": "0001-01-01T00:00"}
    )
    assert edge.status_code == 422 and 'id="f-until-error"' in edge.text
    # A page id in digits that are not ASCII is an unknown page, not a server error.
    assert web.client.get("/ui/announcements/%C2%B2").status_code == 404
    assert web.client.get("/ui/tickets?before=%C2%B2").status_code == 200
    switched = web.client.post(
        "/ui/maintenance",
        data={
            "csrf_token": officer,
            "until": until,
            "message_zh": "数据库升级",
            "message_en": "Database upgrade",
        },
        follow_redirects=False,
    )
    assert switched.status_code == 303, switched.text
    page = web.client.get("/ui/maintenance").text
    assert "数据库升级" in page and "Database upgrade" in page and "/ui/maintenance/off" in page
    web.client.cookies.clear()
    clerk = sign_in(web, "seller")
    ticket = {"csrf_token": clerk, "subject": "s", "category": "other", "body": "b"}
    refused = web.client.post("/ui/tickets/new", data=ticket)
    assert refused.status_code == 503 and "维护" in refused.text
    web.client.cookies.clear()
    officer = sign_in(web, "officer")
    off = web.client.post(
        "/ui/maintenance/off", data={"csrf_token": officer}, follow_redirects=False
    )
    assert off.status_code == 303
    assert "/ui/maintenance/off" not in web.client.get("/ui/maintenance").text
    web.client.cookies.clear()
    clerk = sign_in(web, "seller")
    allowed = web.client.post(
        "/ui/tickets/new", data={**ticket, "csrf_token": clerk}, follow_redirects=False
    )
    assert allowed.status_code == 303


def test_dashboard_chart_waiting_form_and_certification(web: World) -> None:  # noqa: F811
    first = issue(web)
    issue(web)
    period = local_date(web.platform.clock.now()).strftime("%Y%m")
    certified = web.client.post(
        f"/api/v1/invoices/{first}/certify",
        json={"period": period, "purpose": "deduct"},
        headers=web.as_("buyer"),
    )
    assert certified.status_code == 200, certified.text
    form = web.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": first, "reason": "01"},
        headers=web.as_("seller"),
    )
    assert form.status_code == 201, form.text
    sign_in(web, "buyer")
    page = web.client.get("/ui/dashboard", headers={"Accept-Language": "en"}).text
    assert f'href="/ui/red-letter/{form.json()["id"]}"' in page
    assert re.search(r"<strong>7[12]\.\d hours left</strong>", page)
    assert 'href="/ui/certification"' in page
    assert "1 invoices ticked" in page and "1 still certifiable" in page
    assert "Period not confirmed yet" in page
    web.client.cookies.clear()
    sign_in(web, "seller")
    seller = web.client.get("/ui/dashboard").text
    assert seller.count('<svg class="chart"') == 2  # the 30 days and the credit meter
    assert "最近 30 天" in seller and "共 2 张发票" in seller
    assert 'href="/ui/admin/webhooks"' not in seller  # webhooks are the admin's
    now = web.platform.clock.now()
    with web.platform.database.transaction() as session:  # a delivery that gave up
        seller_id = session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == SELLER_ID))
        assert seller_id is not None
        hook = Webhook(
            taxpayer_id=seller_id,
            url="https://erp.example/hook",
            events="invoice.issued",
            secret="s" * 32,
            active=True,
            created_at=now,
        )
        session.add(hook)
        session.flush()
        session.add(
            Delivery(
                webhook_id=hook.id,
                event_id="e" * 36,
                event_type="invoice.issued",
                subject=first,
                payload="{}",
                status="dead",
                attempts=8,
                next_attempt_at=now,
                created_at=now,
                last_error="connection refused",
            )
        )
    web.client.cookies.clear()
    sign_in(web, "seller_admin")
    admin = web.client.get("/ui/dashboard").text
    assert "失败的 Webhook 投递" in admin and 'href="/ui/admin/webhooks"' in admin
    assert first in admin and "已尝试 8 次" in admin and "connection refused" in admin
    web.client.cookies.clear()
    sign_in(web, "officer")
    officer = web.client.get("/ui/dashboard").text
    assert "平台健康" in officer and "就绪" in officer and "待发送" in officer
    assert officer.count('<svg class="chart"') == 1


def test_a_read_only_maintenance_notice_written_published_and_withdrawn(web: World) -> None:  # noqa: F811
    clock = web.platform.clock
    assert isinstance(clock, FixedClock)
    token = sign_in(web, "officer")
    starts = (clock.now() + timedelta(days=1)).astimezone(CST).replace(second=0, microsecond=0)
    ends = starts + timedelta(hours=2)
    written = web.client.post(
        "/ui/announcements/new",
        data={
            "csrf_token": token,
            "kind": "maintenance",
            "title_zh": "系统升级",
            "title_en": "System upgrade",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
            "read_only": "on",
        },
        follow_redirects=False,
    )
    assert written.status_code == 303, written.text
    where = written.headers["location"]
    edit = web.client.get(f"{where}/edit").text
    assert f'value="{starts.strftime("%Y-%m-%dT%H:%M")}"' in edit and "checked" in edit
    web.client.post(f"{where}/publish", data={"csrf_token": token})
    page = web.client.get(where).text
    window = f"{starts.strftime('%Y-%m-%d %H:%M')} 至 {ends.strftime('%Y-%m-%d %H:%M')}"
    assert window in page and "/withdraw" in page
    with web.platform.database.transaction(write=False) as session:
        ahead = maintenance.current_window(session, clock.now(), timedelta(days=2))
    assert ahead is not None and ahead.starts_at == starts
    web.client.post(f"{where}/withdraw", data={"csrf_token": token})
    assert "/publish" in web.client.get(where).text
    web.client.cookies.clear()
    assert web.client.get(where).status_code == 404  # a draft again: not public
