"""TOTP codes (RFC 6238 test vectors), their one-time use, secrets and recovery codes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from fapiao.accounts import totp

# RFC 6238 appendix B: the SHA-1 key is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_rfc_6238_vectors() -> None:
    # The RFC lists 8-digit codes; a 6-digit code is their last six digits.
    for seconds, eight_digits in (
        (59, "94287082"),
        (1111111109, "07081804"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
    ):
        assert totp.current_code(RFC_SECRET, at(seconds)) == eight_digits[-6:]


def test_a_code_is_good_in_its_step_and_one_step_either_side_once() -> None:
    now = at(1111111109)
    step = totp.step_at(now)
    code = totp.current_code(RFC_SECRET, now)
    assert totp.matching_step(RFC_SECRET, code, now, None) == step
    assert totp.matching_step(RFC_SECRET, code, now + timedelta(seconds=30), None) == step
    assert totp.matching_step(RFC_SECRET, code, now - timedelta(seconds=30), None) == step
    assert totp.matching_step(RFC_SECRET, code, now + timedelta(seconds=61), None) is None
    # Once a code of this step was accepted, neither it nor an older one is taken again.
    assert totp.matching_step(RFC_SECRET, code, now, step) is None
    older = totp.code_at(RFC_SECRET, step - 1)
    assert totp.matching_step(RFC_SECRET, older, now, step) is None
    newer = totp.code_at(RFC_SECRET, step + 1)
    assert totp.matching_step(RFC_SECRET, newer, now, step) == step + 1


def test_codes_must_be_six_digits() -> None:
    now = at(59)
    for bad in ("", "28708", "2870822", "abcdef", "２８７０８２", " 287082"):
        assert totp.matching_step(RFC_SECRET, bad, now, None) is None


def test_secrets_are_base32_of_a_usable_length() -> None:
    assert totp.normalise_secret("jbsw y3dp ehpk 3pxp jbsw y3d") == "JBSWY3DPEHPK3PXPJBSWY3D"
    assert totp.normalise_secret("JBSWY3DPEHPK3PXPJBSWY3DP=") == "JBSWY3DPEHPK3PXPJBSWY3DP"
    for bad in (
        "JBSWY3DPEHPK3PXPJBSWY3",  # 110 bits: too short
        "JBSWY3DPEHPK3PXPJBSWY3D1",  # 1 is not base32
        "JBSWY3DPEHPK3PXPJBSWY3DP!",
        "JBSWY3DPEHPK3PXPJBSWY3DPA",  # 25 characters cannot be base32
        "A" * 129,
        "",
    ):
        assert totp.normalise_secret(bad) is None
    fresh = totp.new_secret()
    assert len(fresh) == 32 and totp.normalise_secret(fresh) == fresh


def test_recovery_codes_are_random_and_hashed_in_canonical_form() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    code = codes[0]
    assert len(code) == 19 and code.count("-") == 3
    digest = totp.recovery_code_hash(code)
    assert digest is not None and len(digest) == 64
    assert totp.recovery_code_hash(code.lower().replace("-", " ")) == digest
    assert totp.recovery_code_hash(codes[1]) != digest
    assert totp.recovery_code_hash("123456") is None
    assert totp.recovery_code_hash("ABCD-EFGH-IJKL-MNO1") is None


def test_provisioning_uri_names_issuer_and_user() -> None:
    uri = totp.provisioning_uri(RFC_SECRET, "seller-admin")
    assert uri.startswith("otpauth://totp/fapiao:seller-admin?")
    assert f"secret={RFC_SECRET}" in uri and "issuer=fapiao" in uri
