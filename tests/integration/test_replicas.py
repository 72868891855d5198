"""Read replicas with read-your-writes, on a real PostgreSQL primary and a real streaming
replica made with pg_basebackup. Replay is paused on the replica to make it lag.

PostgreSQL only: the module's `backend` is PostgreSQL, and it fails (never skips) when
PostgreSQL is required (CI, FAPIAO_TEST_POSTGRES=required) but unavailable."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest

from conftest import World, invoice_body
from fapiao import migrate
from fapiao.consistency import parse_lsn, tracking
from fapiao.db import Database
from fapiao.settings import Settings
from pgcluster import PgCluster, PgUnavailable, pg_required

pytestmark = pytest.mark.postgres

TOKEN = "X-Fapiao-Consistency"
SERVED_BY = "X-Fapiao-Served-By"
SECRET = "test-secret-" + "x" * 32
T = TypeVar("T")


class Pair:
    """A primary streaming to one hot standby, with a migrated template database."""

    def __init__(self) -> None:
        self.primary = PgCluster(replication=True).start()
        self.replica: PgCluster | None = None
        self.counter = itertools.count()
        try:
            self.primary.create_database("template_fapiao")
            database = Database(
                Settings(database_url=self.primary.url("template_fapiao"), secret_key=SECRET)
            )
            migrate.upgrade(database)
            database.dispose()
            self.replica = self.primary.start_replica()
        except BaseException:
            self.stop()
            raise

    @property
    def standby(self) -> PgCluster:
        assert self.replica is not None
        return self.replica

    def fresh(self) -> str:
        name = f"replicas_{next(self.counter)}"
        with psycopg.connect(self.primary.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "template_fapiao"')
        return name

    def primary_position(self) -> int:
        with psycopg.connect(self.primary.dsn(), autocommit=True) as connection:
            row = connection.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        return parse_lsn(row[0]) or 0

    def on_replica(self, query: str) -> object:
        with psycopg.connect(self.standby.dsn(), autocommit=True) as connection:
            row = connection.execute(query).fetchone()
        return None if row is None else row[0]

    def replayed(self) -> int:
        return parse_lsn(str(self.on_replica("SELECT pg_last_wal_replay_lsn()::text"))) or 0

    def catch_up(self, timeout: float = 60) -> None:
        """Wait until the replica has replayed everything the primary has written."""
        target = self.primary_position()
        deadline = time.monotonic() + timeout
        while self.replayed() < target:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)

    def pause(self) -> None:
        self.on_replica("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        self.on_replica("SELECT pg_wal_replay_resume()")

    def stop(self) -> None:
        if self.replica is not None:
            self.replica.stop()
        self.primary.stop()


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    try:
        started = Pair()
    except PgUnavailable as exc:
        if pg_required():
            pytest.fail(f"PostgreSQL is required here but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield started
    started.stop()


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
def settings(pair: Pair, tmp_path: Path) -> Iterator[Settings]:
    """The conftest platform and world, on the primary with the replica behind it."""
    name = pair.fresh()
    yield Settings(
        data_dir=tmp_path / "data",
        database_url=pair.primary.url(name),
        replica_urls=pair.standby.url(name),
        replica_retry_seconds=600,  # a replica marked down stays down for the test
        secret_key=SECRET,
    )
    # Leave the replica running and replaying for the next test.
    pair.standby.start_server()
    pair.resume()


@pytest.fixture
def lagging(world: World, pair: Pair) -> Iterator[Pair]:
    """The world replicated, then replay paused: later writes reach only the primary."""
    pair.catch_up()
    pair.pause()
    yield pair
    pair.resume()


def issue(world: World, **overrides: object) -> tuple[str, str]:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"]), response.headers[TOKEN]


def get(world: World, path: str, who: str = "seller", token: str | None = None):  # type: ignore[no-untyped-def]
    extra = {TOKEN: token} if token else {}
    return world.client.get(path, headers=world.as_(who, **extra, **{"Accept-Language": "en"}))


def verify(world: World, number: str, token: str | None = None):  # type: ignore[no-untyped-def]
    body = {"number": number, "issue_date": "2026-11-10", "total_with_tax": "226.00"}
    return world.client.post("/api/v1/verify", json=body, headers={TOKEN: token} if token else {})


def numbers(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["number"] for item in response.json()["items"]]


def settled(pair: Pair, measure: Callable[[], T]) -> T:
    """`measure()` once the replica has caught up and nothing new was written meanwhile
    (the server writes a little WAL of its own now and then, e.g. for autovacuum)."""
    for _ in range(50):
        pair.catch_up()
        before = pair.primary_position()
        result = measure()
        if pair.primary_position() == before == pair.replayed():
            return result
    raise AssertionError("the primary never stood still")


def metric(text: str, name: str, **labels: str) -> float | None:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(selector)}\}} (\S+)$", text, re.MULTILINE)
    return None if match is None else float(match.group(1))


def test_read_your_writes_while_the_replica_lags(world: World, lagging: Pair) -> None:
    number, token = issue(world)
    assert lagging.replayed() < (parse_lsn(token) or 0)

    # With its token, the clerk's read goes to the primary: the invoice is there.
    mine = get(world, f"/api/v1/invoices/{number}", token=token)
    assert mine.status_code == 200 and mine.json()["number"] == number
    assert mine.headers[SERVED_BY] == "primary"
    assert number in numbers(get(world, "/api/v1/invoices", token=token))
    # Without it, the lagging replica answers, and has not seen the invoice yet.
    stale = get(world, f"/api/v1/invoices/{number}")
    assert stale.status_code == 404 and stale.headers[SERVED_BY] == "replica-1"
    listed = get(world, "/api/v1/invoices?direction=received", who="buyer")
    assert listed.headers[SERVED_BY] == "replica-1"
    assert number not in numbers(listed)
    assert TOKEN not in stale.headers  # reads commit nothing
    received = get(world, "/api/v1/invoices?direction=received", who="buyer", token=token)
    assert received.headers[SERVED_BY] == "primary" and number in numbers(received)

    # The trace says why, with the measured lag.
    trace = get(world, f"/api/v1/trace?number={number}", who="buyer")
    assert trace.status_code == 200
    diagnosis = trace.json()["diagnosis"]
    assert diagnosis["code"] == "REPLICA_BEHIND"
    assert diagnosis["replica"]["name"] == "replica-1"
    assert diagnosis["replica"]["lag_bytes"] > 0
    assert diagnosis["replica"]["lag_seconds"] > 0
    assert "replica-1" in diagnosis["message"] and "bytes" in diagnosis["message"]
    assert "X-Fapiao-Consistency" in diagnosis["hint"]
    # Someone who is not a party learns only that.
    outsider = get(world, f"/api/v1/trace?number={number}", who="other")
    assert outsider.json()["diagnosis"]["code"] == "NOT_A_PARTY"
    timeline = get(world, f"/api/v1/invoices/{number}/trace").json()
    assert timeline["replica_lag_seconds"] > 0
    (replica,) = timeline["replicas"]
    assert replica["name"] == "replica-1" and replica["up"] is True
    assert replica["has_invoice"] is False and replica["lag_bytes"] > 0

    lagging.resume()
    lagging.catch_up()
    # Caught up, the replica serves the same token-bearing reads.
    again = get(world, f"/api/v1/invoices/{number}", token=token)
    assert again.status_code == 200 and again.headers[SERVED_BY] == "replica-1"
    listed = get(world, "/api/v1/invoices?direction=received", who="buyer", token=token)
    assert listed.headers[SERVED_BY] == "replica-1" and number in numbers(listed)
    trace = get(world, f"/api/v1/trace?number={number}", who="buyer")
    assert trace.json()["diagnosis"]["code"] == "VISIBLE"
    timeline = settled(
        lagging, lambda: get(world, f"/api/v1/invoices/{number}/trace").json()["replicas"][0]
    )
    assert timeline["has_invoice"] is True and timeline["current"] is True
    assert timeline["lag_bytes"] == 0 and timeline["lag_seconds"] == 0


def test_a_void_not_yet_replayed_is_read_back_with_its_token(
    world: World, pair: Pair, lagging: Pair
) -> None:
    lagging.resume()
    number, _ = issue(world, medium="paper")
    lagging.catch_up()
    lagging.pause()
    voided = world.client.post(f"/api/v1/invoices/{number}/void", headers=world.as_("seller"))
    assert voided.status_code == 200
    token = voided.headers[TOKEN]
    fresh = get(world, f"/api/v1/invoices/{number}", token=token)
    assert fresh.headers[SERVED_BY] == "primary" and fresh.json()["status"] == "voided"
    stale = get(world, f"/api/v1/invoices/{number}")
    assert stale.headers[SERVED_BY] == "replica-1" and stale.json()["status"] == "normal"
    trace = get(world, f"/api/v1/trace?number={number}").json()["diagnosis"]
    assert trace["code"] == "REPLICA_BEHIND"


def test_verify_is_served_by_the_replica_but_never_denies_an_issued_invoice(
    world: World, lagging: Pair
) -> None:
    lagging.resume()
    older, _ = issue(world)
    lagging.catch_up()
    lagging.pause()
    newer, token = issue(world)

    seen = verify(world, older)
    assert seen.status_code == 200 and seen.json()["result"] == "match"
    assert seen.headers[SERVED_BY] == "replica-1"
    assert seen.json()["check_count"] == 1  # counted on the primary
    assert TOKEN in seen.headers

    # The replica has not replayed `newer`; "no such invoice" is asked of the primary.
    fresh = verify(world, newer)
    assert fresh.json()["result"] == "match" and fresh.json()["invoice"]["number"] == newer
    assert fresh.headers[SERVED_BY] == "primary"
    with_token = verify(world, newer, token)
    assert with_token.json()["result"] == "match" and with_token.headers[SERVED_BY] == "primary"
    assert with_token.json()["check_count"] == 2
    missing = verify(world, newer[:-1] + str((int(newer[-1]) + 5) % 10))
    assert missing.json()["result"] == "not_found" and missing.headers[SERVED_BY] == "primary"

    lagging.resume()
    lagging.catch_up()
    caught_up = verify(world, newer, token)
    assert caught_up.json()["result"] == "match" and caught_up.headers[SERVED_BY] == "replica-1"
    assert caught_up.json()["check_count"] == 3


def test_metrics_show_the_replica_lag(world: World, lagging: Pair) -> None:
    issue(world)
    get(world, "/api/v1/invoices")
    text = world.client.get("/metrics").text
    assert metric(text, "fapiao_replica_up", replica="replica-1") == 1
    assert (metric(text, "fapiao_replica_lag_bytes", replica="replica-1") or 0) > 0
    assert (metric(text, "fapiao_replica_lag_seconds", replica="replica-1") or 0) > 0
    assert metric(text, "fapiao_reads_total", served_by="replica-1") == 1

    lagging.resume()
    text = settled(lagging, lambda: world.client.get("/metrics").text)
    assert metric(text, "fapiao_replica_lag_bytes", replica="replica-1") == 0
    assert metric(text, "fapiao_replica_lag_seconds", replica="replica-1") == 0


def test_a_stopped_replica_hands_its_reads_to_the_primary(world: World, pair: Pair) -> None:
    pair.catch_up()
    number, token = issue(world)
    pair.catch_up()
    assert get(world, f"/api/v1/invoices/{number}").headers[SERVED_BY] == "replica-1"
    pair.standby.stop_server()  # the fixture starts it again

    for attempt in (None, token, None):
        response = get(world, f"/api/v1/invoices/{number}", token=attempt)
        assert response.status_code == 200, response.text
        assert response.headers[SERVED_BY] == "primary"
    assert number in numbers(get(world, "/api/v1/invoices"))
    assert verify(world, number).json()["result"] == "match"
    trace = get(world, f"/api/v1/invoices/{number}/trace").json()
    assert trace["replicas"] == [
        {
            "name": "replica-1",
            "up": False,
            "lag_bytes": None,
            "lag_seconds": None,
            "has_invoice": False,
            "current": False,
        }
    ]
    assert trace["replica_lag_seconds"] is None
    text = world.client.get("/metrics").text
    assert metric(text, "fapiao_replica_up", replica="replica-1") == 0
    # The first failed read marks it down; later reads skip it until it is retried.
    assert metric(text, "fapiao_replica_fallbacks_total", replica="replica-1", reason="down") == 1
    assert metric(text, "fapiao_replica_lag_bytes", replica="replica-1") is None


def test_replicas_take_turns(pair: Pair, tmp_path: Path) -> None:
    name = pair.fresh()
    pair.catch_up()
    url = pair.standby.url(name)
    database = Database(
        Settings(
            data_dir=tmp_path,
            database_url=pair.primary.url(name),
            replica_urls=f"{url}, {url}",
            secret_key=SECRET,
        )
    )
    try:
        served = []
        for _ in range(4):
            with tracking() as state:
                assert database.read(lambda session: 1) == 1
            served.append(state.served_by)
        assert served == ["replica-1", "replica-2", "replica-1", "replica-2"]
        # A token from beyond what any replica has replayed is read on the primary.
        with tracking() as state:
            database.read(lambda session: 1, after=pair.primary_position() + 10**9)
        assert state.served_by == "primary"
        assert database.replicas.fallbacks == {
            ("replica-1", "behind"): 1,
            ("replica-2", "behind"): 1,
        }
    finally:
        database.dispose()
