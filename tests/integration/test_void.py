"""Void (作废): paper only, same month, not certified, not reversed (domain.md §6)."""

from __future__ import annotations

from datetime import timedelta

from conftest import World, invoice_body


def issue(world: World, **overrides: object) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def void(world: World, number: str, who: str = "seller"):  # type: ignore[no-untyped-def]
    return world.client.post(f"/api/v1/invoices/{number}/void", headers=world.as_(who))


def test_paper_invoice_voided_in_its_month_gives_credit_back(world: World) -> None:
    number = issue(world, medium="paper")
    response = void(world, number)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "voided"
    me = world.client.get("/api/v1/taxpayers/me", headers=world.as_("seller")).json()
    assert me["credit_used"] == "0.00"
    again = void(world, number)
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_VOIDED"


def test_electronic_invoice_points_to_red_letter(world: World) -> None:
    number = issue(world)
    response = void(world, number)
    assert response.status_code == 409
    assert response.json()["code"] == "ELECTRONIC_NOT_VOIDABLE"
    assert "红字" in response.json()["detail"]


def test_next_month_is_too_late(world: World) -> None:
    number = issue(world, medium="paper")
    world.platform.clock.advance(timedelta(days=25))  # type: ignore[attr-defined]
    response = void(world, number)
    assert response.status_code == 409 and response.json()["code"] == "VOID_PERIOD_CLOSED"


def test_certified_invoice_cannot_be_voided(world: World) -> None:
    number = issue(world, medium="paper")
    certify = world.client.post(
        f"/api/v1/invoices/{number}/certify",
        json={"period": "202611", "purpose": "deduct"},
        headers=world.as_("buyer"),
    )
    assert certify.status_code == 200, certify.text
    response = void(world, number)
    assert response.status_code == 409 and response.json()["code"] == "CERTIFIED_NOT_VOIDABLE"


def test_only_the_seller_voids(world: World) -> None:
    number = issue(world, medium="paper")
    assert void(world, number, "other").status_code == 404
    assert void(world, number, "seller_viewer").status_code == 403
    buyer = void(world, number, "buyer")
    assert buyer.status_code == 403 and buyer.json()["code"] == "ONLY_SELLER_MAY_VOID"


def test_invoice_with_an_open_red_letter_form_cannot_be_voided(world: World) -> None:
    number = issue(world, medium="paper")
    certify = world.client.post(
        f"/api/v1/invoices/{number}/certify",
        json={"period": "202611", "purpose": "deduct"},
        headers=world.as_("buyer"),
    )
    assert certify.status_code == 200
    form = world.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": number, "reason": "01"},
        headers=world.as_("seller"),
    )
    assert form.status_code == 201 and form.json()["state"] == "02"
    # The buyer withdraws its tick while the form still waits for its answer.
    withdrawn = world.client.delete(
        f"/api/v1/invoices/{number}/certify", headers=world.as_("buyer")
    )
    assert withdrawn.status_code == 200
    response = void(world, number)
    assert response.status_code == 409 and response.json()["code"] == "REDLETTER_FORM_PENDING"
