"""Cross-site request forgery checks for requests signed in by the session cookie.

A state-changing request (anything but GET, HEAD, OPTIONS) must carry the session's CSRF
token in the `X-CSRF-Token` header or a `csrf_token` form field, and when the browser says
where the request comes from (Origin, else Referer) that must be this host. Requests with
a bearer token are not checked: a browser never adds that header by itself."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import Request

from fapiao.kit.errors import N_, Forbidden

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_failed(message: str) -> Forbidden:
    return Forbidden("CSRF_FAILED", message)


def check_origin(request: Request) -> None:
    """403 CSRF_FAILED when Origin (or, without it, Referer) names another host."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return
    host = request.headers.get("host", "")
    netloc = urlsplit(source).netloc if source != "null" else ""
    if not host or netloc.lower() != host.lower():
        raise csrf_failed(N_("The request comes from another site and was refused."))


async def submitted_token(request: Request) -> str | None:
    """The CSRF token the request carries: the header, else the form field."""
    given = request.headers.get(HEADER)
    if given:
        return given
    content_type = request.headers.get("content-type", "")
    # A form the route has already parsed is read from there; an unparsed url-encoded body
    # is read (and kept) as bytes, so the route can still read it after this check.
    form = getattr(request, "_form", None)
    if form is not None:
        value = form.get(FIELD)
        return value if isinstance(value, str) else None
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs((await request.body()).decode("utf-8", "replace")).get(FIELD)
        return values[0] if values else None
    return None
