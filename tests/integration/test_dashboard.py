"""Dashboard figures for a taxpayer and for the platform, and their charts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from xml.etree import ElementTree

from sqlalchemy import select

from conftest import World, invoice_body
from fapiao.accounts import service as accounts
from fapiao.accounts.models import User
from fapiao.dashboard import charts, service
from fapiao.kit.clock import FixedClock, local_date
from fapiao.redletter import rules


def actor_of(world: World, username: str) -> accounts.Actor:
    with world.platform.database.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return accounts.load_actor(session, user.id)


def issue(world: World, who: str = "seller", **overrides: object) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_(who)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def test_a_taxpayers_month_waiting_forms_and_certification(world: World) -> None:
    first = issue(world)
    issue(world)
    # The buyer certifies one, so reversing it needs the buyer's answer (state 02).
    period = local_date(world.platform.clock.now()).strftime("%Y%m")
    certified = world.client.post(
        f"/api/v1/invoices/{first}/certify",
        json={"period": period, "purpose": "deduct"},
        headers=world.as_("buyer"),
    )
    assert certified.status_code == 200, certified.text
    form = world.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": first, "reason": "01"},
        headers=world.as_("seller"),
    )
    assert form.json()["state"] == rules.SELLER_AWAITING_BUYER
    clock = world.platform.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(hours=2))
    now = world.platform.clock.now()
    with world.platform.database.transaction(write=False) as session:
        seller = service.taxpayer_summary(session, actor_of(world, "seller"), now)
        buyer = service.taxpayer_summary(session, actor_of(world, "buyer"), now)
    assert seller.issued_count == 2 and seller.issued_total == Decimal("452.00")
    assert seller.credit_used == Decimal("400.00")
    assert seller.credit_limit == Decimal("1000000.00")
    assert sum(day.count for day in seller.days) == 2 and len(seller.days) == service.DAYS
    assert seller.waiting == []  # the seller filed it; the buyer answers
    assert buyer.received_count == 2 and buyer.received_total == Decimal("452.00")
    assert [form.blue_number for form in buyer.waiting] == [first]
    assert 69.9 < buyer.waiting[0].hours_left <= 70.0
    assert buyer.certified_count == 1 and buyer.certifiable_count == 1
    assert not buyer.period_confirmed


def test_the_platform_summary_counts_everyone(world: World) -> None:
    issue(world)
    issue(
        world, who="other", buyer={"tax_id": "91110105MA01ABCD13", "name": "北京样例贸易有限公司"}
    )
    with world.platform.database.transaction(write=False) as session:
        summary = service.platform_summary(session, world.platform.clock.now())
    assert summary.taxpayers == 4
    assert summary.issued_today == 2 and summary.issued_month == 2
    assert summary.total_month == Decimal("452.00")
    assert summary.days[-1].count == 2


def test_charts_are_accessible_svg_with_the_figures_in_words(world: World) -> None:
    issue(world)
    with world.platform.database.transaction(write=False) as session:
        summary = service.taxpayer_summary(
            session, actor_of(world, "seller"), world.platform.clock.now()
        )
    svg = charts.daily_bars(summary.days, "Invoices per day", "2 invoices today")
    tree = ElementTree.fromstring(svg)
    assert tree.get("role") == "img" and tree.get("aria-label") == "Invoices per day"
    bars = tree.findall("{http://www.w3.org/2000/svg}rect")
    assert len(bars) == service.DAYS
    assert float(bars[-1].get("height", "0")) > 0 and float(bars[0].get("height", "0")) == 0
    meter = ElementTree.fromstring(
        charts.meter(Decimal("95"), Decimal("100"), "Credit <used>", "95 of 100")
    )
    fill = meter.findall("{http://www.w3.org/2000/svg}rect")[1]
    assert fill.get("fill") == "#b91c1c"  # nearly exhausted shows red
    assert meter.findtext("{http://www.w3.org/2000/svg}title") == "Credit <used>"
