"""The ASGI audit trail: every state-changing API request, and every read of taxpayer
data by an officer, becomes an audit entry, keyed by the route it matched.

The entry is built after the response has started (the actor is known by then) and
handed to the process's `AuditBuffer`; nothing is written on the request's path. The
created object's id comes from the `Location` header or, failing that, from the `id` or
`number` of a small JSON answer; a refusal's code from its problem body. Bodies are only
kept for those cases, never logged, and never stored."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fapiao.audit import routes
from fapiao.audit.buffer import AuditBuffer
from fapiao.audit.context import current
from fapiao.audit.service import make_entry
from fapiao.kit.clock import Clock

log = logging.getLogger("fapiao.audit")
_MAX_BODY = 64 * 1024
_MAX_ERRORS = 5
# Query parameters never copied into an entry, whatever a future route calls them.
_SECRET_WORDS = ("token", "secret", "password", "passwd", "totp", "otp", "session", "cookie")


def safe_query(query_string: bytes) -> dict[str, str]:
    """The query parameters worth recording, without anything that looks like a secret."""
    kept: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        lowered = name.lower()
        if any(word in lowered for word in _SECRET_WORDS) or lowered in ("code", "key"):
            continue
        kept[name[:40]] = value[:100]
        if len(kept) >= 10:
            break
    return kept


class _Response:
    __slots__ = ("chunks", "keep", "location", "size", "status")

    def __init__(self) -> None:
        self.status = 500
        self.location: str | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.keep = False

    def json(self) -> dict[str, Any] | None:
        if not self.chunks or self.size > _MAX_BODY:
            return None
        try:
            value = orjson.loads(b"".join(self.chunks))
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None


class AuditTrail:
    def __init__(self, app: ASGIApp, buffer: AuditBuffer, clock: Clock) -> None:
        self.app = app
        self.buffer = buffer
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = scope["path"].startswith(routes.WEB_PREFIX)
        if not page and not scope["path"].startswith(routes.PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        write = method in routes.WRITES if page else routes.audited_write(method, scope["path"])
        if not write and method != "GET":
            await self.app(scope, receive, send)
            return
        response = _Response()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                response.status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"location":
                        response.location = value.decode("latin-1")
                # A page answers HTML: its refusals are known by their status only.
                response.keep = not page and self._wants_body(scope, write, response)
            elif response.keep and message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                response.size += len(chunk)
                if response.size <= _MAX_BODY:
                    response.chunks.append(chunk)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            response.status = 500  # answered by the server-error handler outside
            self._safely_note(scope, write, response)
            raise
        self._safely_note(scope, write, response)

    def _safely_note(self, scope: Scope, write: bool, response: _Response) -> None:
        try:
            self._note(scope, write, response)
        except Exception:  # the answer is sent; say loudly that its entry is missing
            log.exception("audit entry of %s %s not recorded", scope["method"], scope["path"])

    def _wants_body(self, scope: Scope, write: bool, response: _Response) -> bool:
        if not write:
            return False
        if response.status >= 400:
            return True  # the refusal's code
        return response.location is None and not scope.get("path_params")

    def _note(self, scope: Scope, write: bool, response: _Response) -> None:
        route = scope.get("route")
        method = scope["method"]
        methods = getattr(route, "methods", None)
        template = getattr(route, "path", None)
        if route is None or template is None or (methods is not None and method not in methods):
            return  # no such route (404 / 405): nothing was acted on
        page, takes_created = None, True
        if template.startswith(routes.WEB_PREFIX):
            mapped = routes.web_route(method, template, scope.get("path_params") or {})
            if mapped is None:
                return
            page = template
            method, template, takes_created = mapped
            write = method in routes.WRITES
        request = current()
        actor = request.actor if request is not None else None
        officer_read = False
        if not write:  # most requests: decided before any other work
            if not (200 <= response.status < 300):
                return
            if (method, template) not in routes.ACTIONS:
                if actor is None or actor.role != "officer":
                    return
                if template in routes.NOT_TAXPAYER_DATA:
                    return
                officer_read = True
        found = routes.target(method, template, scope.get("path_params") or {})
        if officer_read:
            found = routes.Target("officer.read", found.object_type, found.object_id)
        detail: dict[str, Any] = {"route": template, "status": response.status}
        if page is not None:
            detail.update(via="web", page=page)
        object_id, object_type = found.object_id, found.object_type
        query = safe_query(scope.get("query_string", b""))
        if query:
            detail["query"] = query
            if object_id is None and not write:
                # A lookup by query (the trace): its object is what it names.
                for name, kind in (("number", "invoice"), ("idempotency_key", "idempotency_key")):
                    if query.get(name):
                        object_id, object_type = query[name], kind
                        break
        result, code = "ok", None
        if response.status >= 500:
            result, code = "error", "INTERNAL_ERROR"
        elif response.status >= 400:
            result = "refused"
            body = response.json() or {}
            code = str(body.get("code") or f"HTTP_{response.status}")
            errors = body.get("errors")
            if isinstance(errors, list) and errors:
                detail["errors"] = [
                    {"field": item.get("field"), "code": item.get("code")}
                    for item in errors[:_MAX_ERRORS]
                    if isinstance(item, dict)
                ]
        elif write and object_id is None and takes_created:
            object_id = self._created_id(response)
        self.buffer.submit(
            make_entry(
                action=found.action,
                at=self.clock.now(),
                result=result,
                code=code,
                actor=actor,
                object_type=object_type,
                object_id=object_id,
                detail=detail,
            )
        )

    @staticmethod
    def _created_id(response: _Response) -> str | None:
        if response.location:
            path = response.location.split("?", 1)[0]
            return path.rstrip("/").rsplit("/", 1)[-1] or None
        body = response.json()
        if body is None:
            return None
        for name in ("id", "number"):
            if body.get(name) is not None:
                return str(body[name])
        return None
