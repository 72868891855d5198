"""API tokens for machines: created, listed, revoked and verified.

A token reads `fpt_<public id>_<secret>`. The public id (12 hex digits) names the token in
lists, logs and the CLI, so a leaked token can be found and revoked; the database keeps
only the SHA-256 digest of the whole token. A fast hash is right here: the secret is 256
random bits, so there is nothing to guess, and a slow password hash would cost every
request. Verified tokens are trusted in-process for `api_token_cache_seconds` (business
clock), which bounds how long a revocation takes to reach every process."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fapiao.accounts.models import TAXPAYER_ROLES, User
from fapiao.accounts.tokenmodels import ApiToken
from fapiao.kit.errors import N_, FieldError, Forbidden, NotFound, Unauthorized, invalid

PREFIX = "fpt_"
SCOPES = ("read", "issue", "admin")
# What a role may hand to a token: never more than the role itself may do.
ROLE_SCOPES = {
    "viewer": frozenset({"read"}),
    "clerk": frozenset({"read", "issue"}),
    "admin": frozenset({"read", "issue", "admin"}),
}
# "last used" is written at most this often per token, so a busy token costs no writes.
LAST_USED_EVERY = timedelta(minutes=1)
_SHAPE = re.compile(r"^fpt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Grant:
    """What a verified token allows: whose it is, its scopes and until when."""

    token_id: int
    public_id: str
    user_id: int
    taxpayer_id: int
    scopes: frozenset[str]
    expires_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return token.startswith(PREFIX)


def token_invalid() -> Unauthorized:
    return Unauthorized(
        "TOKEN_INVALID", N_("Sign in again: the access token is invalid or expired.")
    )


def parse_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The distinct known scopes given; 422 naming `scopes` for none or an unknown one."""
    chosen = frozenset(scope.strip() for scope in scopes if scope.strip())
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise invalid("scopes", "SCOPE_UNKNOWN", N_("Unknown scope {scope}."), scope=unknown[0])
    if not chosen:
        raise invalid("scopes", "SCOPES_REQUIRED", N_("Give at least one scope."))
    return chosen


def create_token(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: frozenset[str],
    days: int,
    max_days: int,
    now: datetime,
    within: frozenset[str] | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user` and its text, which is shown this once and never stored.
    The scopes must be ones the user's role allows (and, when a token creates a token,
    ones that token has: `within`)."""
    name = name.strip()
    if not name or len(name) > 64 or any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise invalid("name", "TOKEN_NAME_INVALID", N_("A token name has 1 to 64 characters."))
    if not 1 <= days <= max_days:
        raise invalid(
            "expires_in_days",
            "TOKEN_DAYS_RANGE",
            N_("A token lives 1 to {max} days."),
            max=max_days,
        )
    if user.role not in TAXPAYER_ROLES or user.taxpayer_id is None:
        raise Forbidden(
            "ROLE_NOT_ALLOWED",
            N_("Your role ({role}) may not do this."),
            params={"role": user.role},
        )
    allowed = ROLE_SCOPES[user.role] if within is None else ROLE_SCOPES[user.role] & within
    beyond = sorted(scopes - allowed)
    if beyond:
        raise Forbidden(
            "TOKEN_SCOPE_NOT_ALLOWED",
            N_("You may not give a token the scope {scope}."),
            params={"scope": beyond[0]},
            errors=[
                FieldError(
                    "scopes",
                    "TOKEN_SCOPE_NOT_ALLOWED",
                    N_("You may not give a token the scope {scope}."),
                    {"scope": beyond[0]},
                )
            ],
        )
    public_id = secrets.token_hex(6)
    text = f"{PREFIX}{public_id}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        public_id=public_id,
        secret_hash=digest(text),
        name=name,
        scopes=",".join(sorted(scopes)),
        user_id=user.id,
        taxpayer_id=user.taxpayer_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    return token, text


def token_not_found(public_id: str) -> NotFound:
    return NotFound(
        "TOKEN_NOT_FOUND", N_("No API token {id} is yours to see."), params={"id": public_id}
    )


def visible_tokens(session: Session, taxpayer_id: int, user_id: int | None) -> list[ApiToken]:
    """The taxpayer's tokens, newest first; only `user_id`'s when given."""
    query = select(ApiToken).where(ApiToken.taxpayer_id == taxpayer_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query.order_by(ApiToken.id.desc())))


def revoke_token(
    session: Session, public_id: str, taxpayer_id: int | None, user_id: int | None, now: datetime
) -> ApiToken:
    """Revoke a token of `taxpayer_id` (and of `user_id` when given; neither given: any
    token, for operators). Another taxpayer's token is not found. Revoking twice is fine."""
    query = select(ApiToken).where(ApiToken.public_id == public_id)
    if taxpayer_id is not None:
        query = query.where(ApiToken.taxpayer_id == taxpayer_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    token = session.scalar(query)
    if token is None:
        raise token_not_found(public_id)
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def status(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= now else "active"


def lookup(session: Session, text: str) -> Grant | None:
    """The grant of an unrevoked token whose text matches, else None (expiry is checked by
    the caller on every use, so a cached grant cannot outlive its token)."""
    shape = _SHAPE.match(text)
    if shape is None:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.public_id == shape.group(1)))
    if token is None or not hmac.compare_digest(token.secret_hash, digest(text)):
        return None
    if token.revoked_at is not None:
        return None
    return Grant(
        token_id=token.id,
        public_id=token.public_id,
        user_id=token.user_id,
        taxpayer_id=token.taxpayer_id,
        scopes=frozenset(token.scopes.split(",")),
        expires_at=token.expires_at,
    )


def note_use(session: Session, token_id: int, now: datetime) -> None:
    """Record that a token was used, unless that was recorded less than a minute ago
    (by any process: the condition is in the UPDATE)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .where(or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_EVERY))
        .values(last_used_at=now)
    )


class TokenCache:
    """Grants verified in this process, trusted for `ttl` of business time. Keyed by the
    token's digest, so the cache holds no usable secret."""

    def __init__(self, ttl: timedelta) -> None:
        self._ttl = ttl
        self._items: dict[str, tuple[datetime, Grant]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: datetime) -> Grant | None:
        item = self._items.get(key)
        if item is None:
            return None
        verified_at, grant = item
        # A clock set back (tests, the training sandbox) also means "verify again".
        if not verified_at <= now < verified_at + self._ttl:
            return None
        return grant

    def put(self, key: str, grant: Grant, now: datetime) -> None:
        with self._lock:
            if len(self._items) >= 10000:
                self._items.clear()  # rare: simply verify again
            self._items[key] = (now, grant)

    def forget(self, public_id: str) -> None:
        """Drop a token at once (this process revoked it)."""
        with self._lock:
            for key in [k for k, (_, g) in self._items.items() if g.public_id == public_id]:
                del self._items[key]
