"""Checks every web page gets from web.install, like the ASGI gates of the API."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from fapiao.kit.errors import FapiaoError
from fapiao.maintenance.gate import WRITES
from fapiao.maintenance.service import REFUSAL
from fapiao.platform import Platform
from fapiao.web.auth import WebError

# As in the API: signing in and out and public verification stay open; the language is
# a display preference.
OPEN_DURING_MAINTENANCE = frozenset({"/ui/login", "/ui/logout", "/ui/lang", "/verify"})
# As the API's switch and announcements (maintenance/gate.py): officers end the window and
# tell users about it while it is on (these pages are for officers only).
OPEN_TREES_DURING_MAINTENANCE = ("/ui/maintenance", "/ui/announcements")


def open_during_maintenance(path: str) -> bool:
    return path in OPEN_DURING_MAINTENANCE or any(
        path == tree or path.startswith(tree + "/") for tree in OPEN_TREES_DURING_MAINTENANCE
    )


async def refuse_writes_in_maintenance(request: Request) -> None:
    """A form POST during a maintenance window gets the maintenance page (503), exactly
    as the API refuses writes (maintenance/gate.py); reading pages keep working."""
    if request.method not in WRITES or open_during_maintenance(request.url.path):
        return
    platform: Platform = request.app.state.platform
    state = platform.maintenance
    now = platform.clock.now()
    fresh, window = state.cached(now)
    if not fresh:
        window = await run_in_threadpool(state.refresh, now)
    if window is None:
        return
    raise WebError(
        FapiaoError(
            "MAINTENANCE",
            REFUSAL,
            status=503,
            params={"until": window.until_local()},
            headers={"Retry-After": str(window.retry_after(now))},
        )
    )
