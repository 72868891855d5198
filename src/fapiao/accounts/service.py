"""Users, passwords and bearer tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fapiao.accounts import permissions
from fapiao.accounts.models import PLATFORM_ROLES, ROLES, TAXPAYER_ROLES, User
from fapiao.accounts.passwords import (
    PasswordPolicy,
    check_new_password,
    check_password,
    hash_password,
)
from fapiao.kit.errors import N_, Conflict, Unauthorized, invalid
from fapiao.kit.i18n import LOCALES
from fapiao.taxpayers.models import Taxpayer

# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = hash_password("fapiao-dummy-password")


@dataclass(frozen=True)
class Actor:
    """Who is making a request, as every service sees it."""

    user_id: int
    username: str
    role: str
    taxpayer_id: int | None
    tax_id: str | None
    locale: str | None = None
    taxpayer_kind: str | None = None
    # Tokens carrying an older version were issued before a password change or reset.
    token_version: int = 0

    @property
    def is_officer(self) -> bool:
        return self.role == "officer"

    def require_write(self) -> int:
        """The caller's taxpayer id when the caller may issue and act for it; else 403."""
        permissions.check(self.role, permissions.ISSUE)
        assert self.taxpayer_id is not None  # ISSUE is a taxpayer role's capability
        return self.taxpayer_id


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    taxpayer_tax_id: str | None,
    now: datetime,
    policy: PasswordPolicy | None = None,
) -> User:
    """A new user; taxpayer roles need a taxpayer, platform roles (officer, auditor)
    must not have one. The password must satisfy `policy` (the default policy when none
    is given)."""
    if not username or len(username) > 64:
        raise invalid("username", "USERNAME_INVALID", N_("A username has 1 to 64 characters."))
    check_new_password(
        password,
        policy or PasswordPolicy(),
        field="password",
        username=username,
        tax_id=taxpayer_tax_id,
    )
    if role not in ROLES:
        raise invalid("role", "ROLE_UNKNOWN", N_("Unknown role {role}."), role=role)
    taxpayer_id = None
    if role in TAXPAYER_ROLES:
        if not taxpayer_tax_id:
            raise invalid("taxpayer", "TAXPAYER_REQUIRED", N_("This role needs a taxpayer."))
        taxpayer = session.scalar(select(Taxpayer).where(Taxpayer.tax_id == taxpayer_tax_id))
        if taxpayer is None:
            raise invalid("taxpayer", "TAXPAYER_NOT_FOUND", N_("No taxpayer has this tax ID."))
        taxpayer_id = taxpayer.id
    elif role in PLATFORM_ROLES and taxpayer_tax_id:
        raise invalid(
            "taxpayer", "TAXPAYER_NOT_ALLOWED", N_("Officers and auditors belong to no taxpayer.")
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("USERNAME_TAKEN", N_("The username is taken."))
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        taxpayer_id=taxpayer_id,
        is_active=True,
        created_at=now,
        password_changed_at=now,
        must_change_password=False,
        token_version=0,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials; the error never says which part was wrong."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password(password, _DUMMY_HASH)
    elif user.is_active and check_password(password, user.password_hash):
        return user
    raise Unauthorized("INVALID_CREDENTIALS", N_("Wrong username or password."))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(user: User, secret: str, now: datetime, ttl: timedelta) -> str:
    """A signed bearer token naming the user, its token version and its expiry."""
    claims = {"uid": user.id, "exp": int((now + ttl).timestamp()), "ver": user.token_version}
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{_b64(signature)}"


def read_token(token: str, secret: str, now: datetime) -> int:
    """The user id of a valid, unexpired token; 401 otherwise."""
    return read_token_claims(token, secret, now)[0]


def read_token_claims(token: str, secret: str, now: datetime) -> tuple[int, int]:
    """(user id, token version) of a valid, unexpired token; 401 otherwise. The version
    must still be checked against the user's (`check_token_version`)."""
    # Our tokens are about 120 characters; anything much longer is refused unread, so
    # junk cannot fill the cache below.
    claims = _verified_claims(token, secret) if len(token) <= _MAX_TOKEN else None
    if claims is None or claims[1] < now.timestamp():
        raise Unauthorized(
            "TOKEN_INVALID", N_("Sign in again: the access token is invalid or expired.")
        )
    return claims[0], claims[2]


def check_token_version(actor: Actor, version: int) -> None:
    """401 when the token was issued before the user's last password change or reset."""
    if version != actor.token_version:
        raise Unauthorized(
            "TOKEN_INVALID", N_("Sign in again: the access token is invalid or expired.")
        )


_MAX_TOKEN = 512
_VERIFIED: dict[tuple[str, str], tuple[int, int, int]] = {}


def _verified_claims(token: str, secret: str) -> tuple[int, int, int] | None:
    """(user id, expiry, token version) of a token whose signature holds, else None.
    Verified tokens are remembered (a client sends the same one with every request, and
    checking it is pure); refused ones are not, so they cannot crowd the good ones out."""
    known = _VERIFIED.get((token, secret))
    if known is not None:
        return known
    claims = _check_token(token, secret)
    if claims is not None:
        if len(_VERIFIED) >= 4096:
            _VERIFIED.clear()  # rare: simply start again
        _VERIFIED[(token, secret)] = claims
    return claims


def _check_token(token: str, secret: str) -> tuple[int, int, int] | None:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "v1":
        return None
    expected = hmac.new(secret.encode(), parts[1].encode(), hashlib.sha256).digest()
    try:
        given = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, json.JSONDecodeError):
        return None
    if not hmac.compare_digest(expected, given) or not isinstance(claims, dict):
        return None
    try:
        # Tokens from before versions existed carry none: version 0, every user's first.
        return int(claims["uid"]), int(claims.get("exp", 0)), int(claims.get("ver", 0))
    except (KeyError, TypeError, ValueError):
        return None


def load_actor(session: Session, user_id: int) -> Actor:
    row = session.execute(
        select(
            User.id,
            User.username,
            User.role,
            User.taxpayer_id,
            User.is_active,
            User.locale,
            User.token_version,
            Taxpayer.tax_id,
            Taxpayer.kind,
            Taxpayer.is_active.label("taxpayer_active"),
        )
        .outerjoin(Taxpayer, Taxpayer.id == User.taxpayer_id)
        .where(User.id == user_id)
    ).one_or_none()
    if row is None or not row.is_active or row.taxpayer_active is False:
        raise Unauthorized(
            "TOKEN_INVALID", N_("Sign in again: the access token is invalid or expired.")
        )
    return Actor(
        user_id=row.id,
        username=row.username,
        role=row.role,
        taxpayer_id=row.taxpayer_id,
        tax_id=row.tax_id,
        locale=row.locale,
        taxpayer_kind=row.kind,
        token_version=row.token_version,
    )


def set_locale(session: Session, user_id: int, locale: str | None) -> None:
    """Save the user's language (zh-CN or en; None to follow the browser again). Callers
    drop the user from Platform.actors so the next request reads it."""
    if locale is not None and locale not in LOCALES:
        raise invalid("locale", "LOCALE_UNKNOWN", N_("Unknown language {locale}."), locale=locale)
    session.execute(update(User).where(User.id == user_id).values(locale=locale))
