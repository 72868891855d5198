"""Webhooks: subscriptions, the relay delivering outbox events to a real HTTP receiver,
signatures, retries with back-off, dead letters, redelivery and the delivery log.
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conftest import World, invoice_body
from fapiao.webhooks import service
from fapiao.webhooks.relay import Relay

SECRET = "a-receiver-secret-of-32-chars!!"


class Receiver:
    """An HTTP server that records every delivery; `fail_next` answers 500 that often."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                failing = receiver.fail_next > 0
                if failing:
                    receiver.fail_next -= 1
                receiver.received.append(
                    {"headers": dict(self.headers), "body": body, "failed": failing}
                )
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks?src=fapiao"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[dict[str, Any]]:
        return [json.loads(item["body"]) for item in self.received if not item["failed"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def subscribe(world: World, who: str, url: str, events: list[str]) -> Any:
    return world.client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": events, "secret": SECRET},
        headers=world.as_(who),
    )


def issue(world: World) -> str:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def test_events_reach_the_seller_and_the_buyer_signed(world: World, receiver: Receiver) -> None:
    seller_hook = subscribe(world, "seller_admin", receiver.url, ["invoice.issued"])
    assert seller_hook.status_code == 201, seller_hook.text
    assert seller_hook.json()["secret"] == SECRET
    # The buyer's admin: the buyer's users in conftest are clerks, so make one.
    from conftest import BUYER_ID, make_user

    world.headers["buyer_admin"] = make_user(world.platform, "buyer_admin", "admin", BUYER_ID)
    buyer_hook = subscribe(world, "buyer_admin", receiver.url, ["invoice.received"])
    assert buyer_hook.status_code == 201
    number = issue(world)
    done = Relay(world.platform).run_once()
    assert done["delivered"] == 2
    bodies = receiver.accepted()
    assert sorted(body["type"] for body in bodies) == ["invoice.issued", "invoice.received"]
    assert all(body["data"]["number"] == number for body in bodies)
    for item in receiver.received:
        headers = item["headers"]
        assert headers["Fapiao-Event-Id"] == json.loads(item["body"])["id"]
        stamp, mac = (
            dict(part.split("=", 1) for part in headers["Fapiao-Signature"].split(","))["t"],
            headers["Fapiao-Signature"].split("v1=")[1],
        )
        expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + item["body"], hashlib.sha256)
        assert hmac.compare_digest(mac, expected.hexdigest())
    assert Relay(world.platform).run_once()["sent"] == 0  # nothing twice


def test_failures_back_off_then_dead_letter_then_redeliver(
    world: World, receiver: Receiver
) -> None:
    platform = world.platform
    platform.settings.webhook_max_attempts = 3
    hook = subscribe(world, "seller_admin", receiver.url, ["invoice.issued"]).json()
    issue(world)
    relay = Relay(platform)
    receiver.fail_next = 10
    assert relay.run_once()["retrying"] == 1
    assert relay.run_once()["sent"] == 0  # not due yet: backing off
    for _ in range(2):
        platform.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
        relay.run_once()
    log = world.client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", headers=world.as_("seller_admin")
    ).json()
    assert log[0]["status"] == "dead" and log[0]["attempts"] == 3
    assert [a["status_code"] for a in log[0]["log"]] == [500, 500, 500]
    assert all(a["error"] == "HTTP 500" and a["latency_ms"] >= 0 for a in log[0]["log"])
    platform.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    assert relay.run_once()["sent"] == 0  # dead letters stay dead

    receiver.fail_next = 0
    again = world.client.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{log[0]['id']}/redeliver",
        headers=world.as_("seller_admin"),
    )
    assert again.status_code == 202 and again.json()["status"] == "pending"
    assert relay.run_once()["delivered"] == 1
    assert len(receiver.accepted()) == 1


def test_backoff_grows_and_is_jittered() -> None:
    delays = [service.backoff(attempt, base=5, cap=3600) for attempt in range(1, 12)]
    for attempt, delay in enumerate(delays, start=1):
        full = min(3600, 5 * 2 ** (attempt - 1))
        assert full / 2 <= delay <= full
    assert delays[-1] <= 3600


