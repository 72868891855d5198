"""The issuing page through the real app: an invoice issued through the form, refusals
shown next to their fields with the values kept, the live figures, one invoice for a
double submit, the role check, and the tax-code and tax ID fragments. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from conftest import BUYER_ID, PASSWORD, World
from fapiao.taxpayers.models import Taxpayer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
DONE = re.compile(r"^/ui/issue/done/(\d{20})$")
SOFTWARE = "1060301010200000000"


@pytest.fixture
def web(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(world.platform.settings, "cookie_secure", False)
    world.client.cookies.clear()
    yield world
    world.client.cookies.clear()


def sign_in(web: World, username: str = "seller") -> str:
    response = web.client.post(
        "/ui/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    found = CSRF.search(web.client.get(response.headers["location"]).text)
    assert found is not None
    return found.group(1)


def filled(csrf: str, key: str = "key-1", **overrides: str) -> dict[str, str]:
    """The form as a browser sends it: one filled line (2 × 100.00 at 13%), two blank."""
    data = {
        "csrf_token": csrf,
        "idempotency_key": key,
        "line_count": "3",
        "kind": "special",
        "medium": "electronic",
        "buyer_name": "北京样例贸易有限公司",
        "buyer_tax_id": BUYER_ID,
        "line0_name": "数据库软件",
        "line0_tax_code": SOFTWARE,
        "line0_unit": "套",
        "line0_quantity": "2",
        "line0_unit_price": "100",
        "line0_tax_rate": "0.13",
        "line1_tax_rate": "0.13",
        "line2_tax_rate": "0.13",
        "remarks": "",
        "issue": "1",
    }
    data.update(overrides)
    return data


def issued_numbers(web: World) -> list[str]:
    page = web.client.get("/api/v1/invoices", headers=web.as_("seller"))
    assert page.status_code == 200
    return [item["number"] for item in page.json()["items"]]


def test_an_invoice_is_issued_through_the_form(web: World) -> None:
    csrf = sign_in(web)
    page = web.client.get("/ui/issue")
    assert page.status_code == 200
    assert 'href="/ui/issue" aria-current="page"' in page.text
    assert 'href="/ui/help/issue"' in page.text
    assert KEY.search(page.text) is not None  # each new form has its own key
    assert 'name="line2_name"' in page.text and 'value="exempt"' in page.text
    response = web.client.post("/ui/issue", data=filled(csrf), follow_redirects=False)
    assert response.status_code == 303, response.text
    found = DONE.match(response.headers["location"])
    assert found is not None
    number = found.group(1)
    assert issued_numbers(web) == [number]
    done = web.client.get(response.headers["location"])
    assert done.status_code == 200
    assert number in done.text
    assert "*软件*数据库软件" in done.text
    assert "¥226.00" in done.text and "贰佰贰拾陆圆整" in done.text
    receipt = web.client.get(f"/api/v1/invoices/{number}/receipt", headers=web.as_("seller"))
    assert receipt.json()["signature"] in done.text
    assert 'href="/ui/issue"' in done.text


def test_a_refusal_is_shown_next_to_its_field_with_the_values_kept(web: World) -> None:
    csrf = sign_in(web)
    english = {"Accept-Language": "en"}
    wrong_id = filled(csrf, buyer_tax_id="91110105MA01ABCD14")
    response = web.client.post("/ui/issue", data=wrong_id, headers=english)
    assert response.status_code == 422
    text = response.text
    assert re.search(r'id="f-buyer_tax_id-error">[^<]*last character does not match', text)
    assert 'aria-invalid="true"' in text
    assert 'value="91110105MA01ABCD14"' in text and 'value="数据库软件"' in text
    assert 'value="key-1"' in text  # the same key: a corrected submit is still one invoice
    chinese = web.client.post("/ui/issue", data=wrong_id)
    assert re.search(r'id="f-buyer_tax_id-error">[^<]*(纳税人|税号)', chinese.text)
    # The filled line is the second row: the API's lines[0] is shown on row 1.
    second_row = filled(
        csrf,
        line0_name="",
        line0_tax_code="",
        line0_unit="",
        line0_quantity="",
        line0_unit_price="",
        line1_name="数据库软件",
        line1_tax_code=SOFTWARE,
        line1_quantity="abc",
        line1_unit_price="100",
    )
    response = web.client.post("/ui/issue", data=second_row, headers=english)
    assert response.status_code == 422
    assert re.search(r'id="f-line1_quantity-error">Not a decimal number', response.text)
    assert 'value="abc"' in response.text
    unknown = filled(csrf, line0_tax_code="1234567890123456789")
    response = web.client.post("/ui/issue", data=unknown, headers=english)
    assert re.search(r'id="f-line0_tax_code-error">[^<]*not in the code table', response.text)
    assert issued_numbers(web) == []


def test_a_refusal_without_a_field_is_shown_above_the_form(web: World) -> None:
    csrf = sign_in(web)
    with web.platform.database.transaction() as session:
        session.execute(update(Taxpayer).values(credit_limit=100))
    response = web.client.post("/ui/issue", data=filled(csrf), headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "monthly credit limit" in response.text
    assert 'value="数据库软件"' in response.text


def preview(web: World, csrf: str, **overrides: str) -> str:
    data: dict[str, Any] = filled(csrf, **{"line0_quantity": "1", **overrides})
    response = web.client.post("/ui/issue/preview", data=data, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    assert "<html" not in response.text  # a fragment
    return response.text


def test_preview_figures_for_exclusive_and_inclusive_prices(web: World) -> None:
    csrf = sign_in(web)
    exclusive = preview(web, csrf)
    assert 'data-figure="amount-0">100.00' in exclusive
    assert 'data-figure="tax-0">13.00' in exclusive
    assert "¥113.00" in exclusive and "壹佰壹拾叁圆整" in exclusive
    inclusive = preview(web, csrf, line0_unit_price="113", prices_include_tax="1")
    assert 'data-figure="amount-0">100.00' in inclusive
    assert 'data-figure="tax-0">13.00' in inclusive
    assert "¥113.00" in inclusive and "壹佰壹拾叁圆整" in inclusive
    # A second line that cannot be worked out shows no figure; the first still counts.
    partial = preview(web, csrf, line1_name="x", line1_quantity="x", line1_unit_price="5")
    assert "amount-1" not in partial and "壹佰壹拾叁圆整" in partial
    exempt = preview(web, csrf, line0_tax_rate="exempt")
    assert 'data-figure="tax-0">0.00' in exempt and "壹佰圆整" in exempt
    nothing = preview(web, csrf, line0_quantity="0")
    assert "data-figure" not in nothing


def test_a_double_submit_issues_one_invoice(web: World) -> None:
    csrf = sign_in(web)
    first = web.client.post("/ui/issue", data=filled(csrf, "same"), follow_redirects=False)
    second = web.client.post("/ui/issue", data=filled(csrf, "same"), follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(issued_numbers(web)) == 1
    other = web.client.post("/ui/issue", data=filled(csrf, "next"), follow_redirects=False)
    assert other.headers["location"] != first.headers["location"]
    assert len(issued_numbers(web)) == 2


def test_more_lines_and_removing_a_line_without_a_script(web: World) -> None:
    csrf = sign_in(web)
    more = web.client.post("/ui/issue", data={**filled(csrf), "more": "1"})
    assert more.status_code == 200
    assert 'name="line5_name"' in more.text and 'name="line6_name"' not in more.text
    assert 'value="数据库软件"' in more.text
    removed = web.client.post("/ui/issue", data={**filled(csrf), "remove": "0"})
    assert 'value="数据库软件"' not in removed.text
    assert 'name="line1_name"' in removed.text and 'name="line2_name"' not in removed.text
    assert issued_numbers(web) == []


def test_a_viewer_gets_the_403_page(web: World) -> None:
    csrf = sign_in(web, "seller_viewer")
    page = web.client.get("/ui/issue")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/ui/issue"' not in page.text  # nor is it in the menu
    refused = web.client.post("/ui/issue", data=filled(csrf))
    assert refused.status_code == 403
    assert web.client.get("/ui/issue/tax-codes?q=软件").status_code == 403


def test_another_taxpayers_confirmation_is_a_404(web: World) -> None:
    csrf = sign_in(web)
    response = web.client.post("/ui/issue", data=filled(csrf), follow_redirects=False)
    web.client.cookies.clear()
    sign_in(web, "other")
    page = web.client.get(response.headers["location"])
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


def test_tax_code_search_and_tax_id_check_fragments(web: World) -> None:
    sign_in(web)
    codes = web.client.get("/ui/issue/tax-codes", params={"q": "软件"})
    assert codes.status_code == 200 and "<html" not in codes.text
    assert re.search(r'<option value="\d{19}">\d{19} \*[^*]+\*</option>', codes.text)
    by_line = web.client.get("/ui/issue/tax-codes", params={"line4_tax_code": SOFTWARE})
    assert f'<option value="{SOFTWARE}">' in by_line.text
    assert web.client.get("/ui/issue/tax-codes", params={"q": ""}).text.strip() == ""
    good = web.client.get("/ui/issue/check-tax-id", params={"buyer_tax_id": BUYER_ID})
    assert 'class="ok"' in good.text
    bad = web.client.get(
        "/ui/issue/check-tax-id",
        params={"buyer_tax_id": "91110105ma01abcd13"},
        headers={"Accept-Language": "en"},
    )
    assert 'class="error"' in bad.text and "upper case" in bad.text
    seller = web.client.get(
        "/ui/issue/check-tax-id",
        params={"buyer_tax_id": "91110108551385082Q"},
        headers={"Accept-Language": "en"},
    )
    assert "cannot be the seller" in seller.text
    assert web.client.get("/ui/issue/check-tax-id").text.strip() == ""


def test_recent_buyers_fill_the_form_without_a_script(web: World) -> None:
    csrf = sign_in(web)
    web.client.post("/ui/issue", data=filled(csrf), follow_redirects=False)
    page = web.client.get("/ui/issue")
    assert f'<option value="{BUYER_ID}" data-name="北京样例贸易有限公司"' in page.text
    chosen = web.client.get("/ui/issue", params={"buyer": BUYER_ID})
    assert f'id="f-buyer_tax_id" name="buyer_tax_id" type="text" value="{BUYER_ID}"' in chosen.text
    api = web.client.get("/api/v1/buyers/recent", headers=web.as_("seller"))
    assert [buyer["tax_id"] for buyer in api.json()] == [BUYER_ID]


def test_an_ordinary_invoice_to_a_natural_person_needs_no_tax_id(web: World) -> None:
    csrf = sign_in(web)
    form = filled(
        csrf, kind="ordinary", buyer_name="张三", buyer_tax_id="", buyer_natural_person="1"
    )
    response = web.client.post("/ui/issue", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    done = web.client.get(response.headers["location"])
    assert "张三" in done.text and "增值税普通发票" in done.text
    special = filled(csrf, "k2", buyer_name="张三", buyer_tax_id="", buyer_natural_person="1")
    refused = web.client.post("/ui/issue", data=special, headers={"Accept-Language": "en"})
    assert refused.status_code == 422
    assert re.search(r'id="f-buyer_natural_person-error">[^<]*natural person', refused.text)


def test_the_rate_choice_is_the_sellers(web: World) -> None:
    sign_in(web, "small")
    page = web.client.get("/ui/issue")
    assert 'value="0.13"' not in page.text
    assert 'value="0.01"' in page.text and 'value="not_taxable"' in page.text


def test_issuing_through_the_page_is_audited_as_the_api_route_would_be(web: World) -> None:
    import json

    from sqlalchemy import select

    from fapiao.audit.models import AuditEntry

    csrf = sign_in(web)
    refused = web.client.post(
        "/ui/issue", data=filled(csrf, key="k-a", buyer_tax_id="91110105MA01ABCD14")
    )
    assert refused.status_code == 422
    issued = web.client.post("/ui/issue", data=filled(csrf, key="k-b"), follow_redirects=False)
    number = issued.headers["location"].rsplit("/", 1)[-1]
    web.client.get(f"/ui/invoices/{number}")  # a party's read: not an officer's, no entry
    web.client.post("/ui/issue/preview", data=filled(csrf))  # acts on nothing: no entry
    web.client.app.state.audit.flush()  # type: ignore[attr-defined]
    with web.platform.database.transaction(write=False) as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.username == "seller")))
    pages = [e for e in entries if json.loads(e.detail).get("via") == "web"]
    assert [(e.action, e.result, e.object_id) for e in pages] == [
        ("invoice.issue", "refused", None),
        ("invoice.issue", "ok", number),
    ]
    assert pages[0].code == "HTTP_422"
    assert json.loads(pages[1].detail)["page"] == "/ui/issue"
    assert json.loads(pages[1].detail)["route"] == "/api/v1/invoices"
