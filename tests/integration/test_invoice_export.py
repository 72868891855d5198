"""Invoice lists sorted either way, exported as CSV and XLSX, and the look-ups of the issue
form (tax codes, recent buyers)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from conftest import BUYER_ID, OTHER_ID, World, invoice_body
from fapiao.kit.taxid import uscc_check_char


def issue(world: World, price: str, who: str = "seller", **overrides: Any) -> str:
    body = invoice_body(**overrides)
    body["lines"][0]["unit_price"] = price
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_(who))
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def all_pages(world: World, sort: str, limit: int = 2) -> list[str]:
    numbers: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = world.client.get("/api/v1/invoices", params=params, headers=world.as_("seller"))
        assert page.status_code == 200, page.text
        numbers += [item["number"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return numbers


def test_lists_sort_by_total_and_date_both_ways_across_pages(world: World) -> None:
    prices = ["30", "10", "50", "10", "20"]
    numbers = [issue(world, price) for price in prices]
    by_total = all_pages(world, "total_with_tax")
    # Equal totals are ordered by id in the same direction.
    expected = [n for _, n in sorted(zip([Decimal(p) for p in prices], numbers, strict=True))]
    assert by_total == expected
    assert all_pages(world, "-total_with_tax") == expected[::-1]
    assert all_pages(world, "issue_date") == numbers
    assert all_pages(world, "-issue_date") == numbers[::-1]


def test_a_cursor_of_one_order_is_refused_by_another(world: World) -> None:
    for price in ("1", "2", "3"):
        issue(world, price)
    page = world.client.get(
        "/api/v1/invoices",
        params={"sort": "total_with_tax", "limit": 1},
        headers=world.as_("seller"),
    ).json()
    refused = world.client.get(
        "/api/v1/invoices",
        params={"sort": "-issue_date", "cursor": page["next_cursor"]},
        headers=world.as_("seller", **{"Accept-Language": "en"}),
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "cursor"
    assert refused.json()["errors"][0]["code"] == "CURSOR_INVALID"


def test_csv_export_has_translated_headers_exact_amounts_and_only_own_invoices(
    world: World,
) -> None:
    # A buyer without an account here may carry any name, even one that looks like a formula.
    stranger = "91110105MA01QQQQ1" + uscc_check_char("91110105MA01QQQQ1")
    mine = issue(world, "100", buyer={"tax_id": stranger, "name": "=HYPERLINK(1)"})
    issue(world, "7", who="other")
    response = world.client.get(
        "/api/v1/invoices/export", params={"format": "csv"}, headers=world.as_("seller")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][0] == "发票号码" and "价税合计" in rows[0]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["发票号码"] == mine
    assert row["价税合计"] == "226.00"
    assert row["种类"] == "专用发票" and row["状态"] == "正常"
    assert row["购买方"] == "'=HYPERLINK(1)"  # text, never a formula


def test_xlsx_export_in_english_with_filters(world: World) -> None:
    issue(world, "100")
    ordinary = issue(world, "10", kind="ordinary")
    response = world.client.get(
        "/api/v1/invoices/export",
        params={"format": "xlsx", "kind": "ordinary"},
        headers=world.as_("seller", **{"Accept-Language": "en"}),
    )
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Invoice number" and values[0][11] == "Total with tax"
    assert len(values) == 2 and values[1][0] == ordinary
    assert values[1][2] == "ordinary" and Decimal(str(values[1][11])) == Decimal("22.60")


def test_received_export_and_bad_range(world: World) -> None:
    number = issue(world, "100")
    received = world.client.get(
        "/api/v1/invoices/export", params={"direction": "received"}, headers=world.as_("buyer")
    )
    assert number in received.content.decode("utf-8")
    bad = world.client.get(
        "/api/v1/invoices/export",
        params={"from": "2026-12-02", "to": "2026-12-01"},
        headers=world.as_("seller"),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "from"


def test_tax_code_search_and_recent_buyers(world: World) -> None:
    codes = world.client.get(
        "/api/v1/tax-codes", params={"q": "3040201030000000000"}, headers=world.as_("seller")
    )
    assert codes.status_code == 200
    assert codes.json()[0]["code"] == "3040201030000000000"
    assert codes.json()[0]["short_name"] == "软件维护服务"
    issue(world, "1")
    issue(world, "2", buyer={"tax_id": OTHER_ID, "name": "北京其他有限公司", "phone": "010-1"})
    issue(world, "3")
    recent = world.client.get("/api/v1/buyers/recent", headers=world.as_("seller")).json()
    assert [buyer["tax_id"] for buyer in recent] == [BUYER_ID, OTHER_ID]
    only = world.client.get(
        "/api/v1/buyers/recent", params={"q": "其他"}, headers=world.as_("seller")
    ).json()
    assert len(only) == 1 and only[0]["phone"] == "010-1"
    # Another taxpayer's buyers are not offered.
    assert world.client.get("/api/v1/buyers/recent", headers=world.as_("buyer")).json() == []


def test_qr_code_of_an_invoice_for_its_parties_only(world: World) -> None:
    from fapiao.invoices import qrcode

    number = issue(world, "100")
    response = world.client.get(f"/api/v1/invoices/{number}/qrcode.svg", headers=world.as_("buyer"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg")
    scanned = qrcode.parse(response.headers["x-fapiao-qr"], world.platform.secret)
    assert scanned is not None and scanned.genuine and scanned.number == number
    assert scanned.total_with_tax == Decimal("226.00")
    hidden = world.client.get(f"/api/v1/invoices/{number}/qrcode.svg", headers=world.as_("other"))
    assert hidden.status_code == 404
