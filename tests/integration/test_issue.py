"""Issuing and reading invoices over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from conftest import BUYER_ID, SELLER_ID, SMALL_ID, World, invoice_body
from fapiao.invoices.models import Invoice
from fapiao.outbox.models import OutboxEvent


def count_invoices(world: World) -> int:
    with world.platform.database.transaction(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)


def test_issue_returns_the_full_invoice(world: World) -> None:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    number = body["number"]
    assert len(number) == 20 and number.startswith("26111")  # 2026, Beijing, online channel
    assert body["issue_date"] == "2026-11-10"
    assert body["seller"]["tax_id"] == SELLER_ID
    assert body["buyer"]["tax_id"] == BUYER_ID
    line = body["lines"][0]
    assert line["display_name"].startswith("*") and line["display_name"].endswith("*数据库软件")
    assert (line["amount"], line["tax"], line["tax_rate"]) == ("200.00", "26.00", "0.13")
    assert (body["total_amount"], body["total_tax"], body["total_with_tax"]) == (
        "200.00",
        "26.00",
        "226.00",
    )
    assert body["total_in_words"] == "贰佰贰拾陆圆整"
    assert body["status"] == "normal" and body["red_of"] is None and body["certification"] is None
    assert response.headers["location"] == f"/api/v1/invoices/{number}"


def test_issue_writes_outbox_rows_in_the_same_transaction(world: World) -> None:
    number = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    ).json()["number"]
    with world.platform.database.transaction(write=False) as session:
        kinds = sorted(
            session.scalars(select(OutboxEvent.event_type).where(OutboxEvent.subject == number))
        )
    assert kinds == ["invoice.issued", "invoice.received"]


def test_tax_inclusive_prices(world: World) -> None:
    body = invoice_body(prices_include_tax=True)
    body["lines"][0].update(quantity="1", unit_price="113")
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert (invoice["total_amount"], invoice["total_tax"], invoice["total_with_tax"]) == (
        "100.00",
        "13.00",
        "113.00",
    )
    assert invoice["lines"][0]["unit_price"] == "100"


def test_buyer_sees_it_at_once_others_get_404(world: World) -> None:
    number = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    ).json()["number"]
    for who in ("seller", "seller_viewer", "buyer", "officer"):
        response = world.client.get(f"/api/v1/invoices/{number}", headers=world.as_(who))
        assert response.status_code == 200, who
    hidden = world.client.get(f"/api/v1/invoices/{number}", headers=world.as_("other"))
    missing = world.client.get("/api/v1/invoices/26111000000099999999", headers=world.as_("other"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"] == "INVOICE_NOT_FOUND"
    received = world.client.get(
        "/api/v1/invoices?direction=received", headers=world.as_("buyer")
    ).json()
    assert [item["number"] for item in received["items"]] == [number]
    assert world.client.get("/api/v1/invoices", headers=world.as_("other")).json()["items"] == []


def test_unauthenticated_and_wrong_roles(world: World) -> None:
    assert world.client.post("/api/v1/invoices", json=invoice_body()).status_code == 401
    bad = world.client.get("/api/v1/invoices", headers={"Authorization": "Bearer v1.nope.nope"})
    assert bad.status_code == 401 and bad.json()["code"] == "TOKEN_INVALID"
    for who in ("seller_viewer", "officer"):
        response = world.client.post(
            "/api/v1/invoices", json=invoice_body(), headers=world.as_(who)
        )
        assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_ALLOWED"
    assert count_invoices(world) == 0


def test_special_invoice_needs_buyer_tax_id_and_names_the_field(world: World) -> None:
    body = invoice_body()
    body["buyer"] = {"name": "张三"}
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "VALIDATION_FAILED"
    assert {"field": "buyer.tax_id", "code": "BUYER_TAX_ID_REQUIRED"}.items() <= problem["errors"][
        0
    ].items()
    assert "纳税人识别号" in problem["errors"][0]["message"]
    english = world.client.post(
        "/api/v1/invoices", json=body, headers=world.as_("seller", **{"Accept-Language": "en"})
    ).json()
    assert (
        english["errors"][0]["message"] == "The buyer's taxpayer ID is required for this invoice."
    )
    assert count_invoices(world) == 0


def test_uscc_starting_with_a_letter_is_a_valid_buyer(world: World) -> None:
    body = invoice_body()
    body["buyer"] = {"tax_id": "N2110108MA0012345L", "name": "北京示范农民专业合作社"}
    assert (
        world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller")).status_code
        == 201
    )
    body["buyer"]["tax_id"] = "N2110108MA0012345M"
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "buyer.tax_id"


def test_ordinary_invoice_to_natural_person_without_id(world: World) -> None:
    body = invoice_body(kind="ordinary")
    body["buyer"] = {"name": "李四", "natural_person": True}
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 201, response.text
    assert response.json()["buyer"]["tax_id"] is None


def test_small_scale_seller_rates(world: World) -> None:
    body = invoice_body(kind="ordinary")
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("small"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "TAX_RATE_NOT_ALLOWED"
    body["lines"][0]["tax_rate"] = "0.01"
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("small"))
    assert response.status_code == 201, response.text
    assert response.json()["seller"]["tax_id"] == SMALL_ID
    assert response.json()["total_tax"] == "2.00"


def test_idempotency_key(world: World) -> None:
    headers = world.as_("seller", **{"Idempotency-Key": "order-42"})
    first = world.client.post("/api/v1/invoices", json=invoice_body(), headers=headers)
    second = world.client.post("/api/v1/invoices", json=invoice_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] == second.json()["number"]
    assert second.headers["idempotent-replayed"] == "true"
    assert count_invoices(world) == 1
    me = world.client.get("/api/v1/taxpayers/me", headers=world.as_("seller")).json()
    assert me["credit_used"] == "200.00"  # charged once
    changed = invoice_body()
    changed["lines"][0]["quantity"] = "3"
    conflict = world.client.post("/api/v1/invoices", json=changed, headers=headers)
    assert conflict.status_code == 409 and conflict.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert count_invoices(world) == 1


def test_credit_limit_is_never_exceeded(world: World) -> None:
    body = invoice_body()
    body["lines"][0].update(quantity="1", unit_price="600000")
    assert (
        world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller")).status_code
        == 201
    )
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 409
    assert response.json()["code"] == "CREDIT_LIMIT_EXCEEDED"
    assert "400000.00" in response.json()["detail"]
    assert count_invoices(world) == 1
    body["lines"][0].update(unit_price="400000")
    assert (
        world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller")).status_code
        == 201
    )
    me = world.client.get("/api/v1/taxpayers/me", headers=world.as_("seller")).json()
    assert (me["credit_used"], me["credit_remaining"]) == ("1000000.00", "0.00")


def test_credit_resets_each_month(world: World) -> None:
    from datetime import timedelta

    body = invoice_body()
    body["lines"][0].update(quantity="1", unit_price="1000000")
    assert (
        world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller")).status_code
        == 201
    )
    assert (
        world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller")).status_code
        == 409
    )
    world.platform.clock.advance(timedelta(days=21))  # type: ignore[attr-defined]
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 201 and response.json()["issue_date"] == "2026-12-01"


def test_list_filters_and_cursor_paging(world: World) -> None:
    numbers = []
    for kind in ("special", "ordinary", "special", "ordinary", "special"):
        response = world.client.post(
            "/api/v1/invoices", json=invoice_body(kind=kind), headers=world.as_("seller")
        )
        numbers.append(response.json()["number"])
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/invoices?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = world.client.get(url, headers=world.as_("seller")).json()
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(numbers))
    special = world.client.get("/api/v1/invoices?kind=special", headers=world.as_("seller")).json()
    assert len(special["items"]) == 3
    dated = world.client.get(
        f"/api/v1/invoices?from=2026-11-10&to=2026-11-10&counterparty={BUYER_ID}",
        headers=world.as_("seller"),
    ).json()
    assert len(dated["items"]) == 5
    empty = world.client.get("/api/v1/invoices?from=2026-11-11", headers=world.as_("seller")).json()
    assert empty["items"] == []


def test_amounts_are_exact_decimals(world: World) -> None:
    body = invoice_body()
    body["lines"][0].update(
        quantity="0.3333333333333", unit_price="3.0000000000003", tax_rate="0.09"
    )
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 201, response.text
    line = response.json()["lines"][0]
    assert line["quantity"] == "0.3333333333333" and line["unit_price"] == "3.0000000000003"
    assert line["amount"] == "1.00" and line["tax"] == "0.09"
    fetched = world.client.get(
        f"/api/v1/invoices/{response.json()['number']}", headers=world.as_("buyer")
    )
    assert fetched.json()["lines"][0]["quantity"] == "0.3333333333333"
    assert Decimal(fetched.json()["total_with_tax"]) == Decimal("1.09")


def test_openapi_docs_and_health_need_no_network(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    assert "/api/v1/invoices" in spec["paths"] and "/api/v1/verify" in spec["paths"]
    errors = spec["paths"]["/api/v1/invoices"]["post"]["responses"]
    assert {"401", "403", "409", "422"} <= set(errors)
    assert errors["422"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    docs = world.client.get("/docs")
    assert docs.status_code == 200 and "/static/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert world.client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
    health = world.client.get("/healthz").json()
    assert health == {"status": "ok", "database": "ok", "schema_current": True}
    landing = world.client.get("/")
    assert landing.headers["content-type"] == "text/html; charset=utf-8"


def test_registered_buyer_must_carry_its_registered_name(world: World) -> None:
    body = invoice_body()
    body["buyer"]["name"] = "错误公司名"
    response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("buyer.name", "BUYER_NAME_MISMATCH")
    assert "北京样例贸易有限公司" in error["message"]


def test_tax_id_errors_say_what_to_fix(world: World) -> None:
    cases = {
        "91110105MA01ABCD14": "the last character does not match",
        "91110105ma01abcd13": "letters must be upper case",
        "91110105 MA01ABCD13": "remove the spaces",
        "9111010": "has 18 characters",
    }
    for tax_id, hint in cases.items():
        body = invoice_body()
        body["buyer"]["tax_id"] = tax_id
        response = world.client.post(
            "/api/v1/invoices", json=body, headers=world.as_("seller", **{"Accept-Language": "en"})
        )
        error = response.json()["errors"][0]
        assert (error["field"], error["code"]) == ("buyer.tax_id", "BUYER_TAX_ID_INVALID")
        assert hint in error["message"], (tax_id, error["message"])


def test_rate_as_a_json_number_and_small_scale_hint(world: World) -> None:
    body = invoice_body()
    body["lines"][0]["tax_rate"] = 0.13
    assert (
        world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller")).status_code
        == 201
    )
    refused = world.client.post(
        "/api/v1/invoices", json=body, headers=world.as_("small", **{"Accept-Language": "en"})
    )
    assert (
        "allowed: 0.05, 0.03, 0.01, 0, exempt, not_taxable"
        in refused.json()["errors"][0]["message"]
    )


def test_list_with_reversed_dates_is_refused(world: World) -> None:
    response = world.client.get(
        "/api/v1/invoices?from=2026-11-30&to=2026-11-01", headers=world.as_("seller")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "DATE_RANGE_INVALID"
    officer = world.client.get("/api/v1/invoices", headers=world.as_("officer"))
    assert officer.status_code == 403 and officer.json()["code"] == "TAXPAYER_REQUIRED"


def test_choice_errors_are_in_one_language(world: World) -> None:
    body = invoice_body(kind="gold")
    problem = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller")).json()
    assert problem["errors"][0]["message"] == "应为以下之一：'special', 'ordinary'。"
