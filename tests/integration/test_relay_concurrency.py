"""Several relays on one PostgreSQL database, each on its own Platform (own engine, as in
separate processes), sharing a few hundred deliveries through SKIP LOCKED claims and leases:
nothing is sent twice while the receiver is healthy, everything arrives (and is applied once
after de-duplicating on the event id) while it fails now and then, and a claim whose relay
died is taken over once its lease runs out."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from conftest import START, World
from fapiao.db import Database
from fapiao.outbox.service import emit
from fapiao.platform import Platform
from fapiao.taxpayers.models import Taxpayer
from fapiao.webhooks import service
from fapiao.webhooks.models import Delivery, DeliveryAttempt
from fapiao.webhooks.relay import Relay

pytestmark = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)]
)

EVENTS = 300
RELAYS = 3


class TickingClock:
    """Conftest's start instant, moving at the speed of real time (leases and back-off
    run out while the relays work)."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def now(self) -> datetime:
        return START + timedelta(seconds=time.monotonic() - self._started)


class Server(ThreadingHTTPServer):
    request_queue_size = 256  # relays connect many at once; a full backlog refuses them


class Receiver:
    """Records (event id, attempt header, answer, arrival); every `fail_every`-th request is
    answered 500. Each request takes a little while, so claims of several relays overlap."""

    def __init__(self, fail_every: int = 0) -> None:
        self.arrivals: list[tuple[str, int, int, float]] = []
        self._count = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(0.002)
                with receiver._lock:
                    receiver._count += 1
                    failing = fail_every > 0 and receiver._count % fail_every == 0
                    status = 500 if failing else 204
                    receiver.arrivals.append(
                        (
                            self.headers["Fapiao-Event-Id"],
                            int(self.headers["Fapiao-Delivery-Attempt"]),
                            status,
                            time.monotonic(),
                        )
                    )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def relay_platforms(world: World) -> Iterator[list[Platform]]:
    """RELAYS platforms as separate processes would have them, on a clock that ticks."""
    settings = world.platform.settings
    settings.relay_poll_seconds = 0.01
    settings.webhook_backoff_base_seconds = 0.02
    settings.webhook_backoff_cap_seconds = 0.1
    settings.webhook_max_attempts = 50
    clock = TickingClock()
    made = [Platform(settings=settings, database=Database(settings), clock=clock)]
    made += [
        Platform(settings=settings, database=Database(settings), clock=clock)
        for _ in range(RELAYS - 1)
    ]
    yield made
    for platform in made:
        platform.close()


def prepare(world: World, receiver: Receiver) -> set[str]:
    """One subscription of the seller and EVENTS outbox events for it; their ids."""
    hook = world.client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["invoice.issued"]},
        headers=world.as_("seller_admin"),
    )
    assert hook.status_code == 201, hook.text
    now = world.platform.clock.now()
    with world.platform.database.transaction() as session:
        seller = session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == "91110108551385082Q"))
        assert seller is not None
        events = [
            emit(session, "invoice.issued", seller, f"N{index:04d}", {"number": f"N{index}"}, now)
            for index in range(EVENTS)
        ]
        session.flush()
        return {event.event_id for event in events}


def run_relays(
    platforms: list[Platform], finished: Callable[[], bool], timeout: float = 90
) -> list[int]:
    """Run one relay per platform on its own thread until `finished()`; deliveries each
    relay sent."""
    sent = [0] * len(platforms)
    failures: list[BaseException] = []
    stop = threading.Event()
    barrier = threading.Barrier(len(platforms))

    def loop(index: int) -> None:
        relay = Relay(platforms[index])
        barrier.wait()
        try:
            while not stop.is_set():
                done = relay.run_once()
                sent[index] += done["sent"]
                if not done["sent"] and not done["events"]:
                    stop.wait(0.01)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(platforms))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not finished() and time.monotonic() < deadline and not failures:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not failures, failures
    assert finished(), "the relays did not finish in time"
    return sent


def all_delivered(world: World) -> Callable[[], bool]:
    def check() -> bool:
        with world.platform.database.transaction(write=False) as session:
            rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
            counts = {status: count for status, count in rows}
        return counts == {"delivered": EVENTS}

    return check


