"""Every webhook event, created for real through the HTTP API and delivered by the relay to
real HTTP receivers: the right types, to the right taxpayer only, signed, and naming the
document. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from test_webhooks import SECRET, Receiver

from conftest import BUYER_ID, OTHER_ID, SELLER_ID, World, invoice_body, make_user
from fapiao.webhooks.models import EVENT_TYPES
from fapiao.webhooks.relay import Relay

PERIOD = "202611"  # the month of conftest's START


class Parties:
    """Seller, buyer and an uninvolved third taxpayer, each with an admin and its own
    receiver subscribed to every event."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.receivers: dict[str, Receiver] = {}
        self.secrets: dict[str, str] = {}
        for name, tax_id in (("seller", SELLER_ID), ("buyer", BUYER_ID), ("other", OTHER_ID)):
            admin = f"{name}_admin"
            if admin not in world.headers:
                world.headers[admin] = make_user(world.platform, admin, "admin", tax_id)
            self.receivers[name] = Receiver()
            hook = world.client.post(
                "/api/v1/webhooks",
                json={"url": self.receivers[name].url, "events": list(EVENT_TYPES)},
                headers=world.as_(admin),
            )
            assert hook.status_code == 201, hook.text
            self.secrets[name] = hook.json()["secret"]

    def relay(self) -> dict[str, list[dict[str, Any]]]:
        """Run the relay until nothing is left; every verified body each party received
        since the last call."""
        relay = Relay(self.world.platform)
        while relay.run_once()["sent"]:
            pass
        got = {}
        for name, receiver in self.receivers.items():
            got[name] = [verified(item, self.secrets[name]) for item in receiver.received]
            receiver.received.clear()
        return got

    def close(self) -> None:
        for receiver in self.receivers.values():
            receiver.server.shutdown()
            receiver.server.server_close()


@pytest.fixture
def parties(world: World) -> Iterator[Parties]:
    made = Parties(world)
    yield made
    made.close()


