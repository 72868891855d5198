"""The password policy as pure rules: each refusal has its own code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from argon2 import PasswordHasher

from fapiao.accounts import passwords
from fapiao.accounts.passwords import PasswordPolicy, problems
from fapiao.kit.errors import ValidationFailed
from fapiao.kit.i18n import translate

DEFAULT = PasswordPolicy()


def codes(password: str, policy: PasswordPolicy = DEFAULT, **names: str) -> list[str]:
    return [item.code for item in problems(password, policy, field="password", **names)]


def test_a_good_password_passes() -> None:
    assert codes("correct-horse-42", username="seller", tax_id="91110108551385082Q") == []


def test_length_limits_with_the_setting() -> None:
    assert codes("Xq7#pLm") == ["PASSWORD_TOO_SHORT"]
    assert codes("Xq7#pLmz") == []
    assert codes("Xq7#pLmz", PasswordPolicy(min_length=12)) == ["PASSWORD_TOO_SHORT"]
    assert codes("Xq7#pLmz-" * 15) == ["PASSWORD_TOO_LONG"]
    assert codes(("Xq7#pLmz-" * 15)[:128]) == []


def test_the_common_list_ships_with_the_package_and_is_large() -> None:
    shipped = resources.files("fapiao") / "accounts" / "data" / "common-passwords.txt"
    assert shipped.is_file()
    entries = passwords.common_passwords()
    assert len(entries) >= 10_000
    for known in ("password", "12345678", "qwerty123", "woaini1314", "zhang123", "1qaz2wsx"):
        assert known in entries


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "PASSWORD",
        "Password1",
        "QWERTY123",
        "WoAiNi1314",
        "Zhang123",
        "P@ssw0rd",
        "19880808",
        "1q2w3e4r",
        "admin@123",
        "11111111",
    ],
)
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    assert codes(password) == ["PASSWORD_TOO_COMMON"]


def test_username_and_tax_id_inside_the_password_are_refused() -> None:
    assert codes("my-Seller-pass", username="seller") == ["PASSWORD_CONTAINS_USERNAME"]
    # Very short names would refuse too much.
    assert codes("lively-horse-42", username="li") == []
    assert codes("x91110108551385082q!", tax_id="91110108551385082Q") == [
        "PASSWORD_CONTAINS_TAX_ID"
    ]


def test_composition_is_off_by_default_and_counts_classes() -> None:
    assert codes("horsebatterystaple") == []
    three = PasswordPolicy(require_classes=3)
    assert codes("horsebatterystaple", three) == ["PASSWORD_COMPOSITION"]
    assert codes("horse-battery-7", three) == []
    assert codes("Horse-battery-7", PasswordPolicy(require_classes=4)) == []
    assert passwords.character_classes("aB3-") == 4


def test_several_breaches_are_reported_together() -> None:
    policy = PasswordPolicy(min_length=20, require_classes=2)
    assert codes("sellerxyzw", policy, username="seller") == [
        "PASSWORD_TOO_SHORT",
        "PASSWORD_CONTAINS_USERNAME",
        "PASSWORD_COMPOSITION",
    ]
    with pytest.raises(ValidationFailed) as raised:
        passwords.check_new_password("sellerxyzw", policy, field="new_password", username="seller")
    assert {item.field for item in raised.value.errors} == {"new_password"}


def test_each_message_is_translated() -> None:
    found = problems(
        "seller",
        PasswordPolicy(min_length=10, require_classes=4),
        field="password",
        username="seller",
    )
    found += problems("password", DEFAULT, field="password")
    found += problems("x" * 129, DEFAULT, field="password")
    found += problems("a91110108551385082Q", DEFAULT, field="password", tax_id="91110108551385082Q")
    assert len({item.code for item in found}) == 6
    for item in found:
        english = translate(item.message, "en", **item.params)
        chinese = translate(item.message, "zh-CN", **item.params)
        assert english != chinese and "{" not in chinese
    short = next(item for item in found if item.code == "PASSWORD_TOO_SHORT")
    assert "10" in translate(short.message, "zh-CN", **short.params)


def test_rotation_counts_from_the_last_change() -> None:
    changed = datetime(2026, 1, 1, tzinfo=UTC)
    assert not DEFAULT.expired(changed, changed + timedelta(days=10_000))
    ninety = PasswordPolicy(max_age_days=90)
    assert not ninety.expired(changed, changed + timedelta(days=89, hours=23))
    assert ninety.expired(changed, changed + timedelta(days=90))


def test_hashes_are_argon2id_and_old_parameters_need_a_rehash() -> None:
    hashed = passwords.hash_password("correct-horse-42")
    assert hashed.startswith("$argon2id$")
    assert passwords.check_password("correct-horse-42", hashed)
    assert not passwords.check_password("correct-horse-43", hashed)
    assert not passwords.needs_rehash(hashed)
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash("correct-horse-42")
    assert passwords.needs_rehash(older)
    assert passwords.check_password("correct-horse-42", older)
