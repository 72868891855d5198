"""What is known about the HTTP request being served, for the audit log and the access
log: its id, the client's address and user agent, and (once authenticated) the actor.

The outermost middleware puts one `RequestInfo` in a context variable per request; the
authentication dependency fills in the actor (`note_actor`). Handlers run in a copy of
the context, so the object is shared, not copied: what a dependency notes, the
middleware reads after the response."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass
class RequestInfo:
    request_id: str
    ip: str | None
    user_agent: str | None
    actor: Any = None  # an accounts.service.Actor once the caller is known


_CURRENT: ContextVar[RequestInfo | None] = ContextVar("fapiao_request", default=None)


def current() -> RequestInfo | None:
    """The request being served on this thread or task, if any."""
    return _CURRENT.get()


def begin(info: RequestInfo) -> Any:
    """Make `info` the current request; returns the token for `end`."""
    return _CURRENT.set(info)


def end(token: Any) -> None:
    _CURRENT.reset(token)


def note_actor(actor: Any) -> None:
    """Remember who is making the current request (called by authentication)."""
    info = _CURRENT.get()
    if info is not None:
        info.actor = actor
