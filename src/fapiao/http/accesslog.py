"""Request ids and the JSON-lines access log.

`RequestContext` is the outermost middleware: it gives each request an id (the caller's
`X-Request-ID` when it is a plain token of at most 64 characters, else a new one),
echoes it in the response, makes the request known to the audit log
(`audit.context`) and, when the access log is on, writes one JSON object per request
to the `fapiao.access` logger: time, method, path, status, duration, client address,
user agent, user id and request id. The query string, headers (Authorization,
cookies), and bodies are never logged."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from logging.handlers import WatchedFileHandler
from pathlib import Path

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fapiao.audit import context
from fapiao.http.clientip import IPNetwork, client_ip
from fapiao.kit.clock import Clock

ACCESS = logging.getLogger("fapiao.access")
REQUEST_ID_HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
_handler: logging.Handler | None = None


def configure_access_log(target: str) -> bool:
    """Send the `fapiao.access` logger to `target`: a file path, `-` for standard output
    or `""` for nowhere. Returns whether the log is on."""
    global _handler
    if _handler is not None:
        ACCESS.removeHandler(_handler)
        _handler.close()
        _handler = None
    if not target:
        return False
    if target == "-":
        handler: logging.Handler = logging.StreamHandler(sys.stdout)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        handler = WatchedFileHandler(target, encoding="utf-8")  # follows logrotate
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS.addHandler(handler)
    ACCESS.setLevel(logging.INFO)
    ACCESS.propagate = False
    _handler = handler
    return True


class RequestContext:
    def __init__(
        self,
        app: ASGIApp,
        clock: Clock,
        access_log: bool,
        trusted_proxies: tuple[IPNetwork, ...] = (),
    ) -> None:
        self.app = app
        self.clock = clock
        self.access_log = access_log
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        user_agent = None
        request_id = None
        forwarded: list[str] = []
        for name, value in scope.get("headers") or ():
            if name == b"x-forwarded-for":
                forwarded.append(value.decode("latin-1"))
            elif name == b"user-agent":
                user_agent = value.decode("latin-1")[:300]
            elif name == REQUEST_ID_HEADER and _VALID_ID.match(value):
                request_id = value.decode("ascii")
        request_id = request_id or uuid.uuid4().hex
        client = scope.get("client")
        # Behind a trusted reverse proxy, the address it was asked by (as the rate limits
        # see it), so audit entries and access lines name the client, not the proxy.
        ip = client_ip(client[0] if client else None, forwarded, self.trusted_proxies)
        info = context.RequestInfo(request_id=request_id, ip=ip or None, user_agent=user_agent)
        status = 500
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (REQUEST_ID_HEADER, raw_id)]
                message = {**message, "headers": headers}
            await send(message)

        token = context.begin(info)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            context.end(token)
            if self.access_log:
                self._log(scope, info, status, started)

    def _log(self, scope: Scope, info: context.RequestInfo, status: int, started: float) -> None:
        actor = info.actor
        line = {
            "time": self.clock.now().isoformat(),
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "ip": info.ip,
            "user_agent": info.user_agent,
            "user_id": getattr(actor, "user_id", None),
            "request_id": info.request_id,
        }
        ACCESS.info(orjson.dumps(line).decode())
