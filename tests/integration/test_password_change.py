"""Signing in against the password policy: change, forced change after a reset,
rotation, rehash on sign-in, and tokens that end with the password."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from conftest import PASSWORD, World, invoice_body
from fapiao.accounts import passwords
from fapiao.accounts.models import User
from fapiao.cli import twofactor
from fapiao.kit.clock import FixedClock

NEW = "plum-orchard-77"


def login(world: World, username: str, password: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    return world.client.post(
        "/api/v1/auth/token",
        data={"username": username, "password": password},
        headers={"Accept-Language": lang},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_changing_the_password_ends_older_tokens(world: World) -> None:
    before = login(world, "seller", PASSWORD).json()["access_token"]
    assert world.client.get("/api/v1/me", headers=bearer(before)).status_code == 200
    changed = world.client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=world.as_("seller"),
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()["access_token"]
    # Both the fixture's token and the one from the password grant are refused now,
    # although this process had the user cached.
    for old in (world.headers["seller"], bearer(before)):
        refused = world.client.get("/api/v1/me", headers=old)
        assert refused.status_code == 401 and refused.json()["code"] == "TOKEN_INVALID"
    assert world.client.get("/api/v1/me", headers=bearer(fresh)).json()["username"] == "seller"
    assert login(world, "seller", PASSWORD).status_code == 401
    assert login(world, "seller", NEW).status_code == 200
    with world.platform.database.transaction(write=False) as session:
        user = session.scalar(select(User).where(User.username == "seller"))
        assert user is not None
        assert user.password_changed_at == world.platform.clock.now()
        assert user.token_version == 1


def test_a_token_newer_than_the_cached_user_is_accepted(world: World) -> None:
    """Another process changed the password: this one still caches the old version."""
    world.client.get("/api/v1/me", headers=world.as_("seller"))  # cached at version 0
    stale = world.platform.actors.get(_user_id(world, "seller"))
    assert stale is not None and stale.token_version == 0
    changed = world.client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=world.as_("seller"),
    )
    world.platform.actors.put(stale.user_id, stale)  # as if the change happened elsewhere
    fresh = bearer(changed.json()["access_token"])
    assert world.client.get("/api/v1/me", headers=fresh).status_code == 200
    # ... and the lookup it caused refreshed the cache, so the old token is refused too.
    assert world.client.get("/api/v1/me", headers=world.as_("seller")).status_code == 401


def _user_id(world: World, username: str) -> int:
    with world.platform.database.transaction(write=False) as session:
        return int(session.scalar(select(User.id).where(User.username == username)) or 0)


@pytest.mark.parametrize(
    ("lang", "detail"), [("en", "The current password is wrong."), ("zh-CN", "当前密码不正确。")]
)
def test_a_wrong_current_password_names_the_field(world: World, lang: str, detail: str) -> None:
    response = world.client.post(
        "/api/v1/me/password",
        json={"current_password": "not-the-one-1", "new_password": NEW},
        headers=world.as_("seller", **{"Accept-Language": lang}),
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "current_password" and error["code"] == "CURRENT_PASSWORD_WRONG"
    assert error["message"] == detail
    assert world.client.get("/api/v1/me", headers=world.as_("seller")).status_code == 200


@pytest.mark.parametrize(
    ("new", "code", "zh"),
    [
        ("short7!", "PASSWORD_TOO_SHORT", "密码至少 8 个字符。"),
        ("Qwerty123", "PASSWORD_TOO_COMMON", "此密码属于最常用的密码，请另选一个。"),
        ("the-seller-99", "PASSWORD_CONTAINS_USERNAME", "密码不得包含用户名。"),
        ("x91110108551385082Q", "PASSWORD_CONTAINS_TAX_ID", "密码不得包含纳税人识别号。"),
        ("y" * 129, "PASSWORD_TOO_LONG", "密码最多 128 个字符。"),
        (PASSWORD, "PASSWORD_REUSED", "新密码不能与当前密码相同。"),
    ],
)
def test_the_new_password_must_satisfy_the_policy(
    world: World, new: str, code: str, zh: str
) -> None:
    body = {"current_password": PASSWORD, "new_password": new}
    chinese = world.client.post("/api/v1/me/password", json=body, headers=world.as_("seller"))
    english = world.client.post(
        "/api/v1/me/password", json=body, headers=world.as_("seller", **{"Accept-Language": "en"})
    )
    assert chinese.status_code == english.status_code == 422
    assert [(e["field"], e["code"]) for e in chinese.json()["errors"]] == [("new_password", code)]
    assert chinese.json()["errors"][0]["message"] == zh
    assert english.json()["errors"][0]["message"] != zh
    assert login(world, "seller", PASSWORD).status_code == 200


def test_change_without_a_token_needs_the_username(world: World) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW}
    missing = world.client.post("/api/v1/me/password", json=body)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "username"
    unknown = world.client.post("/api/v1/me/password", json={**body, "username": "ghost"})
    wrong = world.client.post(
        "/api/v1/me/password",
        json={**body, "username": "seller", "current_password": "not-the-one-1"},
    )
    # Without a token this is a sign-in: an unknown user is answered exactly like a
    # wrong password.
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    ok = world.client.post("/api/v1/me/password", json={**body, "username": "seller"})
    assert ok.status_code == 200
    assert login(world, "seller", NEW).status_code == 200


def test_a_reset_password_must_be_changed_before_signing_in(world: World) -> None:
    reset = world.client.post(
        "/api/v1/users/seller/password",
        json={"new_password": "temporary-pass-5"},
        headers=world.as_("seller_admin"),
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["must_change_password"] is True
    assert world.client.get("/api/v1/me", headers=world.as_("seller")).status_code == 401
    for lang, text in (("en", "Your password was reset"), ("zh-CN", "您的密码已被重置")):
        refused = login(world, "seller", "temporary-pass-5", lang)
        assert refused.status_code == 403
        assert refused.json()["code"] == "PASSWORD_CHANGE_REQUIRED"
        assert refused.json()["detail"].startswith(text)
    # The wrong password still gets the usual answer: the reset state is not revealed.
    assert login(world, "seller", "not-the-one-1").json()["code"] == "INVALID_CREDENTIALS"
    changed = world.client.post(
        "/api/v1/me/password",
        json={"username": "seller", "current_password": "temporary-pass-5", "new_password": NEW},
    )
    assert changed.status_code == 200, changed.text
    token = login(world, "seller", NEW).json()["access_token"]
    issued = world.client.post("/api/v1/invoices", json=invoice_body(), headers=bearer(token))
    assert issued.status_code == 201


def test_rotation_off_by_default_and_on_by_setting(world: World) -> None:
    clock = world.platform.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=3650))
    assert login(world, "seller", PASSWORD).status_code == 200
    world.platform.settings.password_max_age_days = 90
    # Created at START, ten years ago: expired now.
    for lang, text in (("en", "older than 90 days"), ("zh-CN", "已超过 90 天")):
        expired = login(world, "seller", PASSWORD, lang)
        assert expired.status_code == 403 and expired.json()["code"] == "PASSWORD_EXPIRED"
        assert text in expired.json()["detail"]
    changed = world.client.post(
        "/api/v1/me/password",
        json={"username": "seller", "current_password": PASSWORD, "new_password": NEW},
    )
    assert changed.status_code == 200
    clock.advance(timedelta(days=89))
    assert login(world, "seller", NEW).status_code == 200
    clock.advance(timedelta(days=1))
    assert login(world, "seller", NEW).json()["code"] == "PASSWORD_EXPIRED"


def test_composition_and_length_settings_apply_to_changes(world: World) -> None:
    world.platform.settings.password_require_classes = 3
    world.platform.settings.password_min_length = 16
    response = world.client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "plumorchardtree"},
        headers=world.as_("seller", **{"Accept-Language": "en"}),
    )
    assert [e["code"] for e in response.json()["errors"]] == [
        "PASSWORD_TOO_SHORT",
        "PASSWORD_COMPOSITION",
    ]
    assert "at least 3 of these kinds" in response.json()["errors"][1]["message"]
    ok = world.client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "Plum-orchard-tree"},
        headers=world.as_("seller"),
    )
    assert ok.status_code == 200


def test_a_hash_with_old_parameters_is_renewed_at_sign_in(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _hash_of(world, "seller")
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    )
    assert passwords.needs_rehash(old)
    assert login(world, "seller", PASSWORD).status_code == 200
    renewed = _hash_of(world, "seller")
    assert renewed != old and "m=16,t=2" in renewed
    assert not passwords.needs_rehash(renewed)
    # Same password; the tokens issued before stay valid.
    assert world.client.get("/api/v1/me", headers=world.as_("seller")).status_code == 200
    assert login(world, "seller", PASSWORD).status_code == 200
    assert _hash_of(world, "seller") == renewed


def _hash_of(world: World, username: str) -> str:
    with world.platform.database.transaction(write=False) as session:
        return str(session.scalar(select(User.password_hash).where(User.username == username)))


SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _enrol(world: World, username: str) -> None:
    with world.platform.database.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        twofactor.enrol(session, user, SECRET, world.platform.clock.now())


def test_a_change_without_a_token_asks_for_the_second_factor(world: World) -> None:
    """The route must not be a way round signing in: the one-time code is needed too."""
    _enrol(world, "seller_admin")
    body = {"username": "seller_admin", "current_password": PASSWORD, "new_password": NEW}
    without = world.client.post("/api/v1/me/password", json=body)
    assert without.status_code == 401 and without.json()["code"] == "TOTP_REQUIRED"
    code = pyotp.TOTP(SECRET).at(world.platform.clock.now())
    changed = world.client.post("/api/v1/me/password", json={**body, "totp": code})
    assert changed.status_code == 200, changed.text
    assert changed.json()["scope"] == "full"


def test_a_required_role_without_a_second_factor_gets_only_an_enrolment_token(
    world: World,
) -> None:
    body = {"username": "seller_admin", "current_password": PASSWORD, "new_password": NEW}
    changed = world.client.post("/api/v1/me/password", json=body)
    assert changed.status_code == 200, changed.text
    assert changed.json()["scope"] == "totp_enrolment"
    users = world.client.get("/api/v1/users", headers=bearer(changed.json()["access_token"]))
    assert users.status_code == 403 and users.json()["code"] == "TOTP_ENROLMENT_REQUIRED"


def test_wrong_current_passwords_count_towards_the_lock(world: World) -> None:
    """With a token or without, guessing the current password locks the account."""
    settings = world.platform.settings
    settings.rate_login_per_ip = settings.rate_login_per_account = "0"
    wrong = {"current_password": "not-the-one-1", "new_password": NEW}
    for _ in range(3):
        answer = world.client.post("/api/v1/me/password", json=wrong, headers=world.as_("seller"))
        assert answer.status_code == 422
    for _ in range(2):
        answer = world.client.post("/api/v1/me/password", json={**wrong, "username": "seller"})
        assert answer.status_code == 401
    # Five failures: locked, so even the right password no longer changes it.
    right = {"username": "seller", "current_password": PASSWORD, "new_password": NEW}
    locked = world.client.post("/api/v1/me/password", json=right)
    assert locked.status_code == 401 and locked.json()["code"] == "INVALID_CREDENTIALS"
    assert login(world, "seller", PASSWORD).json()["code"] == "INVALID_CREDENTIALS"


def test_a_reset_ends_the_users_browser_sessions(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world.platform.settings, "cookie_secure", False)
    world.client.cookies.clear()
    signed = world.client.post(
        "/api/v1/auth/session", data={"username": "seller", "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    assert world.client.get("/api/v1/auth/session").status_code == 200
    cookies = dict(world.client.cookies)
    world.client.cookies.clear()
    reset = world.client.post(
        "/api/v1/users/seller/password",
        json={"new_password": "temporary-pass-5"},
        headers=world.as_("seller_admin"),
    )
    assert reset.status_code == 200, reset.text
    world.client.cookies.update(cookies)
    assert world.client.get("/api/v1/auth/session").status_code == 401
    world.client.cookies.clear()