def test_an_unreachable_receiver_is_logged_as_an_error(world: World) -> None:
    hook = subscribe(world, "seller_admin", "http://127.0.0.1:9/nowhere", ["invoice.issued"])
    issue(world)
    assert Relay(world.platform).run_once()["retrying"] == 1
    log = world.client.get(
        f"/api/v1/webhooks/{hook.json()['id']}/deliveries", headers=world.as_("seller_admin")
    ).json()
    assert log[0]["log"][0]["status_code"] is None
    assert "ConnectionRefusedError" in log[0]["last_error"]


def test_a_lapsed_lease_is_claimed_again(world: World, receiver: Receiver) -> None:
    """A relay that died after claiming leaves a lease; once it runs out, another relay
    delivers the event (at least once)."""
    subscribe(world, "seller_admin", receiver.url, ["invoice.issued"])
    issue(world)
    platform = world.platform
    with platform.database.transaction() as session:
        service.fan_out(session, platform.clock.now())
    with platform.database.transaction() as session:
        assert len(service.claim(session, platform.clock.now(), lease_seconds=60)) == 1
    assert Relay(platform).run_once()["sent"] == 0  # leased to the "dead" relay
    platform.clock.advance(timedelta(seconds=61))  # type: ignore[attr-defined]
    assert Relay(platform).run_once()["delivered"] == 1


def test_only_the_taxpayers_admins_manage_its_webhooks(world: World, receiver: Receiver) -> None:
    for who in ("seller", "seller_viewer", "officer"):
        refused = subscribe(world, who, receiver.url, ["invoice.issued"])
        assert refused.status_code == 403, who
    hook = subscribe(world, "seller_admin", receiver.url, ["invoice.issued"]).json()
    assert (
        "secret"
        not in world.client.get("/api/v1/webhooks", headers=world.as_("seller_admin")).json()[0]
    )
    from conftest import OTHER_ID, make_user

    world.headers["other_admin"] = make_user(world.platform, "other_admin", "admin", OTHER_ID)
    for method, path in (
        ("GET", f"/api/v1/webhooks/{hook['id']}/deliveries"),
        ("DELETE", f"/api/v1/webhooks/{hook['id']}"),
        ("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/1/redeliver"),
    ):
        response = world.client.request(method, path, headers=world.as_("other_admin"))
        assert response.status_code == 404, (method, path)
    assert world.client.get("/api/v1/webhooks", headers=world.as_("other_admin")).json() == []
    gone = world.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=world.as_("seller_admin"))
    assert gone.status_code == 204
    issue(world)
    assert Relay(world.platform).run_once()["sent"] == 0


def test_bad_subscriptions_name_the_field(world: World) -> None:
    bad_url = subscribe(world, "seller_admin", "ftp://example.com/x", ["invoice.issued"])
    assert bad_url.status_code == 422
    assert bad_url.json()["errors"][0]["field"] == "url"
    bad_events = subscribe(world, "seller_admin", "https://example.com/x", ["invoice.eaten"])
    assert bad_events.status_code == 422
    assert bad_events.json()["errors"][0]["code"] == "WEBHOOK_EVENTS_INVALID"


def test_operators_list_and_redeliver_from_the_cli(world: World, receiver: Receiver) -> None:
    from typer.testing import CliRunner

    from fapiao.cli.context import CliState
    from fapiao.cli.main import app

    def cli(*args: str) -> Any:
        state = CliState()
        state._platform = world.platform
        return CliRunner().invoke(app, ["--lang", "en", *args], obj=state)

    subscribe(world, "seller_admin", receiver.url, ["invoice.issued"])
    issue(world)
    Relay(world.platform).run_once()
    listing = cli("webhook", "list", "--taxpayer", "91110108551385082Q")
    assert listing.exit_code == 0, listing.output
    assert "invoice" in listing.output and "│ 1 " in listing.output  # one delivered
    again = cli("webhook", "redeliver", "1")
    assert again.exit_code == 0 and "Delivery 1 will be sent again." in again.output
    assert Relay(world.platform).run_once()["delivered"] == 1
    assert len(receiver.accepted()) == 2  # the same event id twice: receivers de-duplicate
    assert receiver.accepted()[0]["id"] == receiver.accepted()[1]["id"]
    missing = cli("webhook", "redeliver", "999")
    assert missing.exit_code == 1 and "DELIVERY_NOT_FOUND" in missing.output
    unknown = cli("webhook", "list", "--taxpayer", "91110108MA01XXXXXX")
    assert unknown.exit_code == 1 and "TAXPAYER_NOT_FOUND" in unknown.output


