"""Browser sessions: the cookie's attributes, idle and absolute timeouts by the injected
clock, logout, a new id at every sign-in, and CSRF on every state-changing request the
cookie signs in. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from conftest import PASSWORD, World
from fapiao.accounts import sessions
from fapiao.accounts.models import User
from fapiao.accounts.tokenmodels import BrowserSession
from fapiao.cli import twofactor

ADMIN_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
HOOK = {"url": "http://127.0.0.1:9/hooks", "events": ["invoice.issued"]}
COOKIE = sessions.COOKIE


@pytest.fixture
def browser(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The world's client as a browser over plain http (the test server's scheme), so the
    cookie is sent back; no bearer headers."""
    monkeypatch.setattr(world.platform.settings, "cookie_secure", False)
    platform = world.platform
    with platform.database.transaction() as session:  # admins sign in with a one-time code
        admin = session.scalar(select(User).where(User.username == "seller_admin"))
        assert admin is not None
        twofactor.enrol(session, admin, ADMIN_TOTP, platform.clock.now())
    world.client.cookies.clear()
    yield world
    world.client.cookies.clear()


def sign_in(world: World, username: str = "seller_admin", **extra: str) -> dict[str, Any]:
    if username == "seller_admin" and "totp" not in extra:
        # A code is good once per 30-second step: each sign-in takes the next step's.
        world.platform.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
        extra["totp"] = pyotp.TOTP(ADMIN_TOTP).at(world.platform.clock.now())
    response = world.client.post(
        "/api/v1/auth/session",
        data={"username": username, "password": PASSWORD, **extra},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def plant(world: World, session_id: str) -> None:
    """Make the browser hold this session cookie (and no other)."""
    world.client.cookies.clear()
    world.client.cookies.set(COOKIE, session_id, domain="testserver.local")


def advance(world: World, **delta: float) -> None:
    world.platform.clock.advance(timedelta(**delta))  # type: ignore[attr-defined]


def test_the_cookie_is_secure_httponly_lax_and_site_wide(world: World) -> None:
    response = world.client.post(
        "/api/v1/auth/session", data={"username": "seller", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    parts = [part.strip().lower() for part in cookie.split(";")]
    assert parts[0].startswith(f"{COOKIE}=") and len(parts[0]) > len(COOKIE) + 40
    assert "secure" in parts and "httponly" in parts and "samesite=lax" in parts
    assert "path=/" in parts and f"max-age={12 * 3600}" in parts
    body = response.json()
    assert body["username"] == "seller" and body["role"] == "clerk" and body["csrf_token"]
    assert body["expires_at"].startswith("2026-11-10T14:00:00")  # 12 hours
    assert body["idle_expires_at"].startswith("2026-11-10T02:30:00")  # 30 minutes
    world.client.cookies.clear()


def test_only_a_digest_of_the_session_id_is_stored(browser: World) -> None:
    sign_in(browser)
    session_id = browser.client.cookies[COOKIE]
    with browser.platform.database.transaction(write=False) as session:
        stored = list(session.scalars(select(BrowserSession.id_hash)))
    assert len(stored) == 1 and session_id not in stored[0]


def test_wrong_password_sets_no_cookie(browser: World) -> None:
    response = browser.client.post(
        "/api/v1/auth/session", data={"username": "seller", "password": "wrong-password"}
    )
    assert response.status_code == 401 and response.json()["code"] == "INVALID_CREDENTIALS"
    assert "set-cookie" not in response.headers


def test_the_cookie_signs_in_reads_and_says_who(browser: World) -> None:
    signed = sign_in(browser, "seller", totp="123456")
    me = browser.client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["username"] == "seller"
    again = browser.client.get("/api/v1/auth/session").json()
    assert again["csrf_token"] == signed["csrf_token"] and again["username"] == "seller"
    browser.client.cookies.clear()
    assert browser.client.get("/api/v1/auth/session").status_code == 401
    anonymous = browser.client.get("/api/v1/me")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "NOT_AUTHENTICATED"


def test_idle_timeout(browser: World) -> None:
    sign_in(browser)
    advance(browser, minutes=29)
    assert browser.client.get("/api/v1/me").status_code == 200  # activity: idle starts again
    advance(browser, minutes=29)
    assert browser.client.get("/api/v1/me").status_code == 200
    advance(browser, minutes=30)
    ended = browser.client.get("/api/v1/me")
    assert ended.status_code == 401 and ended.json()["code"] == "SESSION_EXPIRED"


def test_activity_is_recorded_at_most_once_a_minute(browser: World) -> None:
    sign_in(browser)

    def last_seen() -> Any:
        with browser.platform.database.transaction(write=False) as session:
            return session.scalar(select(BrowserSession.last_seen_at))

    started = last_seen()
    for _ in range(5):
        advance(browser, seconds=10)
        assert browser.client.get("/api/v1/me").status_code == 200
    assert last_seen() == started
    advance(browser, seconds=10)
    assert browser.client.get("/api/v1/me").status_code == 200
    assert last_seen() == started + timedelta(minutes=1)


def test_absolute_lifetime(browser: World) -> None:
    sign_in(browser)
    for _ in range(35):  # active every 20 minutes for 11 hours 40 minutes
        advance(browser, minutes=20)
        assert browser.client.get("/api/v1/me").status_code == 200
    advance(browser, minutes=19)
    assert browser.client.get("/api/v1/me").status_code == 200
    advance(browser, minutes=1)  # 12 hours after sign-in, 1 minute after the last request
    ended = browser.client.get("/api/v1/me")
    assert ended.status_code == 401 and ended.json()["code"] == "SESSION_EXPIRED"


def test_logout_ends_the_session_and_clears_the_cookie(browser: World) -> None:
    signed = sign_in(browser)
    session_id = browser.client.cookies[COOKIE]
    refused = browser.client.post("/api/v1/auth/logout")
    assert refused.status_code == 403 and refused.json()["code"] == "CSRF_FAILED"
    out = browser.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed["csrf_token"]})
    assert out.status_code == 204
    cleared = out.headers["set-cookie"].lower()
    assert cleared.startswith(f'{COOKIE}=""') or "max-age=0" in cleared
    assert COOKIE not in browser.client.cookies
    # The old id no longer signs anything in, even when replayed.
    plant(browser, session_id)
    assert browser.client.get("/api/v1/me").status_code == 401


def test_logout_takes_the_csrf_token_as_a_form_field(browser: World) -> None:
    signed = sign_in(browser)
    out = browser.client.post("/api/v1/auth/logout", data={"csrf_token": signed["csrf_token"]})
    assert out.status_code == 204
    plant(browser, "never-a-session")
    assert browser.client.post("/api/v1/auth/logout").status_code == 204  # nothing to end


def test_sign_in_always_makes_a_new_session_id(browser: World) -> None:
    plant(browser, "planted-by-an-attacker")
    sign_in(browser)
    first = browser.client.cookies[COOKIE]
    assert first != "planted-by-an-attacker"
    first_csrf = browser.client.get("/api/v1/auth/session").json()["csrf_token"]
    second_csrf = sign_in(browser, "seller")["csrf_token"]
    second = browser.client.cookies[COOKIE]
    assert second != first and second_csrf != first_csrf
    assert browser.client.get("/api/v1/me").json()["username"] == "seller"
    # The session the browser had before signing in again was ended, not adopted.
    plant(browser, first)
    assert browser.client.get("/api/v1/me").status_code == 401


def test_writes_need_the_csrf_token(browser: World) -> None:
    signed = sign_in(browser)
    missing = browser.client.post("/api/v1/webhooks", json=HOOK)
    assert missing.status_code == 403 and missing.json()["code"] == "CSRF_FAILED"
    wrong = browser.client.post("/api/v1/webhooks", json=HOOK, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403 and wrong.json()["code"] == "CSRF_FAILED"
    right = browser.client.post(
        "/api/v1/webhooks", json=HOOK, headers={"X-CSRF-Token": signed["csrf_token"]}
    )
    assert right.status_code == 201, right.text
    hook_id = right.json()["id"]
    delete = browser.client.delete(f"/api/v1/webhooks/{hook_id}")
    assert delete.status_code == 403 and delete.json()["code"] == "CSRF_FAILED"
    listed = browser.client.get("/api/v1/webhooks").json()
    assert [hook["id"] for hook in listed] == [hook_id]  # nothing changed


def test_another_sessions_csrf_token_is_refused(browser: World) -> None:
    theirs = sign_in(browser, "seller")["csrf_token"]
    sign_in(browser)
    response = browser.client.post("/api/v1/webhooks", json=HOOK, headers={"X-CSRF-Token": theirs})
    assert response.status_code == 403 and response.json()["code"] == "CSRF_FAILED"


def test_a_foreign_origin_is_refused(browser: World) -> None:
    signed = sign_in(browser)
    token = {"X-CSRF-Token": signed["csrf_token"]}
    for header in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ):
        response = browser.client.post("/api/v1/webhooks", json=HOOK, headers={**token, **header})
        assert response.status_code == 403 and response.json()["code"] == "CSRF_FAILED", header
    same = browser.client.post(
        "/api/v1/webhooks", json=HOOK, headers={**token, "Origin": "http://testserver"}
    )
    assert same.status_code == 201, same.text
    foreign_login = browser.client.post(
        "/api/v1/auth/session",
        data={"username": "seller", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign_login.status_code == 403 and foreign_login.json()["code"] == "CSRF_FAILED"


def test_bearer_requests_are_not_subject_to_csrf(browser: World) -> None:
    sign_in(browser, "seller")
    # A bearer header wins over the cookie, and needs no CSRF token or matching Origin.
    response = browser.client.post(
        "/api/v1/webhooks",
        json=HOOK,
        headers={**browser.headers["seller_admin"], "Origin": "https://elsewhere.example"},
    )
    assert response.status_code == 201, response.text
    me = browser.client.get("/api/v1/me", headers=browser.headers["seller_admin"])
    assert me.json()["username"] == "seller_admin"


def test_signing_in_and_out_stay_open_during_maintenance(browser: World) -> None:
    on = browser.client.put(
        "/api/v1/maintenance",
        json={"until": "2026-11-10T12:00+08:00"},
        headers=browser.headers["officer"],
    )
    assert on.status_code == 200, on.text
    signed = sign_in(browser)
    assert browser.client.get("/api/v1/me").status_code == 200
    refused = browser.client.post(
        "/api/v1/webhooks", json=HOOK, headers={"X-CSRF-Token": signed["csrf_token"]}
    )
    assert refused.status_code == 503 and refused.json()["code"] == "MAINTENANCE"
    out = browser.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed["csrf_token"]})
    assert out.status_code == 204
    assert browser.client.get("/api/v1/me").status_code == 401
