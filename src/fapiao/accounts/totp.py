"""TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps) and one-time recovery
codes. Pure functions: no database, no clock of their own."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after are accepted too: phone clocks drift.
DRIFT_STEPS = 1
ISSUER = "fapiao"
RECOVERY_CODE_COUNT = 10
# 16 base32 characters are 80 random bits: far beyond guessing, so a plain SHA-256 of a
# code is a safe thing to store.
_RECOVERY_GROUPS = 4
_RECOVERY_GROUP_LENGTH = 4
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# At least 112 bits (NIST SP 800-63B; 23 base32 characters): pyotp refuses shorter keys.
MIN_SECRET_BYTES = 14
MAX_SECRET_CHARS = 128


def new_secret() -> str:
    """A fresh random 160-bit secret in base32 (RFC 4226 recommends 160 bits)."""
    return pyotp.random_base32(32)


def normalise_secret(text: str) -> str | None:
    """The secret in canonical form (upper case, no spaces or padding), or None when it
    is not base32 of a usable length."""
    secret = "".join(text.split()).upper().rstrip("=")
    if len(secret) > MAX_SECRET_CHARS or any(char not in _BASE32 for char in secret):
        return None
    try:
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    except binascii.Error:
        return None
    return secret if len(key) >= MIN_SECRET_BYTES else None


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of one time step (what an authenticator app shows during it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def current_code(secret: str, now: datetime) -> str:
    return code_at(secret, step_at(now))


def looks_like_code(text: str) -> bool:
    return len(text) == DIGITS and text.isascii() and text.isdigit()


def matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to when it is valid now and newer than `last_step`
    (the step of the last accepted code, so a code works once); None otherwise."""
    if not looks_like_code(code):
        return None
    current = step_at(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare with every candidate, so the time taken does not say which one matched.
        if hmac.compare_digest(code_at(secret, step), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as an SVG document to place inline in a page."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4, xmldecl=False, nl=False)
    return buffer.getvalue().decode()


def qr_png_data_uri(uri: str) -> str:
    """The QR code of `uri` as a `data:image/png;base64,…` URI."""
    return str(segno.make(uri, error="m").png_data_uri(scale=4))


def new_recovery_codes() -> list[str]:
    """Ten codes such as `K7QF-2M4D-XW3A-9PLE`, each good for one sign-in."""
    alphabet = _BASE32
    return [
        "-".join(
            "".join(secrets.choice(alphabet) for _ in range(_RECOVERY_GROUP_LENGTH))
            for _ in range(_RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def recovery_code_hash(code: str) -> str | None:
    """What is stored for a recovery code (SHA-256 of its canonical form); None when the
    text cannot be a recovery code."""
    canonical = "".join(code.split()).replace("-", "").upper()
    if len(canonical) != _RECOVERY_GROUPS * _RECOVERY_GROUP_LENGTH:
        return None
    if any(char not in _BASE32 for char in canonical):
        return None
    return hashlib.sha256(canonical.encode()).hexdigest()
