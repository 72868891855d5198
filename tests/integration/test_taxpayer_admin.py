"""Officers manage taxpayers and their admins; taxpayer users see only their own."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from conftest import BUYER_ID, PASSWORD, SELLER_ID, World, invoice_body

NEW_ID = "911100001000000020"  # a valid USCC not used by the world fixture
GOOD = "plum-orchard-77"


def login(world: World, username: str, password: str):  # type: ignore[no-untyped-def]
    return world.client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


def new_taxpayer(world: World, **extra: str):  # type: ignore[no-untyped-def]
    body = {
        "tax_id": NEW_ID,
        "name": "北京新注册有限公司",
        "kind": "general",
        "credit_limit": "300000.00",
        "address": "北京市朝阳区建国路1号",
        "phone": "010-87654321",
        "bank": "中国银行北京分行",
        "account": "1234567890",
        **extra,
    }
    return world.client.post("/api/v1/taxpayers", json=body, headers=world.as_("officer"))


def test_officer_registers_a_taxpayer_and_its_admin_who_then_works(world: World) -> None:
    created = new_taxpayer(world)
    assert created.status_code == 201, created.text
    assert created.json()["credit_limit"] == "300000.00" and created.json()["active"] is True
    admin = world.client.post(
        f"/api/v1/taxpayers/{NEW_ID}/users",
        json={"username": "new_admin", "password": GOOD},
        headers=world.as_("officer"),
    )
    assert admin.status_code == 201, admin.text
    assert admin.json()["role"] == "admin" and admin.json()["tax_id"] == NEW_ID
    # An admin must sign in with a one-time code: the first sign-in only opens enrolment.
    first = login(world, "new_admin", GOOD).json()
    assert first["scope"] == "totp_enrolment"
    enrolling = {"Authorization": f"Bearer {first['access_token']}"}
    secret = world.client.post("/api/v1/me/totp", headers=enrolling).json()["secret"]
    now = world.platform.clock.now()
    code = {"code": pyotp.TOTP(secret).at(now)}
    assert world.client.post("/api/v1/me/totp/confirm", json=code, headers=enrolling).is_success
    world.platform.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    signed = world.client.post(
        "/api/v1/auth/token",
        data={
            "username": "new_admin",
            "password": GOOD,
            "totp": pyotp.TOTP(secret).at(now + timedelta(seconds=30)),
        },
    ).json()
    headers = {"Authorization": f"Bearer {signed['access_token']}"}
    clerk = world.client.post(
        "/api/v1/users",
        json={"username": "new_clerk", "password": "apricot-hill-31", "role": "clerk"},
        headers=headers,
    )
    assert clerk.status_code == 201
    listed = world.client.get(f"/api/v1/taxpayers/{NEW_ID}/users", headers=world.as_("officer"))
    assert [user["username"] for user in listed.json()] == ["new_admin", "new_clerk"]
    own = world.client.get(f"/api/v1/taxpayers/{NEW_ID}", headers=headers)
    assert own.status_code == 200 and own.json()["name"] == "北京新注册有限公司"


def test_registration_reuses_the_taxpayer_rules(world: World) -> None:
    bad = new_taxpayer(world, tax_id="91110108551385082A")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "tax_id"
    assert new_taxpayer(world, kind="huge").json()["errors"][0]["code"] == "KIND_UNKNOWN"
    negative = new_taxpayer(world, credit_limit="-1.00")
    assert negative.json()["errors"][0]["code"] == "CREDIT_LIMIT_INVALID"
    assert new_taxpayer(world, phone="1" * 41).json()["errors"][0]["field"] == "phone"
    taken = new_taxpayer(world, tax_id=SELLER_ID)
    assert taken.status_code == 409 and taken.json()["code"] == "TAXPAYER_EXISTS"
    default = new_taxpayer(world, credit_limit=None)  # type: ignore[arg-type]
    assert default.json()["credit_limit"] == "10000000.00"


def test_search_and_paging(world: World) -> None:
    officer = world.as_("officer")
    everyone = world.client.get("/api/v1/taxpayers", headers=officer).json()
    assert everyone["total"] == 4 and everyone["next_offset"] is None
    page = world.client.get("/api/v1/taxpayers?limit=3", headers=officer).json()
    assert len(page["items"]) == 3 and page["next_offset"] == 3
    rest = world.client.get("/api/v1/taxpayers?limit=3&offset=3", headers=officer).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    ids = [item["tax_id"] for item in page["items"] + rest["items"]]
    assert ids == sorted(ids)
    by_name = world.client.get("/api/v1/taxpayers", params={"q": "样例"}, headers=officer)
    assert [item["tax_id"] for item in by_name.json()["items"]] == [BUYER_ID]
    by_id = world.client.get("/api/v1/taxpayers", params={"q": "92110108"}, headers=officer)
    assert by_id.json()["total"] == 1
    wild = world.client.get("/api/v1/taxpayers", params={"q": "%"}, headers=officer)
    assert wild.json()["total"] == 0


def test_officer_changes_a_taxpayer(world: World) -> None:
    officer = world.as_("officer")
    changed = world.client.patch(
        f"/api/v1/taxpayers/{SELLER_ID}",
        json={
            "credit_limit": "150.00",
            "phone": "010-11112222",
            "name": "北京示例科技股份有限公司",
        },
        headers=officer,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["credit_limit"], body["phone"]) == ("150.00", "010-11112222")
    assert body["bank"] == "工商银行"  # untouched
    # The new credit limit binds issuing (2 × 100 + 13% = 200 before tax).
    refused = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    )
    assert refused.status_code == 409
    bad = world.client.patch(f"/api/v1/taxpayers/{SELLER_ID}", json={"name": "  "}, headers=officer)
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "NAME_INVALID"
    missing = world.client.patch(f"/api/v1/taxpayers/{NEW_ID}", json={"name": "x"}, headers=officer)
    assert missing.status_code == 404


def test_a_suspended_taxpayer_cannot_sign_in_or_act(world: World) -> None:
    officer = world.as_("officer")
    off = world.client.patch(
        f"/api/v1/taxpayers/{SELLER_ID}", json={"active": False}, headers=officer
    )
    assert off.json()["active"] is False
    refused = login(world, "seller", PASSWORD)
    assert refused.status_code == 403 and refused.json()["code"] == "TAXPAYER_SUSPENDED"
    assert world.client.get("/api/v1/me", headers=world.as_("seller")).status_code == 401
    world.client.patch(f"/api/v1/taxpayers/{SELLER_ID}", json={"active": True}, headers=officer)
    assert login(world, "seller", PASSWORD).status_code == 200


def test_officer_resets_an_admins_password_only(world: World) -> None:
    officer = world.as_("officer")
    reset = world.client.post(
        f"/api/v1/taxpayers/{SELLER_ID}/users/seller_admin/password",
        json={"new_password": GOOD},
        headers=officer,
    )
    assert reset.status_code == 200 and reset.json()["must_change_password"] is True
    assert login(world, "seller_admin", GOOD).json()["code"] == "PASSWORD_CHANGE_REQUIRED"
    clerk = world.client.post(
        f"/api/v1/taxpayers/{SELLER_ID}/users/seller/password",
        json={"new_password": GOOD},
        headers=officer,
    )
    assert clerk.status_code == 403 and clerk.json()["code"] == "TARGET_NOT_ADMIN"
    elsewhere = world.client.post(
        f"/api/v1/taxpayers/{BUYER_ID}/users/seller_admin/password",
        json={"new_password": GOOD},
        headers=officer,
    )
    assert elsewhere.status_code == 404
    weak = world.client.post(
        f"/api/v1/taxpayers/{SELLER_ID}/users/seller_admin/password",
        json={"new_password": "Password123"},
        headers=officer,
    )
    assert weak.json()["errors"][0] == {
        "field": "new_password",
        "code": "PASSWORD_TOO_COMMON",
        "message": "此密码属于最常用的密码，请另选一个。",
    }


def test_taxpayer_users_may_not_use_officer_routes(world: World) -> None:
    for who in ("seller", "seller_admin", "seller_viewer", "buyer"):
        headers = world.as_(who)
        for response in (
            world.client.get("/api/v1/taxpayers", headers=headers),
            world.client.post(
                "/api/v1/taxpayers",
                json={"tax_id": NEW_ID, "name": "x", "credit_limit": "1.00"},
                headers=headers,
            ),
            world.client.patch(
                f"/api/v1/taxpayers/{SELLER_ID}", json={"credit_limit": "1.00"}, headers=headers
            ),
            world.client.get(f"/api/v1/taxpayers/{SELLER_ID}/users", headers=headers),
            world.client.post(
                f"/api/v1/taxpayers/{SELLER_ID}/users",
                json={"username": "sneaky", "password": GOOD},
                headers=headers,
            ),
            world.client.post(
                f"/api/v1/taxpayers/{SELLER_ID}/users/seller_admin/password",
                json={"new_password": GOOD},
                headers=headers,
            ),
        ):
            assert response.status_code == 403, (who, response.text)
            assert response.json()["code"] == "ROLE_NOT_ALLOWED"
    # A taxpayer's user reads its own taxpayer; another's is 404, like a missing one.
    assert (
        world.client.get(f"/api/v1/taxpayers/{SELLER_ID}", headers=world.as_("seller")).status_code
        == 200
    )
    other = world.client.get(f"/api/v1/taxpayers/{BUYER_ID}", headers=world.as_("seller"))
    assert other.status_code == 404 and other.json()["code"] == "TAXPAYER_NOT_FOUND"
    assert (
        world.client.get(f"/api/v1/taxpayers/{BUYER_ID}", headers=world.as_("officer")).status_code
        == 200
    )
    assert (
        world.client.get("/api/v1/taxpayers/me", headers=world.as_("seller")).json()["tax_id"]
        == SELLER_ID
    )


def test_officers_still_cannot_issue(world: World) -> None:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("officer")
    )
    assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_ALLOWED"
