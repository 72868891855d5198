"""Which API-token scope every route needs: the one table, and the one check.

Scopes limit API tokens only; people signed in (bearer from /auth/token, or a browser
session) are limited by their role alone. A token has one or more of:
- `read`: GET and HEAD routes;
- `issue`: issuing, void, red-letter, certification and reconciliation writes, plus reads;
- `admin`: user, webhook and token administration, plus reads.
`PUBLIC` routes need no sign-in; `PEOPLE` routes refuse every token (platform operation,
signing out). A route missing from the table is treated as `read` for GET/HEAD and as
`PEOPLE` otherwise, so a new write route is closed to tokens until it is given a row;
tests/integration/test_token_scopes.py fails for any OpenAPI route without one."""

from __future__ import annotations

from typing import Final

from fastapi import Request

from fapiao.kit.errors import N_, Forbidden

PUBLIC: Final = "public"
READ: Final = "read"
ISSUE: Final = "issue"
ADMIN: Final = "admin"
PEOPLE: Final = "people"

_V1 = "/api/v1"
ROUTE_SCOPES: dict[tuple[str, str], str] = {
    # accounts, sessions, tokens
    ("POST", f"{_V1}/auth/token"): PUBLIC,
    ("POST", f"{_V1}/auth/session"): PUBLIC,
    ("GET", f"{_V1}/auth/session"): PEOPLE,
    ("POST", f"{_V1}/auth/logout"): PEOPLE,
    ("GET", f"{_V1}/me"): READ,
    ("POST", f"{_V1}/api-tokens"): ADMIN,
    ("GET", f"{_V1}/api-tokens"): READ,
    ("DELETE", f"{_V1}/api-tokens/{{token_id}}"): ADMIN,
    # a person's own password and second factor: never by token
    ("POST", f"{_V1}/me/password"): PEOPLE,
    ("POST", f"{_V1}/me/totp"): PEOPLE,
    ("POST", f"{_V1}/me/totp/confirm"): PEOPLE,
    ("POST", f"{_V1}/me/totp/recovery-codes"): PEOPLE,
    ("DELETE", f"{_V1}/me/totp"): PEOPLE,
    # a taxpayer's users
    ("GET", f"{_V1}/users"): READ,
    ("POST", f"{_V1}/users"): ADMIN,
    ("PATCH", f"{_V1}/users/{{username}}"): ADMIN,
    ("POST", f"{_V1}/users/{{username}}/password"): ADMIN,
    ("POST", f"{_V1}/users/{{username}}/unlock"): ADMIN,
    # invoices
    ("POST", f"{_V1}/invoices"): ISSUE,
    ("GET", f"{_V1}/invoices"): READ,
    ("GET", f"{_V1}/invoices/{{number}}"): READ,
    ("GET", f"{_V1}/invoices/{{number}}/receipt"): READ,
    ("POST", f"{_V1}/invoices/{{number}}/void"): ISSUE,
    ("GET", f"{_V1}/invoices/{{number}}/trace"): READ,
    # red-letter
    ("POST", f"{_V1}/red-letter-forms"): ISSUE,
    ("GET", f"{_V1}/red-letter-forms"): READ,
    ("POST", f"{_V1}/red-letter-forms/{{form_id}}/decision"): ISSUE,
    ("GET", f"{_V1}/red-letter-forms/{{form_id}}"): READ,
    # certification
    ("POST", f"{_V1}/invoices/{{number}}/certify"): ISSUE,
    ("DELETE", f"{_V1}/invoices/{{number}}/certify"): ISSUE,
    ("POST", f"{_V1}/certification-periods/{{period}}/confirm"): ISSUE,
    ("GET", f"{_V1}/certification-periods/{{period}}"): READ,
    # public verification and keys
    ("POST", f"{_V1}/verify"): PUBLIC,
    ("GET", f"{_V1}/keys"): PUBLIC,
    # taxpayers
    ("GET", f"{_V1}/taxpayers/me"): READ,
    ("GET", f"{_V1}/taxpayers/{{tax_id}}"): READ,
    # the tax bureau's management of taxpayers (tokens belong to taxpayers' users)
    ("GET", f"{_V1}/taxpayers"): PEOPLE,
    ("POST", f"{_V1}/taxpayers"): PEOPLE,
    ("PATCH", f"{_V1}/taxpayers/{{tax_id}}"): PEOPLE,
    ("GET", f"{_V1}/taxpayers/{{tax_id}}/users"): PEOPLE,
    ("POST", f"{_V1}/taxpayers/{{tax_id}}/users"): PEOPLE,
    ("POST", f"{_V1}/taxpayers/{{tax_id}}/users/{{username}}/password"): PEOPLE,
    # webhooks
    ("GET", f"{_V1}/webhooks"): READ,
    ("POST", f"{_V1}/webhooks"): ADMIN,
    ("DELETE", f"{_V1}/webhooks/{{webhook_id}}"): ADMIN,
    ("GET", f"{_V1}/webhooks/{{webhook_id}}/deliveries"): READ,
    ("POST", f"{_V1}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/redeliver"): ADMIN,
    # trace and reconciliation
    ("GET", f"{_V1}/trace"): READ,
    ("POST", f"{_V1}/reconciliations"): ISSUE,
    ("GET", f"{_V1}/reconciliations/{{reconciliation_id}}"): READ,
    ("GET", f"{_V1}/reconciliations/{{reconciliation_id}}/report.xlsx"): READ,
    # the audit log (officers and auditors, who have no tokens)
    ("GET", f"{_V1}/audit"): PEOPLE,
    ("GET", f"{_V1}/audit/export"): PEOPLE,
    # operation
    ("GET", f"{_V1}/maintenance"): PUBLIC,
    ("PUT", f"{_V1}/maintenance"): PEOPLE,
    ("DELETE", f"{_V1}/maintenance"): PEOPLE,
    # announcements: read by anyone, written by officers (who have no tokens)
    ("GET", f"{_V1}/announcements"): PUBLIC,
    ("GET", f"{_V1}/announcements/{{announcement_id}}"): PUBLIC,
    ("POST", f"{_V1}/announcements"): PEOPLE,
    ("PUT", f"{_V1}/announcements/{{announcement_id}}"): PEOPLE,
    ("POST", f"{_V1}/announcements/{{announcement_id}}/publish"): PEOPLE,
    ("POST", f"{_V1}/announcements/{{announcement_id}}/withdraw"): PEOPLE,
    ("DELETE", f"{_V1}/announcements/{{announcement_id}}"): PEOPLE,
    ("GET", "/announcements.atom"): PUBLIC,
    ("GET", "/announcements.rss"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
}

_READS = frozenset({"GET", "HEAD"})


def required_scope(method: str, path: str) -> str:
    """The scope a token needs for this route (its template path, e.g. /invoices/{number})."""
    method = "GET" if method == "HEAD" else method
    declared = ROUTE_SCOPES.get((method, path))
    if declared is not None:
        return declared
    return READ if method in _READS else PEOPLE


def token_allows(scopes: frozenset[str], required: str) -> bool:
    """Whether a token with `scopes` may call a route that needs `required`."""
    if required == PUBLIC:
        return True
    if required == READ:
        return bool(scopes)  # every scope includes reading
    return required in scopes


def require_token_scope(request: Request, scopes: frozenset[str]) -> None:
    """403 TOKEN_SCOPE unless a token with `scopes` may call the route being served."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    required = required_scope(request.method, path)
    if token_allows(scopes, required):
        return
    if required == PEOPLE:
        raise Forbidden("TOKEN_SCOPE", N_("API tokens may not do this; sign in as a person."))
    raise Forbidden(
        "TOKEN_SCOPE",
        N_("This API token may not do this: it needs the scope {scope}."),
        params={"scope": required},
    )
