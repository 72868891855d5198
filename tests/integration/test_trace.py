"""Why an invoice cannot be seen: every diagnosis of domain.md §12 that the platform can
know, each created for real, and the invoice timeline. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from test_redletter import form
from test_redletter import issue as issue_reversible
from typer.testing import CliRunner

from conftest import BUYER_ID, OTHER_ID, World, invoice_body, make_user
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.webhooks.relay import Relay
from fapiao.worker import Worker

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
    assert english["message"] == f"Invoice {number} is issued and you can see it."
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


MAINTENANCE_UNTIL = "2026-11-10T12:00:00+08:00"


def test_a_number_not_found_during_maintenance(world: World) -> None:
    number = issue(world)
    on = world.client.put(
        "/api/v1/maintenance", json={"until": MAINTENANCE_UNTIL}, headers=world.as_("officer")
    )
    assert on.status_code == 200
    answer = diagnose(world, "buyer", "26111000000000099999", "en")
    assert answer["code"] == "MAINTENANCE"
    assert "until 2026-11-10 12:00 (Beijing time)" in answer["message"]
    assert answer["until"] == "2026-11-10T04:00:00+00:00"
    assert "维护" in diagnose(world, "buyer", "26111000000000099999")["message"]
    # An issued invoice is still diagnosed as such; its timeline reports the window.
    assert diagnose(world, "buyer", number)["code"] == "VISIBLE"
    story = world.client.get(f"/api/v1/invoices/{number}/trace", headers=world.as_("seller"))
    assert story.json()["maintenance"]["until"] == "2026-11-10T04:00:00+00:00"
    windows = [event for event in story.json()["timeline"] if event["kind"] == "maintenance"]
    assert windows == [
        {
            "at": "2026-11-10T02:00:00+00:00",
            "kind": "maintenance",
            "until": "2026-11-10T04:00:00+00:00",
            "ended_at": None,
        }
    ]
    world.platform.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    assert diagnose(world, "buyer", "26111000000000099999")["code"] == "NOT_ISSUED"
    later = world.client.get(f"/api/v1/invoices/{number}/trace", headers=world.as_("seller"))
    assert later.json()["maintenance"] is None
    kinds = [event["kind"] for event in later.json()["timeline"]]
    assert kinds[0] == "recorded" and kinds.count("maintenance") == 1  # the past window


def issue_with_key(world: World, key: str, who: str = "seller", **overrides: Any) -> Any:
    return world.client.post(
        "/api/v1/invoices",
        json=invoice_body(**overrides),
        headers=world.as_(who, **{"Idempotency-Key": key}),
    )


def by_key(world: World, who: str, key: str, lang: str = "zh-CN", **query: str) -> Any:
    response = world.client.get(
        "/api/v1/trace",
        params={"idempotency_key": key, **query},
        headers=world.as_(who, **{"Accept-Language": lang}),
    )
    assert response.status_code == 200, response.text
    return response.json()["diagnosis"]


def test_refused_requests_by_idempotency_key(world: World) -> None:
    from sqlalchemy import func, select

    from fapiao.invoices.models import IssueRejection

    key = "order-2026-0042"
    huge = [{**invoice_body()["lines"][0], "quantity": "10000", "unit_price": "1000"}]
    over = issue_with_key(world, key, lines=huge)
    assert over.status_code == 409 and over.json()["code"] == "CREDIT_LIMIT_EXCEEDED"
    world.platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    misnamed = issue_with_key(world, key, buyer={"tax_id": BUYER_ID, "name": "北京样例贸易公司"})
    assert misnamed.status_code == 422

    answer = by_key(world, "seller", key, "en")
    assert answer["code"] == "NOT_ISSUED" and answer["number"] is None
    assert "refused it 2 time(s), most recently with VALIDATION_FAILED" in answer["message"]
    assert "named exactly as registered" in answer["hint"]  # what to fix: the latest refusal
    latest, first = answer["rejections"]
    assert latest["at"] == "2026-11-10T02:01:00+00:00" and latest["code"] == "VALIDATION_FAILED"
    assert latest["errors"][0]["field"] == "buyer.name"
    assert latest["errors"][0]["code"] == "BUYER_NAME_MISMATCH"
    assert "北京样例贸易有限公司" in latest["message"]  # the registered name to use
    assert first["code"] == "CREDIT_LIMIT_EXCEEDED" and first["status"] == 409
    assert "monthly credit limit" in first["message"] and "1000000.00" in first["message"]
    chinese = by_key(world, "seller_admin", key)
    assert chinese["rejections"][1]["message"].startswith("开具该发票将超出本月授信额度")
    officers_view = by_key(world, "officer", key, "en", taxpayer="91110108551385082Q")
    assert len(officers_view["rejections"]) == 2

    # Another taxpayer's keys are simply unknown, even the same key string.
    for who in ("other", "buyer"):
        unknown = by_key(world, who, key, "en")
        assert unknown["code"] == "NOT_ISSUED" and unknown["rejections"] == []
        assert "no refusal of it is known" in unknown["message"]
    viewer = world.client.get(
        "/api/v1/trace", params={"idempotency_key": key}, headers=world.as_("seller_viewer")
    )
    assert viewer.status_code == 403
    officer = world.client.get(
        "/api/v1/trace", params={"idempotency_key": key}, headers=world.as_("officer")
    )
    assert officer.status_code == 422 and officer.json()["errors"][0]["field"] == "taxpayer"
    both = world.client.get(
        "/api/v1/trace", params={"idempotency_key": key, "number": "1"}, headers=world.as_("seller")
    )
    assert both.status_code == 422

    # Fixed and sent again with the same key: issued, and the trace says with which number.
    fixed = issue_with_key(world, key)
    assert fixed.status_code == 201
    issued = by_key(world, "seller", key, "en")
    assert issued["code"] == "ISSUED" and issued["number"] == fixed.json()["number"]
    assert issued["rejections"] == []

    state = CliState()
    state._platform = world.platform
    result = CliRunner().invoke(
        app,
        ["--lang", "en", "trace", "--idempotency-key", key, "--taxpayer", "91110108551385082Q"],
        obj=state,
    )
    assert result.exit_code == 0, result.output
    assert "ISSUED" in result.output and fixed.json()["number"] in result.output

    # Refusals without a key and successes record nothing; old refusals are pruned.
    with world.platform.database.transaction(write=False) as session:
        rows = session.scalar(select(func.count()).select_from(IssueRejection))
    assert rows == 2
    assert issue(world)  # no key
    no_key = world.client.post(
        "/api/v1/invoices", json=invoice_body(lines=huge), headers=world.as_("seller")
    )
    assert no_key.status_code == 409
    with world.platform.database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(IssueRejection)) == 2
    world.platform.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    assert Worker(world.platform).scheduled()["rejections_pruned"] == 2
    with world.platform.database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(IssueRejection)) == 0


def test_a_key_refused_before_maintenance_and_unknown_during_it(world: World) -> None:
    world.client.put(
        "/api/v1/maintenance", json={"until": MAINTENANCE_UNTIL}, headers=world.as_("officer")
    )
    refused = issue_with_key(world, "during-1")
    assert refused.status_code == 503  # not a refusal of the request itself: not recorded
    answer = by_key(world, "seller", "during-1", "en")
    assert answer["code"] == "MAINTENANCE" and answer["until"] == "2026-11-10T04:00:00+00:00"
    cli = CliState()
    cli._platform = world.platform
    result = CliRunner().invoke(app, ["--lang", "en", "trace", "26111000000000099999"], obj=cli)
    assert result.exit_code == 0 and "MAINTENANCE" in result.output
