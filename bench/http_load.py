"""Closed-loop HTTP load: N clients, each posting one invoice after another."""

from __future__ import annotations

import asyncio
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2 as httpx

from deploy import BUYER_NAME, BUYER_TAX_ID, PASSWORD, USERNAME

T = TypeVar("T")


def invoice_body() -> dict[str, Any]:
    """A special invoice from the seller to the buyer with two lines (13 % and 6 %), the
    first line as in tests/conftest.py's invoice_body."""
    return {
        "kind": "special",
        "buyer": {"tax_id": BUYER_TAX_ID, "name": BUYER_NAME},
        "lines": [
            {"name": "数据库软件", "tax_code": "1060301010200000000", "unit": "套",
             "quantity": "2", "unit_price": "100", "tax_rate": "0.13"},
            {"name": "软件开发服务", "tax_code": "3040201030000000000", "unit": "项",
             "quantity": "1", "unit_price": "300", "tax_rate": "0.06"},
        ],
        "drawer": "张三",
    }  # fmt: skip


@dataclass
class LoadResult:
    ok: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # of the 201s
    errors: Counter[str] = field(default_factory=Counter)
    client_cpu_seconds: float = 0.0
    sample: dict[str, Any] | None = None  # one 201 body, to check what was issued


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _token(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": USERNAME, "password": PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _client_loop(
    client: httpx.AsyncClient, body: dict[str, Any], deadline: float, result: LoadResult
) -> None:
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        try:
            response = await client.post("/api/v1/invoices", json=body)
        except httpx.HTTPError as exc:
            result.errors[type(exc).__name__] += 1
            continue
        elapsed_ms = (time.perf_counter() - began) * 1000
        if response.status_code == 201:
            result.ok += 1
            result.latencies_ms.append(elapsed_ms)
            if result.sample is None:
                result.sample = response.json()
        else:
            result.errors[f"HTTP {response.status_code}"] += 1


async def _run(
    base_url: str, clients: int, seconds: float, warmup: float, on_start: Callable[[], None]
) -> LoadResult:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=60.0, trust_env=False
    ) as client:
        client.headers["Authorization"] = f"Bearer {await _token(client)}"
        body = invoice_body()
        if warmup > 0:
            warm = LoadResult()
            deadline = time.perf_counter() + warmup
            await _gather(_client_loop(client, body, deadline, warm) for _ in range(clients))
            if warm.ok == 0:
                raise RuntimeError(f"no invoice issued during warm-up: {dict(warm.errors)}")
        on_start()
        result = LoadResult()
        cpu_before, began = _cpu_now(), time.perf_counter()
        deadline = began + seconds
        await _gather(_client_loop(client, body, deadline, result) for _ in range(clients))
        result.seconds = time.perf_counter() - began
        result.client_cpu_seconds = _cpu_now() - cpu_before
    return result


async def _gather(coroutines: Any) -> None:
    await asyncio.gather(*list(coroutines))


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
    on_start: Callable[[], None] = lambda: None,
) -> LoadResult:
    """Warm up, call on_start(), then keep `clients` requests in flight for `seconds`."""
    return run_sync(_run(base_url, clients, seconds, warmup, on_start))


def run_sync(coroutine: Awaitable[T]) -> T:
    with _runner() as runner:
        return runner.run(coroutine)  # type: ignore[arg-type]
