"""The web foundation in a real browser at phone and desktop widths: signing in (with a
one-time code), the dashboard, the language switch remembered across sign-ins, and a
password change refused next to its field. Every page checked for accessibility and
sideways scrolling (see conftest.check_page)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page

from .conftest import PASSWORD, SCREENSHOTS, VIEWPORTS

# One user per viewport, so the two runs never share a one-time code or a saved language.
TOTP_USER = {"phone": "seller-admin", "desktop": "officer"}
LANGUAGE_USER = {"phone": "seller-clerk", "desktop": "buyer-clerk"}


def test_sign_in_with_a_one_time_code_reaches_the_dashboard(
    page: Page, viewport: str, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    page.goto("/")
    assert page.url.endswith("/ui/login")
    check_page(page, "login-zh")
    username = TOTP_USER[viewport]
    page.fill("#f-username", username)
    page.fill("#f-password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("#f-password-error").inner_text() == "用户名或密码错误。"
    check_page(page, "login-error-zh")
    sign_in(page, username)
    assert page.locator("h1").inner_text() == "工作台"
    # htmx loaded from this site, configured not to inject styles the CSP would refuse
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    if username == "officer":
        page.locator("nav summary").click()  # the admin entries are folded away
        assert page.get_by_role("link", name="纳税人").is_visible()
    else:
        assert "北京示例科技有限公司" in page.locator("main").inner_text()
        assert page.locator("svg.chart[role=img]").count() == 2  # 30 days, credit meter
    check_page(page, f"dashboard-{username}-zh")


def test_language_switch_is_remembered_after_signing_out_and_in(
    page: Page, viewport: str, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    username = LANGUAGE_USER[viewport]
    sign_in(page, username)
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/ui/dashboard")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page, "dashboard-en")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/login")
    page.context.clear_cookies()  # forget the browser's cookie too: the user keeps it
    sign_in(page, username)
    assert page.locator("h1").inner_text() == "Dashboard"
    page.get_by_role("button", name="中文").click()  # back, for the next run
    assert page.locator("h1").inner_text() == "工作台"


def test_password_change_error_is_shown_next_to_the_field(
    page: Page, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    sign_in(page, "seller-viewer")
    page.goto("/ui/password")
    page.fill("#f-current_password", "not-the-password")
    page.fill("#f-new_password", "another-demo-pass-2026")
    page.fill("#f-confirm_password", "another-demo-pass-2026")
    page.click("main button[type=submit]")
    error = page.locator("#f-current_password-error")
    assert error.is_visible()
    assert page.locator("#f-current_password").get_attribute("aria-invalid") == "true"
    check_page(page, "password-error-zh")


def test_signing_in_and_reading_work_without_javascript(
    browser: Browser, server: str, viewport: str
) -> None:
    context = browser.new_context(
        base_url=server, viewport=VIEWPORTS[viewport], locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto("/ui/dashboard")
        assert "/ui/login?next=/ui/dashboard" in page.url
        page.fill("#f-username", "small-clerk")
        page.fill("#f-password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/dashboard")
        assert "北京小规模餐饮店" in page.locator("main").inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-nojs-{viewport}.png"), full_page=True)
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/ui/login")
    finally:
        context.close()


def _tab_to(page: Page, selector: str, most: int = 40) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(most):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus by Tab")


def test_signing_in_and_moving_around_with_the_keyboard_only(page: Page) -> None:
    page.goto("/ui/login")
    _tab_to(page, "#f-username")
    page.keyboard.type("seller-viewer")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/dashboard")
    _tab_to(page, 'nav a[href="/ui/invoices"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/invoices")
    assert page.locator("h1").count() == 1
