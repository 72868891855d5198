"""Issue → webhook latency: the real server with its embedded relay, a local receiver, and
invoices issued open-loop at a steady rate.

    .venv/bin/python bench/webhook_latency.py [--backend sqlite|postgresql|both]
        [--rate 200] [--seconds 30] [--warmup 3] [--workers 2] [--poll SECONDS]

See bench/README.md ("Issue → webhook latency") for what is measured."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp

import machine
from deploy import (
    HOST,
    PASSWORD,
    SELLER_TAX_ID,
    USERNAME,
    Databases,
    Target,
    _cli,
    free_port,
    running_server,
    tree_cpu,
)
from http_load import INVOICES, RawConnection, invoice_body, run_sync
from report import percentile

ADMIN = "bench-admin"
# Admins sign in with a one-time code (FAPIAO_TOTP_REQUIRED_ROLES).
ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SECRET = "bench-webhook-secret-0123456789ab"
RESULTS = Path(__file__).resolve().parent / "results" / "webhook-latency.json"


# --- the receiver: its own process, so the load generator does not slow it down ----------


def receive(port: int, out: Path) -> None:
    """Answer every POST 204 at once; record (invoice number, event id, arrival on the
    system-wide monotonic clock, signature ok). Writes `out` on SIGTERM."""
    arrivals: list[tuple[str, str, float, bool]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {k.lower(): v for k, v in (ln.split(": ", 1) for ln in lines if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                arrived = time.monotonic()
                fields = dict(p.split("=", 1) for p in headers["fapiao-signature"].split(","))
                mac = hmac.new(SECRET.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
                event = json.loads(body)
                signed = hmac.compare_digest(mac.hexdigest(), fields["v1"])
                arrivals.append((event["data"]["number"], event["id"], arrived, signed))
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, HOST, port, backlog=1024)
        stopped = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        async with server:
            await stopped.wait()
        out.write_text(json.dumps(arrivals))

    run_sync(main())


@contextlib.contextmanager
def receiver(workdir: Path) -> Any:
    """Start the receiver process; yields (url, read arrivals)."""
    port, out = free_port(), workdir / "arrivals.json"
    process = subprocess.Popen(
        [sys.executable, __file__, "--receive", str(port), str(out)], cwd=Path(__file__).parent
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port)):
            break
        time.sleep(0.05)

    def stop() -> list[tuple[str, str, float, bool]]:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        return [tuple(item) for item in json.loads(out.read_text())]  # type: ignore[misc]

    try:
        yield f"http://{HOST}:{port}/fapiao-hooks", stop
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- the load: open loop, one invoice every 1/rate seconds --------------------------------


def _request(base_url: str, path: str, data: bytes, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(f"{base_url}{path}", data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def token(base_url: str, username: str, password: str, totp_secret: str | None = None) -> str:
    form = f"username={username}&password={password}".encode()
    if totp_secret is not None:
        form += f"&totp={pyotp.TOTP(totp_secret).now()}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return str(_request(base_url, "/api/v1/auth/token", form, headers)["access_token"])


async def open_loop(
    base_url: str, bearer: str, rate: float, seconds: float, warmup: float, clients: int
) -> dict[str, Any]:
    """Send invoice i at start + i/rate over up to `clients` keep-alive connections
    (a send waits only when all are busy, and that lag is reported)."""
    host, port = HOST, int(base_url.rsplit(":", 1)[1])
    headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
    free: asyncio.Queue[RawConnection] = asyncio.Queue()
    connections = [RawConnection(host, port, headers) for _ in range(clients)]
    for connection in connections:
        free.put_nowait(connection)
    payload = json.dumps(invoice_body(), ensure_ascii=False).encode()
    acks: dict[str, float] = {}  # invoice number → acknowledged (monotonic), measured only
    issue_ms: list[float] = []
    errors: dict[str, int] = {}
    lag = 0.0
    warm_count, total = int(warmup * rate), int((warmup + seconds) * rate)

    async def one(connection: RawConnection, measured: bool) -> None:
        began = time.monotonic()
        try:
            status, body = await connection.post(INVOICES, payload)
        except (OSError, asyncio.IncompleteReadError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        finally:
            free.put_nowait(connection)
        acked = time.monotonic()
        if status != 201:
            errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
        elif measured:
            acks[json.loads(body)["number"]] = acked
            issue_ms.append((acked - began) * 1000)

    tasks = []
    start = time.monotonic() + 0.1
    for index in range(total):
        due = start + index / rate
        if index == warm_count:
            measured_from = due
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        connection = await free.get()
        lag = max(lag, time.monotonic() - due)
        tasks.append(asyncio.create_task(one(connection, index >= warm_count)))
    await asyncio.gather(*tasks)
    ended = time.monotonic()
    for connection in connections:
        await connection.close()
    return {
        "acks": acks,
        "issue_ms": issue_ms,
        "errors": errors,
        "max_send_lag_ms": round(lag * 1000, 1),
        "achieved_per_s": round(len(acks) / (ended - measured_from), 1),
    }


def measure(target: Target, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    _cli(target, "user", "add", "--username", ADMIN, "--password", PASSWORD, "--role", "admin",
         "--taxpayer", SELLER_TAX_ID, "--totp-secret", ADMIN_TOTP_SECRET)  # fmt: skip
    os.environ["FAPIAO_WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver is on 127.0.0.1
    if args.poll is not None:
        os.environ["FAPIAO_RELAY_POLL_SECONDS"] = str(args.poll)
    log = workdir / f"server-{target.backend}.log"
    with (
        receiver(workdir) as (url, arrivals_of),
        running_server(target, args.workers, log) as (
            base_url,
            pid,
        ),
    ):
        admin = {"Authorization": f"Bearer {token(base_url, ADMIN, PASSWORD, ADMIN_TOTP_SECRET)}"}
        hook = json.dumps({"url": url, "events": ["invoice.issued"], "secret": SECRET}).encode()
        _request(base_url, "/api/v1/webhooks", hook, {**admin, "Content-Type": "application/json"})
        clerk = token(base_url, USERNAME, PASSWORD)
        cpu_before = tree_cpu([pid])
        began = time.monotonic()
        load = run_sync(
            open_loop(base_url, clerk, args.rate, args.seconds, args.warmup, args.clients)
        )
        # Give the relay time to catch up, then stop the receiver and read what came.
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if _relayed_all(target):
                break
        server_cpu = (tree_cpu([pid]) - cpu_before) / (time.monotonic() - began)
        arrivals = arrivals_of()
    figures = summarise(load, arrivals, server_cpu)
    text = log.read_text(errors="replace")
    figures["relay_errors"] = text.count("relay pass failed")
    if os.environ.get("FAPIAO_BENCH_KEEP_LOG"):
        Path(os.environ["FAPIAO_BENCH_KEEP_LOG"]).write_text(text)
    return figures


def _relayed_all(target: Target) -> bool:
    """True when no outbox event waits for fan-out and no delivery waits to be sent."""
    query = (
        "SELECT (SELECT count(*) FROM outbox_events WHERE status = 'pending')"
        " + (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending')"
    )
    if target.backend == "sqlite":
        import sqlite3

        with contextlib.closing(sqlite3.connect(target.raw_dsn, timeout=30)) as connection:
            row = connection.execute(query).fetchone()
    else:
        import psycopg

        with psycopg.connect(target.raw_dsn) as connection:
            row = connection.execute(query).fetchone()
    return row is not None and row[0] == 0


def summarise(
    load: dict[str, Any], arrivals: list[tuple[str, str, float, bool]], server_cpu: float
) -> dict[str, Any]:
    acks: dict[str, float] = load["acks"]
    first: dict[str, float] = {}
    seen: dict[str, int] = {}
    for number, _event_id, arrived, _signed in arrivals:
        seen[number] = seen.get(number, 0) + 1
        first[number] = min(arrived, first.get(number, arrived))
    latencies = [
        (first[number] - acked) * 1000 for number, acked in acks.items() if number in first
    ]
    return {
        "issued": len(acks),
        "achieved_per_s": load["achieved_per_s"],
        "max_send_lag_ms": load["max_send_lag_ms"],
        "issue_p50_ms": round(percentile(load["issue_ms"], 0.5), 1),
        "issue_p99_ms": round(percentile(load["issue_ms"], 0.99), 1),
        "errors": load["errors"],
        "webhook_p50_ms": round(percentile(latencies, 0.5), 1),
        "webhook_p99_ms": round(percentile(latencies, 0.99), 1),
        "webhook_max_ms": round(max(latencies), 1) if latencies else None,
        "missing": sum(1 for number in acks if number not in first),
        "duplicates": sum(count - 1 for count in seen.values()),
        "bad_signatures": sum(1 for *_, signed in arrivals if not signed),
        "server_cpu_cores": round(server_cpu, 2),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rate", type=float, default=200.0, help="invoices per second (200)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds (30)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first (3)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (2)")
    parser.add_argument("--clients", type=int, default=64, help="connections at most (64)")
    parser.add_argument("--poll", type=float, help="FAPIAO_RELAY_POLL_SECONDS (server default)")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for the rest")
    parser.add_argument("--receive", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.receive:
        receive(int(args.receive[0]), Path(args.receive[1]))
        return 0
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["bench/webhook_latency.py", *(argv or sys.argv[1:])]),
        "machine": machine.describe(Path(tempfile.gettempdir())),
        "load_average_before": machine.load_average(),
        "backends": {},
    }
    for backend in backends:
        databases = Databases(backend)
        try:
            with tempfile.TemporaryDirectory(prefix="fapiao-webhook-bench-") as workdir:
                figures = measure(databases.fresh(), args, Path(workdir))
        finally:
            databases.close()
        results["backends"][backend] = figures
        print(backend, json.dumps(figures), flush=True)
    results["load_average_after"] = machine.load_average()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
