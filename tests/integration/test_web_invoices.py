"""The invoice pages through the real app: lists with filters, sort and paging, the CSV
export, an invoice's detail (receipt, QR code, timeline, allowed actions), voiding through
the form, the trace page and the help centre. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from conftest import BUYER_ID, PASSWORD, World, invoice_body
from fapiao.accounts.models import User
from fapiao.cli import twofactor
from fapiao.web.routes import invoices as invoice_list

TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROW = re.compile(r'href="/ui/invoices/(\d{20})"')


@pytest.fixture
def web(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(world.platform.settings, "cookie_secure", False)
    with world.platform.database.transaction() as session:
        officer = session.scalar(select(User).where(User.username == "officer"))
        assert officer is not None
        twofactor.enrol(session, officer, TOTP, world.platform.clock.now())
    world.client.cookies.clear()
    yield world
    world.client.cookies.clear()


def sign_in(web: World, username: str) -> str:
    """Sign in through the form as `username` (alone in the client); the CSRF token."""
    web.client.cookies.clear()
    data = {"username": username, "password": PASSWORD}
    if username == "officer":
        web.platform.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
        data["totp"] = pyotp.TOTP(TOTP).at(web.platform.clock.now())
    response = web.client.post("/ui/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = web.client.get(response.headers["location"])
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def issue(web: World, **overrides: object) -> str:
    response = web.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=web.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def priced(price: str, **overrides: object) -> dict[str, object]:
    line = {**invoice_body()["lines"][0], "unit_price": price}
    return {"lines": [line], **overrides}


def test_lists_filter_sort_and_page(web: World, monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = issue(web, **priced("10"))
    dear = issue(web, **priced("500"))
    ordinary = issue(web, **priced("50", kind="ordinary"))
    sign_in(web, "buyer")
    received = web.client.get("/ui/invoices?direction=received")
    assert received.status_code == 200
    assert received.headers["content-type"] == "text/html; charset=utf-8"
    assert set(ROW.findall(received.text)) == {cheap, dear, ordinary}
    assert "北京示例科技有限公司" in received.text  # the seller is the counterparty
    only = web.client.get("/ui/invoices?direction=received&kind=ordinary")
    assert ROW.findall(only.text) == [ordinary]
    by_total = web.client.get("/ui/invoices?direction=received&sort=total_with_tax")
    assert ROW.findall(by_total.text) == [cheap, ordinary, dear]
    # Sellers see none of the buyer's: nothing is issued by the buyer.
    assert ROW.findall(web.client.get("/ui/invoices").text) == []

    monkeypatch.setattr(invoice_list, "PAGE_SIZE", 2)
    sign_in(web, "seller")
    first = web.client.get("/ui/invoices?sort=-total_with_tax")
    assert ROW.findall(first.text) == [dear, ordinary]
    link = re.search(r'href="(/ui/invoices\?[^"]*cursor=[^"]+)" rel="next"', first.text)
    assert link is not None
    second = web.client.get(link.group(1).replace("&amp;", "&"))
    assert ROW.findall(second.text) == [cheap]
    assert 'rel="next"' not in second.text
    assert 'href="/ui/invoices?direction=issued&amp;sort=-total_with_tax">' in second.text

    wrong = web.client.get("/ui/invoices?from=2026-13-01&counterparty=abc")
    assert wrong.status_code == 422
    assert 'id="f-from-error"' in wrong.text and 'id="f-counterparty-error"' in wrong.text
    backwards = web.client.get("/ui/invoices?from=2026-11-10&to=2026-11-01")
    assert backwards.status_code == 422 and 'id="f-from-error"' in backwards.text


def test_export_csv_of_the_same_filters(web: World) -> None:
    issue(web)
    ordinary = issue(web, kind="ordinary")
    sign_in(web, "buyer")
    page = web.client.get("/ui/invoices?direction=received&kind=ordinary")
    assert "/ui/invoices/export?direction=received&amp;kind=ordinary" in page.text
    response = web.client.get("/ui/invoices/export?direction=received&kind=ordinary&format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("发票号码") and len(lines) == 2 and ordinary in lines[1]
    xlsx = web.client.get("/ui/invoices/export?direction=received&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_another_taxpayers_invoice_is_the_404_page(web: World) -> None:
    number = issue(web)
    sign_in(web, "other")
    page = web.client.get(f"/ui/invoices/{number}")
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert number in page.text and "北京示例科技有限公司" not in page.text
    assert web.client.get("/ui/invoices/123").status_code == 404
    assert web.client.get(f"/ui/invoices/{number}/void").status_code == 405


def test_detail_shows_receipt_qr_timeline_and_the_allowed_actions(web: World) -> None:
    number = issue(web)
    sign_in(web, "buyer")
    page = web.client.get(f"/ui/invoices/{number}")
    assert page.status_code == 200
    text = page.text
    assert "*软件*数据库软件" in text  # *简称*名称
    assert "贰佰贰拾陆圆整" in text  # 226.00 in words
    assert "<svg" in text and f",{number}," in text  # the QR code and its text
    assert "签名回执" in text and "Ed25519" in text
    assert "已开具并记入账本" in text  # the timeline, in words
    assert f"/ui/certification?number={number}" in text  # a special invoice to certify
    assert "/ui/red-letter/new" not in text  # not certified: the buyer may not file
    assert f'action="/ui/invoices/{number}/void"' not in text
    receipt = web.client.get(f"/api/v1/invoices/{number}/receipt")
    assert receipt.status_code == 200 and receipt.json()["alg"] == "Ed25519"
    qr = web.client.get(f"/api/v1/invoices/{number}/qrcode.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")

    sign_in(web, "seller")
    seller = web.client.get(f"/ui/invoices/{number}").text
    assert f"/ui/red-letter/new?blue={number}" in seller
    assert "/ui/certification?number=" not in seller
    assert f'action="/ui/invoices/{number}/void"' not in seller  # electronic
    sign_in(web, "seller_viewer")
    viewer = web.client.get(f"/ui/invoices/{number}").text
    assert "/ui/red-letter/new" not in viewer and "签名回执" in viewer
    sign_in(web, "officer")
    assert web.client.get(f"/ui/invoices/{number}").status_code == 200
    lookup = web.client.get(f"/ui/invoices?number={number}", follow_redirects=False)
    assert (lookup.status_code, lookup.headers["location"]) == (303, f"/ui/invoices/{number}")
    assert web.client.get("/ui/invoices?number=12").status_code == 422


def test_void_a_paper_invoice_through_the_form(web: World) -> None:
    number = issue(web, medium="paper")
    token = sign_in(web, "seller")
    page = web.client.get(f"/ui/invoices/{number}")
    assert f'action="/ui/invoices/{number}/void"' in page.text
    unticked = web.client.post(f"/ui/invoices/{number}/void", data={"csrf_token": token})
    assert unticked.status_code == 422 and 'id="f-confirm-error"' in unticked.text
    no_token = web.client.post(f"/ui/invoices/{number}/void", data={"confirm": "yes"})
    assert no_token.status_code == 403
    done = web.client.post(
        f"/ui/invoices/{number}/void",
        data={"csrf_token": token, "confirm": "yes"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/ui/invoices/{number}?done=voided",
    )
    voided = web.client.get(done.headers["location"]).text
    assert "发票已作废。" in voided
    assert f'action="/ui/invoices/{number}/void"' not in voided
    again = web.client.post(
        f"/ui/invoices/{number}/void", data={"csrf_token": token, "confirm": "yes"}
    )
    assert again.status_code == 409 and "已作废" in again.text
    api = web.client.get(f"/api/v1/invoices/{number}", headers=web.as_("seller"))
    assert api.json()["status"] == "voided"
    token = sign_in(web, "other")
    hidden = web.client.post(
        f"/ui/invoices/{number}/void", data={"csrf_token": token, "confirm": "yes"}
    )
    assert hidden.status_code == 404


def test_trace_page_answers_with_a_guide_link(web: World) -> None:
    number = issue(web)
    sign_in(web, "other")
    made_up = "26110000000000000001"
    page = web.client.get(f"/ui/trace?number={made_up}")
    assert page.status_code == 200
    assert "NOT_ISSUED" in page.text and made_up in page.text
    assert 'href="/ui/help/not-visible#not-issued"' in page.text
    stranger = web.client.get(f"/ui/trace?number={number}&cause=NOT_A_PARTY")
    assert 'href="/ui/help/not-visible#not-a-party"' in stranger.text
    assert "NOT_A_PARTY" in stranger.text
    malformed = web.client.get("/ui/trace?number=12345")
    assert 'href="/ui/help/not-visible#number-malformed"' in malformed.text
    token = sign_in(web, "buyer")
    switched = web.client.post(
        "/ui/lang", data={"lang": "en", "next": "/ui/trace", "csrf_token": token}
    )
    assert switched.status_code == 200
    mine = web.client.get(f"/ui/trace?number={number}")
    assert f"Invoice {number} is issued and you can see it." in mine.text
    assert f'href="/ui/invoices/{number}"' in mine.text
    sign_in(web, "seller")
    by_key = web.client.get("/ui/trace?key=never-sent")
    assert "never-sent" in by_key.text and 'href="/ui/help/not-visible#not-issued"' in by_key.text


def test_help_pages_in_both_languages_and_unknown_slug(web: World) -> None:
    index = web.client.get("/ui/help")  # public: nobody signed in
    assert index.status_code == 200 and 'href="/ui/help/not-visible"' in index.text
    guide = web.client.get("/ui/help/not-visible?number=26110000000000000001")
    assert guide.status_code == 200
    assert "<h1>发票在系统中查不到怎么办</h1>" in guide.text
    assert 'href="#not-issued"' in guide.text  # the table of contents
    assert 'id="not-issued"' in guide.text
    assert "/ui/trace?number=26110000000000000001&amp;cause=NOT_ISSUED" in guide.text
    english = web.client.get("/ui/help/not-visible", headers={"Accept-Language": "en"})
    assert "<h1>I can&#39;t find my invoice</h1>" in english.text
    assert 'href="/ui/trace?cause=NOT_ISSUED"' in english.text
    missing = web.client.get("/ui/help/no-such-article")
    assert missing.status_code == 404 and "页面不存在" in missing.text
    sign_in(web, "buyer")
    signed_in = web.client.get("/ui/help")
    assert 'href="/ui/trace"' in signed_in.text  # the nav's entry "Can't find an invoice?"
    assert BUYER_ID not in signed_in.text


def test_red_invoices_are_linked_both_ways_and_certified_ones_offer_the_buyer_a_form(
    web: World,
) -> None:
    blue = issue(web)
    form = web.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": blue, "reason": "01"},
        headers=web.as_("seller"),
    )
    assert form.status_code == 201, form.text
    red = form.json()["red_invoice_number"]
    sign_in(web, "seller")
    page = web.client.get(f"/ui/invoices/{blue}").text
    assert "冲销它的红字发票" in page and f'href="/ui/invoices/{red}"' in page
    assert "/ui/red-letter/new" not in page  # fully reversed: nothing left
    red_page = web.client.get(f"/ui/invoices/{red}").text
    assert f"红字发票 {red}" in red_page and f'href="/ui/invoices/{blue}"' in red_page

    certified = issue(web)
    answer = web.client.post(
        f"/api/v1/invoices/{certified}/certify",
        json={"period": "202611", "purpose": "deduct"},
        headers=web.as_("buyer"),
    )
    assert answer.status_code == 200, answer.text
    sign_in(web, "buyer")
    buyer = web.client.get(f"/ui/invoices/{certified}").text
    assert f"/ui/red-letter/new?blue={certified}" in buyer
    assert "/ui/certification?number=" not in buyer
    assert "已勾选，所属期 202611（抵扣进项税）" in buyer
