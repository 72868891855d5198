"""Every route of the OpenAPI document, called by every kind of caller, against real objects.

TABLE has one row per (method, path template) and one column per caller. The callers are
the seller taxpayer's admin, clerk and viewer, a tax officer, an auditor, a clerk and an
admin of ANOTHER taxpayer, and an anonymous caller. Path parameters name the seller's
objects for every caller, so the other taxpayer's users prove that someone else's object
is a 404. Outcomes:

    ok   2xx, or a business-rule refusal (400, 409, 410, 422, 429): never 401/403/404
    403  the role may not do this (ROLE_NOT_ALLOWED, or TAXPAYER_REQUIRED for officers)
    404  not there for this caller (another taxpayer's object)
    401  not signed in

Adding a route: add its row below (and a request in REQUESTS if it needs a body or
query), or test_every_route_has_a_row fails naming it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
from permission_objects import (
    ANNOUNCEMENT,
    SELLER_NAME,
    Objects,
    build_objects,
    reconciliation_csv,
)
from sqlalchemy import select

from conftest import PASSWORD, SELLER_ID, World, invoice_body
from fapiao.accounts import service as accounts
from fapiao.accounts.models import User
from fapiao.app import create_app
from fapiao.maintenance import service as maintenance
from fapiao.settings import Settings
from pictures import png

CALLERS = (
    "seller_admin",
    "seller",  # the seller's clerk
    "seller_viewer",
    "officer",
    "auditor",
    "other",  # a clerk of another taxpayer
    "other_admin",
    "anonymous",
)

# fmt: off
TABLE: dict[str, str] = {
    # "METHOD path"                                    adm  clk  vwr  off  aud  oth  oadm anon
    "POST /api/v1/auth/token":                        "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /api/v1/me":                                 "ok   ok   ok   ok   ok   ok   ok   401",
    "GET /api/v1/taxpayers/me":                       "ok   ok   ok   403  403  ok   ok   401",
    "POST /api/v1/invoices":                          "ok   ok   403  403  403  ok   ok   401",
    "GET /api/v1/invoices":                           "ok   ok   ok   403  403  ok   ok   401",
    "GET /api/v1/invoices/export":                    "ok   ok   ok   403  403  ok   ok   401",
    "GET /api/v1/invoices/{number}":                  "ok   ok   ok   ok   403  404  404  401",
    "GET /api/v1/tax-codes":                          "ok   ok   ok   ok   ok   ok   ok   401",
    "GET /api/v1/buyers/recent":                      "ok   ok   ok   403  403  ok   ok   401",
    "GET /api/v1/invoices/{number}/receipt":          "ok   ok   ok   ok   403  404  404  401",
    "GET /api/v1/invoices/{number}/trace":            "ok   ok   ok   ok   403  404  404  401",
    "GET /api/v1/invoices/{number}/qrcode.svg":       "ok   ok   ok   ok   403  404  404  401",
    "GET /api/v1/trace":                              "ok   ok   ok   ok   403  ok   ok   401",
    "POST /api/v1/invoices/{number}/void":            "ok   ok   403  403  403  404  404  401",
    "POST /api/v1/red-letter-forms":                  "ok   ok   403  403  403  404  404  401",
    "GET /api/v1/red-letter-forms":                   "ok   ok   ok   403  403  ok   ok   401",
    "GET /api/v1/red-letter-forms/{form_id}":         "ok   ok   ok   ok   403  404  404  401",
    "POST /api/v1/red-letter-forms/{form_id}/decision":
                                                      "ok   ok   403  403  403  404  404  401",
    "POST /api/v1/invoices/{number}/certify":         "ok   ok   403  403  403  404  404  401",
    "DELETE /api/v1/invoices/{number}/certify":       "ok   ok   403  403  403  404  404  401",
    "GET /api/v1/certification-periods/{period}":     "ok   ok   ok   403  403  ok   ok   401",
    "POST /api/v1/certification-periods/{period}/confirm":
                                                      "ok   ok   403  403  403  ok   ok   401",
    "POST /api/v1/reconciliations":                   "ok   ok   403  ok   403  404  404  401",
    "GET /api/v1/reconciliations/{reconciliation_id}":
                                                      "ok   ok   ok   ok   403  404  404  401",
    "GET /api/v1/reconciliations/{reconciliation_id}/report.xlsx":
                                                      "ok   ok   ok   ok   403  404  404  401",
    "GET /api/v1/webhooks":                           "ok   403  403  403  403  403  ok   401",
    "POST /api/v1/webhooks":                          "ok   403  403  403  403  403  ok   401",
    "GET /api/v1/webhooks/{webhook_id}/deliveries":   "ok   403  403  403  403  403  404  401",
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver":
                                                      "ok   403  403  403  403  403  404  401",
    "DELETE /api/v1/webhooks/{webhook_id}":           "ok   403  403  403  403  403  404  401",
    "POST /api/v1/verify":                            "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /api/v1/keys":                               "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /api/v1/maintenance":                        "ok   ok   ok   ok   ok   ok   ok   ok",
    "PUT /api/v1/maintenance":                        "403  403  403  ok   403  403  403  401",
    "DELETE /api/v1/maintenance":                     "403  403  403  ok   403  403  403  401",
    "POST /api/v1/me/password":                       "ok   ok   ok   ok   ok   ok   ok   ok",
    "POST /api/v1/me/totp":                           "ok   ok   ok   ok   ok   ok   ok   401",
    "POST /api/v1/me/totp/confirm":                   "ok   ok   ok   ok   ok   ok   ok   401",
    "POST /api/v1/me/totp/recovery-codes":            "ok   ok   ok   ok   ok   ok   ok   401",
    "DELETE /api/v1/me/totp":                         "ok   ok   ok   ok   ok   ok   ok   401",
    "POST /api/v1/users/{username}/unlock":           "ok   403  403  ok   403  403  404  401",
    "POST /api/v1/auth/session":                      "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /api/v1/auth/session":                       "401  401  401  401  401  401  401  401",
    "POST /api/v1/auth/logout":                       "ok   ok   ok   ok   ok   ok   ok   ok",
    "POST /api/v1/api-tokens":                        "ok   ok   ok   403  403  ok   ok   401",
    "GET /api/v1/api-tokens":                         "ok   ok   ok   403  403  ok   ok   401",
    "DELETE /api/v1/api-tokens/{token_id}":           "ok   404  404  403  403  404  404  401",
    "GET /api/v1/audit":                              "403  403  403  ok   ok   403  403  401",
    "GET /api/v1/audit/export":                       "403  403  403  ok   ok   403  403  401",
    "GET /api/v1/users":                              "ok   403  403  403  403  403  ok   401",
    "POST /api/v1/users":                             "ok   403  403  403  403  403  ok   401",
    "PATCH /api/v1/users/{username}":                 "ok   403  403  403  403  403  404  401",
    "POST /api/v1/users/{username}/password":         "ok   403  403  403  403  403  404  401",
    "GET /api/v1/taxpayers":                          "403  403  403  ok   403  403  403  401",
    "POST /api/v1/taxpayers":                         "403  403  403  ok   403  403  403  401",
    "GET /api/v1/taxpayers/{tax_id}":                 "ok   ok   ok   ok   403  404  404  401",
    "PATCH /api/v1/taxpayers/{tax_id}":               "403  403  403  ok   403  403  403  401",
    "GET /api/v1/taxpayers/{tax_id}/users":           "403  403  403  ok   403  403  403  401",
    "POST /api/v1/taxpayers/{tax_id}/users":          "403  403  403  ok   403  403  403  401",
    "POST /api/v1/taxpayers/{tax_id}/users/{username}/password":
                                                      "403  403  403  ok   403  403  403  401",
    "GET /api/v1/announcements":                      "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /api/v1/announcements/{announcement_id}":    "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /announcements.atom":                        "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /announcements.rss":                         "ok   ok   ok   ok   ok   ok   ok   ok",
    "POST /api/v1/announcements":                     "403  403  403  ok   403  403  403  401",
    "PUT /api/v1/announcements/{announcement_id}":    "403  403  403  ok   403  403  403  401",
    "POST /api/v1/announcements/{announcement_id}/publish":
                                                      "403  403  403  ok   403  403  403  401",
    "POST /api/v1/announcements/{announcement_id}/withdraw":
                                                      "403  403  403  ok   403  403  403  401",
    "DELETE /api/v1/announcements/{announcement_id}": "403  403  403  ok   403  403  403  401",
    "POST /api/v1/tickets":                           "ok   ok   ok   ok   403  ok   ok   401",
    "GET /api/v1/tickets":                            "ok   ok   ok   ok   403  ok   ok   401",
    "GET /api/v1/tickets/{number}":                   "ok   ok   ok   ok   403  404  404  401",
    "POST /api/v1/tickets/{number}/messages":         "ok   ok   ok   ok   403  404  404  401",
    "POST /api/v1/tickets/{number}/attachments":      "ok   ok   ok   ok   403  404  404  401",
    "GET /api/v1/tickets/{number}/attachments/{attachment_id}":
                                                      "ok   ok   ok   ok   403  404  404  401",
    "POST /api/v1/tickets/{number}/close":            "ok   ok   ok   ok   403  404  404  401",
    "GET /healthz":                                   "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /readyz":                                    "ok   ok   ok   ok   ok   ok   ok   ok",
    "GET /metrics":                                   "ok   ok   ok   ok   ok   ok   ok   ok",
}
# fmt: on


Request = Callable[[Objects], dict[str, Any]]
Response = Any  # the test client's response

# What each route is sent, beyond its path parameters (httpx keyword arguments).
REQUESTS: dict[str, Request] = {
    "POST /api/v1/auth/token": lambda o: {"data": {"username": "seller", "password": PASSWORD}},
    "POST /api/v1/invoices": lambda o: {"json": invoice_body()},
    "GET /api/v1/trace": lambda o: {"params": {"number": o.issued}},
    "GET /api/v1/tax-codes": lambda o: {"params": {"q": "信息"}},
    "POST /api/v1/invoices/{number}/void": lambda o: {"path": {"number": o.paper}},
    "POST /api/v1/red-letter-forms": lambda o: {
        "json": {"blue_number": o.unreversed, "reason": "01"}
    },
    "POST /api/v1/red-letter-forms/{form_id}/decision": lambda o: {"json": {"decision": "C"}},
    "POST /api/v1/invoices/{number}/certify": lambda o: {
        "path": {"number": o.received},
        "json": {"period": o.period, "purpose": "deduct"},
    },
    "DELETE /api/v1/invoices/{number}/certify": lambda o: {"path": {"number": o.received}},
    "POST /api/v1/reconciliations": lambda o: {
        "files": {"file": ("list.csv", reconciliation_csv(o))},
        "data": {"taxpayer": SELLER_ID},
    },
    "POST /api/v1/webhooks": lambda o: {
        "json": {"url": "http://127.0.0.1:9/erp", "events": ["invoice.issued"]}
    },
    "POST /api/v1/verify": lambda o: {
        "json": {"number": o.issued, "issue_date": "2026-11-10", "total_with_tax": "226.00"}
    },
    "POST /api/v1/tickets": lambda o: {
        "json": {"subject": "查不到发票", "category": "invoice_missing", "body": "请帮忙"}
    },
    "GET /api/v1/tickets/{number}": lambda o: {"path": {"number": o.ticket}},
    "POST /api/v1/tickets/{number}/messages": lambda o: {
        "path": {"number": o.ticket},
        "json": {"body": "补充说明"},
    },
    "POST /api/v1/tickets/{number}/attachments": lambda o: {
        "path": {"number": o.ticket},
        "files": {"files": ("shot.png", png(), "image/png")},
    },
    "GET /api/v1/tickets/{number}/attachments/{attachment_id}": lambda o: {
        "path": {"number": o.ticket}
    },
    "POST /api/v1/tickets/{number}/close": lambda o: {"path": {"number": o.ticket}},
    "PUT /api/v1/maintenance": lambda o: {"json": {"until": "2026-11-10T12:00:00+08:00"}},
    "POST /api/v1/announcements": lambda o: {"json": ANNOUNCEMENT},
    "PUT /api/v1/announcements/{announcement_id}": lambda o: {"json": ANNOUNCEMENT},
    # Signed-in callers change their own password (and carry on with the new token, see
    # AFTER); an anonymous caller names a user whose password was not reset: refused.
    "POST /api/v1/me/password": lambda o: {
        "json": {
            "username": "seller_spare",
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
        }
    },
    "POST /api/v1/auth/session": lambda o: {
        "data": {"username": "seller_browser", "password": PASSWORD}
    },
    "POST /api/v1/api-tokens": lambda o: {"json": {"name": "erp", "scopes": ["read"]}},
    "POST /api/v1/users": lambda o: {
        "json": {"username": "new_clerk", "password": NEW_PASSWORD, "role": "clerk"}
    },
    "PATCH /api/v1/users/{username}": lambda o: {"json": {"role": "viewer"}},
    "POST /api/v1/users/{username}/password": lambda o: {"json": {"new_password": NEW_PASSWORD}},
    "POST /api/v1/taxpayers": lambda o: {
        "json": {"tax_id": "91110108MA01PQ000C", "name": "北京新登记有限公司"}
    },
    "PATCH /api/v1/taxpayers/{tax_id}": lambda o: {"json": {"credit_limit": "1000000.00"}},
    "POST /api/v1/taxpayers/{tax_id}/users": lambda o: {
        "json": {"username": "new_admin", "password": NEW_PASSWORD}
    },
    "POST /api/v1/taxpayers/{tax_id}/users/{username}/password": lambda o: {
        "path": {"username": "seller_spare_admin"},
        "json": {"new_password": NEW_PASSWORD},
    },
}


# Routes that answer only a browser session (bearer callers get 401); their allowed
# path is tested with real sessions in tests/integration/test_sessions.py.
SESSION_ONLY = {"GET /api/v1/auth/session"}

NEW_PASSWORD = "Lantern-Orchard-2026"


def _carry_on_with_new_token(world: World, caller: str, response: Response) -> None:
    if caller == "anonymous" or not response.is_success:
        return
    token = response.json()["access_token"]
    if response.json()["scope"] != "full":
        # Admins and officers without a second factor get an enrolment-only token; like
        # the world fixture, give the caller a full one for the rest of the table.
        platform = world.platform
        with platform.database.transaction(write=False) as session:
            user = session.scalar(select(User).where(User.username == caller))
            assert user is not None
            token = accounts.issue_token(
                user, platform.secret, platform.clock.now(), timedelta(days=1)
            )
    world.headers[caller] = {"Authorization": f"Bearer {token}"}


# The second-factor secret each caller enrolled with POST /api/v1/me/totp.
TOTP_SECRETS: dict[str, str] = {}


def _remember_totp_secret(world: World, caller: str, response: Response) -> None:
    if response.is_success:
        TOTP_SECRETS[caller] = response.json()["secret"]


def _next_time_step(world: World, caller: str, response: Response) -> None:
    """A one-time code is good once per 30-second step."""
    world.platform.clock.advance(timedelta(seconds=31))  # type: ignore[attr-defined]


# What must follow a call, for the callers' later calls to still mean what they say.
AFTER: dict[str, Callable[[World, str, Response], None]] = {
    "POST /api/v1/me/password": _carry_on_with_new_token,
    # A session cookie would sign in the next caller, anonymous ones included.
    "POST /api/v1/auth/session": lambda world, caller, response: world.client.cookies.clear(),
    "POST /api/v1/me/totp": _remember_totp_secret,
    "POST /api/v1/me/totp/confirm": _next_time_step,
    "POST /api/v1/me/totp/recovery-codes": _next_time_step,
    "DELETE /api/v1/me/totp": _next_time_step,
}


def _current_code(world: World, caller: str) -> dict[str, Any]:
    secret = TOTP_SECRETS.get(caller, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")  # anonymous: any secret
    return {"json": {"code": pyotp.TOTP(secret).at(world.platform.clock.now())}}


# Requests that depend on who sends them.
PER_CALLER: dict[str, Callable[[World, str], dict[str, Any]]] = {
    "POST /api/v1/me/totp/confirm": _current_code,
    "POST /api/v1/me/totp/recovery-codes": _current_code,
    "DELETE /api/v1/me/totp": _current_code,
}


def openapi_routes(document: dict[str, Any]) -> set[str]:
    return {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}


def test_every_route_has_a_row(tmp_path: Path) -> None:
    """A route cannot be added (or removed) without deciding who may call it."""
    app = create_app(Settings(data_dir=tmp_path, secret_key="s" * 40))
    routes = openapi_routes(app.openapi())
    missing = sorted(routes - TABLE.keys())
    stale = sorted(TABLE.keys() - routes)
    assert not missing, (
        "these routes have no row in TABLE (tests/integration/test_permissions.py); add one "
        "with the outcome for each caller:\n" + "\n".join(f'    "{key}": "...",' for key in missing)
    )
    assert not stale, "TABLE has rows for routes that no longer exist: " + ", ".join(stale)
    for key, row in TABLE.items():
        assert len(row.split()) == len(CALLERS), f"{key}: one outcome per caller"
        assert set(row.split()) <= {"ok", "401", "403", "404"}, key
    assert REQUESTS.keys() <= TABLE.keys()


def test_every_role_on_every_route(world: World) -> None:
    """Each row's outcome for each caller, in one pass over a world of real objects; every
    route also succeeds (2xx) for at least one caller, so its request is a valid one."""
    objects = build_objects(world)
    TOTP_SECRETS.clear()
    failures: list[str] = []
    for route, row in TABLE.items():
        expected = dict(zip(CALLERS, row.split(), strict=True))
        public = expected["anonymous"] == "ok"
        successes = 0
        # Refused callers first: the allowed ones may change what the route acts on.
        for caller in sorted(CALLERS, key=lambda who: expected[who] == "ok"):
            response = call(world, objects, route, caller)
            AFTER.get(route, lambda *_: None)(world, caller, response)
            end_maintenance(world)
            problem = judge(expected[caller], response)
            if problem is None and caller.startswith("other") and not public:
                problem = leak(response)
            if problem:
                failures.append(f"{route} as {caller}: {problem}")
            successes += response.is_success
        if not successes and route not in SESSION_ONLY:
            failures.append(f"{route}: no caller succeeded (fix its request in REQUESTS)")
    assert not failures, "\n".join(failures)


def call(world: World, o: Objects, route: str, caller: str) -> Response:
    method, template = route.split(" ", 1)
    spec = dict(REQUESTS.get(route, lambda _: {})(o))
    if route in PER_CALLER:
        spec.update(PER_CALLER[route](world, caller))
    values = {
        "number": o.issued,
        "form_id": o.form_id,
        "period": o.period,
        "webhook_id": o.webhook_id,
        "delivery_id": o.delivery_id,
        "reconciliation_id": o.reconciliation_id,
        "tax_id": SELLER_ID,
        "token_id": o.token_id,
        "announcement_id": o.announcement_id,
        "attachment_id": o.attachment_id,
        "username": "seller_spare",  # a user of the seller whose token no caller uses
        **spec.pop("path", {}),
    }
    headers = {} if caller == "anonymous" else world.as_(caller)
    return world.client.request(
        method, template.format(**values), headers={**headers, "Accept-Language": "en"}, **spec
    )


def judge(expected: str, response: Response) -> str | None:
    """What is wrong with the response for this expected outcome, or None."""
    status = response.status_code
    code = response.json().get("code") if _is_problem(response) else None
    if status >= 500:
        return f"server error {status}: {response.text[:200]}"
    if expected == "ok":
        if status in (401, 403, 404):
            return f"expected to be allowed, got {status} {code}"
        return None
    if status != int(expected):
        return f"expected {expected}, got {status} {code or response.text[:120]}"
    if expected == "403" and code not in ("ROLE_NOT_ALLOWED", "TAXPAYER_REQUIRED"):
        return f"403 with code {code}"
    if expected == "404" and not (code or "").endswith("_NOT_FOUND"):
        return f"404 with code {code}"
    if expected == "401" and code != "NOT_AUTHENTICATED":
        return f"401 with code {code}"
    return leak(response)


def leak(response: Response) -> str | None:
    if SELLER_NAME in response.text or json.dumps(SELLER_NAME)[1:-1] in response.text:
        return "the seller's data is in the answer"
    return None


def _is_problem(response: Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/problem+json")


def end_maintenance(world: World) -> None:
    """An officer's maintenance window would refuse every later write with 503."""
    platform = world.platform
    if platform.maintenance.current() is not None:
        with platform.database.transaction() as session:
            maintenance.end(session, platform.clock.now())
        platform.maintenance.forget()
