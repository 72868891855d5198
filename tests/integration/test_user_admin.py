"""An admin manages the users of its own taxpayer, and only those."""

from __future__ import annotations

import pytest

from conftest import PASSWORD, World, make_user

GOOD = "plum-orchard-77"


def login(world: World, username: str, password: str):  # type: ignore[no-untyped-def]
    return world.client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


def test_admin_lists_only_its_taxpayers_users(world: World) -> None:
    response = world.client.get("/api/v1/users", headers=world.as_("seller_admin"))
    assert response.status_code == 200
    users = {user["username"]: user for user in response.json()}
    assert set(users) == {"seller", "seller_admin", "seller_viewer"}
    assert users["seller"]["role"] == "clerk" and users["seller"]["active"] is True
    assert "password_hash" not in users["seller"]


def test_admin_creates_a_user_who_can_sign_in(world: World) -> None:
    created = world.client.post(
        "/api/v1/users",
        json={"username": "seller_clerk2", "password": GOOD, "role": "clerk"},
        headers=world.as_("seller_admin"),
    )
    assert created.status_code == 201, created.text
    assert created.json()["tax_id"] == "91110108551385082Q"
    token = login(world, "seller_clerk2", GOOD).json()["access_token"]
    me = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"username": "seller_clerk2", "role": "clerk", "tax_id": "91110108551385082Q"}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (
            {"username": "n1", "password": "password1", "role": "clerk"},
            "password",
            "PASSWORD_TOO_COMMON",
        ),
        (
            {"username": "n1", "password": "n1-shrt", "role": "clerk"},
            "password",
            "PASSWORD_TOO_SHORT",
        ),
        ({"username": "n1", "password": GOOD, "role": "officer"}, "role", "ROLE_UNKNOWN"),
        ({"username": "n1", "password": GOOD, "role": "boss"}, "role", "ROLE_UNKNOWN"),
        (
            {"username": "nnn1", "password": "nnn1-is-me", "role": "clerk"},
            "password",
            "PASSWORD_CONTAINS_USERNAME",
        ),
    ],
)
def test_creation_applies_the_policy_and_the_roles(
    world: World, body: dict[str, str], field: str, code: str
) -> None:
    response = world.client.post("/api/v1/users", json=body, headers=world.as_("seller_admin"))
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert login(world, body["username"], body["password"]).status_code == 401


def test_a_taken_username_is_a_conflict(world: World) -> None:
    response = world.client.post(
        "/api/v1/users",
        json={"username": "buyer", "password": GOOD, "role": "viewer"},
        headers=world.as_("seller_admin"),
    )
    assert response.status_code == 409 and response.json()["code"] == "USERNAME_TAKEN"


def test_another_taxpayers_user_is_not_found(world: World) -> None:
    admin = world.as_("seller_admin")
    for response in (
        world.client.patch("/api/v1/users/buyer", json={"active": False}, headers=admin),
        world.client.post(
            "/api/v1/users/buyer/password", json={"new_password": GOOD}, headers=admin
        ),
        world.client.patch("/api/v1/users/officer", json={"role": "viewer"}, headers=admin),
        world.client.patch("/api/v1/users/nobody", json={"role": "viewer"}, headers=admin),
    ):
        assert response.status_code == 404 and response.json()["code"] == "USER_NOT_FOUND"
    assert login(world, "buyer", PASSWORD).status_code == 200
    assert world.client.get("/api/v1/me", headers=world.as_("officer")).status_code == 200


def test_other_roles_may_not_manage_users(world: World) -> None:
    for who in ("seller", "seller_viewer", "officer", "buyer"):
        headers = world.as_(who)
        for response in (
            world.client.get("/api/v1/users", headers=headers),
            world.client.post(
                "/api/v1/users",
                json={"username": "x1", "password": GOOD, "role": "clerk"},
                headers=headers,
            ),
            world.client.patch("/api/v1/users/seller", json={"active": False}, headers=headers),
            world.client.post(
                "/api/v1/users/seller/password", json={"new_password": GOOD}, headers=headers
            ),
        ):
            assert response.status_code == 403, (who, response.text)
            # Officers manage a taxpayer's admins under /taxpayers/{tax_id}/users.
            expected = "TAXPAYER_REQUIRED" if who == "officer" else "ROLE_NOT_ALLOWED"
            assert response.json()["code"] == expected
    assert world.client.get("/api/v1/users").status_code == 401


def test_role_change_and_deactivation_take_effect(world: World) -> None:
    admin = world.as_("seller_admin")
    demoted = world.client.patch("/api/v1/users/seller", json={"role": "viewer"}, headers=admin)
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    # This process forgets the cached user at once.
    assert world.client.get("/api/v1/me", headers=world.as_("seller")).json()["role"] == "viewer"
    refused = world.client.post("/api/v1/invoices", json={}, headers=world.as_("seller"))
    assert refused.status_code in (403, 422)
    off = world.client.patch("/api/v1/users/seller", json={"active": False}, headers=admin)
    assert off.json()["active"] is False
    assert world.client.get("/api/v1/me", headers=world.as_("seller")).status_code == 401
    assert login(world, "seller", PASSWORD).status_code == 401
    bad = world.client.patch("/api/v1/users/seller", json={"role": "officer"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "role"


def test_the_last_active_admin_stays(world: World) -> None:
    admin = world.as_("seller_admin")
    for body in ({"active": False}, {"role": "clerk"}):
        refused = world.client.patch("/api/v1/users/seller_admin", json=body, headers=admin)
        assert refused.status_code == 409 and refused.json()["code"] == "LAST_ADMIN"
    # A second admin makes it possible; the first can then step down.
    assert (
        world.client.patch(
            "/api/v1/users/seller", json={"role": "admin"}, headers=admin
        ).status_code
        == 200
    )
    stepped = world.client.patch(
        "/api/v1/users/seller_admin", json={"role": "clerk"}, headers=admin
    )
    assert stepped.status_code == 200
    # Now "seller" is the last one.
    second = world.as_("seller")
    refused = world.client.patch("/api/v1/users/seller", json={"active": False}, headers=second)
    assert refused.json()["code"] == "LAST_ADMIN"


def test_an_inactive_admin_does_not_count(world: World) -> None:
    headers = make_user(world.platform, "seller_admin2", "admin", "91110108551385082Q")
    admin = world.as_("seller_admin")
    assert (
        world.client.patch(
            "/api/v1/users/seller_admin2", json={"active": False}, headers=admin
        ).status_code
        == 200
    )
    refused = world.client.patch(
        "/api/v1/users/seller_admin", json={"active": False}, headers=admin
    )
    assert refused.json()["code"] == "LAST_ADMIN"
    assert world.client.get("/api/v1/users", headers=headers).status_code == 401
