"""TOTP two-factor sign-in: enrolment, codes used once, recovery codes, required roles."""

from __future__ import annotations

import base64
import struct
import xml.etree.ElementTree as ET
import zlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from conftest import PASSWORD, World
from fapiao.accounts import totp
from fapiao.accounts.security_models import RecoveryCode


def login(world: World, username: str, password: str = PASSWORD, **form: str) -> Any:
    return world.client.post(
        "/api/v1/auth/token", data={"username": username, "password": password, **form}
    )


def bearer(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def later(world: World, seconds: int = 30) -> None:
    world.platform.clock.advance(timedelta(seconds=seconds))  # type: ignore[attr-defined]


def code(world: World, secret: str) -> str:
    return totp.current_code(secret, world.platform.clock.now())


def enrol(world: World, headers: dict[str, str]) -> tuple[str, list[str]]:
    started = world.client.post("/api/v1/me/totp", headers=headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = world.client.post(
        "/api/v1/me/totp/confirm", json={"code": code(world, secret)}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    later(world)  # the confirming code is spent; sign in with the next one
    return secret, confirmed.json()["recovery_codes"]


def test_enrol_confirm_then_sign_in_needs_the_code(world: World) -> None:
    headers = world.as_("seller")
    started = world.client.post("/api/v1/me/totp", headers=headers).json()
    secret = started["secret"]
    assert started["uri"] == totp.provisioning_uri(secret, "seller")
    # Not active until confirmed.
    assert login(world, "seller").status_code == 200
    wrong = world.client.post("/api/v1/me/totp/confirm", json={"code": "000000"}, headers=headers)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "code"
    assert wrong.json()["errors"][0]["code"] == "TOTP_INVALID"
    confirmed = world.client.post(
        "/api/v1/me/totp/confirm", json={"code": code(world, secret)}, headers=headers
    )
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10
    with world.platform.database.transaction(write=False) as session:
        stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(stored) & set(recovery)  # only hashes are kept

    missing = login(world, "seller")
    assert missing.status_code == 401 and missing.json()["code"] == "TOTP_REQUIRED"
    # A wrong password never hears about the code.
    assert login(world, "seller", "wrong-password").json()["code"] == "INVALID_CREDENTIALS"
    wrong_code = login(world, "seller", totp="123456")
    assert wrong_code.status_code == 401 and wrong_code.json()["code"] == "TOTP_INVALID"
    # The code that confirmed enrolment is spent for this time step.
    assert login(world, "seller", totp=code(world, secret)).json()["code"] == "TOTP_INVALID"
    later(world)
    fresh = login(world, "seller", totp=code(world, secret))
    assert fresh.json()["scope"] == "full"
    assert world.client.get("/api/v1/me", headers=bearer(fresh)).json()["username"] == "seller"


def test_a_code_is_taken_once(world: World) -> None:
    secret, _ = enrol(world, world.as_("seller"))
    now_code = code(world, secret)
    assert login(world, "seller", totp=now_code).status_code == 200
    replay = login(world, "seller", totp=now_code)
    assert replay.status_code == 401 and replay.json()["code"] == "TOTP_INVALID"
    later(world)
    assert login(world, "seller", totp=code(world, secret)).status_code == 200


def test_wrong_codes_count_towards_the_lock(world: World) -> None:
    secret, _ = enrol(world, world.as_("seller"))
    for _ in range(5):
        assert login(world, "seller", totp="000000").json()["code"] == "TOTP_INVALID"
    locked = login(world, "seller", totp=code(world, secret))
    assert locked.status_code == 401 and locked.json()["code"] == "INVALID_CREDENTIALS"
    # A missing code is a step of every sign-in, not a failure: it never locks.
    world.platform.clock.advance(timedelta(minutes=15))  # type: ignore[attr-defined]
    for _ in range(6):
        assert login(world, "seller").json()["code"] == "TOTP_REQUIRED"
    assert login(world, "seller", totp=code(world, secret)).status_code == 200


def test_guessing_codes_for_new_recovery_codes_locks_the_account(world: World) -> None:
    """A signed-in thief cannot guess the code here to get recovery codes of their own."""
    secret, _ = enrol(world, world.as_("seller"))
    for _ in range(5):
        guess = world.client.post(
            "/api/v1/me/totp/recovery-codes", json={"code": "000000"}, headers=world.as_("seller")
        )
        assert guess.status_code == 422
        assert guess.json()["errors"][0]["code"] == "TOTP_INVALID"
    locked = login(world, "seller", totp=code(world, secret))
    assert locked.status_code == 401 and locked.json()["code"] == "INVALID_CREDENTIALS"


def test_a_recovery_code_works_once(world: World) -> None:
    _, recovery = enrol(world, world.as_("seller"))
    first = login(world, "seller", totp=recovery[0].lower())
    assert first.json()["scope"] == "full"
    again = login(world, "seller", totp=recovery[0])
    assert again.status_code == 401 and again.json()["code"] == "TOTP_INVALID"
    assert login(world, "seller", totp=recovery[1]).status_code == 200
    assert login(world, "seller", totp="AAAA-BBBB-CCCC-DDDD").json()["code"] == "TOTP_INVALID"


def test_regenerated_recovery_codes_replace_the_old_ones(world: World) -> None:
    headers = world.as_("seller")
    secret, old = enrol(world, headers)
    bad = world.client.post(
        "/api/v1/me/totp/recovery-codes", json={"code": "000000"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "TOTP_INVALID"
    new = world.client.post(
        "/api/v1/me/totp/recovery-codes", json={"code": code(world, secret)}, headers=headers
    ).json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert login(world, "seller", totp=old[0]).json()["code"] == "TOTP_INVALID"
    assert login(world, "seller", totp=new[0]).status_code == 200
    other = world.client.post(
        "/api/v1/me/totp/recovery-codes", json={"code": "123456"}, headers=world.as_("buyer")
    )
    assert other.status_code == 409 and other.json()["code"] == "TOTP_NOT_ENABLED"


def test_a_required_role_without_a_code_may_only_enrol(world: World) -> None:
    for username in ("seller_admin", "officer"):
        signed = login(world, username)
        assert signed.json()["scope"] == "totp_enrolment"
        limited = bearer(signed)
        for method, path in (
            ("GET", "/api/v1/me"),
            ("GET", "/api/v1/invoices"),
            ("POST", "/api/v1/users/seller/unlock"),
            ("DELETE", "/api/v1/me/totp"),
            ("POST", "/api/v1/me/totp/recovery-codes"),
        ):
            refused = world.client.request(method, path, headers=limited, json={"code": "1"})
            assert refused.status_code == 403, (method, path, refused.text)
            assert refused.json()["code"] == "TOTP_ENROLMENT_REQUIRED"
        secret, _ = enrol(world, limited)
        full = login(world, username, totp=code(world, secret))
        assert full.json()["scope"] == "full"
        me = world.client.get("/api/v1/me", headers=bearer(full))
        assert me.json()["username"] == username
        assert login(world, username).json()["code"] == "TOTP_REQUIRED"


def test_a_forged_enrolment_token_is_refused(world: World) -> None:
    token = login(world, "seller_admin").json()["access_token"]
    prefix, payload, signature = token.split(".")
    forged = f"{prefix}.{payload}.{signature[:-2]}AA"
    headers = {"Authorization": f"Bearer {forged}"}
    for method, path in (("POST", "/api/v1/me/totp"), ("GET", "/api/v1/me")):
        response = world.client.request(method, path, headers=headers)
        assert response.status_code == 401 and response.json()["code"] == "TOKEN_INVALID"
    # An enrolment token expires after 15 minutes.
    world.platform.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    expired = world.client.post("/api/v1/me/totp", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401 and expired.json()["code"] == "TOKEN_INVALID"


def test_removing_the_second_factor(world: World) -> None:
    admin_secret, _ = enrol(world, world.as_("seller_admin"))
    refused = world.client.request(
        "DELETE",
        "/api/v1/me/totp",
        json={"code": code(world, admin_secret)},
        headers=world.as_("seller_admin"),
    )
    assert refused.status_code == 409 and refused.json()["code"] == "TOTP_REQUIRED"
    assert login(world, "seller_admin").json()["code"] == "TOTP_REQUIRED"

    headers = world.as_("seller")
    secret, _ = enrol(world, headers)
    for body, status in (
        ({}, 422),
        ({"code": "123456", "password": PASSWORD}, 422),
        ({"password": "wrong-password"}, 403),
        ({"code": "000000"}, 403),
    ):
        response = world.client.request("DELETE", "/api/v1/me/totp", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
    assert login(world, "seller").json()["code"] == "TOTP_REQUIRED"
    removed = world.client.request(
        "DELETE", "/api/v1/me/totp", json={"code": code(world, secret)}, headers=headers
    )
    assert removed.status_code == 204
    assert login(world, "seller").json()["scope"] == "full"
    again = world.client.request(
        "DELETE", "/api/v1/me/totp", json={"password": PASSWORD}, headers=headers
    )
    assert again.status_code == 409 and again.json()["code"] == "TOTP_NOT_ENABLED"
    # Enrolling again works, now with the password to remove it.
    enrol(world, headers)
    by_password = world.client.request(
        "DELETE", "/api/v1/me/totp", json={"password": PASSWORD}, headers=headers
    )
    assert by_password.status_code == 204


def test_enrolling_twice_and_confirming_without_starting(world: World) -> None:
    headers = world.as_("seller")
    early = world.client.post("/api/v1/me/totp/confirm", json={"code": "123456"}, headers=headers)
    assert early.status_code == 409 and early.json()["code"] == "TOTP_NOT_STARTED"
    enrol(world, headers)
    again = world.client.post("/api/v1/me/totp", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "TOTP_ALREADY_ENABLED"


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


def test_the_qr_code_is_a_valid_png_and_svg(world: World) -> None:
    started = world.client.post("/api/v1/me/totp", headers=world.as_("seller")).json()
    prefix = "data:image/png;base64,"
    assert started["qr_png"].startswith(prefix)
    chunks = _png_chunks(base64.b64decode(started["qr_png"][len(prefix) :], validate=True))
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert width == height >= 100  # a square, big enough to scan
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) > height
    svg = ET.fromstring(started["qr_svg"])
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(svg.attrib["width"]) == int(svg.attrib["height"]) >= 100
    assert svg.find("{http://www.w3.org/2000/svg}path") is not None


def test_the_secret_is_stored_encrypted(world: World) -> None:
    secret, _ = enrol(world, world.as_("seller"))
    with world.platform.database.transaction(write=False) as session:
        stored = session.execute(text("SELECT totp_secret FROM user_security")).scalars().all()
    assert len(stored) == 1 and stored[0].startswith("e1:") and secret not in stored[0]
    # …and still opens for signing in.
    assert login(world, "seller", totp=code(world, secret)).status_code == 200
