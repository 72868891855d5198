"""Connections spread over server processes: a process above its even share closes one
keep-alive connection at a time, and leaves every other response as it was."""

from __future__ import annotations

import asyncio
from typing import Any

from fapiao.http.balance import SHED_INTERVAL_SECONDS, ConnectionBalance, fair_share


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"keep-alive")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


def _headers(balance: ConnectionBalance) -> list[tuple[bytes, bytes]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(balance({"type": "http", "method": "POST", "path": "/"}, receive, send))
    assert sent[1] == {"type": "http.response.body", "body": b"{}"}
    return list(sent[0]["headers"])


def test_fair_share_rounds_up() -> None:
    assert fair_share([18, 14]) == 16
    assert fair_share([17, 14]) == 16
    assert fair_share([0, 0]) == 0


def test_a_process_above_its_share_closes_one_connection_per_interval() -> None:
    now = [100.0]
    counts = [0, 14]
    balance = ConnectionBalance(_answer, counts, 0, lambda: 18, clock=lambda: now[0])
    closing = _headers(balance)
    assert closing == [(b"content-type", b"application/json"), (b"connection", b"close")]
    assert counts == [18, 14]  # its own count is published for the others
    # The next answer within the interval keeps its connection, whatever the counts.
    now[0] += SHED_INTERVAL_SECONDS / 2
    assert (b"connection", b"close") not in _headers(balance)
    now[0] += SHED_INTERVAL_SECONDS
    assert (b"connection", b"close") in _headers(balance)
    assert balance.shed == 2


def test_a_process_at_or_below_its_share_changes_nothing() -> None:
    counts = [0, 17]
    balance = ConnectionBalance(_answer, counts, 0, lambda: 15)
    assert _headers(balance) == [
        (b"content-type", b"application/json"),
        (b"connection", b"keep-alive"),
    ]
    counts[1] = 16
    assert (b"connection", b"close") not in _headers(balance)  # 16 of 31: the share
    assert balance.shed == 0


def test_lifespan_and_websocket_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    balance = ConnectionBalance(app, [0, 0], 0, lambda: 99)

    async def nothing(*_: Any) -> Any:
        return None

    asyncio.run(balance({"type": "lifespan"}, nothing, nothing))
    assert seen == ["lifespan"] and balance.shed == 0
