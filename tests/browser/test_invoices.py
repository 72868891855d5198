"""The invoice pages in a real browser at phone and desktop widths: the demo buyer finds
the seller's invoice among its received invoices and opens it (QR code, timeline), traces
a made-up number, and reads the help guide. Each page checked by check_page."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from fapiao.cli import demo

MADE_UP = "26119999999999999999"


def test_buyer_sees_the_sellers_invoice_and_opens_it(
    page: Page, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    sign_in(page, "buyer-clerk")
    page.get_by_role("link", name="发票", exact=True).click()
    page.get_by_role("link", name="收到的发票", exact=True).click()
    page.wait_for_url("**/ui/invoices?direction=received")
    rows = page.locator("table.invoices tbody tr")
    assert rows.count() >= 3
    assert demo.SELLER[1] in rows.first.inner_text()
    check_page(page, "invoices-received-zh")
    page.goto("/ui/invoices?direction=received&sort=total_with_tax")
    check_page(page, "invoices-sorted-zh")
    page.select_option("#f-kind", "special")  # a special invoice: the buyer may certify it
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**kind=special**")
    rows.first.locator("a.mono").click()
    page.wait_for_url("**/ui/invoices/*")
    assert page.locator("h1").inner_text().startswith("发票 ")
    assert page.locator(".qr svg").is_visible()
    assert page.locator("ol.timeline li").count() >= 1
    assert "已开具并记入账本" in page.locator("ol.timeline").inner_text()
    assert page.get_by_role("link", name="勾选认证此发票").is_visible()
    check_page(page, "invoice-detail-zh")


def test_trace_a_made_up_number(
    page: Page, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    sign_in(page, "buyer-clerk")
    page.get_by_role("link", name="查不到发票？").click()
    page.fill("#f-number", MADE_UP)
    page.get_by_role("button", name="追踪", exact=True).click()
    page.wait_for_url(f"**/ui/trace?number={MADE_UP}")
    answer = page.locator(".answer")
    assert MADE_UP in answer.inner_text()
    check_page(page, "trace-zh")
    answer.get_by_role("link").last.click()
    page.wait_for_url("**/ui/help/not-visible#*")
    assert page.locator("h1").inner_text() == "发票在系统中查不到怎么办"


def test_help_guide_signed_out(page: Page, check_page: Callable[..., None]) -> None:
    page.goto("/ui/help")
    assert page.locator("ol.articles li").count() >= 5
    check_page(page, "help-zh")
    page.goto(f"/ui/help/not-visible?number={MADE_UP}")
    assert page.locator("nav.toc li").count() >= 5
    link = page.locator("article.help a[href*='cause=NOT_ISSUED']").first
    assert MADE_UP in (link.get_attribute("href") or "")
    check_page(page, "help-guide-zh")
