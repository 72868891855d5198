"""Keep-alive connections spread evenly over the server processes of `fapiao serve
--workers N`.

The kernel hands each new connection to one process's SO_REUSEPORT socket by a hash of
its addresses, so 32 connections over 2 processes often end up 18 and 14. With
keep-alive they stay there: the busier process answers every request of its clients
later, and its share is what sets the tail latency. Each process writes how many
connections it holds into a slot of a shared array; a process holding more than its
even share answers one request now and then with `Connection: close`. The client
reconnects (HTTP clients do so transparently), the kernel hashes the new connection
afresh, and within a few such moves the processes hold equal shares. Nothing else about
the response changes, and a single process never closes a connection for this."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableSequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLOSE = (b"connection", b"close")
# At most one connection shed per interval: the count of the other processes is only as
# fresh as their last answer, and a reconnecting client is briefly counted by nobody.
SHED_INTERVAL_SECONDS = 0.05


def fair_share(counts: MutableSequence[int]) -> int:
    """The most connections one process should hold: the total divided evenly, rounded
    up."""
    total = sum(counts)
    return -(-total // len(counts))


class ConnectionBalance:
    """Outermost ASGI layer of one server process: `counts` is the array shared by all
    processes, `index` this process's slot, `connections` how many it holds now."""

    def __init__(
        self,
        app: ASGIApp,
        counts: MutableSequence[int],
        index: int,
        connections: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.counts = counts
        self.index = index
        self.connections = connections
        self.clock = clock
        self.last_shed = float("-inf")
        self.shed = 0

    def should_close(self) -> bool:
        """Note this process's count; whether to close the connection being answered."""
        mine = self.connections()
        self.counts[self.index] = mine
        if mine <= fair_share(self.counts):
            return False
        now = self.clock()
        if now - self.last_shed < SHED_INTERVAL_SECONDS:
            return False
        self.last_shed = now
        self.shed += 1
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.should_close():
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, CLOSE]}
            await send(message)

        await self.app(scope, receive, send_closing)
