"""The web pages through the real app: sign-in redirects, CSRF, language choice, the
dashboard's figures per taxpayer, HTML content type and static caching. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from conftest import PASSWORD, World, invoice_body
from fapiao.accounts import management, passwords, sessions
from fapiao.accounts.models import User
from fapiao.cli import twofactor
from fapiao.kit.clock import FixedClock
from fapiao.maintenance import service as maintenance
from fapiao.web.auth import safe_next

ADMIN_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
HTML = "text/html; charset=utf-8"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The world's client as a browser over plain http, with no bearer headers."""
    monkeypatch.setattr(world.platform.settings, "cookie_secure", False)
    with world.platform.database.transaction() as session:  # their roles need a code
        for name in ("seller_admin", "officer"):
            user = session.scalar(select(User).where(User.username == name))
            assert user is not None
            twofactor.enrol(session, user, ADMIN_TOTP, world.platform.clock.now())
    world.client.cookies.clear()
    yield world
    world.client.cookies.clear()


def sign_in(web: World, username: str = "seller", **extra: str) -> str:
    """Sign in through the login form; returns the page's CSRF token."""
    if username in ("seller_admin", "officer") and "totp" not in extra:
        # A code is good once per 30-second step: each sign-in takes the next step's.
        web.platform.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
        extra["totp"] = pyotp.TOTP(ADMIN_TOTP).at(web.platform.clock.now())
    response = web.client.post(
        "/ui/login",
        data={"username": username, "password": PASSWORD, **extra},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = web.client.get(response.headers["location"])
    assert page.status_code == 200
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def test_pages_are_html_and_signed_out_pages_redirect_to_sign_in(web: World) -> None:
    root = web.client.get("/", follow_redirects=False)
    assert (root.status_code, root.headers["location"]) == (303, "/ui/login")
    login = web.client.get("/ui/login")
    assert login.headers["content-type"] == HTML
    assert login.headers["cache-control"] == "no-store"
    assert '<html lang="zh-CN">' in login.text and "登录" in login.text
    page = web.client.get("/ui/dashboard?x=1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/login?next=/ui/dashboard%3Fx%3D1"


def test_sign_in_goes_to_a_local_next_page_only(web: World) -> None:
    response = web.client.post(
        "/ui/login",
        data={"username": "seller", "password": PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/ui/dashboard")
    assert sessions.COOKIE in response.cookies
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "evil", ""):
        assert safe_next(bad) == "/ui/dashboard"
    assert safe_next("/ui/invoices?page=2") == "/ui/invoices?page=2"


def test_wrong_password_is_shown_next_to_the_field_in_the_users_language(web: World) -> None:
    data = {"username": "seller", "password": "wrong-password-1"}
    zh = web.client.post("/ui/login", data=data)
    assert zh.status_code == 401 and zh.headers["content-type"] == HTML
    assert 'id="f-password-error"' in zh.text and "用户名或密码错误" in zh.text
    en = web.client.post("/ui/login", data=data, headers={"Accept-Language": "en"})
    assert "Wrong username or password." in en.text
    assert 'aria-describedby="f-password-error"' in en.text


def test_a_totp_user_signs_in_in_two_steps(web: World) -> None:
    first = web.client.post("/ui/login", data={"username": "seller_admin", "password": PASSWORD})
    assert first.status_code == 200 and 'name="totp"' in first.text
    assert sessions.COOKIE not in first.cookies
    wrong = web.client.post(
        "/ui/login", data={"username": "seller_admin", "password": PASSWORD, "totp": "000000"}
    )
    assert wrong.status_code == 401 and 'id="f-totp-error"' in wrong.text
    web.platform.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    code = pyotp.TOTP(ADMIN_TOTP).at(web.platform.clock.now())
    assert sign_in(web, "seller_admin", totp=code)


def test_dashboard_shows_this_months_figures_of_the_own_taxpayer(web: World) -> None:
    issued = web.client.post("/api/v1/invoices", json=invoice_body(), headers=web.as_("seller"))
    assert issued.status_code == 201, issued.text
    sign_in(web, "seller")
    page = web.client.get("/ui/dashboard")
    assert page.status_code == 200
    assert "北京示例科技有限公司" in page.text and "¥226.00" in page.text
    assert "1 张发票" in page.text or "1 invoices" in page.text
    web.client.cookies.clear()
    sign_in(web, "other")  # another taxpayer sees none of it
    other = web.client.get("/ui/dashboard").text
    assert "北京其他有限公司" in other and "¥226.00" not in other
    web.client.cookies.clear()
    sign_in(web, "officer")
    officer = web.client.get("/ui/dashboard").text
    assert "¥226.00" in officer and 'href="/ui/admin/taxpayers"' in officer


def test_writes_need_the_sessions_csrf_token(web: World) -> None:
    token = sign_in(web, "seller")
    refused = web.client.post("/ui/logout", follow_redirects=False)
    assert refused.status_code == 403 and refused.headers["content-type"] == HTML
    foreign = web.client.post(
        "/ui/logout",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert foreign.status_code == 403
    assert web.client.get("/ui/dashboard", follow_redirects=False).status_code == 200
    out = web.client.post("/ui/logout", data={"csrf_token": token}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/ui/login")
    assert web.client.get("/ui/dashboard", follow_redirects=False).status_code == 303


def test_language_choice_by_cookie_and_remembered_per_user(web: World) -> None:
    anonymous = web.client.post("/ui/lang", data={"lang": "en", "next": "/ui/login"})
    assert anonymous.status_code == 200 and '<html lang="en">' in anonymous.text
    assert web.client.cookies.get("fapiao_lang") == "en"
    token = sign_in(web, "seller")
    web.client.post("/ui/lang", data={"lang": "zh-CN", "csrf_token": token})
    web.client.cookies.clear()  # another browser, which asks for English
    sign_in(web, "seller")
    page = web.client.get("/ui/dashboard", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in page.text  # the user's saved choice wins
    with web.platform.database.transaction(write=False) as session:
        assert session.scalar(select(User.locale).where(User.username == "seller")) == "zh-CN"


def test_password_change_error_next_to_the_field_and_success_keeps_signed_in(
    web: World,
) -> None:
    token = sign_in(web, "seller")
    wrong = web.client.post(
        "/ui/password",
        data={
            "csrf_token": token,
            "current_password": "not-the-password",
            "new_password": "a-new-password-2026",
            "confirm_password": "a-new-password-2026",
        },
    )
    assert wrong.status_code == 422 and 'id="f-current_password-error"' in wrong.text
    mismatch = web.client.post(
        "/ui/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a-new-password-2026",
            "confirm_password": "another-password-2026",
        },
    )
    assert mismatch.status_code == 422 and 'id="f-confirm_password-error"' in mismatch.text
    done = web.client.post(
        "/ui/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a-new-password-2026",
            "confirm_password": "a-new-password-2026",
        },
    )
    assert done.status_code == 200 and 'role="status"' in done.text
    assert web.client.get("/ui/dashboard", follow_redirects=False).status_code == 200


def test_maintenance_window_is_shown_and_pauses_form_writes(web: World) -> None:
    clock = web.platform.clock
    assert isinstance(clock, FixedClock)
    with web.platform.database.transaction() as session:
        maintenance.start(
            session, clock.now(), clock.now() + timedelta(hours=1), "officer", "系统升级"
        )
    web.platform.maintenance.forget()
    page = web.client.get("/ui/login")
    assert 'class="banner banner-warning"' in page.text and "系统升级" in page.text
    token = sign_in(web, "seller")  # signing in stays open
    refused = web.client.post(
        "/ui/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": "x" * 20},
    )
    assert refused.status_code == 503 and refused.headers["content-type"] == HTML
    assert "Retry-After" in refused.headers and "维护" in refused.text


def test_static_files_are_served_with_a_long_cache(web: World) -> None:
    page = web.client.get("/ui/login").text
    css = re.search(r'href="(/static/app\.css\?v=\w+)"', page)
    script = re.search(r'src="(/static/vendor/htmx\.min\.js\?v=\w+)"', page)
    assert css is not None and script is not None
    for url in (css.group(1), script.group(1)):
        response = web.client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    policy = web.client.get("/ui/login").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy


def test_a_reset_password_is_changed_through_the_sign_in_page(web: World) -> None:
    with web.platform.database.transaction() as session:
        user = session.scalar(select(User).where(User.username == "seller"))
        assert user is not None
        management.store_password(
            session,
            user.id,
            passwords.hash_password("temporary-pass-2026"),
            web.platform.clock.now(),
            must_change=True,
            expected_hash=user.password_hash,
        )
    web.platform.actors.drop(user.id)
    login = web.client.post(
        "/ui/login", data={"username": "seller", "password": "temporary-pass-2026"}
    )
    assert login.status_code == 403 and 'action="/ui/password"' in login.text
    assert 'name="username" value="seller"' in login.text
    assert sessions.COOKIE not in login.cookies
    wrong = web.client.post(
        "/ui/password",
        data={
            "username": "seller",
            "current_password": "not-it",
            "new_password": "chosen-pass-2026",
            "confirm_password": "chosen-pass-2026",
        },
    )
    assert wrong.status_code == 401 and 'id="f-current_password-error"' in wrong.text
    done = web.client.post(
        "/ui/password",
        data={
            "username": "seller",
            "current_password": "temporary-pass-2026",
            "new_password": "chosen-pass-2026",
            "confirm_password": "chosen-pass-2026",
        },
    )
    assert done.status_code == 200 and 'role="status"' in done.text
    assert web.client.get("/ui/dashboard", follow_redirects=False).status_code == 200


def test_a_page_not_built_yet_is_an_html_404_and_the_api_keeps_problem_json(
    web: World,
) -> None:
    sign_in(web, "seller")
    page = web.client.get("/ui/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"] == HTML
    assert "页面不存在" in page.text and 'href="/ui/dashboard"' in page.text
    api = web.client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


def test_published_announcements_are_banners_in_the_pages_language(web: World) -> None:
    officer = web.as_("officer")
    created = web.client.post(
        "/api/v1/announcements",
        json={
            "kind": "notice",
            "title_zh": "开票新规",
            "title_en": "New issuing rules",
            "body_zh": "详见帮助。",
            "body_en": "See help.",
            "banner": True,
        },
        headers=officer,
    )
    assert created.status_code == 201, created.text
    published = web.client.post(
        f"/api/v1/announcements/{created.json()['id']}/publish", headers=officer
    )
    assert published.status_code == 200, published.text
    zh = web.client.get("/ui/login").text
    assert "开票新规" in zh and "banner-info" in zh
    en = web.client.get("/ui/login", headers={"Accept-Language": "en"}).text
    assert "New issuing rules" in en
