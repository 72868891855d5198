"""Safety under concurrent issuance: 16 clients, each its own process-like Platform (own
engine, own number blocks) on one database. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, select, update

from conftest import World
from fapiao.accounts.models import User
from fapiao.accounts.service import Actor, load_actor
from fapiao.db import Database
from fapiao.invoices import rules, service
from fapiao.invoices.buyer import BuyerInput
from fapiao.invoices.credit import credit_used
from fapiao.invoices.models import Invoice
from fapiao.kit.errors import Conflict
from fapiao.platform import Platform
from fapiao.taxpayers.models import Taxpayer

CLIENTS = 16
T = TypeVar("T")


def seller_actor(world: World, username: str = "seller") -> Actor:
    with world.platform.database.transaction(write=False) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        return load_actor(session, user_id)


def request(amount: str = "100.00", key: str = "") -> service.IssueRequest:
    return service.IssueRequest(
        kind="special",
        buyer=BuyerInput(name="北京样例贸易有限公司", tax_id="91110105MA01ABCD13"),
        lines=[
            rules.LineInput(
                name="软件维护",
                tax_code="3040201030000000000",
                tax_rate="0.06",
                amount=Decimal(amount),
            )
        ],
        fingerprint=key or "same",
    )


def in_parallel(world: World, work: Callable[[Platform, int], T]) -> list[T | Exception]:
    """Run `work` on CLIENTS threads at once, each with its own Platform."""
    platforms = [
        Platform(
            settings=world.platform.settings,
            database=Database(world.platform.settings),
            clock=world.platform.clock,
        )
        for _ in range(CLIENTS)
    ]
    barrier = threading.Barrier(CLIENTS)

    def run(index: int) -> T | Exception:
        barrier.wait()
        try:
            return work(platforms[index], index)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            return list(pool.map(run, range(CLIENTS)))
    finally:
        for platform in platforms:
            platform.close()


def test_numbers_are_unique_under_concurrent_issuance(world: World) -> None:
    actor = seller_actor(world)

    def issue_many(platform: Platform, index: int) -> list[str]:
        return [service.issue(platform, actor, request(), None)[0].number for _ in range(10)]

    results = in_parallel(world, issue_many)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    numbers = [n for r in results if isinstance(r, list) for n in r]
    assert len(numbers) == len(set(numbers)) == CLIENTS * 10
    assert all(len(n) == 20 and n.startswith("26111") for n in numbers)
    with world.platform.database.transaction(write=False) as session:
        assert session.scalar(select(func.count(func.distinct(Invoice.number)))) == CLIENTS * 10


def test_credit_limit_holds_under_concurrent_issuance(world: World) -> None:
    with world.platform.database.transaction() as session:
        session.execute(
            update(Taxpayer)
            .where(Taxpayer.tax_id == "91110108551385082Q")
            .values(credit_limit=Decimal("1000.00"))
        )
    actor = seller_actor(world)

    def issue_three(platform: Platform, index: int) -> list[str]:
        outcomes = []
        for _ in range(3):
            try:
                service.issue(platform, actor, request("100.00"), None)
                outcomes.append("issued")
            except Conflict as exc:
                outcomes.append(exc.code)
        return outcomes

    results = in_parallel(world, issue_three)
    outcomes = [o for r in results if isinstance(r, list) for o in r]
    assert len(outcomes) == CLIENTS * 3, [r for r in results if isinstance(r, Exception)]
    assert outcomes.count("issued") == 10
    assert outcomes.count("CREDIT_LIMIT_EXCEEDED") == CLIENTS * 3 - 10
    with world.platform.database.transaction(write=False) as session:
        total = session.scalar(select(func.count()).select_from(Invoice))
        assert total == 10
        assert credit_used(session, actor.taxpayer_id or 0, "202611") == Decimal("1000.00")


def test_same_idempotency_key_at_once_issues_one_invoice(world: World) -> None:
    actor = seller_actor(world)

    def same_key(platform: Platform, index: int) -> str:
        invoice, _ = service.issue(platform, actor, request(), "order-7")
        return invoice.number

    results = in_parallel(world, same_key)
    assert all(isinstance(r, str) for r in results), [
        r for r in results if isinstance(r, Exception)
    ][:3]
    assert len(set(results)) == 1
    with world.platform.database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1
        assert credit_used(session, actor.taxpayer_id or 0, "202611") == Decimal("100.00")


def test_concurrent_partial_reversals_never_exceed_the_blue_invoice(world: World) -> None:
    from fapiao.kit.errors import FapiaoError
    from fapiao.redletter import service as redletter

    actor = seller_actor(world)
    blue, _ = service.issue(world.platform, actor, request("1000.00"), None)

    def reverse(platform: Platform, index: int) -> str:
        try:
            form = redletter.create_form(
                platform, actor, blue.number, "04", [(1, Decimal("150.00"), None)]
            )
            return form.state
        except FapiaoError as exc:
            return exc.code

    results = in_parallel(world, reverse)
    assert all(isinstance(r, str) for r in results), [
        r for r in results if isinstance(r, Exception)
    ][:3]
    assert results.count("01") == 6  # 6 × 150 = 900; a 7th would pass 1000
    with world.platform.database.transaction(write=False) as session:
        reversed_total = session.scalar(
            select(func.sum(Invoice.total_amount)).where(Invoice.red_of == blue.number)
        )
        status = session.scalar(select(Invoice.status).where(Invoice.number == blue.number))
    assert reversed_total == Decimal("-900.00")
    assert status == "partially_reversed"


def test_two_answers_to_one_form_issue_one_red_invoice(world: World) -> None:
    from fapiao.kit.errors import FapiaoError
    from fapiao.redletter import service as redletter

    actor = seller_actor(world)
    blue, _ = service.issue(world.platform, actor, request("1000.00"), None)
    certified = world.client.post(
        f"/api/v1/invoices/{blue.number}/certify",
        json={"period": "202611", "purpose": "deduct"},
        headers=world.as_("buyer"),
    )
    assert certified.status_code == 200
    form = redletter.create_form(
        world.platform, actor, blue.number, "04", [(1, Decimal("100.00"), None)]
    )
    with world.platform.database.transaction(write=False) as session:
        buyer_id = session.scalar(select(User.id).where(User.username == "buyer"))
        assert buyer_id is not None
        buyer = load_actor(session, buyer_id)

    def answer(platform: Platform, index: int) -> str:
        try:
            return redletter.decide(platform, buyer, form.id, "Y").state
        except FapiaoError as exc:
            return exc.code

    results = in_parallel(world, answer)
    assert results.count("04") == 1, results
    assert results.count("REDLETTER_FORM_CLOSED") == CLIENTS - 1
    with world.platform.database.transaction(write=False) as session:
        reds = session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.red_of == blue.number)
        )
        reversed_amount = session.scalar(
            select(Invoice.reversed_amount).where(Invoice.number == blue.number)
        )
    assert reds == 1 and reversed_amount == Decimal("100.00")


def test_confirming_a_period_races_with_withdrawal_safely(world: World) -> None:
    from fapiao.certification import service as certification
    from fapiao.kit.errors import FapiaoError

    actor = seller_actor(world)
    blue, _ = service.issue(world.platform, actor, request("1000.00"), None)
    with world.platform.database.transaction(write=False) as session:
        buyer_id = session.scalar(select(User.id).where(User.username == "buyer"))
        assert buyer_id is not None
        buyer = load_actor(session, buyer_id)
    with world.platform.database.transaction() as session:
        certification.certify(
            session,
            buyer,
            blue.number,
            period="202611",
            purpose="deduct",
            reason=None,
            reason_text=None,
            now=world.platform.clock.now(),
        )

    def act(platform: Platform, index: int) -> str:
        try:
            with platform.database.transaction() as session:
                if index % 2:
                    certification.withdraw(session, buyer, blue.number, platform.clock.now())
                    return "withdrawn"
                certification.confirm(session, buyer, "202611", platform.clock.now())
                return "confirmed"
        except FapiaoError as exc:
            return exc.code

    results = in_parallel(world, act)
    assert all(isinstance(r, str) for r in results), [
        r for r in results if isinstance(r, Exception)
    ]
    assert results.count("confirmed") <= 1 and results.count("withdrawn") <= 1
    with world.platform.database.transaction(write=False) as session:
        summary = certification.summary(
            session, buyer.taxpayer_id or 0, buyer.tax_id or "", "202611"
        )
    if summary.confirmed_at is not None:
        assert summary.count == 1 and "withdrawn" not in results  # signed as it stood
    else:
        assert summary.count == 0 and "withdrawn" in results
