"""Tokens that allow nothing but enrolling a second factor.

A user whose role must sign in with TOTP (FAPIAO_TOTP_REQUIRED_ROLES) but who has not
enrolled yet gets one of these from the token endpoint instead of a full token. It opens
`POST /api/v1/me/totp` and `POST /api/v1/me/totp/confirm` only; every other route answers
403 TOTP_ENROLMENT_REQUIRED. The signature covers the prefix, so such a token can never
pass as a full one."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

from fapiao.accounts.service import _b64, _unb64
from fapiao.kit.errors import N_, Forbidden, Unauthorized

PREFIX = "e1."
TTL = timedelta(minutes=15)
_MAX_TOKEN = 512


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), (PREFIX + payload).encode(), hashlib.sha256).digest())


def issue_enrolment_token(user_id: int, secret: str, now: datetime) -> str:
    payload = _b64(json.dumps({"uid": user_id, "exp": int((now + TTL).timestamp())}).encode())
    return f"{PREFIX}{payload}.{_sign(secret, payload)}"


def read_enrolment_token(token: str, secret: str, now: datetime) -> int:
    """The user id of a valid, unexpired enrolment token; 401 otherwise."""
    parts = token.removeprefix(PREFIX).split(".")
    claims = None
    if token.startswith(PREFIX) and len(token) <= _MAX_TOKEN and len(parts) == 2:
        if hmac.compare_digest(_sign(secret, parts[0]).encode(), parts[1].encode()):
            try:
                claims = json.loads(_unb64(parts[0]))
            except ValueError:
                claims = None
    if not isinstance(claims, dict) or not isinstance(claims.get("uid"), int):
        raise Unauthorized(
            "TOKEN_INVALID", N_("Sign in again: the access token is invalid or expired.")
        )
    if not isinstance(claims.get("exp"), int) or claims["exp"] < now.timestamp():
        raise Unauthorized(
            "TOKEN_INVALID", N_("Sign in again: the access token is invalid or expired.")
        )
    return int(claims["uid"])


def refuse_enrolment_token(token: str, secret: str, now: datetime) -> None:
    """For every route but enrolment: 403 for a valid enrolment token, 401 for a bad one."""
    read_enrolment_token(token, secret, now)
    raise Forbidden(
        "TOTP_ENROLMENT_REQUIRED",
        N_(
            "Your role signs in with a one-time code: enrol an authenticator app first "
            "(POST /api/v1/me/totp), then sign in again with its code."
        ),
    )
