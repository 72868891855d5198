"""Bad input gets a 4xx problem with a stable code and field — never a 500, never a write."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from conftest import World, invoice_body
from fapiao.invoices.models import Invoice, InvoiceLine
from fapiao.outbox.models import OutboxEvent


def nothing_written(world: World) -> bool:
    with world.platform.database.transaction(write=False) as session:
        return all(
            session.scalar(select(func.count()).select_from(model)) == 0
            for model in (Invoice, InvoiceLine, OutboxEvent)
        )


def post(world: World, body: object, **headers: str):  # type: ignore[no-untyped-def]
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    return world.client.post(
        "/api/v1/invoices",
        content=raw,
        headers=world.as_("seller", **{"Content-Type": "application/json", **headers}),
    )


def test_malformed_json(world: World) -> None:
    response = post(world, b'{"kind": "special", "lines": [')
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "MALFORMED_JSON"
    assert nothing_written(world)


def test_a_body_that_is_not_utf8_is_named_for_what_it_is(world: World) -> None:
    issuing = post(world, b'{"kind": "\xff\xfe"}', **{"Accept-Language": "en"})
    assert issuing.status_code == 400
    assert issuing.json()["code"] == "MALFORMED_JSON"  # read from the bytes: not JSON
    assert nothing_written(world)
    verifying = world.client.post(  # read by the framework, which cannot even decode it
        "/api/v1/verify",
        content=b'{"number": "\xff\xfe"}',
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert verifying.status_code == 400
    assert verifying.json()["code"] == "MALFORMED_BODY"
    assert verifying.json()["detail"] == "The request body cannot be read: send UTF-8 JSON."


@pytest.mark.parametrize(
    ("mutate", "field", "code"),
    [
        (lambda b: b.update(kind="golden"), "kind", "INVALID_CHOICE"),
        (lambda b: b.update(lines="many"), "lines", "WRONG_TYPE"),
        (lambda b: b.update(lines=[]), "lines", "TOO_FEW_ITEMS"),
        (lambda b: b["lines"][0].update(quantity=2.5), "lines.0.quantity", "DECIMAL_AS_STRING"),
        (lambda b: b["lines"][0].update(quantity="-2"), "lines.0.quantity", "NOT_POSITIVE"),
        (lambda b: b["lines"][0].update(quantity="abc"), "lines.0.quantity", "INVALID_DECIMAL"),
        (lambda b: b["lines"][0].update(quantity="1" * 40), "lines.0.quantity", "TOO_LARGE"),
        (
            lambda b: b["lines"][0].update(unit_price="1.00000000000001"),
            "lines.0.unit_price",
            "TOO_MANY_DECIMALS",
        ),
        (lambda b: b["lines"][0].update(tax_rate="0.17"), "lines.0.tax_rate", "INVALID_CHOICE"),
        (lambda b: b["lines"][0].update(tax_code="123"), "lines.0.tax_code", "INVALID_FORMAT"),
        (lambda b: b["lines"][0].update(name="名" * 1_000_000), "lines.0.name", "TOO_LONG"),
        (lambda b: b["buyer"].update(tax_id="9" * 40), "buyer.tax_id", "TOO_LONG"),
        (lambda b: b.update(surprise=True), "surprise", "UNKNOWN_FIELD"),
        (lambda b: b.pop("buyer"), "buyer", "FIELD_REQUIRED"),
    ],
)
def test_field_errors(world: World, mutate, field: str, code: str) -> None:  # type: ignore[no-untyped-def]
    body = invoice_body()
    mutate(body)
    response = post(world, body)
    if len(response.content) > 2_000_000:
        pytest.fail("echoed the oversized input back")
    if field == "lines.0.name":
        # 1,000,000 CJK characters are 3 MB of UTF-8: refused whole before parsing.
        assert response.status_code == 413 and response.json()["code"] == "PAYLOAD_TOO_LARGE"
    else:
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "VALIDATION_FAILED"
        assert {"field": field, "code": code} in [
            {"field": e["field"], "code": e["code"]} for e in problem["errors"]
        ]
        assert all(e["message"] for e in problem["errors"])
    assert nothing_written(world)


def test_one_megabyte_ascii_name_is_refused_by_field(world: World) -> None:
    body = invoice_body()
    body["lines"][0]["name"] = "x" * 1_000_000
    response = post(world, body)
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "lines.0.name",
        "code": "TOO_LONG",
        "message": "最多 300 个字符。",
    }
    assert nothing_written(world)


def test_hundred_thousand_lines(world: World) -> None:
    body = invoice_body()
    body["lines"] = body["lines"] * 100_000
    response = post(world, body)
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert nothing_written(world)


def test_more_lines_than_the_limit(world: World) -> None:
    body = invoice_body()
    body["lines"] = [
        {"name": "x", "tax_code": "3040201030000000000", "amount": "1", "tax_rate": "0"}
    ] * 2001
    response = post(world, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "TOO_MANY_ITEMS"
    assert nothing_written(world)


def test_forty_digit_invoice_number_in_path(world: World) -> None:
    response = world.client.get("/api/v1/invoices/" + "1" * 40, headers=world.as_("seller"))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "number",
        "code": "INVALID_FORMAT",
        "message": "应为 20 位数字。",
    }


def test_english_problem(world: World) -> None:
    body = invoice_body()
    body["lines"][0]["quantity"] = "-1"
    response = post(world, body, **{"Accept-Language": "en-US,en;q=0.9"})
    problem = response.json()
    assert problem["detail"] == "The request has invalid fields."
    assert problem["errors"][0]["message"] == "Must be greater than zero."
    zh = post(world, body).json()
    assert zh["detail"] == "请求中有无效的字段。"


def test_unknown_path_and_method(world: World) -> None:
    assert world.client.get("/api/v1/nothing").json()["code"] == "NOT_FOUND"
    response = world.client.put("/api/v1/invoices", headers=world.as_("seller"))
    assert response.status_code == 405 and response.json()["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(remarks="a\u0000b"),
        lambda b: b["buyer"].update(tax_id="9111010\u00005MA01ABCD13"),
        lambda b: b["lines"][0].update(name="x\u001by"),
    ],
)
def test_control_characters_are_refused(world: World, mutate) -> None:  # type: ignore[no-untyped-def]
    body = invoice_body()
    mutate(body)
    response = post(world, body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "CONTROL_CHARACTER"
    assert nothing_written(world)


def test_control_characters_in_query_and_login(world: World) -> None:
    assert (
        world.client.get(
            "/api/v1/invoices?counterparty=a%00", headers=world.as_("seller")
        ).status_code
        == 422
    )
    login = world.client.post("/api/v1/auth/token", data={"username": "a\u0000", "password": "x"})
    assert login.status_code == 422


@pytest.mark.parametrize(
    "cursor", ["MjAyNi0wMS0wMXw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "bm9wZQ", "!!"]
)
def test_forged_cursors(world: World, cursor: str) -> None:
    response = world.client.get(f"/api/v1/invoices?cursor={cursor}", headers=world.as_("seller"))
    assert response.status_code == 422


@pytest.mark.parametrize("value", ["1_000", "１００", " 1.00 ", "1e5", "+1", ".5"])
def test_only_plain_decimals(world: World, value: str) -> None:
    body = invoice_body()
    body["lines"][0]["quantity"] = value
    response = post(world, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "INVALID_DECIMAL"


@pytest.mark.parametrize(
    "line",
    [
        {"quantity": "1", "unit_price": "9999999999999999", "tax_rate": "0.13"},
        {"quantity": "1000000000000000", "unit_price": "1000000000000", "tax_rate": "0.13"},
        {"quantity": "0.0000000000001", "amount": "10000", "tax_rate": "0.13"},
        {"amount": "0.10", "tax": "-0.04", "tax_rate": "0.13"},
    ],
)
def test_extreme_lines_are_refused_not_crashed(world: World, line: dict) -> None:
    body = invoice_body(prices_include_tax=True)
    body["lines"] = [{"name": "数据库软件", "tax_code": "1060301010200000000", **line}]
    response = post(world, body)
    assert response.status_code == 422, response.text
    assert nothing_written(world)


def test_max_lines_setting(world: World) -> None:
    world.platform.settings.max_lines = 3
    body = invoice_body()
    body["lines"] = body["lines"] * 4
    response = post(world, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "TOO_MANY_ITEMS"