def delivery_log(world: World) -> tuple[list[Delivery], Counter[int]]:
    with world.platform.database.transaction(write=False) as session:
        deliveries = list(session.scalars(select(Delivery)))
        attempts = Counter(session.scalars(select(DeliveryAttempt.delivery_id)))
    return deliveries, attempts


def test_concurrent_relays_send_each_delivery_exactly_once(
    world: World, relay_platforms: list[Platform]
) -> None:
    receiver = Receiver()
    try:
        ids = prepare(world, receiver)
        sent = run_relays(relay_platforms, all_delivered(world))
    finally:
        receiver.close()
    assert sum(sent) == EVENTS
    assert all(count > 0 for count in sent), sent  # the work really was shared
    arrivals = Counter(event_id for event_id, _, _, _ in receiver.arrivals)
    assert set(arrivals) == ids
    assert set(arrivals.values()) == {1}  # no event sent twice
    deliveries, attempts = delivery_log(world)
    assert len(deliveries) == EVENTS  # fan-out made one delivery per event, not one per relay
    assert {(d.attempts, attempts[d.id], d.last_status) for d in deliveries} == {(1, 1, 204)}


def test_concurrent_relays_deliver_at_least_once_when_the_receiver_fails_now_and_then(
    world: World, relay_platforms: list[Platform]
) -> None:
    receiver = Receiver(fail_every=3)
    try:
        ids = prepare(world, receiver)
        sent = run_relays(relay_platforms, all_delivered(world))
    finally:
        receiver.close()
    accepted = [event_id for event_id, _, status, _ in receiver.arrivals if status == 204]
    assert set(accepted) == ids  # de-duplicated on the event id: each applied once
    assert len(accepted) == EVENTS  # and, with leases far longer than a send, once only
    failed = [event_id for event_id, _, status, _ in receiver.arrivals if status == 500]
    assert len(failed) >= EVENTS // 3 - RELAYS
    assert sum(sent) == len(receiver.arrivals)
    # Every event's tries arrived numbered 1, 2, … and the log holds each of them.
    tries: dict[str, list[int]] = {}
    for event_id, attempt, _, _ in sorted(receiver.arrivals, key=lambda item: item[3]):
        tries.setdefault(event_id, []).append(attempt)
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in tries.values())
    deliveries, attempts = delivery_log(world)
    for delivery in deliveries:
        assert delivery.attempts == attempts[delivery.id] == len(tries[delivery.event_id])
        assert delivery.status == "delivered" and delivery.last_status == 204


def test_a_dead_relays_claim_is_taken_over_after_its_lease(
    world: World, relay_platforms: list[Platform]
) -> None:
    receiver = Receiver()
    lease = 1.5
    try:
        ids = prepare(world, receiver)
        dead = relay_platforms[0]
        with dead.database.transaction() as session:
            service.fan_out(session, dead.clock.now())
        with dead.database.transaction() as session:
            claimed = service.claim(session, dead.clock.now(), lease_seconds=lease, limit=40)
        claimed_at = time.monotonic()
        assert len(claimed) == 40  # ... and this relay never sends them nor records
        sent = run_relays(relay_platforms[1:], all_delivered(world))
    finally:
        receiver.close()
    assert sum(sent) == EVENTS
    arrived = {event_id: (attempt, at) for event_id, attempt, _, at in receiver.arrivals}
    assert set(arrived) == ids and len(receiver.arrivals) == EVENTS
    for item in claimed:
        attempt, at = arrived[item.event_id]
        assert attempt == 2  # the dead relay's claim counted as the first try
        assert at >= claimed_at + lease - 0.05  # not before its lease ran out
    deliveries, attempts = delivery_log(world)
    taken_over = {item.delivery_id for item in claimed}
    for delivery in deliveries:
        # The dead relay's try has no log entry: it never came back to write one.
        expected = (2, 1) if delivery.id in taken_over else (1, 1)
        assert (delivery.attempts, attempts[delivery.id]) == expected
