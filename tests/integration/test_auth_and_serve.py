"""Signing in through the API, and `fapiao serve` as a real process."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import httpx2
import pyotp
import pytest

from conftest import PASSWORD, World, invoice_body

# Admins sign in with a one-time code (FAPIAO_TOTP_REQUIRED_ROLES).
ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_password_grant_gives_a_working_token(world: World) -> None:
    response = world.client.post(
        "/api/v1/auth/token", data={"username": "seller", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert world.client.get("/api/v1/me", headers=headers).json()["role"] == "clerk"
    assert (
        world.client.post("/api/v1/invoices", json=invoice_body(), headers=headers).status_code
        == 201
    )


def test_wrong_password_and_unknown_user_look_the_same(world: World) -> None:
    wrong = world.client.post(
        "/api/v1/auth/token", data={"username": "seller", "password": "nope-nope"}
    )
    unknown = world.client.post(
        "/api/v1/auth/token", data={"username": "ghost", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "INVALID_CREDENTIALS"


@pytest.mark.timeout(60)
def test_serve_starts_on_a_fresh_data_dir(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith("FAPIAO_")}
    command = [
        sys.executable,
        "-m",
        "fapiao.cli.main",
        "--data-dir",
        str(tmp_path / "data"),
        "serve",
        "--port",
        str(port),
        "--no-access-log",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx2.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "database": "ok", "schema_current": True}
        assert (tmp_path / "data" / "fapiao.db").exists()
    finally:
        server.terminate()
        server.communicate(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(data_dir: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fapiao.cli.main", "--data-dir", str(data_dir), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.timeout(120)
class _Receiver(http.server.BaseHTTPRequestHandler):
    numbers: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.numbers.append(json.loads(body)["data"]["number"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_serve_with_two_processes_issues_and_stops_cleanly(tmp_path: Path) -> None:
    """Two server processes share the port; a third runs the relay, whose webhook
    deliveries arrive; all of them stop with the supervisor."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FAPIAO_")}
    env["FAPIAO_WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver listens on 127.0.0.1
    env["FAPIAO_RELAY_POLL_SECONDS"] = "0.1"
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    data = tmp_path / "data"
    for args in (
        ("taxpayer", "add", "--tax-id", "91110108551385082Q", "--name", "北京示例科技有限公司"),
        ("taxpayer", "add", "--tax-id", "91110105MA01ABCD13", "--name", "北京样例贸易有限公司"),
        ("user", "add", "--username", "clerk", "--password", PASSWORD, "--role", "clerk",
         "--taxpayer", "91110108551385082Q"),
        ("user", "add", "--username", "admin", "--password", PASSWORD, "--role", "admin",
         "--taxpayer", "91110108551385082Q", "--totp-secret", ADMIN_TOTP_SECRET),
    ):  # fmt: skip
        done = _cli(data, *args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    port = _free_port()
    command = [sys.executable, "-m", "fapiao.cli.main", "--data-dir", str(data), "serve",
               "--port", str(port), "--workers", "2", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                token = httpx2.post(
                    f"{base}/api/v1/auth/token",
                    data={"username": "clerk", "password": PASSWORD},
                    timeout=5,
                ).json()["access_token"]
                break
            except httpx2.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.2)
        admin = httpx2.post(
            f"{base}/api/v1/auth/token",
            data={
                "username": "admin",
                "password": PASSWORD,
                "totp": pyotp.TOTP(ADMIN_TOTP_SECRET).now(),
            },
            timeout=5,
        ).json()["access_token"]
        hook = httpx2.post(
            f"{base}/api/v1/webhooks",
            json={
                "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                "events": ["invoice.issued"],
                "secret": "s" * 32,
            },
            headers={"Authorization": f"Bearer {admin}"},
            timeout=10,
        )
        assert hook.status_code == 201, hook.text
        servers = [pid for pid in _children(server.pid) if _children(pid) == []]
        names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in servers}
        numbers = set()
        for _ in range(12):  # a new connection each time: the kernel picks the process
            response = httpx2.post(
                f"{base}/api/v1/invoices",
                json=invoice_body(),
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert response.status_code == 201, response.text
            numbers.add(response.json()["number"])
        assert len(numbers) == 12
        assert len(servers) >= 3  # two servers, the job process (and the tracker)
        deadline = time.monotonic() + 30
        while set(_Receiver.numbers) != numbers:  # delivered by the job process's relay
            assert time.monotonic() < deadline, (sorted(_Receiver.numbers), names)
            time.sleep(0.1)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    receiver.shutdown()
    receiver.server_close()
    assert server.returncode == 0, output
    assert "2 server processes" in output
    deadline = time.monotonic() + 10  # multiprocessing's tracker leaves just after
    while [pid for pid in servers if Path(f"/proc/{pid}/stat").exists()]:
        assert time.monotonic() < deadline, "a server process outlived the supervisor"
        time.sleep(0.1)


@pytest.mark.timeout(60)
def test_serve_reports_a_port_in_use(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FAPIAO_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _cli(tmp_path / "data", "serve", "--port", str(port), "--workers", "2", env=env)
    assert done.returncode == 1
    assert "exited at start-up" in done.stderr
