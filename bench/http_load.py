"""Closed-loop HTTP load: N clients, each posting one invoice after another over its own
keep-alive connection."""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2 as httpx

from deploy import BUYER_NAME, BUYER_TAX_ID, PASSWORD, USERNAME

T = TypeVar("T")
INVOICES = "/api/v1/invoices"
# One request in flight per client: a poster sends the invoice body, returns (status, body).
Poster = Callable[[], Awaitable[tuple[int, bytes]]]


def invoice_body() -> dict[str, Any]:
    """A special invoice from the seller to the buyer with two lines (13 % and 6 %), the
    first line as in tests/conftest.py's invoice_body."""
    return {
        "kind": "special",
        "buyer": {"tax_id": BUYER_TAX_ID, "name": BUYER_NAME},
        "lines": [
            {
                "name": "数据库软件",
                "tax_code": "1060301010200000000",
                "unit": "套",
                "quantity": "2",
                "unit_price": "100",
                "tax_rate": "0.13",
            },
            {
                "name": "软件开发服务",
                "tax_code": "3040201030000000000",
                "unit": "项",
                "quantity": "1",
                "unit_price": "300",
                "tax_rate": "0.06",
            },
        ],
        "drawer": "张三",
    }


@dataclass
class LoadResult:
    ok: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # of the 201s
    errors: Counter[str] = field(default_factory=Counter)
    client_cpu_seconds: float = 0.0
    sample: dict[str, Any] | None = None  # one 201 body, to check what was issued


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client for one POST after another: costs the shared
    CPU far less than a full client does (see README)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        try:
            return await self._post(path, payload)
        except BaseException:
            await self.close()  # a half-read response leaves the stream unusable
            raise

    async def _post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines if line)
        if "content-length" not in headers:
            raise httpx.ProtocolError("response without Content-Length")
        body = await reader.readexactly(int(headers["content-length"]))
        if headers.get("connection") == "close":
            await self.close()
        return int(status_line.split(" ", 2)[1]), body

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _token(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": USERNAME, "password": PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _client_loop(post: Poster, deadline: float, result: LoadResult) -> None:
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        try:
            status, body = await post()
        except (httpx.HTTPError, OSError, asyncio.IncompleteReadError) as exc:
            result.errors[type(exc).__name__] += 1
            continue
        elapsed_ms = (time.perf_counter() - began) * 1000
        if status == 201:
            result.ok += 1
            result.latencies_ms.append(elapsed_ms)
            if result.sample is None:
                result.sample = json.loads(body)
        else:
            result.errors[f"HTTP {status}"] += 1


def _posters(
    client: httpx.AsyncClient, kind: str, count: int, payload: bytes
) -> tuple[list[Poster], list[RawConnection]]:
    """`count` posters: over the shared httpx2 client, or one raw connection each."""
    headers = {
        "Authorization": client.headers["Authorization"],
        "Content-Type": "application/json",
    }
    if kind == "httpx2":

        async def post() -> tuple[int, bytes]:
            response = await client.post(INVOICES, content=payload, headers=headers)
            return response.status_code, response.content

        return [post] * count, []
    url = client.base_url
    connections = [RawConnection(url.host, url.port or 80, headers) for _ in range(count)]
    posters: list[Poster] = [
        lambda c=c: c.post(INVOICES, payload)  # type: ignore[misc]
        for c in connections
    ]
    return posters, connections


async def _phase(posters: list[Poster], seconds: float) -> LoadResult:
    result = LoadResult()
    cpu_before, began = _cpu_now(), time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(_client_loop(post, deadline, result) for post in posters))
    result.seconds = time.perf_counter() - began
    result.client_cpu_seconds = _cpu_now() - cpu_before
    return result


async def _run(
    base_url: str,
    clients: int,
    seconds: float,
    warmup: float,
    kind: str,
    on_start: Callable[[], None],
) -> LoadResult:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=60.0, trust_env=False
    ) as client:
        client.headers["Authorization"] = f"Bearer {await _token(client)}"
        payload = json.dumps(invoice_body(), ensure_ascii=False).encode()
        posters, connections = _posters(client, kind, clients, payload)
        try:
            if warmup > 0:
                warm = await _phase(posters, warmup)
                if warm.ok == 0:
                    raise RuntimeError(f"no invoice issued during warm-up: {dict(warm.errors)}")
            on_start()
            return await asyncio.wait_for(_phase(posters, seconds), timeout=seconds + 120)
        finally:
            for connection in connections:
                await connection.close()


def _runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def run_load(
    base_url: str,
    *,
    clients: int,
    seconds: float,
    warmup: float,
    client: str = "httpx2",
    on_start: Callable[[], None] = lambda: None,
) -> LoadResult:
    """Warm up, call on_start(), then keep `clients` requests in flight for `seconds`.
    `client` is "httpx2" (one shared AsyncClient) or "raw" (RawConnection each)."""
    return run_sync(_run(base_url, clients, seconds, warmup, client, on_start))


def run_sync(coroutine: Awaitable[T]) -> T:
    with _runner() as runner:
        return runner.run(coroutine)  # type: ignore[arg-type]
