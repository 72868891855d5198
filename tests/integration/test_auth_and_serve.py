"""Signing in through the API, and `fapiao serve` as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from conftest import PASSWORD, World, invoice_body


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