def verified(item: dict[str, Any], secret: str) -> dict[str, Any]:
    """The body of one delivery after checking its signature and its headers."""
    headers, raw = item["headers"], item["body"]
    fields = dict(part.split("=", 1) for part in headers["Fapiao-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + raw, hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest()), "bad signature"
    body: dict[str, Any] = json.loads(raw)
    assert headers["Fapiao-Event-Id"] == body["id"]
    assert headers["Fapiao-Event"] == body["type"] == body["data"]["type"]
    assert headers["Fapiao-Delivery-Attempt"] == "1"
    return body


def types(bodies: list[dict[str, Any]]) -> list[str]:
    return sorted(body["type"] for body in bodies)


def issue(world: World, **overrides: Any) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def call(world: World, method: str, path: str, who: str, **json_body: Any) -> dict[str, Any]:
    response = world.client.request(
        method, f"/api/v1{path}", json=json_body or None, headers=world.as_(who)
    )
    assert 200 <= response.status_code < 300, response.text
    return response.json() if response.content else {}


def test_voiding_a_paper_invoice_tells_seller_and_buyer(world: World, parties: Parties) -> None:
    number = issue(world, medium="paper")
    issued = parties.relay()
    assert types(issued["seller"]) == ["invoice.issued"]
    assert types(issued["buyer"]) == ["invoice.received"]
    assert issued["other"] == []

    call(world, "POST", f"/invoices/{number}/void", "seller")
    got = parties.relay()
    assert types(got["seller"]) == types(got["buyer"]) == ["invoice.voided"]
    assert got["other"] == []
    assert {body["data"]["number"] for body in got["seller"] + got["buyer"]} == {number}
    # One event per recipient: the two deliveries are distinct events.
    assert got["seller"][0]["id"] != got["buyer"][0]["id"]


def test_a_form_that_needs_an_answer_asks_the_buyer_then_tells_both(
    world: World, parties: Parties
) -> None:
    number = issue(world)
    call(world, "POST", f"/invoices/{number}/certify", "buyer", period=PERIOD, purpose="deduct")
    parties.relay()

    form = call(
        world,
        "POST",
        "/red-letter-forms",
        "seller",
        blue_number=number,
        reason="04",
        lines=[{"line_no": 1, "amount": "50.00"}],
    )
    assert form["state"] == "02"
    asked = parties.relay()
    assert asked["seller"] == [] and asked["other"] == []
    (request,) = asked["buyer"]
    assert request["type"] == "redletter.requested"
    assert request["data"] == {
        "type": "redletter.requested",
        "form_id": form["id"],
        "blue_number": number,
        "state": "02",
    }

    decided = call(world, "POST", f"/red-letter-forms/{form['id']}/decision", "buyer", decision="Y")
    red_number = decided["red_invoice_number"]
    got = parties.relay()
    assert types(got["seller"]) == ["invoice.reversed", "redletter.decided"]
    assert types(got["buyer"]) == ["invoice.reversed"]
    assert got["other"] == []
    decision = next(body for body in got["seller"] if body["type"] == "redletter.decided")
    assert decision["data"]["form_id"] == form["id"] and decision["data"]["state"] == "04"
    for body in got["seller"] + got["buyer"]:
        if body["type"] == "invoice.reversed":
            assert body["data"]["number"] == red_number
            assert body["data"]["blue_number"] == number
            assert body["data"]["total_with_tax"] == "-56.50"


def test_a_buyers_form_asks_the_seller_and_a_refusal_tells_only_the_buyer(
    world: World, parties: Parties
) -> None:
    number = issue(world)
    call(world, "POST", f"/invoices/{number}/certify", "buyer", period=PERIOD, purpose="deduct")
    parties.relay()
    form = call(world, "POST", "/red-letter-forms", "buyer", blue_number=number, reason="02")
    assert form["state"] == "03"
    asked = parties.relay()
    assert types(asked["seller"]) == ["redletter.requested"]
    assert asked["buyer"] == [] and asked["other"] == []
    assert asked["seller"][0]["data"]["form_id"] == form["id"]

    call(world, "POST", f"/red-letter-forms/{form['id']}/decision", "seller", decision="N")
    got = parties.relay()
    assert types(got["buyer"]) == ["redletter.decided"]
    assert got["buyer"][0]["data"] == {
        "type": "redletter.decided",
        "form_id": form["id"],
        "blue_number": number,
        "state": "06",
    }
    assert got["seller"] == [] and got["other"] == []  # no red invoice, nothing reversed


def test_a_direct_reversal_tells_both_parties_without_a_form_event(
    world: World, parties: Parties
) -> None:
    number = issue(world)
    parties.relay()
    form = call(world, "POST", "/red-letter-forms", "seller", blue_number=number, reason="01")
    assert form["state"] == "01"
    got = parties.relay()
    assert types(got["seller"]) == types(got["buyer"]) == ["invoice.reversed"]
    assert got["other"] == []
    assert got["buyer"][0]["data"]["number"] == form["red_invoice_number"]
    assert got["buyer"][0]["data"]["blue_number"] == number


def test_certification_changes_reach_the_buyer_only(world: World, parties: Parties) -> None:
    number = issue(world)
    parties.relay()
    tick = {"period": PERIOD, "purpose": "deduct"}
    for method, path, body in (
        ("POST", f"/invoices/{number}/certify", tick),
        ("DELETE", f"/invoices/{number}/certify", {}),
        ("POST", f"/invoices/{number}/certify", tick),
        ("POST", f"/certification-periods/{PERIOD}/confirm", {}),
    ):
        call(world, method, path, "buyer", **body)
        world.platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    got = parties.relay()
    assert got["seller"] == [] and got["other"] == []
    assert [body["type"] for body in got["buyer"]] == ["certification.changed"] * 4
    data = [body["data"] for body in sorted(got["buyer"], key=lambda body: body["created_at"])]
    assert [item.get("purpose", "confirmed") for item in data] == [
        "deduct",
        None,
        "deduct",
        "confirmed",
    ]
    assert [item.get("number") for item in data[:3]] == [number] * 3
    assert data[3] == {"type": "certification.changed", "period": PERIOD, "confirmed": True}
    assert len({body["id"] for body in got["buyer"]}) == 4


def test_a_subscription_receives_only_the_events_it_chose(world: World) -> None:
    world.headers["buyer_admin"] = make_user(world.platform, "buyer_admin", "admin", BUYER_ID)
    chosen = {
        ("seller_admin", "issued"): ["invoice.issued"],
        ("seller_admin", "voided"): ["invoice.voided", "invoice.reversed"],
        ("buyer_admin", "received"): ["invoice.received"],
        ("buyer_admin", "certification"): ["certification.changed"],
    }
    receivers = {key: Receiver() for key in chosen}
    try:
        for (admin, label), events in chosen.items():
            hook = world.client.post(
                "/api/v1/webhooks",
                json={"url": receivers[admin, label].url, "events": events, "secret": SECRET},
                headers=world.as_(admin),
            )
            assert hook.status_code == 201, hook.text
        paper = issue(world, medium="paper")
        electronic = issue(world)
        call(world, "POST", f"/invoices/{paper}/void", "seller")
        call(world, "POST", "/red-letter-forms", "seller", blue_number=electronic, reason="01")
        relay = Relay(world.platform)
        while relay.run_once()["sent"]:
            pass
        got = {
            key: sorted(
                (verified(item, SECRET)["type"], verified(item, SECRET)["data"]["number"])
                for item in receiver.received
            )
            for key, receiver in receivers.items()
        }
    finally:
        for receiver in receivers.values():
            receiver.server.shutdown()
            receiver.server.server_close()
    red = next(
        number for kind, number in got["seller_admin", "voided"] if kind.endswith("reversed")
    )
    assert got["seller_admin", "issued"] == sorted(
        [("invoice.issued", paper), ("invoice.issued", electronic)]
    )
    assert got["seller_admin", "voided"] == sorted(
        [("invoice.voided", paper), ("invoice.reversed", red)]
    )
    assert got["buyer_admin", "received"] == sorted(
        [("invoice.received", paper), ("invoice.received", electronic)]
    )
    assert got["buyer_admin", "certification"] == []


class SlowReceiver:
    """Answers 204 after `delay` seconds; records when each request came in."""

    def __init__(self, delay: float) -> None:
        self.arrived: list[float] = []
        self.answered: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrived.append(time.monotonic())
                time.sleep(delay)
                receiver.answered.append(time.monotonic())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def eventually(check: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_running_relay_delivers_at_once_and_a_slow_receiver_holds_up_no_one(
    world: World,
) -> None:
    world.headers["buyer_admin"] = make_user(world.platform, "buyer_admin", "admin", BUYER_ID)
    world.platform.settings.relay_poll_seconds = 0.05
    slow, fast = SlowReceiver(delay=3.0), SlowReceiver(delay=0)
    relay = Relay(world.platform)
    try:
        for admin, receiver, event in (
            ("seller_admin", slow, "invoice.issued"),
            ("buyer_admin", fast, "invoice.received"),
        ):
            hook = world.client.post(
                "/api/v1/webhooks",
                json={"url": receiver.url, "events": [event]},
                headers=world.as_(admin),
            )
            assert hook.status_code == 201, hook.text
        relay.start()
        issued = time.monotonic()
        issue(world)
        eventually(lambda: len(fast.arrived) == 1 and len(slow.arrived) == 1)
        assert fast.arrived[0] - issued < 2.0  # found without waiting for anything
        issue(world)  # while the slow receiver still holds its first delivery
        eventually(lambda: len(fast.arrived) == 2)
        assert not slow.answered and fast.arrived[1] < slow.arrived[0] + 3.0
        eventually(lambda: len(slow.answered) == 2)

        def log_of(admin: str) -> list[dict[str, Any]]:
            hooks = world.client.get("/api/v1/webhooks", headers=world.as_(admin)).json()
            path = f"/api/v1/webhooks/{hooks[0]['id']}/deliveries"
            return list(world.client.get(path, headers=world.as_(admin)).json())

        eventually(
            lambda: all(
                item["status"] == "delivered"
                for admin in ("seller_admin", "buyer_admin")
                for item in log_of(admin)
            )
        )
    finally:
        relay.stop()
        slow.close()
        fast.close()
    for admin in ("seller_admin", "buyer_admin"):
        log = log_of(admin)
        assert len(log) == 2
        assert [(item["attempts"], len(item["log"])) for item in log] == [(1, 1), (1, 1)]
