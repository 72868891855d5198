"""Maintenance windows: changes through the API answer 503 with Retry-After while reads keep
working; the window ends on time by itself; officers set it (API and CLI); every process
sees it within a second; /readyz and /metrics report it. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from typer.testing import CliRunner

from conftest import PASSWORD, World, invoice_body
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.db import Database
from fapiao.kit.clock import FixedClock
from fapiao.platform import Platform
from fapiao.worker import Worker

UNTIL = "2026-11-10T12:00:00+08:00"  # two hours after the tests' clock starts


def turn_on(world: World, **body: Any) -> Any:
    response = world.client.put(
        "/api/v1/maintenance", json={"until": UNTIL, **body}, headers=world.as_("officer")
    )
    assert response.status_code == 200, response.text
    return response.json()


def issue(world: World, lang: str = "zh-CN", **headers: str) -> Any:
    return world.client.post(
        "/api/v1/invoices",
        json=invoice_body(),
        headers=world.as_("seller", **{"Accept-Language": lang, **headers}),
    )


def clock(world: World) -> FixedClock:
    assert isinstance(world.platform.clock, FixedClock)
    return world.platform.clock


def test_writes_answer_503_and_reads_keep_working(world: World) -> None:
    before = issue(world)
    assert before.status_code == 201
    number = before.json()["number"]
    status = turn_on(world, message_zh="数据库升级", message_en="Database upgrade")
    assert status["active"] is True and status["retry_after"] == 7200
    assert status["window"]["until_local"] == "2026-11-10 12:00"

    refused = issue(world)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "7200"
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "MAINTENANCE" and problem["status"] == 503
    assert "2026-11-10 12:00" in problem["detail"] and "维护" in problem["detail"]
    assert problem["notice"] == "数据库升级"
    english = issue(world, "en").json()
    assert english["detail"].startswith(
        "The platform is in maintenance until 2026-11-10 12:00 (Beijing time)"
    )
    assert english["notice"] == "Database upgrade"
    for method, path in (
        ("POST", f"/api/v1/invoices/{number}/void"),
        ("POST", "/api/v1/red-letter-forms"),
        ("POST", "/api/v1/webhooks"),
        ("DELETE", "/api/v1/webhooks/1"),
    ):
        answer = world.client.request(method, path, json={}, headers=world.as_("seller"))
        assert answer.status_code == 503, (method, path)

    # Reads, signing in and public verification keep working.
    assert world.client.get(f"/api/v1/invoices/{number}", headers=world.as_("buyer")).is_success
    listed = world.client.get("/api/v1/invoices", headers=world.as_("seller"))
    assert listed.status_code == 200 and listed.json()["items"][0]["number"] == number
    signed_in = world.client.post(
        "/api/v1/auth/token", data={"username": "seller", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    checked = world.client.post(
        "/api/v1/verify",
        json={"number": number, "issue_date": "2026-11-10", "total_with_tax": "226.00"},
    )
    assert checked.status_code == 200 and checked.json()["result"] == "match"


def test_the_window_ends_on_its_own(world: World) -> None:
    turn_on(world)
    clock(world).advance(timedelta(minutes=90))
    late = issue(world)
    assert late.status_code == 503 and late.headers["retry-after"] == "1800"
    clock(world).advance(timedelta(minutes=30))  # exactly `until`: over, not a second late
    assert issue(world).status_code == 201
    assert world.client.get("/api/v1/maintenance").json() == {
        "active": False,
        "window": None,
        "retry_after": None,
    }


def test_only_officers_switch_it_and_anyone_can_ask(world: World) -> None:
    for who in ("seller", "seller_admin"):
        refused = world.client.put(
            "/api/v1/maintenance", json={"until": UNTIL}, headers=world.as_(who)
        )
        assert refused.status_code == 403 and refused.json()["code"] == "ROLE_NOT_ALLOWED"
    assert world.client.put("/api/v1/maintenance", json={"until": UNTIL}).status_code == 401
    past = world.client.put(
        "/api/v1/maintenance",
        json={"until": "2026-11-10T09:00:00+08:00"},
        headers=world.as_("officer", **{"Accept-Language": "en"}),
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "until"
    assert past.json()["errors"][0]["code"] == "MAINTENANCE_UNTIL_PAST"

    turn_on(world, message_zh="升级")
    public = world.client.get("/api/v1/maintenance", headers={"Accept-Language": "en"}).json()
    assert public["active"] is True and public["window"]["until"] == "2026-11-10T04:00:00+00:00"
    assert public["window"]["message"] == "升级"  # no English notice given: the Chinese one
    assert "set_by" not in public["window"]
    clerk_ends = world.client.delete("/api/v1/maintenance", headers=world.as_("seller"))
    assert clerk_ends.status_code == 403
    assert issue(world).status_code == 503
    ended = world.client.delete("/api/v1/maintenance", headers=world.as_("officer"))
    assert ended.status_code == 204
    assert issue(world).status_code == 201  # this process forgets its cached window at once


def test_every_process_sees_the_window_within_a_second(world: World) -> None:
    other = Platform(
        settings=world.platform.settings,
        database=Database(world.platform.settings),
        clock=world.platform.clock,
    )
    try:
        assert other.maintenance.current() is None  # cached for up to a second
        turn_on(world)
        assert other.maintenance.current() is None
        clock(world).advance(timedelta(seconds=1))
        window = other.maintenance.current()
        assert window is not None and window.until_local() == "2026-11-10 12:00"
        assert world.client.delete("/api/v1/maintenance", headers=world.as_("officer")).is_success
        assert other.maintenance.current() is not None  # still the cached window...
        clock(world).advance(timedelta(seconds=1))
        assert other.maintenance.current() is None  # ...for at most a second
    finally:
        other.close()


def test_cli_on_status_off(world: World) -> None:
    state = CliState()
    state._platform = world.platform
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["--lang", "en", "maintenance", *args], obj=state)

    assert "Not in maintenance." in run("status").output
    bad = run("on", "--until", "tomorrow")
    assert bad.exit_code == 1 and "INVALID_DATETIME" in bad.output
    on = run("on", "--until", "2026-11-10T12:00+08:00", "--message-en", "Upgrading the database")
    assert on.exit_code == 0, on.output
    assert "until 2026-11-10 12:00 (Beijing time), 7200 s from now" in on.output
    status = run("status")
    assert status.exit_code == 0 and "Upgrading the database" in status.output
    assert "set by cli" in status.output
    assert issue(world).status_code == 503
    off = run("off")
    assert off.exit_code == 0 and "Maintenance ended." in off.output
    assert issue(world).status_code == 201
    chinese = runner.invoke(app, ["maintenance", "status"], obj=state)
    assert "维护" in chinese.output


def test_readyz_and_metrics_report_it(world: World) -> None:
    assert world.client.get("/readyz").json() == {"ready": True}
    assert "fapiao_maintenance 0" in world.client.get("/metrics").text
    turn_on(world)
    ready = world.client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["retry-after"] == "7200"
    assert ready.json() == {
        "ready": False,
        "reason": "maintenance",
        "until": "2026-11-10T04:00:00+00:00",
    }
    assert "fapiao_maintenance 1" in world.client.get("/metrics").text
    assert world.client.get("/healthz").json()["status"] == "ok"  # alive all the same


def test_scheduled_jobs_pause_and_deliveries_go_on(world: World) -> None:
    turn_on(world)
    worker = Worker(world.platform)
    done = worker.run_once()
    assert done["paused"] == 1 and done["redletter_lapsed"] == 0
    assert "webhook_sent" in done  # the relay still ran its pass
    clock(world).advance(timedelta(hours=2))
    assert worker.run_once()["paused"] == 0


def test_bare_until_is_beijing_time_and_windows_are_bounded(world: World) -> None:
    bare = world.client.put(
        "/api/v1/maintenance",
        json={"until": "2026-11-10T12:30:00"},
        headers=world.as_("officer"),
    )
    assert bare.status_code == 200
    assert bare.json()["window"]["until"] == "2026-11-10T04:30:00+00:00"
    too_long = world.client.put(
        "/api/v1/maintenance",
        json={"until": "2027-01-10T12:00:00+08:00"},
        headers=world.as_("officer"),
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["code"] == "MAINTENANCE_TOO_LONG"
    # The refused change left the window in force as it was.
    refused = issue(world)
    assert refused.json()["code"] == "MAINTENANCE" and refused.headers["retry-after"] == "9000"
