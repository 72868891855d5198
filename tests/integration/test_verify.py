"""Public verification (查验, domain.md §9)."""

from __future__ import annotations

from datetime import timedelta

from conftest import World, invoice_body


def issued(world: World) -> dict:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    )
    assert response.status_code == 201
    return dict(response.json())


def verify(world: World, number: str, day: str = "2026-11-10", total: str = "226.00") -> dict:
    response = world.client.post(
        "/api/v1/verify", json={"number": number, "issue_date": day, "total_with_tax": total}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_match_without_login_and_the_daily_limit(world: World) -> None:
    number = issued(world)["number"]
    first = verify(world, number)
    assert first["result"] == "match" and first["check_count"] == 1
    assert first["invoice"]["status"] == "normal"
    assert first["invoice"]["total_with_tax"] == "226.00"
    assert "account" not in first["invoice"]["seller"]
    before_tax = verify(world, number, total="200.00")
    assert before_tax["result"] == "mismatch" and before_tax["checks_left"] == 3
    assert "价税合计" in before_tax["message"] and before_tax["invoice"] is None
    assert verify(world, number, day="2026-11-09")["result"] == "mismatch"
    assert [verify(world, number)["check_count"] for _ in range(2)] == [4, 5]
    sixth = verify(world, number)
    assert (sixth["result"], sixth["check_count"], sixth["checks_left"]) == ("limit_exceeded", 5, 0)
    assert sixth["invoice"] is None and "5" in sixth["message"]
    world.platform.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    assert verify(world, number)["check_count"] == 1


def test_not_found_and_window(world: World) -> None:
    assert verify(world, "26111000000012345678")["result"] == "not_found"
    assert verify(world, "26111000000012345678", day="2021-11-09")["result"] == "out_of_window"
    assert verify(world, "26111000000012345678", day="2026-11-11")["result"] == "out_of_window"


def test_status_follows_reversal(world: World) -> None:
    number = issued(world)["number"]
    world.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": number, "reason": "01"},
        headers=world.as_("seller"),
    )
    assert verify(world, number)["invoice"]["status"] == "fully_reversed"


def test_bad_format_is_a_problem(world: World) -> None:
    response = world.client.post(
        "/api/v1/verify", json={"number": "123", "issue_date": "20261110", "total_with_tax": "abc"}
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"number", "issue_date", "total_with_tax"}


def test_messages_in_english(world: World) -> None:
    response = world.client.post(
        "/api/v1/verify",
        json={
            "number": "26111000000012345678",
            "issue_date": "2026-11-10",
            "total_with_tax": "1.00",
        },
        headers={"Accept-Language": "en"},
    ).json()
    assert response["message"] == "No invoice with this number has been issued on the platform."
    assert response["checks_left"] is None
