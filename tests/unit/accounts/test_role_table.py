"""The role table itself: complete, and refusing with the documented codes."""

from __future__ import annotations

import pytest

from fapiao.accounts import permissions
from fapiao.accounts.models import PLATFORM_ROLES, ROLES, TAXPAYER_ROLES
from fapiao.kit.errors import Forbidden


def test_every_role_has_a_row_and_no_row_lacks_a_role() -> None:
    assert set(permissions.CAPABILITIES) == set(ROLES)
    assert "auditor" in PLATFORM_ROLES and "auditor" not in TAXPAYER_ROLES


def test_the_issue_text_in_the_table() -> None:
    assert permissions.roles_with(permissions.ISSUE) == ("admin", "clerk")
    assert permissions.roles_with(permissions.WEBHOOKS) == ("admin",)
    assert permissions.roles_with(permissions.OPERATE) == ("officer",)
    assert permissions.roles_with(permissions.AUDIT) == ("officer", "auditor")
    assert permissions.roles_with(permissions.READ) == ("admin", "clerk", "viewer", "officer")
    # Any user of a taxpayer may ask for help; officers answer; auditors only audit.
    assert permissions.roles_with(permissions.SUPPORT) == ("admin", "clerk", "viewer", "officer")
    # Every signed-in user may see who they are; the auditor may do nothing else but audit.
    assert permissions.roles_with(permissions.ACCOUNT) == ROLES
    assert permissions.CAPABILITIES["auditor"] == {permissions.ACCOUNT, permissions.AUDIT}


@pytest.mark.parametrize(
    ("role", "capability", "code"),
    [
        ("viewer", permissions.ISSUE, "ROLE_NOT_ALLOWED"),
        ("officer", permissions.ISSUE, "ROLE_NOT_ALLOWED"),
        ("officer", permissions.OWN_BOOKS, "TAXPAYER_REQUIRED"),
        ("auditor", permissions.READ, "ROLE_NOT_ALLOWED"),
        ("clerk", permissions.WEBHOOKS, "ROLE_NOT_ALLOWED"),
        ("auditor", permissions.SUPPORT, "ROLE_NOT_ALLOWED"),
        ("nobody", permissions.ACCOUNT, "ROLE_NOT_ALLOWED"),
    ],
)
def test_refusals_carry_a_stable_code(role: str, capability: str, code: str) -> None:
    with pytest.raises(Forbidden) as refused:
        permissions.check(role, capability)
    assert refused.value.code == code


def test_an_unknown_capability_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown capability"):
        permissions.may("admin", "fly")
