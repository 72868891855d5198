"""Red-letter reversal with the confirmation form (domain.md §7)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from conftest import SELLER_ID, World, invoice_body


def issue(world: World, **overrides: object) -> str:
    body = invoice_body(**overrides)
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


def form(world: World, who: str, body: dict):  # type: ignore[no-untyped-def]
    return world.client.post("/api/v1/red-letter-forms", json=body, headers=world.as_(who))


def decide(world: World, who: str, form_id: int, decision: str):  # type: ignore[no-untyped-def]
    return world.client.post(
        f"/api/v1/red-letter-forms/{form_id}/decision",
        json={"decision": decision},
        headers=world.as_(who),
    )


def get(world: World, number: str, who: str = "seller") -> dict:
    return world.client.get(f"/api/v1/invoices/{number}", headers=world.as_(who)).json()


def certify(world: World, number: str) -> None:
    response = world.client.post(
        f"/api/v1/invoices/{number}/certify",
        json={"period": "202611", "purpose": "deduct"},
        headers=world.as_("buyer"),
    )
    assert response.status_code == 200, response.text


def test_uncertified_full_reversal_needs_no_confirmation(world: World) -> None:
    number = issue(world)
    response = form(world, "seller", {"blue_number": number, "reason": "01"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["state"] == "01" and created["initiator"] == "seller"
    red = get(world, created["red_invoice_number"], "buyer")
    assert red["red_of"] == number
    assert (red["total_amount"], red["total_tax"], red["total_with_tax"]) == (
        "-1200.00",
        "-86.00",
        "-1286.00",
    )
    assert red["total_in_words"].startswith("负")
    assert [line["amount"] for line in red["lines"]] == ["-200.00", "-1000.00"]
    assert get(world, number)["status"] == "fully_reversed"
    # Credit came back: the red invoice is in the blue invoice's month.
    me = world.client.get("/api/v1/taxpayers/me", headers=world.as_("seller")).json()
    assert me["credit_used"] == "0.00"
    again = form(world, "seller", {"blue_number": number, "reason": "01"})
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_FULLY_REVERSED"


def test_partial_reversals_never_exceed_the_blue_invoice(world: World) -> None:
    number = issue(world)
    first = form(
        world,
        "seller",
        {"blue_number": number, "reason": "04", "lines": [{"line_no": 2, "amount": "600.00"}]},
    )
    assert first.status_code == 201 and first.json()["tax"] == "36.00"
    assert get(world, number)["status"] == "partially_reversed"
    too_much = form(
        world,
        "seller",
        {"blue_number": number, "reason": "04", "lines": [{"line_no": 2, "amount": "400.01"}]},
    )
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0] == {
        "field": "lines.0.amount",
        "code": "REVERSAL_EXCEEDS_REMAINING",
        "message": too_much.json()["errors"][0]["message"],
    }
    rest = form(
        world,
        "seller",
        {"blue_number": number, "reason": "04", "lines": [{"line_no": 2, "amount": "400.00"}]},
    )
    assert rest.status_code == 201 and rest.json()["tax"] == "24.00"
    assert get(world, number)["status"] == "partially_reversed"
    final = form(world, "seller", {"blue_number": number, "reason": "02"})
    assert final.status_code == 201
    assert final.json()["amount"] == "200.00" and final.json()["tax"] == "26.00"
    assert get(world, number)["status"] == "fully_reversed"


def test_certified_invoice_needs_the_buyers_yes(world: World) -> None:
    number = issue(world)
    certify(world, number)
    created = form(world, "seller", {"blue_number": number, "reason": "02"}).json()
    assert created["state"] == "02" and created["red_invoice_number"] is None
    assert created["deadline"].startswith("2026-11-13T02:00:00")
    waiting = world.client.get(
        "/api/v1/red-letter-forms?role=to_confirm", headers=world.as_("buyer")
    ).json()["items"]
    assert [item["id"] for item in waiting] == [created["id"]]
    mine = world.client.get(
        "/api/v1/red-letter-forms?role=initiated", headers=world.as_("seller")
    ).json()["items"]
    assert [item["id"] for item in mine] == [created["id"]]
    self_confirm = decide(world, "seller", created["id"], "Y")
    assert (
        self_confirm.status_code == 403
        and self_confirm.json()["code"] == "REDLETTER_NOT_YOUR_DECISION"
    )
    assert decide(world, "other", created["id"], "Y").status_code == 404
    pending = form(world, "seller", {"blue_number": number, "reason": "01"})
    assert pending.status_code == 409 and pending.json()["code"] == "REDLETTER_FORM_PENDING"
    agreed = decide(world, "buyer", created["id"], "Y")
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["state"] == "04" and agreed.json()["red_invoice_number"]
    red = get(world, agreed.json()["red_invoice_number"])
    assert red["seller"]["tax_id"] == get(world, number)["seller"]["tax_id"]
    assert get(world, number)["status"] == "fully_reversed"
    closed = decide(world, "buyer", created["id"], "N")
    assert closed.status_code == 409 and closed.json()["code"] == "REDLETTER_FORM_CLOSED"


def test_refusal_and_withdrawal(world: World) -> None:
    number = issue(world)
    certify(world, number)
    refused = form(world, "seller", {"blue_number": number, "reason": "01"}).json()
    assert decide(world, "buyer", refused["id"], "N").json()["state"] == "05"
    by_buyer = form(world, "buyer", {"blue_number": number, "reason": "02"}).json()
    assert by_buyer["state"] == "03" and by_buyer["initiator"] == "buyer"
    assert decide(world, "seller", by_buyer["id"], "N").json()["state"] == "06"
    withdrawn = form(world, "buyer", {"blue_number": number, "reason": "02"}).json()
    assert decide(world, "seller", withdrawn["id"], "C").status_code == 403
    assert decide(world, "buyer", withdrawn["id"], "C").json()["state"] == "08"
    assert get(world, number)["status"] == "normal"


def test_form_lapses_after_72_hours(world: World) -> None:
    number = issue(world)
    certify(world, number)
    created = form(world, "seller", {"blue_number": number, "reason": "01"}).json()
    world.platform.clock.advance(timedelta(hours=71, minutes=59))  # type: ignore[attr-defined]
    still = world.client.get(
        f"/api/v1/red-letter-forms/{created['id']}", headers=world.as_("buyer")
    ).json()
    assert still["state"] == "02"
    world.platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    late = decide(world, "buyer", created["id"], "Y")
    assert late.status_code == 409 and late.json()["code"] == "REDLETTER_FORM_LAPSED"
    from sqlalchemy import select

    from fapiao.redletter.models import RedLetterForm

    with world.platform.database.transaction(write=False) as session:
        stored = session.get(RedLetterForm, created["id"])
        assert stored is not None and stored.state == "07"  # recorded despite the 409
        assert stored.decided_at is not None
        assert stored.decided_at.isoformat().startswith("2026-11-13T02:00:00")
        assert session.scalar(select(RedLetterForm.id).where(RedLetterForm.state == "02")) is None
    lapsed = world.client.get(
        f"/api/v1/red-letter-forms/{created['id']}", headers=world.as_("seller")
    ).json()
    assert lapsed["state"] == "07"
    assert get(world, number)["status"] == "normal"


def test_periodic_job_lapses_forms(world: World) -> None:
    from sqlalchemy import select

    from fapiao.redletter.models import RedLetterForm
    from fapiao.worker import create_worker

    number = issue(world)
    certify(world, number)
    created = form(world, "seller", {"blue_number": number, "reason": "01"}).json()
    worker = create_worker(world.platform)
    assert worker.run_once()["redletter_lapsed"] == 0
    world.platform.clock.advance(timedelta(hours=73))  # type: ignore[attr-defined]
    assert worker.run_once()["redletter_lapsed"] == 1
    with world.platform.database.transaction(write=False) as session:
        state = session.scalar(select(RedLetterForm.state).where(RedLetterForm.id == created["id"]))
    assert state == "07"


def test_credit_is_not_returned_after_the_blue_month(world: World) -> None:
    from sqlalchemy import select

    from fapiao.invoices.credit import credit_used
    from fapiao.taxpayers.models import Taxpayer

    number = issue(world)
    world.platform.clock.advance(timedelta(days=25))  # type: ignore[attr-defined]
    assert form(world, "seller", {"blue_number": number, "reason": "01"}).status_code == 201
    with world.platform.database.transaction(write=False) as session:
        seller = session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == SELLER_ID))
        assert seller is not None
        assert credit_used(session, seller, "202611") == Decimal("1200.00")
        assert credit_used(session, seller, "202612") == Decimal("0.00")


def test_only_parties_can_reverse(world: World) -> None:
    number = issue(world)
    assert form(world, "other", {"blue_number": number, "reason": "01"}).status_code == 404
    assert form(world, "officer", {"blue_number": number, "reason": "01"}).status_code == 403
    red = form(world, "seller", {"blue_number": number, "reason": "01"}).json()[
        "red_invoice_number"
    ]
    not_blue = form(world, "seller", {"blue_number": red, "reason": "01"})
    assert not_blue.status_code == 409 and not_blue.json()["code"] == "NOT_A_BLUE_INVOICE"


def test_buyer_files_forms_only_for_certified_invoices(world: World) -> None:
    number = issue(world)
    refused = form(world, "buyer", {"blue_number": number, "reason": "02"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "BUYER_FORM_NEEDS_CERTIFICATION"


def test_form_lists_page(world: World) -> None:
    ids = []
    for _ in range(3):
        number = issue(world)
        ids.append(form(world, "seller", {"blue_number": number, "reason": "01"}).json()["id"])
    first = world.client.get("/api/v1/red-letter-forms?limit=2", headers=world.as_("seller")).json()
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    rest = world.client.get(
        f"/api/v1/red-letter-forms?limit=2&cursor={first['next_cursor']}",
        headers=world.as_("seller"),
    ).json()
    assert [item["id"] for item in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    only = world.client.get("/api/v1/red-letter-forms?state=02", headers=world.as_("seller")).json()
    assert only["items"] == []


def test_partial_reversal_by_quantity_over_http(world: World) -> None:
    number = issue(world)
    bad = form(
        world,
        "seller",
        {
            "blue_number": number,
            "reason": "02",
            "lines": [{"line_no": 1, "amount": "10.00", "quantity": "999"}],
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["code"] == "REVERSAL_QUANTITY_EXCEEDS_REMAINING"
    good = form(
        world,
        "seller",
        {
            "blue_number": number,
            "reason": "02",
            "lines": [{"line_no": 1, "amount": "100.00", "quantity": "1"}],
        },
    )
    assert good.status_code == 201, good.text
    red = get(world, good.json()["red_invoice_number"])
    assert (red["lines"][0]["quantity"], red["lines"][0]["amount"]) == ("-1", "-100.00")
