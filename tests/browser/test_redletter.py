"""Red-letter forms, certification and public verification in a real browser at phone
and desktop widths: the demo seller files a form for an invoice the buyer has certified,
the demo buyer sees it waiting with the time left and agrees; the buyer ticks a received
special invoice; anyone verifies an invoice without signing in."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import APIRequestContext, Page

from .conftest import PASSWORD

BEIJING = timezone(timedelta(hours=8))


def _token(api: APIRequestContext, username: str) -> dict[str, str]:
    answer = api.post("/api/v1/auth/token", form={"username": username, "password": PASSWORD})
    assert answer.ok, answer.text()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _issue_special(api: APIRequestContext) -> dict[str, Any]:
    """A fresh special invoice from the demo seller to the demo buyer (the demo data is
    shared by every test, so each run makes its own)."""
    body = {
        "kind": "special",
        "buyer": {"tax_id": "91110105MA01ABCD13", "name": "北京样例贸易有限公司"},
        "lines": [
            {
                "name": "软件开发服务",
                "tax_code": "3040201030000000000",
                "unit": "项",
                "quantity": "2",
                "unit_price": "500",
                "tax_rate": "0.06",
            }
        ],
    }
    issued = api.post("/api/v1/invoices", data=body, headers=_token(api, "seller-clerk"))
    assert issued.status == 201, issued.text()
    return dict(issued.json())


def _period() -> str:
    return datetime.now(BEIJING).strftime("%Y%m")


def test_seller_files_a_form_and_the_buyer_agrees(
    page: Page, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    api = page.request
    number = _issue_special(api)["number"]
    certified = api.post(
        f"/api/v1/invoices/{number}/certify",
        data={"period": _period(), "purpose": "deduct"},
        headers=_token(api, "buyer-clerk"),
    )
    assert certified.ok, certified.text()

    sign_in(page, "seller-clerk")
    page.get_by_role("link", name="红字发票").click()
    page.wait_for_url("**/ui/red-letter")
    check_page(page, "redletter-list-seller-zh")
    page.fill("#f-blue", number)
    page.get_by_role("button", name="发起红字确认单").click()
    page.wait_for_url(f"**/ui/red-letter/new?blue={number}")
    assert page.locator("#f-amount_1").is_visible()
    check_page(page, "redletter-new-zh")
    page.get_by_label("02 销货退回").check()
    page.get_by_role("button", name="提交确认单").click()
    page.wait_for_url(re.compile(r".*/ui/red-letter/\d+$"))
    form_path = urlsplit(page.url).path
    assert "销方录入，待购方确认" in page.locator("main").inner_text()
    check_page(page, "redletter-detail-seller-zh")

    page.context.clear_cookies()
    sign_in(page, "buyer-clerk")
    page.goto("/ui/red-letter")
    row = page.locator("tr", has=page.locator(f"a[href='{form_path}']"))
    assert re.search(r"剩余 \d+ 小时 \d+ 分钟", row.inner_text()), row.inner_text()
    check_page(page, "redletter-list-buyer-zh")
    row.get_by_role("link").click()
    page.wait_for_url(f"**{form_path}")
    check_page(page, "redletter-detail-buyer-zh")
    page.get_by_role("button", name="同意", exact=True).click()
    page.wait_for_url(f"**{form_path}")
    assert "双方已确认" in page.locator("main").inner_text()
    red = page.locator("a[href^='/ui/invoices/']").inner_text()
    assert re.fullmatch(r"\d{20}", red)
    check_page(page, "redletter-agreed-zh")


def test_buyer_certifies_a_received_special_invoice(
    page: Page, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    number = _issue_special(page.request)["number"]
    sign_in(page, "buyer-clerk")
    page.get_by_role("link", name="勾选认证", exact=True).click()
    page.wait_for_url("**/ui/certification")
    row = page.locator("li", has=page.locator(f"input[value='{number}']"))
    row.locator("input[type=checkbox]").check()
    check_page(page, "certification-zh")
    page.get_by_role("button", name="勾选所选发票").click()
    page.wait_for_url("**/ui/certification?period=*")
    ticked = page.locator("table tr", has=page.locator(f"text={number}"))
    assert ticked.count() == 1
    check_page(page, "certification-ticked-zh")
    # The period's confirmation asks first; cancelled here (the demo data is shared).
    page.get_by_role("button", name="确认所属期").click()
    page.wait_for_url("**confirm=1#confirm")
    assert page.get_by_role("button", name="确认并签名").is_visible()
    check_page(page, "certification-confirm-zh")
    page.get_by_role("link", name="取消").click()
    page.wait_for_url("**/ui/certification?period=*")
    assert page.get_by_role("button", name="确认所属期").is_visible()


def test_anyone_verifies_an_invoice_without_signing_in(
    page: Page, check_page: Callable[..., None]
) -> None:
    invoice = _issue_special(page.request)
    page.goto("/verify")
    check_page(page, "verify-zh")
    page.fill("#f-number", invoice["number"])
    page.fill("#f-issue_date", invoice["issue_date"])
    page.fill("#f-total_with_tax", "12.34")
    page.get_by_role("button", name="发票查验", exact=True).click()
    assert "不一致" in page.locator(".verify-result").inner_text()
    page.fill("#f-total_with_tax", invoice["total_with_tax"])
    page.get_by_role("button", name="发票查验", exact=True).click()
    result = page.locator(".verify-result").inner_text()
    assert "发票存在，且信息一致" in result and "北京示例科技有限公司" in result
    check_page(page, "verify-match-zh")