def test_a_broken_url_or_an_internal_address_never_stalls_other_deliveries(
    world: World, receiver: Receiver
) -> None:
    """Found in review: a URL that fails to parse at send time used to escape the relay
    and block the deliveries claimed with it. Internal addresses are refused unless
    FAPIAO_WEBHOOK_ALLOW_PRIVATE is set (the tests set it; here it is turned off)."""
    from sqlalchemy import update

    from fapiao.webhooks.models import Webhook

    bad_port = subscribe(world, "seller_admin", "http://127.0.0.1:99999/x", ["invoice.issued"])
    assert bad_port.status_code == 422 and bad_port.json()["errors"][0]["field"] == "url"
    broken = subscribe(world, "seller_admin", receiver.url, ["invoice.issued"]).json()
    good = subscribe(world, "seller_admin", receiver.url, ["invoice.issued"]).json()
    with world.platform.database.transaction() as session:  # as if stored before the check
        session.execute(
            update(Webhook).where(Webhook.id == broken["id"]).values(url="http://h:99999/x")
        )
    issue(world)
    done = Relay(world.platform).run_once()
    assert done["delivered"] == 1 and done["retrying"] == 1
    log = world.client.get(
        f"/api/v1/webhooks/{broken['id']}/deliveries", headers=world.as_("seller_admin")
    ).json()
    assert "ValueError" in log[0]["last_error"]

    world.platform.settings.webhook_allow_private = False
    issue(world)
    Relay(world.platform).run_once()
    refused = world.client.get(
        f"/api/v1/webhooks/{good['id']}/deliveries", headers=world.as_("seller_admin")
    ).json()[0]
    assert refused["status"] == "pending" and "non-public address" in refused["last_error"]
    assert len(receiver.accepted()) == 1  # only the first invoice reached the receiver
    # And a new subscription to an internal address is refused at once, with its field.
    for url in (receiver.url, "http://localhost:8080/hook", "http://10.1.2.3/hook"):
        answer = subscribe(world, "seller_admin", url, ["invoice.issued"])
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0] == {
            "field": "url",
            "code": "WEBHOOK_URL_NOT_PUBLIC",
            "message": answer.json()["errors"][0]["message"],
        }
        assert url.split("/")[2].split(":")[0] in answer.json()["errors"][0]["message"]


def test_a_late_result_of_a_lease_taken_over_only_goes_in_the_log(world: World) -> None:
    subscribe(world, "seller_admin", "http://127.0.0.1:9/x", ["invoice.issued"])
    issue(world)
    platform = world.platform
    with platform.database.transaction() as session:
        service.fan_out(session, platform.clock.now())
    with platform.database.transaction() as session:
        (first,) = service.claim(session, platform.clock.now(), lease_seconds=1)
    platform.clock.advance(timedelta(seconds=2))  # type: ignore[attr-defined]
    with platform.database.transaction() as session:
        (second,) = service.claim(session, platform.clock.now(), lease_seconds=60)
    assert second.attempt == first.attempt + 1
    ok = service.Outcome(200, None, 5)
    with platform.database.transaction() as session:
        late = service.record(
            session, first, service.Outcome(500, "HTTP 500", 5), platform.clock.now(),
            max_attempts=2, base=1, cap=1,
        )  # fmt: skip
        assert late == "superseded"  # not dead, although it was the last attempt
        assert (
            service.record(session, second, ok, platform.clock.now(), max_attempts=2, base=1, cap=1)
            == "delivered"
        )
