"""ASGI middleware: a hard limit on request body size; consistency headers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fapiao import consistency
from fapiao.http.responses import dumps
from fapiao.kit.errors import N_
from fapiao.kit.i18n import negotiate, translate


class BodyLimit:
    """Refuses bodies above `limit` bytes with a 413 problem, before they are parsed.
    File uploads to the paths in `uploads` have their own, larger limit and are passed
    on as they arrive (the handler spools them to disk), not held in memory here;
    `upload_patterns` does the same for paths with parameters (a ticket's messages)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        uploads: dict[str, int] | None = None,
        upload_patterns: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.limit = limit
        self.uploads = uploads or {}
        self.upload_patterns = tuple(upload_patterns)

    def _limit_of(self, path: str) -> int:
        exact = self.uploads.get(path)
        if exact is not None:
            return exact
        for pattern, limit in self.upload_patterns:
            if pattern.match(path):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        limit = self._limit_of(scope.get("path", ""))
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, send, limit)
            return
        if limit != self.limit:
            await self._stream(scope, receive, send, limit)
            return
        # Read the whole body first (it is small by definition) so an oversized one is
        # refused before any handler sees it.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._reject(scope, send, self.limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Count the body as the handler reads it; past the limit, answer 413 and tell the
        handler the client went away (its own answer is then dropped)."""
        seen = 0
        rejected = False

        async def counted() -> Message:
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request" and not rejected:
                seen += len(message.get("body", b""))
                if seen > limit:
                    rejected = True
                    await self._reject(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not rejected:
                await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            # The handler failing on the disconnect we told it of is expected; the 413
            # has been sent.
            if not rejected:
                raise

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        headers = dict(scope.get("headers") or [])
        language = headers.get(b"accept-language", b"").decode("latin-1")
        locale = negotiate(language)
        body: dict[str, Any] = {
            "type": "/problems/payload-too-large",
            "title": translate(N_("Request too large"), locale),
            "status": 413,
            "code": "PAYLOAD_TOO_LARGE",
            "detail": translate(
                N_("The request body is larger than {limit} bytes."), locale, limit=limit
            ),
        }
        payload = dumps(body)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


CONSISTENCY_HEADER = "X-Fapiao-Consistency"
SERVED_BY_HEADER = "X-Fapiao-Served-By"


class ConsistencyHeaders:
    """Tracks what each request commits and where its reads are served, and says so in
    the response: `X-Fapiao-Consistency` (the WAL position after the request's last
    commit, PostgreSQL only) and `X-Fapiao-Served-By` (`primary` or `replica-N`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with consistency.tracking() as state:

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    extra: list[tuple[bytes, bytes]] = []
                    if state.committed is not None:
                        token = consistency.format_lsn(state.committed)
                        extra.append((CONSISTENCY_HEADER.lower().encode(), token.encode()))
                    if state.served_by is not None:
                        extra.append((SERVED_BY_HEADER.lower().encode(), state.served_by.encode()))
                    if extra:
                        message = {**message, "headers": [*message.get("headers", []), *extra]}
                await send(message)

            await self.app(scope, receive, send_with_headers)
