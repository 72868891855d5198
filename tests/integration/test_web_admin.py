"""The admin and officer pages through the real app: who may open which page, another
taxpayer's objects as 404 pages, users, API tokens, webhooks with redelivery, two-factor
enrolment (also straight from sign-in), credit limits and the audit log. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from test_web import CSRF, sign_in, web

from conftest import BUYER_ID, PASSWORD, SELLER_ID, World, invoice_body
from fapiao.accounts import lockout, twofactor
from fapiao.accounts import service as accounts
from fapiao.accounts.models import User
from fapiao.accounts.security_models import UserSecurity
from fapiao.taxpayers.models import Taxpayer
from fapiao.webhooks import service as webhooks
from fapiao.webhooks.models import Delivery

__all__ = ["web"]  # the fixture, shared with test_web
NEW_PASSWORD = "a-fresh-passphrase-77"
PAGES = {
    "/ui/admin/users": {"seller_admin"},
    "/ui/admin/tokens": {"seller_admin", "seller", "seller_viewer"},
    "/ui/admin/webhooks": {"seller_admin"},
    "/ui/totp": {"seller_admin", "seller", "seller_viewer", "officer"},
    "/ui/admin/taxpayers": {"officer"},
    f"/ui/admin/taxpayers/{SELLER_ID}": {"officer"},
    "/ui/admin/taxpayers/new": {"officer"},
    "/ui/admin/audit": {"officer"},
}


def post(web: World, path: str, token: str, **data: str) -> Any:
    return web.client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def as_user(web: World, username: str) -> str:
    web.client.cookies.clear()
    return sign_in(web, username)


@pytest.mark.parametrize("username", ["seller_admin", "seller", "seller_viewer", "officer"])
def test_each_page_opens_for_its_roles_and_is_a_403_page_for_others(
    web: World, username: str
) -> None:
    sign_in(web, username)
    for path, allowed in PAGES.items():
        page = web.client.get(path, follow_redirects=False)
        expected = 200 if username in allowed else 403
        assert page.status_code == expected, (path, page.text[:300])
        assert page.headers["content-type"].startswith("text/html")
    menu = web.client.get("/ui/totp").text
    assert ('href="/ui/admin/users"' in menu) == (username == "seller_admin")
    assert ('href="/ui/admin/audit"' in menu) == (username == "officer")
    assert "<details>" in menu  # the admin entries are folded into a sub-menu


def test_another_taxpayers_user_and_webhook_are_404_pages(web: World) -> None:
    with web.platform.database.transaction() as session:
        buyer = session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == BUYER_ID))
        assert buyer is not None
        hook = webhooks.subscribe(
            session,
            buyer,
            "https://erp.example.com/h",
            ["invoice.issued"],
            None,
            web.platform.clock.now(),
            allow_private=True,  # no name lookup in a test
        )
        hook_id = hook.id
    token = sign_in(web, "seller_admin")
    assert web.client.get("/ui/admin/users/buyer").status_code == 404
    refused = post(web, "/ui/admin/users/buyer/role", token, role="viewer")
    assert refused.status_code == 404
    assert web.client.get(f"/ui/admin/webhooks/{hook_id}").status_code == 404
    gone = post(web, f"/ui/admin/webhooks/{hook_id}/delete", token)
    assert gone.status_code == 404
    with web.platform.database.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == "buyer"))
        assert user is not None and user.role == "clerk"
    token = as_user(web, "officer")
    assert web.client.get("/ui/admin/taxpayers/NOSUCHTAXID").status_code == 404
    unlock = post(web, f"/ui/admin/taxpayers/{SELLER_ID}/users/buyer/unlock", token)
    assert unlock.status_code == 404


def test_an_admin_adds_a_user_changes_its_role_resets_and_disables_it(web: World) -> None:
    token = sign_in(web, "seller_admin")
    weak = web.client.post(
        "/ui/admin/users",
        data={"csrf_token": token, "username": "new_clerk", "role": "clerk", "password": "x"},
    )
    assert weak.status_code == 422 and 'id="f-password-error"' in weak.text
    taken = web.client.post(
        "/ui/admin/users",
        data={"csrf_token": token, "username": "seller", "role": "clerk", "password": NEW_PASSWORD},
    )
    assert taken.status_code == 409 and 'id="f-username-error"' in taken.text
    added = post(
        web, "/ui/admin/users", token, username="new_clerk", role="clerk", password=NEW_PASSWORD
    )
    assert added.headers["location"] == "/ui/admin/users/new_clerk?done=added"
    listing = web.client.get("/ui/admin/users").text
    assert "new_clerk" in listing and "seller_viewer" in listing and "buyer" not in listing
    assert post(web, "/ui/admin/users/new_clerk/role", token, role="viewer").status_code == 303
    reset = post(web, "/ui/admin/users/new_clerk/password", token, new_password=NEW_PASSWORD + "x")
    assert reset.status_code == 303
    assert post(web, "/ui/admin/users/new_clerk/active", token, active="false").status_code == 303
    assert post(web, "/ui/admin/users/new_clerk/unlock", token).status_code == 303
    last = post(web, "/ui/admin/users/seller_admin/role", token, role="clerk")
    assert last.status_code == 409
    with web.platform.database.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == "new_clerk"))
        assert user is not None
        assert (user.role, user.is_active, user.must_change_password) == ("viewer", False, True)
    page = web.client.get("/ui/admin/users/new_clerk").text
    assert "Enable the user" in page or "启用" in page


def test_a_token_is_shown_once_works_and_is_revoked(web: World) -> None:
    token = sign_in(web, "seller")
    refused = web.client.post(
        "/ui/admin/tokens", data={"csrf_token": token, "name": "ERP", "expires_in_days": "30"}
    )
    assert refused.status_code == 422 and 'id="f-scopes-error"' in refused.text
    created = web.client.post(
        "/ui/admin/tokens",
        data={
            "csrf_token": token,
            "name": "ERP",
            "scopes": ["read", "issue"],
            "expires_in_days": "30",
        },
    )
    assert created.status_code == 200
    secret = re.search(r"fpt_[A-Za-z0-9_.-]{20,}", created.text)
    assert secret is not None
    me = web.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(0)}"})
    assert me.status_code == 200 and me.json()["username"] == "seller"
    listing = web.client.get("/ui/admin/tokens").text
    assert "ERP" in listing and secret.group(0) not in listing
    public_id = re.search(r"/ui/admin/tokens/([0-9a-f]{12})/revoke", listing)
    assert public_id is not None
    revoked = post(web, f"/ui/admin/tokens/{public_id.group(1)}/revoke", token)
    assert revoked.status_code == 303
    after = web.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(0)}"})
    assert after.status_code == 401
    assert (
        f"/ui/admin/tokens/{public_id.group(1)}/revoke"
        not in web.client.get("/ui/admin/tokens").text
    )


def test_a_webhook_is_added_its_delivery_shown_and_sent_again(web: World) -> None:
    web.platform.settings.webhook_allow_private = True
    token = sign_in(web, "seller_admin")
    bad = web.client.post(
        "/ui/admin/webhooks",
        data={"csrf_token": token, "url": "ftp://x", "events": ["invoice.issued"]},
    )
    assert bad.status_code == 422 and 'id="f-url-error"' in bad.text
    added = web.client.post(
        "/ui/admin/webhooks",
        data={
            "csrf_token": token,
            "url": "https://erp.example.com/hook",
            "events": ["invoice.issued"],
        },
    )
    assert added.status_code == 200 and 'class="secret mono"' in added.text
    hook = re.search(r"/ui/admin/webhooks/(\d+)", added.text)
    assert hook is not None
    issued = web.client.post("/api/v1/invoices", json=invoice_body(), headers=web.as_("seller"))
    assert issued.status_code == 201
    with web.platform.database.transaction() as session:
        webhooks.fan_out(session, web.platform.clock.now())
        delivery = session.scalar(select(Delivery).where(Delivery.webhook_id == int(hook[1])))
        assert delivery is not None
        delivery.status, delivery.attempts, delivery.last_error = "dead", 8, "HTTP 500"
        delivery_id = delivery.id
    log = web.client.get(f"/ui/admin/webhooks/{hook[1]}").text
    assert "invoice.issued" in log and "HTTP 500" in log
    action = f"/ui/admin/webhooks/{hook[1]}/deliveries/{delivery_id}/redeliver"
    assert action in log
    again = post(web, action, token)
    assert again.headers["location"].endswith("?done=redelivered")
    with web.platform.database.transaction(write=False) as session:
        sent = session.get(Delivery, delivery_id)
        assert sent is not None and (sent.status, sent.attempts) == ("pending", 0)
    assert post(web, f"/ui/admin/webhooks/{hook[1]}/delete", token).status_code == 303


def _secret(text: str) -> str:
    found = re.search(r'class="mono secret-text">([A-Z2-7]+)<', text)
    assert found is not None
    return found.group(1)


def test_a_user_enrols_an_authenticator_app_and_turns_it_off(web: World) -> None:
    token = sign_in(web, "seller")
    started = post(web, "/ui/totp/start", token)
    secret = _secret(started.text)
    assert 'src="data:image/png;base64,' in started.text
    wrong = post(web, "/ui/totp/confirm", token, code="000000")
    assert wrong.status_code == 422 and 'id="f-code-error"' in wrong.text
    code = pyotp.TOTP(secret).at(web.platform.clock.now())
    confirmed = post(web, "/ui/totp/confirm", token, code=code)
    assert confirmed.status_code == 200
    assert len(re.findall(r"<li>[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}</li>", confirmed.text)) == 10
    with web.platform.database.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == "seller"))
        assert user is not None and twofactor.is_enrolled(session, user.id)
    refused = post(web, "/ui/totp/disable", token, password="wrong-password-9")
    assert refused.status_code == 403 and 'id="f-code-error"' in refused.text
    off = post(web, "/ui/totp/disable", token, password=PASSWORD)
    assert off.headers["location"] == "/ui/totp?done=off"


def test_a_role_that_needs_a_code_is_sent_from_sign_in_to_enrol(web: World) -> None:
    with web.platform.database.transaction() as session:
        accounts.create_user(
            session,
            username="fresh_admin",
            password=PASSWORD,
            role="admin",
            taxpayer_tax_id=SELLER_ID,
            now=web.platform.clock.now(),
        )
    first = web.client.post(
        "/ui/login",
        data={"username": "fresh_admin", "password": PASSWORD},
        follow_redirects=False,
    )
    assert (first.status_code, first.headers["location"]) == (303, "/ui/totp")
    assert web.client.get("/ui/dashboard", follow_redirects=False).status_code == 303
    page = web.client.get("/ui/totp")
    assert page.status_code == 200 and 'action="/ui/totp/start"' in page.text
    started = web.client.post("/ui/totp/start")
    secret = _secret(started.text)
    code = pyotp.TOTP(secret).at(web.platform.clock.now())
    done = web.client.post("/ui/totp/confirm", data={"code": code})
    assert done.status_code == 200 and 'href="/ui/login"' in done.text
    assert web.client.post("/ui/totp/start", follow_redirects=False).status_code == 303
    web.platform.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    code = pyotp.TOTP(secret).at(web.platform.clock.now())
    assert sign_in(web, "fresh_admin", totp=code)


def test_an_officer_changes_a_credit_limit_and_finds_it_in_the_audit_log(web: World) -> None:
    token = sign_in(web, "officer")
    page = web.client.get(f"/ui/admin/taxpayers/{SELLER_ID}")
    assert page.status_code == 200 and "1000000.00" in page.text and "seller_admin" in page.text
    values = {"name": "北京示例科技有限公司", "credit_limit": "12,3", "active": "true"}
    bad = web.client.post(f"/ui/admin/taxpayers/{SELLER_ID}", data={"csrf_token": token, **values})
    assert bad.status_code == 422 and 'id="f-credit_limit-error"' in bad.text
    values["credit_limit"] = "12345.67"
    saved = post(web, f"/ui/admin/taxpayers/{SELLER_ID}", token, **values)
    assert saved.status_code == 303
    with web.platform.database.transaction(write=False) as session:
        taxpayer = session.scalar(select(Taxpayer).where(Taxpayer.tax_id == SELLER_ID))
        assert taxpayer is not None and str(taxpayer.credit_limit) == "12345.67"
    found = web.client.get("/ui/admin/taxpayers", params={"q": "示例科技"}).text
    assert SELLER_ID in found and BUYER_ID not in found
    web.client.app.state.audit.flush()  # type: ignore[attr-defined]
    log = web.client.get(
        "/ui/admin/audit", params={"action": "taxpayer.update", "actor": "officer"}
    )
    assert log.status_code == 200 and SELLER_ID in log.text
    refused = web.client.get(
        "/ui/admin/audit", params={"action": "taxpayer.update", "result": "refused"}
    )
    assert "VALIDATION_FAILED" in refused.text  # the refused edit is in the log too
    wrong = web.client.get("/ui/admin/audit", params={"from": "yesterday"})
    assert wrong.status_code == 422 and 'id="f-from-error"' in wrong.text
    export = web.client.get("/ui/admin/audit/export", params={"action": "taxpayer.update"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert SELLER_ID in export.text and "taxpayer.update" in export.text


def test_an_officer_registers_a_taxpayer_and_adds_its_admin(web: World) -> None:
    token = sign_in(web, "officer")
    taken = web.client.post(
        "/ui/admin/taxpayers",
        data={"csrf_token": token, "tax_id": SELLER_ID, "name": "x", "kind": "general"},
    )
    assert taken.status_code in (409, 422) and "f-tax_id-error" in taken.text
    new_id = "911100001000000020"  # a valid code the world does not use
    made = post(
        web,
        "/ui/admin/taxpayers",
        token,
        tax_id=new_id,
        name="北京新注册有限公司",
        kind="general",
        credit_limit="5000",
    )
    assert made.headers["location"] == f"/ui/admin/taxpayers/{new_id}?done=added"
    admin = post(
        web,
        f"/ui/admin/taxpayers/{new_id}/admins",
        token,
        admin_username="new_admin",
        admin_password=NEW_PASSWORD,
    )
    assert admin.status_code == 303
    page = web.client.get(f"/ui/admin/taxpayers/{new_id}").text
    assert "new_admin" in page and "5000.00" in page
    reset = post(
        web,
        f"/ui/admin/taxpayers/{new_id}/users/new_admin/password",
        token,
        new_password=NEW_PASSWORD + "y",
    )
    assert reset.status_code == 303
    page = web.client.get(f"/ui/admin/taxpayers/{new_id}").text
    assert CSRF.search(page) is not None


def _lock(web: World, username: str) -> None:
    with web.platform.database.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        state = lockout.security_row(session, user.id)
        state.locked_until = web.platform.clock.now() + timedelta(hours=1)


def _locked(web: World, username: str) -> bool:
    with web.platform.database.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        state = session.get(UserSecurity, user.id)
        return lockout.is_locked(state, web.platform.clock.now())


def test_admins_and_officers_unlock_a_locked_user(web: World) -> None:
    _lock(web, "seller_viewer")
    token = sign_in(web, "seller_admin")
    listing = web.client.get("/ui/admin/users").text
    assert "Locked" in listing or "已锁定" in listing
    page = web.client.get("/ui/admin/users/seller_viewer").text
    assert 'action="/ui/admin/users/seller_viewer/unlock"' in page
    assert post(web, "/ui/admin/users/seller_viewer/unlock", token).status_code == 303
    assert not _locked(web, "seller_viewer")
    _lock(web, "seller")
    token = as_user(web, "officer")
    action = f"/ui/admin/taxpayers/{SELLER_ID}/users/seller/unlock"
    assert f'action="{action}"' in web.client.get(f"/ui/admin/taxpayers/{SELLER_ID}").text
    assert post(web, action, token).status_code == 303
    assert not _locked(web, "seller")
