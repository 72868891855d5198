"""The red-letter, certification and public verification pages through the real app:
the same services as the API, refusals next to their fields, another taxpayer's form a
404 page. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from test_web import HTML, sign_in

from conftest import World, invoice_body
from fapiao.maintenance import service as maintenance

FORM_PATH = re.compile(r"^/ui/red-letter/(\d+)$")


@pytest.fixture
def web(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The world's client as a browser over plain http, with no bearer headers."""
    monkeypatch.setattr(world.platform.settings, "cookie_secure", False)
    world.client.cookies.clear()
    yield world
    world.client.cookies.clear()


def issue(world: World) -> str:
    body = invoice_body()
    body["lines"].append(
        {
            "name": "软件服务",
            "tax_code": "3040201030000000000",
            "amount": "1000.00",
            "tax_rate": "0.06",
        }
    )
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def certify_by_api(world: World, number: str) -> None:
    response = world.client.post(
        f"/api/v1/invoices/{number}/certify",
        json={"period": "202611", "purpose": "deduct"},
        headers=world.as_("buyer"),
    )
    assert response.status_code == 200, response.text


def start(web: World, token: str, number: str, **fields: str) -> int:
    data = {"csrf_token": token, "blue": number, "reason": "01", "scope": "full", **fields}
    response = web.client.post("/ui/red-letter/new", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    found = FORM_PATH.match(response.headers["location"])
    assert found is not None
    return int(found.group(1))


def api_form(web: World, form_id: int) -> dict:
    response = web.client.get(f"/api/v1/red-letter-forms/{form_id}", headers=web.as_("seller"))
    assert response.status_code == 200
    return dict(response.json())


def test_full_reversal_without_confirmation_is_issued_at_once(web: World) -> None:
    number = issue(web)
    token = sign_in(web, "seller")
    page = web.client.get(f"/ui/red-letter/new?blue={number}")
    assert page.status_code == 200 and page.headers["content-type"] == HTML
    assert "软件服务" in page.text and 'name="amount_2"' in page.text
    assert "1,000.00" in page.text  # still reversible on line 2
    form_id = start(web, token, number)
    detail = web.client.get(f"/ui/red-letter/{form_id}")
    red = api_form(web, form_id)["red_invoice_number"]
    assert red and f"/ui/invoices/{red}" in detail.text
    assert "无需确认" in detail.text or "No confirmation" in detail.text
    assert 'name="decision"' not in detail.text
    again = web.client.post(
        "/ui/red-letter/new",
        data={"csrf_token": token, "blue": number, "reason": "01", "scope": "full"},
        headers={"Accept-Language": "en"},
    )
    assert again.status_code == 409 and "Nothing is left to reverse." in again.text


def test_partial_reversal_checks_each_line_next_to_its_field(web: World) -> None:
    number = issue(web)
    certify_by_api(web, number)
    token = sign_in(web, "seller")
    data = {"csrf_token": token, "blue": number, "reason": "04", "scope": "partial"}
    too_much = web.client.post("/ui/red-letter/new", data={**data, "amount_2": "1000.01"})
    assert too_much.status_code == 422
    assert 'id="f-amount_2-error"' in too_much.text and "1000.00" in too_much.text
    bad = web.client.post("/ui/red-letter/new", data={**data, "amount_1": "abc"})
    assert bad.status_code == 422 and 'id="f-amount_1-error"' in bad.text
    form_id = start(web, token, number, reason="04", scope="partial", amount_2="600.00")
    made = api_form(web, form_id)
    assert made["state"] == "02" and made["amount"] == "600.00" and made["tax"] == "36.00"
    assert [line["line_no"] for line in made["lines"]] == [2]
    detail = web.client.get(f"/ui/red-letter/{form_id}", headers={"Accept-Language": "en"})
    assert "72 h 0 min left" in detail.text
    assert 'value="C"' in detail.text and 'value="Y"' not in detail.text  # the initiator


def test_buyer_agrees_and_the_red_invoice_is_issued(web: World) -> None:
    number = issue(web)
    certify_by_api(web, number)
    form_id = start(web, sign_in(web, "seller"), number)
    web.client.cookies.clear()
    web.platform.clock.advance(timedelta(hours=1, minutes=48))  # type: ignore[attr-defined]
    token = sign_in(web, "buyer")
    listing = web.client.get("/ui/red-letter", headers={"Accept-Language": "en"})
    assert f"/ui/red-letter/{form_id}" in listing.text
    assert "70 h 12 min left" in listing.text
    assert "Filed by the seller, waiting for the buyer" in listing.text
    detail = web.client.get(f"/ui/red-letter/{form_id}")
    assert 'value="Y"' in detail.text and 'value="N"' in detail.text
    assert 'value="C"' not in detail.text
    answer = web.client.post(
        f"/ui/red-letter/{form_id}/decision",
        data={"csrf_token": token, "decision": "Y"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    made = api_form(web, form_id)
    assert made["state"] == "04" and made["red_invoice_number"]
    assert made["red_invoice_number"] in web.client.get(f"/ui/red-letter/{form_id}").text


def test_buyer_disagrees_and_the_initiator_withdraws(web: World) -> None:
    first, second = issue(web), issue(web)
    certify_by_api(web, first)
    certify_by_api(web, second)
    seller_token = sign_in(web, "seller")
    refused_id = start(web, seller_token, first)
    withdrawn_id = start(web, seller_token, second)
    # The seller cannot answer its own form: the page says why, nothing changes.
    own = web.client.post(
        f"/ui/red-letter/{withdrawn_id}/decision",
        data={"csrf_token": seller_token, "decision": "Y"},
    )
    assert own.status_code == 403 and 'role="alert"' in own.text
    withdrawn = web.client.post(
        f"/ui/red-letter/{withdrawn_id}/decision",
        data={"csrf_token": seller_token, "decision": "C"},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303 and api_form(web, withdrawn_id)["state"] == "08"
    web.client.cookies.clear()
    token = sign_in(web, "buyer")
    no = web.client.post(
        f"/ui/red-letter/{refused_id}/decision",
        data={"csrf_token": token, "decision": "N"},
        follow_redirects=False,
    )
    assert no.status_code == 303
    made = api_form(web, refused_id)
    assert made["state"] == "05" and made["red_invoice_number"] is None
    page = web.client.get(f"/ui/red-letter/{refused_id}", headers={"Accept-Language": "en"})
    assert "Void: the buyer disagreed" in page.text and 'name="decision"' not in page.text


def test_another_taxpayers_form_and_invoice_are_404_pages(web: World) -> None:
    number = issue(web)
    certify_by_api(web, number)
    form_id = start(web, sign_in(web, "seller"), number)
    web.client.cookies.clear()
    token = sign_in(web, "other")
    page = web.client.get(f"/ui/red-letter/{form_id}")
    assert page.status_code == 404 and page.headers["content-type"] == HTML
    assert number not in page.text
    assert web.client.get(f"/ui/red-letter/new?blue={number}").status_code == 404
    answer = web.client.post(
        f"/ui/red-letter/{form_id}/decision", data={"csrf_token": token, "decision": "Y"}
    )
    assert answer.status_code == 404 and api_form(web, form_id)["state"] == "02"
    listing = web.client.get("/ui/red-letter")
    assert f"/ui/red-letter/{form_id}" not in listing.text


def test_certification_tick_withdraw_and_confirm(web: World) -> None:
    good, other = issue(web), issue(web)
    token = sign_in(web, "buyer")
    page = web.client.get(f"/ui/certification?period=202611&number={good}")
    assert page.status_code == 200
    assert f'name="number" value="{good}" checked' in page.text
    assert f'name="number" value="{other}">' in page.text
    # Reason 5 without its text: nothing is ticked, the row says why.
    refused = web.client.post(
        "/ui/certification",
        data={
            "csrf_token": token,
            "period": "202611",
            "number": [good, other],
            f"purpose_{other}": "no_deduct",
            f"reason_{other}": "5",
        },
    )
    assert refused.status_code == 422 and f'id="e-{other}"' in refused.text
    assert f'id="e-{good}"' not in refused.text
    invoice = web.client.get(f"/api/v1/invoices/{good}", headers=web.as_("buyer")).json()
    assert invoice["certification"] is None
    ticked = web.client.post(
        "/ui/certification",
        data={
            "csrf_token": token,
            "period": "202611",
            "number": [good, other],
            f"purpose_{other}": "no_deduct",
            f"reason_{other}": "5",
            f"reason_text_{other}": "样品",
        },
        follow_redirects=False,
    )
    assert ticked.status_code == 303
    for number, purpose in ((good, "deduct"), (other, "no_deduct")):
        got = web.client.get(f"/api/v1/invoices/{number}", headers=web.as_("buyer")).json()
        assert got["certification"]["purpose"] == purpose
    withdrawn = web.client.post(
        "/ui/certification/withdraw",
        data={"csrf_token": token, "number": other, "period": "202611"},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    got = web.client.get(f"/api/v1/invoices/{other}", headers=web.as_("buyer")).json()
    assert got["certification"] is None
    asking = web.client.get("/ui/certification?period=202611&confirm=1")
    assert 'action="/ui/certification/confirm"' in asking.text
    confirmed = web.client.post(
        "/ui/certification/confirm",
        data={"csrf_token": token, "period": "202611"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    done = web.client.get("/ui/certification?period=202611")
    assert 'role="status"' in done.text
    assert "/ui/certification/withdraw" not in done.text and 'name="purpose_' not in done.text
    period = web.client.get("/api/v1/certification-periods/202611", headers=web.as_("buyer")).json()
    assert period["confirmed"] and period["certified_count"] == 1


@pytest.mark.parametrize("who", ["nobody", "seller"])
def test_verify_page_results_and_the_daily_limit(web: World, who: str) -> None:
    number = issue(web)
    token = sign_in(web, who) if who != "nobody" else ""
    fields = {"csrf_token": token, "number": number, "issue_date": "2026-11-10"}
    en = {"Accept-Language": "en"}
    shown = web.client.get("/verify", headers=en)
    assert shown.status_code == 200 and 'name="number"' in shown.text
    match = web.client.post("/verify", data={**fields, "total_with_tax": "1286.00"}, headers=en)
    assert match.status_code == 200
    assert "The invoice exists and its data match." in match.text
    assert "Normal" in match.text and "1 of 5" in match.text
    wrong = web.client.post("/verify", data={**fields, "total_with_tax": "1200.00"}, headers=en)
    assert "does not match" in wrong.text and "2 of 5" in wrong.text
    for _ in range(3):
        web.client.post("/verify", data={**fields, "total_with_tax": "1286.00"})
    sixth = web.client.post("/verify", data={**fields, "total_with_tax": "1286.00"}, headers=en)
    assert "5 checks per invoice per day used up, try tomorrow" in sixth.text
    missing = web.client.post(
        "/verify", data={**fields, "number": "2" * 20, "total_with_tax": "1.00"}, headers=en
    )
    assert "No invoice with this number" in missing.text
    old = web.client.post(
        "/verify",
        data={**fields, "number": "2" * 20, "issue_date": "2020-01-01", "total_with_tax": "1"},
        headers=en,
    )
    assert "within the last 5 years" in old.text
    bad = web.client.post("/verify", data={**fields, "number": "123", "total_with_tax": "x"})
    assert bad.status_code == 422
    assert 'id="f-number-error"' in bad.text and 'id="f-total_with_tax-error"' in bad.text


def test_verify_page_shares_the_per_address_rate_limit(
    web: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web.platform.settings, "rate_verify_per_ip", "2/minute")
    data = {"number": "2" * 20, "issue_date": "2026-11-10", "total_with_tax": "1.00"}
    assert web.client.post("/api/v1/verify", json=data).status_code == 200
    assert web.client.post("/verify", data=data).status_code == 200
    third = web.client.post("/verify", data=data)
    assert third.status_code == 429 and "Retry-After" in third.headers
    assert 'role="alert"' in third.text


def test_verify_page_stays_open_during_maintenance(web: World) -> None:
    number = issue(web)
    clock = web.platform.clock
    with web.platform.database.transaction() as session:
        maintenance.start(session, clock.now(), clock.now() + timedelta(hours=1), "officer", "升级")
    web.platform.maintenance.forget()
    data = {"number": number, "issue_date": "2026-11-10", "total_with_tax": "1286.00"}
    answer = web.client.post("/verify", data=data, headers={"Accept-Language": "en"})
    assert answer.status_code == 200 and "its data match" in answer.text
    token = sign_in(web, "buyer")  # while writing pages pause
    refused = web.client.post(
        "/ui/certification", data={"csrf_token": token, "period": "202611", "number": number}
    )
    assert refused.status_code == 503
