"""The admin and officer pages in a real browser at phone and desktop widths: the demo
admin opens the folded admin menu, adds a user and makes an API token shown once; the
demo officer searches the taxpayers, changes a credit limit and finds the change in the
audit log; a clerk enrols an authenticator app. Every page checked for accessibility
and sideways scrolling."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
from playwright.sync_api import Page

from .conftest import PASSWORD

SELLER = "91110108551385082Q"
# The demo data is shared by the whole run: each viewport makes its own objects.
LIMIT = {"phone": "4800000.00", "desktop": "4900000.00"}


def test_the_admin_adds_a_user_and_an_api_token(
    page: Page, viewport: str, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    sign_in(page, "seller-admin")
    page.locator("nav summary").click()  # the folded admin menu opens without script
    users = page.locator("nav").get_by_role("link", name="用户")
    assert users.is_visible()
    check_page(page, "admin-menu-zh")
    users.click()
    page.wait_for_url("**/ui/admin/users")
    assert "seller-clerk" in page.locator("table").inner_text()
    check_page(page, "admin-users-zh")
    username = f"{viewport}-clerk"
    page.fill("#f-username", username)
    page.select_option("#f-role", "viewer")
    page.fill("#f-password", "short")
    page.click("main button.primary")
    assert page.locator("#f-password-error").is_visible()
    check_page(page, "admin-users-error-zh")
    page.fill("#f-password", "a-new-users-pass-2026")
    page.click("main button.primary")
    page.wait_for_url(f"**/ui/admin/users/{username}?done=added")
    assert "查看者" in page.locator("dl.facts").inner_text()  # the role chosen
    check_page(page, "admin-user-zh")

    page.goto("/ui/admin/tokens")
    check_page(page, "admin-tokens-zh")
    page.fill("#f-name", f"ERP {viewport}")
    page.locator("input[name=scopes][value=issue]").check()
    page.click("main button.primary")
    secret = page.locator("textarea#secret").input_value()
    assert secret.startswith("fpt_")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="复制").click()
    page.locator("#secret-copied").wait_for()  # shown once the clipboard took it
    assert page.evaluate("navigator.clipboard.readText()") == secret
    check_page(page, "admin-token-created-zh")
    page.goto("/ui/admin/tokens")
    row = page.locator("tr", has_text=f"ERP {viewport}")
    assert secret not in page.content()
    row.get_by_role("button", name="吊销").click()
    page.wait_for_url("**/ui/admin/tokens?done=revoked")
    assert "已吊销" in page.locator("tr", has_text=f"ERP {viewport}").inner_text()

    page.goto("/ui/admin/webhooks")
    assert page.locator("#f-url").is_visible()
    check_page(page, "admin-webhooks-zh")
    page.goto("/ui/totp")
    assert "双重验证登录已开启" in page.locator("main").inner_text()
    check_page(page, "totp-on-zh")


def test_the_officer_changes_a_credit_limit_and_finds_it_in_the_audit_log(
    page: Page, viewport: str, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    sign_in(page, "officer")
    page.goto("/ui/admin/taxpayers")
    check_page(page, "admin-taxpayers-zh")
    page.fill("#f-q", "示例科技")
    page.click("form.search button")
    page.get_by_role("link", name=SELLER).click()
    page.wait_for_url(f"**/ui/admin/taxpayers/{SELLER}")
    check_page(page, "admin-taxpayer-zh")
    page.fill("#f-credit_limit", "12,5")
    page.click("main form.narrow-form button.primary")
    assert page.locator("#f-credit_limit-error").is_visible()
    page.fill("#f-credit_limit", LIMIT[viewport])
    page.click("main form.narrow-form button.primary")
    page.wait_for_url(f"**/ui/admin/taxpayers/{SELLER}?done=saved")
    assert page.locator("#f-credit_limit").input_value() == LIMIT[viewport]

    page.goto("/ui/admin/audit")
    page.fill("#f-action", "taxpayer.update")
    page.fill("#f-object_id", SELLER)
    for _ in range(20):  # the audit trail writes its entries in batches, within a second
        page.click("form.filters button.primary")
        page.wait_for_load_state()
        if page.locator("table").count():
            break
        page.wait_for_timeout(250)
    table = page.locator("table").inner_text()
    assert "taxpayer.update" in table and SELLER in table and "officer" in table
    check_page(page, "admin-audit-zh")
    export = page.locator("a", has_text="导出为 CSV").get_attribute("href") or ""
    assert export.startswith("/ui/admin/audit/export?") and "taxpayer.update" in export
    page.goto("/ui/admin/taxpayers/new")
    check_page(page, "admin-taxpayer-new-zh")


def test_a_clerk_enrols_an_authenticator_app_and_turns_it_off_again(
    page: Page, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    sign_in(page, "small-clerk")
    page.goto("/ui/totp")
    check_page(page, "totp-off-zh")
    page.click("main button.primary")
    secret = page.locator(".secret-text").inner_text()
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0
    check_page(page, "totp-enrol-zh")
    page.fill("#f-code", pyotp.TOTP(secret).now())
    page.click("main button.primary")
    assert page.locator("ul.codes li").count() == 10
    check_page(page, "totp-codes-zh")
    page.goto("/ui/totp")
    page.fill("#f-password", PASSWORD)  # off again: the other tests sign in without a code
    page.click("main form[action='/ui/totp/disable'] button")
    page.wait_for_url("**/ui/totp?done=off")
    assert page.locator("main button.primary").is_visible()
