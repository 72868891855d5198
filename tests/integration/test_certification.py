"""Certification (勾选) and period confirmation (domain.md §8)."""

from __future__ import annotations

from datetime import timedelta

from conftest import World, invoice_body


def issue(world: World, **overrides: object) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def certify(world: World, number: str, who: str = "buyer", **body: object):  # type: ignore[no-untyped-def]
    payload = {"period": "202611", "purpose": "deduct", **body}
    return world.client.post(
        f"/api/v1/invoices/{number}/certify", json=payload, headers=world.as_(who)
    )


def test_certify_withdraw_confirm(world: World) -> None:
    number = issue(world)
    response = certify(world, number)
    assert response.status_code == 200, response.text
    assert response.json()["certification"]["period"] == "202611"
    assert response.json()["certification"]["purpose"] == "deduct"
    twice = certify(world, number)
    assert twice.status_code == 409 and twice.json()["code"] == "ALREADY_CERTIFIED"
    withdrawn = world.client.delete(
        f"/api/v1/invoices/{number}/certify", headers=world.as_("buyer")
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["certification"] is None
    assert certify(world, number).status_code == 200
    confirmed = world.client.post(
        "/api/v1/certification-periods/202611/confirm", headers=world.as_("buyer")
    )
    assert confirmed.status_code == 200, confirmed.text
    summary = confirmed.json()
    assert summary["confirmed"] is True
    assert (summary["certified_count"], summary["deduct_amount"], summary["deduct_tax"]) == (
        1,
        "200.00",
        "26.00",
    )
    locked = world.client.delete(f"/api/v1/invoices/{number}/certify", headers=world.as_("buyer"))
    assert locked.status_code == 409 and locked.json()["code"] == "PERIOD_CONFIRMED"
    again = world.client.post(
        "/api/v1/certification-periods/202611/confirm", headers=world.as_("buyer")
    )
    assert again.status_code == 409
    late = certify(world, issue(world))
    assert late.status_code == 409 and late.json()["code"] == "PERIOD_CONFIRMED"


def test_no_deduct_needs_a_reason(world: World) -> None:
    number = issue(world)
    missing = certify(world, number, purpose="no_deduct")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    other = certify(world, number, purpose="no_deduct", reason="5")
    assert other.json()["errors"][0]["code"] == "REASON_TEXT_REQUIRED"
    ok = certify(world, number, purpose="no_deduct", reason="3")
    assert ok.status_code == 200 and ok.json()["certification"]["reason"] == "3"


def test_only_the_buyer_certifies_special_invoices(world: World) -> None:
    number = issue(world)
    assert certify(world, number, "other").status_code == 404
    seller = certify(world, number, "seller")
    assert seller.status_code == 403 and seller.json()["code"] == "ONLY_BUYER_MAY_CERTIFY"
    ordinary = certify(world, issue(world, kind="ordinary"))
    assert ordinary.status_code == 409 and ordinary.json()["code"] == "NOT_CERTIFIABLE"


def test_period_checks(world: World) -> None:
    number = issue(world)
    assert (
        certify(world, number, period="202610").json()["errors"][0]["code"] == "PERIOD_BEFORE_ISSUE"
    )
    assert certify(world, number, period="202612").json()["errors"][0]["code"] == "PERIOD_IN_FUTURE"
    assert certify(world, number, period="202613").json()["errors"][0]["code"] == "PERIOD_INVALID"
    world.platform.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    assert certify(world, number, period="202612").status_code == 200


def test_reversed_invoice_cannot_be_certified(world: World) -> None:
    number = issue(world)
    world.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": number, "reason": "01"},
        headers=world.as_("seller"),
    )
    response = certify(world, number)
    assert response.status_code == 409 and response.json()["code"] == "INVOICE_NOT_USABLE"


def test_an_empty_period_cannot_be_confirmed(world: World) -> None:
    response = world.client.post(
        "/api/v1/certification-periods/202611/confirm", headers=world.as_("seller")
    )
    assert response.status_code == 409 and response.json()["code"] == "PERIOD_EMPTY"


def test_period_totals_are_net_of_reversals(world: World) -> None:
    number = issue(world)
    assert certify(world, number).status_code == 200
    form = world.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": number, "reason": "04", "lines": [{"line_no": 1, "amount": "100.00"}]},
        headers=world.as_("seller"),
    ).json()
    agreed = world.client.post(
        f"/api/v1/red-letter-forms/{form['id']}/decision",
        json={"decision": "Y"},
        headers=world.as_("buyer"),
    )
    assert agreed.status_code == 200
    summary = world.client.get(
        "/api/v1/certification-periods/202611", headers=world.as_("buyer")
    ).json()
    assert (summary["deduct_amount"], summary["deduct_tax"]) == ("100.00", "13.00")
