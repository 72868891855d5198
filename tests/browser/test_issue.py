"""Issuing an invoice in a real browser at phone and desktop widths: a recent buyer picked,
a wrong taxpayer ID caught live and again on submit next to its field, the live totals,
and the confirmation with the number and the signed receipt. Each step checked for
accessibility and sideways scrolling (see conftest.check_page)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

BUYER_ID = "91110105MA01ABCD13"  # the demo buyer
WRONG_ID = "91110105MA01ABCD14"  # one character off: the check character does not match


def test_issue_an_invoice_with_a_corrected_buyer_tax_id(
    page: Page, viewport: str, sign_in: Callable[..., None], check_page: Callable[..., None]
) -> None:
    sign_in(page, "seller-clerk")
    page.click("nav a[href='/ui/issue']")
    page.wait_for_url("**/ui/issue")
    assert page.locator("h1").inner_text() == "开具发票"
    check_page(page, "issue-zh")

    # The demo seller invoiced the demo buyer: the picker fills the buyer's fields.
    page.select_option("#recent-buyer", BUYER_ID)
    expect(page.locator("#f-buyer_name")).to_have_value("北京样例贸易有限公司")
    expect(page.locator("#tax-id-check .ok")).to_be_visible()
    page.fill("#f-buyer_tax_id", WRONG_ID)
    expect(page.locator("#tax-id-check .error")).to_contain_text(WRONG_ID)

    # Lines are added and removed in place; an added line searches codes like the others.
    page.click("#more-lines")
    expect(page.locator("fieldset.line")).to_have_count(4)
    expect(page.locator("#line-count")).to_have_value("4")
    page.fill("#f-line3_tax_code", "软件")
    expect(page.locator("#codes-3 option").first).to_have_attribute(
        "value", re.compile(r"^\d{19}$")
    )
    page.locator("fieldset.line[data-row='3'] button.remove").click()
    expect(page.locator("fieldset.line")).to_have_count(3)

    # A tax code found by word: the datalist offers codes with their short names.
    page.fill("#f-line0_tax_code", "软件")
    expect(page.locator("#codes-0 option").first).to_have_attribute(
        "value", re.compile(r"^\d{19}$")
    )
    page.fill("#f-line0_name", "数据库软件")
    page.fill("#f-line0_tax_code", "1060301010200000000")
    page.fill("#f-line0_unit", "套")
    page.fill("#f-line0_quantity", "1")
    page.fill("#f-line0_unit_price", "100")
    expect(page.locator("#total-words")).to_have_text("壹佰壹拾叁圆整")
    expect(page.locator("#total-with-tax")).to_have_text("¥113.00")

    # Submitted anyway: the service refuses, the error is next to the field, values kept.
    page.get_by_role("button", name="开具发票").last.click()
    page.wait_for_load_state()
    error = page.locator("#f-buyer_tax_id-error")
    expect(error).to_be_visible()
    expect(page.locator("#f-buyer_tax_id")).to_have_value(WRONG_ID)
    expect(page.locator("#f-line0_name")).to_have_value("数据库软件")
    check_page(page, "issue-error-zh")

    page.fill("#f-buyer_tax_id", BUYER_ID)
    expect(page.locator("#tax-id-check .ok")).to_be_visible()
    expect(page.locator("#f-buyer_tax_id-error")).to_have_count(0)  # the old refusal is gone
    # Prices that include tax: 113.00 is then 100.00 plus 13.00 tax.
    page.fill("#f-line0_unit_price", "113")
    page.check("#f-prices_include_tax")
    expect(page.locator("#total-tax")).to_have_text("¥13.00")
    expect(page.locator("#total-with-tax")).to_have_text("¥113.00")
    check_page(page, "issue-filled-zh")

    page.press("#f-line0_quantity", "Enter")  # Enter issues; it never removes a row
    page.wait_for_url(re.compile(r".*/ui/issue/done/\d{20}$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.locator("#invoice-number")).to_have_text(number)
    expect(page.locator("#done-words")).to_have_text("壹佰壹拾叁圆整")
    expect(page.locator("main")).to_contain_text("*软件*数据库软件")
    expect(page.locator("#receipt-signature")).not_to_be_empty()
    check_page(page, "issue-done-zh")
    page.get_by_role("link", name="再开一张发票").click()
    page.wait_for_url("**/ui/issue")
