"""Security headers on every response, and the app class that puts them outside even
the 500 handler."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fapiao.http.clientip import is_trusted
from fapiao.kit.rates import IPNetwork


def _policy(**overrides: str) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
    }
    directives.update({key.replace("_", "-"): value for key, value in overrides.items()})
    return "; ".join(f"{key} {value}" for key, value in directives.items())


CONTENT_SECURITY_POLICY = _policy()
# Swagger UI (vendored, its start-up script a file of ours) sets style attributes on the
# elements it renders; scripts stay restricted to this origin.
DOCS_CONTENT_SECURITY_POLICY = _policy(style_src="'self' 'unsafe-inline'")
HSTS = "max-age=31536000"
# Never a referrer to another site. Not "no-referrer": under it a browser sends
# `Origin: null` with a plain HTML form's POST, which the CSRF origin check (rightly)
# refuses, so the web pages' forms could not work without JavaScript.
REFERRER_POLICY = "same-origin"
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)


def _headers(policy: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", REFERRER_POLICY.encode()),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]


class SecurityHeaders:
    """Adds the security headers to every HTTP response (precomputed, appended as the
    response starts). Strict-Transport-Security only when the request came over TLS: the
    scheme is https, or a trusted proxy says X-Forwarded-Proto: https."""

    def __init__(
        self,
        app: ASGIApp,
        trusted_proxies: tuple[IPNetwork, ...] = (),
        policies: dict[str, str] | None = None,
    ) -> None:
        self.app = app
        self.trusted = trusted_proxies
        self.default = _headers(CONTENT_SECURITY_POLICY)
        self.by_path = {path: _headers(policy) for path, policy in (policies or {}).items()}
        self.hsts = (b"strict-transport-security", HSTS.encode())

    def _over_tls(self, scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        if not self.trusted or not client or not is_trusted(client[0], self.trusted):
            return False
        for name, value in scope.get("headers") or ():
            if name == b"x-forwarded-proto":
                # The proxy nearest the browser writes the first value.
                return value.split(b",")[0].strip().lower() == b"https"
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.by_path.get(scope.get("path", ""), self.default)
        if self._over_tls(scope):
            extra = [*extra, self.hsts]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HardenedFastAPI(FastAPI):
    """FastAPI whose outermost layer adds the security headers: Starlette puts its
    500 handler outside every middleware added with add_middleware, and those answers
    need the headers too."""

    def __init__(self, *args: Any, trusted_proxies: tuple[IPNetwork, ...] = (), **kwargs: Any):
        self.trusted_proxies = trusted_proxies
        self.header_policies: dict[str, str] = {}
        super().__init__(*args, **kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(
            super().build_middleware_stack(), self.trusted_proxies, self.header_policies
        )
