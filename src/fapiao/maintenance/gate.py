"""The ASGI gate that refuses state-changing API requests during maintenance."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from fapiao.http.problems import locale_of, problem
from fapiao.kit.clock import Clock
from fapiao.maintenance.service import REFUSAL, MaintenanceState

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Signing in and out (token and browser session), public verification (its per-day
# counter is not a document) and the officer's own switch stay open during maintenance.
OPEN = frozenset(
    {
        "/api/v1/auth/token",
        "/api/v1/auth/session",
        "/api/v1/auth/logout",
        "/api/v1/verify",
        "/api/v1/maintenance",
    }
)
# Officers tell users about the window while it is on, and call off the window a
# read-only notice scheduled by withdrawing it.
OPEN_TREES = ("/api/v1/announcements",)


def is_open(path: str) -> bool:
    path = path.rstrip("/")
    return path in OPEN or any(path == tree or path.startswith(tree + "/") for tree in OPEN_TREES)


class MaintenanceGate:
    """503 `MAINTENANCE` with Retry-After for POST/PUT/PATCH/DELETE under /api/v1 while a
    window is on; reads pass untouched. A request admitted before the window began runs
    to its end (its transaction commits or rolls back whole)."""

    def __init__(self, app: ASGIApp, state: MaintenanceState, clock: Clock) -> None:
        self.app = app
        self.state = state
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITES
            or not scope["path"].startswith("/api/v1/")
            or is_open(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        now = self.clock.now()
        fresh, window = self.state.cached(now)
        if not fresh:  # at most once a second per process; off the event loop
            window = await anyio.to_thread.run_sync(self.state.refresh, now)
        if window is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = problem(
            request,
            503,
            "MAINTENANCE",
            REFUSAL,
            {"until": window.until_local()},
            headers={"Retry-After": str(window.retry_after(now))},
            extra={"until": window.until.isoformat(), "notice": window.message(locale_of(request))},
        )
        await response(scope, receive, send)
