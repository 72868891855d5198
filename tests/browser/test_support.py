"""Support tickets, announcements, the maintenance page and the dashboard in a real
browser at phone and desktop widths: a clerk opens a ticket with a real PNG screenshot
and sees it in the thread, an officer answers; every page checked (see check_page)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

# One user per viewport: officers sign in with a one-time code, accepted once.
CLERK = {"phone": "seller-clerk", "desktop": "buyer-clerk"}
OFFICER = {"phone": "helpdesk-1", "desktop": "helpdesk-2"}


def test_a_clerk_opens_a_ticket_with_a_screenshot_and_an_officer_answers(
    page: Page,
    viewport: str,
    sign_in: Callable[..., None],
    check_page: Callable[..., None],
    tmp_path: Path,
) -> None:
    sign_in(page, CLERK[viewport])
    page.goto("/ui/tickets/new")
    check_page(page, "ticket-new-zh")
    shot = tmp_path / "dashboard.png"
    shot.write_bytes(page.screenshot())  # a real PNG, as a user would attach
    page.fill("#f-subject", f"开票页面报错（{viewport}）")
    page.select_option("#f-category", "issuing")
    page.fill("#f-body", "点击“开具”后页面提示错误，截图见附件。")
    page.set_input_files("#f-files", str(shot))
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/ui/tickets/T\d{6}-\d+$"))
    ticket_url = page.url
    image = page.locator(".shots img")
    assert image.count() == 1
    image.scroll_into_view_if_needed()
    assert page.evaluate("() => document.querySelector('.shots img').naturalWidth") > 0
    assert "截图见附件" in page.locator(".thread").inner_text()
    check_page(page, "ticket-thread-zh")
    page.goto("/ui/tickets")
    check_page(page, "tickets-zh")

    page.context.clear_cookies()
    sign_in(page, OFFICER[viewport])
    page.goto("/ui/tickets?status=open")
    assert page.get_by_role("link", name=f"开票页面报错（{viewport}）").count() == 1
    check_page(page, "tickets-queue-zh")
    page.goto(ticket_url)
    page.fill("#f-body", "已收到，请稍候，我们正在排查。")
    page.select_option("#f-status", "waiting_user")
    page.click("form[action$='/messages'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/ui/tickets/T\d{6}-\d+(#latest)?$"))
    assert "等待用户补充" in page.locator("main").inner_text()
    assert "我们正在排查" in page.locator(".thread .from-officer").inner_text()
    check_page(page, "ticket-answered-zh")
    page.goto("/ui/maintenance")
    check_page(page, "maintenance-zh")
    page.goto("/ui/announcements/new")
    check_page(page, "announcement-new-zh")
    page.goto("/ui/dashboard")
    assert page.locator("svg.chart[role=img]").count() == 1  # the platform's 30 days
    check_page(page, "dashboard-officer-zh")


def test_announcements_and_the_dashboard_chart(
    page: Page, viewport: str, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    page.goto("/ui/announcements")
    assert page.locator("link[rel=alternate][type='application/atom+xml']").count() == 1
    assert page.get_by_role("link", name="平台公告与维护通知上线").count() == 1
    check_page(page, "announcements-zh")
    page.get_by_role("link", name="平台公告与维护通知上线").click()
    page.wait_for_url(re.compile(r".*/ui/announcements/\d+$"))
    assert "Atom/RSS" in page.locator("main").inner_text()
    check_page(page, "announcement-zh")
    sign_in(page, CLERK[viewport])
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 2  # the last 30 days and the credit meter
    assert "最近 30 天" in (charts.last.get_attribute("aria-label") or "")
    assert page.get_by_role("link", name="前往勾选认证").count() == 1
    check_page(page, "dashboard-support-zh")
