"""The password policy, and hashing with Argon2id.

The policy follows OWASP ASVS by default (length and a list of common passwords, no
composition rule, no forced rotation); an assessment under GB/T 22239 level 3 may ask for
character classes and a maximum age, so both are settings (README, "Password policy")."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fapiao.kit.errors import N_, FieldError, ValidationFailed
from fapiao.settings import Settings

MAX_LENGTH = 128
# Shorter names would refuse too much: "li" is inside many a good password.
_MIN_NAME_IN_PASSWORD = 3

# argon2-cffi's default type is Argon2id; its parameters are the library's current
# recommendation. When they change, hashes are renewed at the next sign-in (needs_rehash).
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password: str, hashed: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """Whether a hash was made with other parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(hashed)
    except InvalidHashError:
        return True


@dataclass(frozen=True)
class PasswordPolicy:
    """What a new password must satisfy, and how long one stays valid (0 days: forever)."""

    min_length: int = 8
    require_classes: int = 0
    max_age_days: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordPolicy:
        return cls(
            min_length=settings.password_min_length,
            require_classes=settings.password_require_classes,
            max_age_days=settings.password_max_age_days,
        )

    def expired(self, changed_at: datetime, now: datetime) -> bool:
        """Whether a password set at `changed_at` must be changed before signing in."""
        return self.max_age_days > 0 and now - changed_at >= timedelta(days=self.max_age_days)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-case."""
    path = resources.files("fapiao") / "accounts" / "data" / "common-passwords.txt"
    text = path.read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def character_classes(password: str) -> int:
    """How many of lower-case, upper-case, digits and other characters occur."""
    return (
        any(c.islower() for c in password)
        + any(c.isupper() for c in password)
        + any(c.isdigit() for c in password)
        + any(not c.isalnum() for c in password)
    )


def problems(
    password: str,
    policy: PasswordPolicy,
    *,
    field: str,
    username: str = "",
    tax_id: str | None = None,
) -> list[FieldError]:
    """Every rule of the policy that `password` breaks, each with its own code."""
    found: list[FieldError] = []
    if len(password) < policy.min_length:
        found.append(
            FieldError(
                field,
                "PASSWORD_TOO_SHORT",
                N_("A password has at least {min} characters."),
                {"min": policy.min_length},
            )
        )
    if len(password) > MAX_LENGTH:
        found.append(
            FieldError(
                field,
                "PASSWORD_TOO_LONG",
                N_("A password has at most {max} characters."),
                {"max": MAX_LENGTH},
            )
        )
    lowered = password.lower()
    if lowered in common_passwords():
        found.append(
            FieldError(
                field,
                "PASSWORD_TOO_COMMON",
                N_("This password is among the most common ones; choose another."),
            )
        )
    if len(username) >= _MIN_NAME_IN_PASSWORD and username.lower() in lowered:
        found.append(
            FieldError(
                field,
                "PASSWORD_CONTAINS_USERNAME",
                N_("A password must not contain the username."),
            )
        )
    if tax_id and tax_id.lower() in lowered:
        found.append(
            FieldError(
                field,
                "PASSWORD_CONTAINS_TAX_ID",
                N_("A password must not contain the taxpayer's tax ID."),
            )
        )
    if character_classes(password) < policy.require_classes:
        found.append(
            FieldError(
                field,
                "PASSWORD_COMPOSITION",
                N_(
                    "A password needs characters of at least {classes} of these kinds: "
                    "lower-case letters, upper-case letters, digits, other characters."
                ),
                {"classes": policy.require_classes},
            )
        )
    return found


def check_new_password(
    password: str,
    policy: PasswordPolicy,
    *,
    field: str,
    username: str = "",
    tax_id: str | None = None,
) -> None:
    """Raise 422 naming `field` with every rule the password breaks; else return."""
    found = problems(password, policy, field=field, username=username, tax_id=tax_id)
    if found:
        raise ValidationFailed(found)
