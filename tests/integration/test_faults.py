"""The acceptance test of "no invoice goes missing": concurrent clients issue invoices
while the server (with its embedded relay) is killed with SIGKILL at random moments, and
restarted. A webhook receiver records every delivery. Afterwards:

- every invoice that got a 201 exists, and its receipt verifies against the stored ledger;
- no number appears twice, and no idempotency key produced two invoices;
- every `invoice.issued` event reached the receiver at least once, and de-duplicating by
  event id applies each exactly once;
- `fapiao ledger check` and `fapiao reconcile --internal` find nothing.

Kills per backend: FAPIAO_FAULT_KILLS (default 100 under CI=true, so 200 per CI run over
SQLite and PostgreSQL; 10 otherwise; `make soak` runs 1000 per backend)."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pyotp
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import PASSWORD, invoice_body
from fapiao.cli.context import CliState
from fapiao.cli.main import app
from fapiao.db import Database
from fapiao.invoices.models import IdempotencyKey, Invoice
from fapiao.ledger import service as ledger
from fapiao.ledger import signing
from fapiao.outbox.models import OutboxEvent
from fapiao.platform import Platform
from fapiao.settings import Settings

KILLS = int(os.environ.get("FAPIAO_FAULT_KILLS", "100" if os.environ.get("CI") else "10"))
CLIENTS = 6
# Admins sign in with a one-time code (FAPIAO_TOTP_REQUIRED_ROLES).
ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SELLER, BUYER = "91110108551385082Q", "91110105MA01ABCD13"


class Receiver:
    def __init__(self) -> None:
        self.event_ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.event_ids.append(body["id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`fapiao serve` as a real process, killed and restarted on demand."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir, self.env = data_dir, env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "fapiao.cli.main", "--data-dir", str(self.data_dir),
                   "serve", "--port", str(self.port), "--no-access-log"]  # fmt: skip
        self.process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            assert self.process.poll() is None, "the server died at start-up"
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def cli(platform: Platform, *args: str) -> Any:
    state = CliState()
    state._platform = platform
    return CliRunner().invoke(app, ["--lang", "en", *args], obj=state)


@pytest.mark.timeout(3600)
def test_nothing_acknowledged_is_lost_under_sigkill(settings: Settings) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FAPIAO_")}
    env["FAPIAO_SECRET_KEY"] = settings.secret_key
    env["FAPIAO_RELAY_POLL_SECONDS"] = "0.1"
    env["FAPIAO_RELAY_LEASE_SECONDS"] = "2"  # a killed relay's claims come back soon
    env["FAPIAO_WEBHOOK_BACKOFF_BASE_SECONDS"] = "0.2"
    env["FAPIAO_WEBHOOK_BACKOFF_CAP_SECONDS"] = "1"
    env["FAPIAO_WEBHOOK_MAX_ATTEMPTS"] = "100"
    env["FAPIAO_WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver listens on 127.0.0.1
    if settings.database_url:
        env["FAPIAO_DATABASE_URL"] = settings.database_url
    data = settings.data_dir
    receiver = Receiver()

    def run(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "fapiao.cli.main", "--data-dir", str(data), *args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    run("taxpayer", "add", "--tax-id", SELLER, "--name", "北京示例科技有限公司")
    run("taxpayer", "add", "--tax-id", BUYER, "--name", "北京样例贸易有限公司")
    run("user", "add", "--username", "admin", "--password", PASSWORD, "--role", "admin",
        "--taxpayer", SELLER, "--totp-secret", ADMIN_TOTP_SECRET)  # fmt: skip
    server = Server(data, env)
    server.start()
    token = httpx2.post(
        f"{server.base}/api/v1/auth/token",
        data={
            "username": "admin",
            "password": PASSWORD,
            "totp": pyotp.TOTP(ADMIN_TOTP_SECRET).now(),
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    hook = httpx2.post(
        f"{server.base}/api/v1/webhooks",
        json={"url": receiver.url, "events": ["invoice.issued"]},
        headers=headers,
    )
    assert hook.status_code == 201, hook.text

    acknowledged: dict[str, dict[str, Any]] = {}  # idempotency key -> 201 body
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(10**9))

    def client() -> None:
        with httpx2.Client(base_url=server.base, headers=headers, timeout=10) as http:
            while not stop.is_set():
                with lock:
                    key = f"k-{next(counter)}"
                while not stop.is_set():  # retry the same key until it is acknowledged
                    try:
                        response = http.post(
                            "/api/v1/invoices",
                            json=invoice_body(),
                            headers={"Idempotency-Key": key},
                        )
                    except httpx2.TransportError:
                        time.sleep(0.05)
                        continue
                    if response.status_code == 201:
                        with lock:
                            acknowledged[key] = response.json()
                        break
                    assert response.status_code >= 500, response.text
                    time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    rng = random.Random(20261129)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.05, 0.6))
            server.kill()
            server.start()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    # Let the relay finish delivering, then stop cleanly.
    platform = Platform(settings=settings, database=Database(settings))
    try:
        deadline = time.monotonic() + 120
        while True:
            with platform.database.transaction(write=False) as session:
                expected = set(
                    session.scalars(
                        select(OutboxEvent.event_id).where(
                            OutboxEvent.event_type == "invoice.issued"
                        )
                    )
                )
            with receiver.lock:
                seen = set(receiver.event_ids)
            if expected <= seen:
                break
            assert time.monotonic() < deadline, f"{len(expected - seen)} events never delivered"
            time.sleep(0.2)
        server.stop()

        with platform.database.transaction(write=False) as session:
            numbers = list(session.scalars(select(Invoice.number)))
            keys = session.scalar(select(func.count()).select_from(IdempotencyKey))
            published = signing.published_keys(session)
            for key, body in acknowledged.items():
                stored = session.scalar(select(Invoice).where(Invoice.number == body["number"]))
                assert stored is not None, f"acknowledged invoice {body['number']} is missing"
                receipt = ledger.receipt_of(session, body["number"])
                assert receipt == body["receipt"], key
                assert signing.verify(receipt, published) is None
        assert len(numbers) == len(set(numbers)), "a number was used twice"
        assert keys == len(numbers), "an idempotency key produced two invoices"
        duplicates = sum(count - 1 for count in Counter(receiver.event_ids).values())
        applied = len(set(receiver.event_ids))
        assert applied == len(expected)
        checked = cli(platform, "ledger", "check")
        assert checked.exit_code == 0, checked.output
        reconciled = cli(platform, "reconcile", "--internal")
        assert reconciled.exit_code == 0, reconciled.output
        print(
            f"\nfaults: kills={KILLS} acknowledged={len(acknowledged)} invoices={len(numbers)} "
            f"deliveries={len(receiver.event_ids)} applied={applied} "
            f"redelivered={duplicates} lost=0"
        )
        assert len(acknowledged) > KILLS  # the load really ran between the kills
    finally:
        server.stop()
        platform.close()
        receiver.close()
