"""Why an invoice cannot be seen: every diagnosis of domain.md §12 that the platform can
know, each created for real, and the invoice timeline. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from test_redletter import form
from test_redletter import issue as issue_reversible
from typer.testing import CliRunner

from conftest import OTHER_ID, World, invoice_body, make_user
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.webhooks.relay import Relay

UNREGISTERED = "91110108MA01QWER1D"  # a valid USCC with no account here


def issue(world: World, **overrides: Any) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def diagnose(world: World, who: str, number: str, lang: str = "zh-CN", **query: str) -> Any:
    response = world.client.get(
        "/api/v1/trace",
        params={"number": number, **query},
        headers=world.as_(who, **{"Accept-Language": lang}),
    )
    assert response.status_code == 200, response.text
    return response.json()["diagnosis"]


def test_a_visible_invoice_says_so_and_how_to_find_it(world: World) -> None:
    number = issue(world)
    for who in ("seller", "buyer", "officer"):
        assert diagnose(world, who, number)["code"] == "VISIBLE"
    english = diagnose(world, "buyer", number, "en")
    assert english["message"] == f"Invoice {number} is issued and you can see it (status: normal)."
    assert "226.00" in english["hint"]
    assert number in diagnose(world, "buyer", number)["message"]  # zh-CN by default


def test_numbers_that_were_never_issued(world: World) -> None:
    assert diagnose(world, "buyer", "12345")["code"] == "NUMBER_MALFORMED"
    assert diagnose(world, "buyer", "26111000000000099999")["code"] == "NOT_ISSUED"
    other_region = diagnose(world, "buyer", "26121000000000000001", "en")
    assert other_region["code"] == "OTHER_REGION" and "(12)" in other_region["hint"]


def test_someone_else_learns_only_that_they_are_not_a_party(world: World) -> None:
    number = issue(world)
    answer = diagnose(world, "other", number, "en")
    assert answer["code"] == "NOT_A_PARTY"
    text = answer["message"] + answer["hint"]
    for secret in ("91110105MA01ABCD13", "226.00", "北京样例贸易有限公司", "normal"):
        assert secret not in text
    timeline = world.client.get(f"/api/v1/invoices/{number}/trace", headers=world.as_("other"))
    assert timeline.status_code == 404


def test_the_seller_sees_a_wrong_buyer_tax_id(world: World) -> None:
    number = issue(world)
    wrong = diagnose(world, "seller", number, "en", buyer_tax_id=OTHER_ID)
    assert wrong["code"] == "WRONG_BUYER_TAX_ID"
    assert "91110105MA01ABCD13" in wrong["message"] and OTHER_ID in wrong["message"]
    # The real buyer's ID matches: nothing wrong.
    assert diagnose(world, "seller", number, buyer_tax_id="91110105MA01ABCD13")["code"] == "VISIBLE"
    # The other company (who thinks it is the buyer) learns nothing about the real buyer.
    assert diagnose(world, "other", number, buyer_tax_id=OTHER_ID)["code"] == "NOT_A_PARTY"


def test_no_buyer_account_and_unregistered_buyer(world: World) -> None:
    person = issue(world, kind="ordinary", buyer={"name": "李四", "natural_person": True})
    assert diagnose(world, "seller", person)["code"] == "NO_BUYER_ACCOUNT"
    unregistered = issue(world, buyer={"tax_id": UNREGISTERED, "name": "北京未登记有限公司"})
    answer = diagnose(world, "seller", unregistered, "en")
    assert answer["code"] == "BUYER_NOT_REGISTERED" and UNREGISTERED in answer["message"]


def test_voided_and_reversed(world: World) -> None:
    paper = issue(world, medium="paper")
    assert (
        world.client.post(f"/api/v1/invoices/{paper}/void", headers=world.as_("seller")).status_code
        == 200
    )
    assert diagnose(world, "buyer", paper)["code"] == "VOIDED"
    blue = issue_reversible(world)
    red = form(world, "seller", {"blue_number": blue, "reason": "01"}).json()["red_invoice_number"]
    reversed_ = diagnose(world, "buyer", blue, "en")
    assert reversed_["code"] == "REVERSED" and red in reversed_["message"]


def test_delivery_pending_then_failed(world: World) -> None:
    world.platform.settings.webhook_max_attempts = 1
    world.headers["buyer_admin"] = make_user(
        world.platform, "buyer_admin", "admin", "91110105MA01ABCD13"
    )
    hook = world.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/down", "events": ["invoice.received"]},
        headers=world.as_("buyer_admin"),
    )
    assert hook.status_code == 201
    number = issue(world)
    assert diagnose(world, "buyer", number)["code"] == "PENDING_DELIVERY"
    assert diagnose(world, "seller", number)["code"] == "VISIBLE"  # the seller subscribed nothing
    Relay(world.platform).run_once()
    failed = diagnose(world, "buyer", number, "en")
    assert failed["code"] == "DELIVERY_FAILED" and "ConnectionRefusedError" in failed["hint"]

    story = world.client.get(f"/api/v1/invoices/{number}/trace", headers=world.as_("buyer")).json()
    assert story["diagnosis"]["code"] == "DELIVERY_FAILED"
    kinds = [event["kind"] for event in story["timeline"]]
    assert kinds[0] == "recorded" and "delivery" in kinds
    delivery = next(event for event in story["timeline"] if event["kind"] == "delivery")
    assert delivery["dead_lettered"] is True and delivery["attempts"] == 1
    # The seller's timeline does not show the buyer's systems.
    seller_story = world.client.get(
        f"/api/v1/invoices/{number}/trace", headers=world.as_("seller")
    ).json()
    assert [event["kind"] for event in seller_story["timeline"]] == ["recorded"]


def test_public_check_limit_used_up(world: World) -> None:
    number = issue(world)
    for _ in range(world.platform.settings.verify_daily_limit):
        checked = world.client.post(
            "/api/v1/verify",
            json={"number": number, "issue_date": "2026-11-10", "total_with_tax": "226.00"},
        )
        assert checked.status_code == 200, checked.text
    assert diagnose(world, "buyer", number)["code"] == "VERIFY_LIMIT_REACHED"
    world.platform.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    assert diagnose(world, "buyer", number)["code"] == "VISIBLE"


def test_timeline_of_a_reversed_invoice_and_the_cli(world: World) -> None:
    blue = issue_reversible(world)
    created = form(world, "seller", {"blue_number": blue, "reason": "01"}).json()
    story = world.client.get(f"/api/v1/invoices/{blue}/trace", headers=world.as_("officer")).json()
    forms = [event for event in story["timeline"] if event["kind"] == "red_letter_form"]
    assert forms[0]["red_invoice_number"] == created["red_invoice_number"]
    assert story["verification_checks_today"] == 0 and story["replica_lag_seconds"] is None

    state = CliState()
    state._platform = world.platform
    result = CliRunner().invoke(app, ["--lang", "en", "trace", blue], obj=state)
    assert result.exit_code == 0, result.output
    assert "REVERSED" in result.output and "red_letter_form" in result.output
    missing = CliRunner().invoke(app, ["--lang", "en", "trace", "26111000000000099999"], obj=state)
    assert missing.exit_code == 0 and "NOT_ISSUED" in missing.output
