"""The web foundation's pure helpers: form errors from domain errors, navigation by
role, local-only redirects, the credit meter and month bounds."""

from __future__ import annotations

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.kit.errors import N_, Conflict, FieldError, ValidationFailed
from fapiao.web import nav
from fapiao.web.auth import safe_next
from fapiao.web.forms import FormErrors


def actor(role: str) -> Actor:
    return Actor(user_id=1, username="u", role=role, taxpayer_id=None, tax_id=None)


def test_field_errors_go_to_their_fields_translated() -> None:
    error = ValidationFailed(
        [
            FieldError("buyer.tax_id", "X", N_("Unknown role {role}."), {"role": "boss"}),
            FieldError("buyer.tax_id", "Y", N_("Wrong username or password.")),
            FieldError("", "Z", N_("Wrong username or password.")),
        ]
    )
    found = FormErrors.from_error(error, "en", aliases={"buyer.tax_id": "tax_id"})
    assert found.get("tax_id") == "Unknown role boss."  # the first error of a field
    assert found.form == ["Wrong username or password."]
    assert FormErrors.from_error(error, "zh-CN").get("buyer.tax_id") == "未知角色 boss。"


def test_an_error_without_fields_goes_where_its_code_says_or_to_the_form() -> None:
    error = Conflict("NAME_TAKEN", N_("Wrong username or password."))
    assert FormErrors.from_error(error, "en", fields={"NAME_TAKEN": "name"}).get("name")
    whole = FormErrors.from_error(error, "en")
    assert whole.form == ["Wrong username or password."] and bool(whole)
    assert not FormErrors()


def test_navigation_follows_the_roles_capabilities_and_takes_new_pages() -> None:
    hrefs = {role: [item.href for item in nav.items_for(actor(role))] for role in ("viewer",)}
    assert "/ui/issue" not in hrefs["viewer"] and "/ui/invoices" in hrefs["viewer"]
    assert "/ui/admin/taxpayers" in [i.href for i in nav.items_for(actor("officer"))]
    anonymous = [item.href for item in nav.items_for(None)]
    assert anonymous == ["/verify", "/ui/announcements", "/ui/help"]
    before = list(nav.NAV)
    try:
        nav.register(nav.NavItem("/ui/help", N_("Help"), permissions.ACCOUNT, 5))
        nav.register(nav.NavItem("/ui/new", N_("Help"), permissions.AUDIT, 6))
        assert [i.href for i in nav.items_for(None)] == ["/verify", "/ui/announcements"]
        assert [i.href for i in nav.items_for(actor("auditor"))][:2] == ["/ui/help", "/ui/new"]
    finally:
        nav.NAV[:] = before


def test_next_is_a_local_path_only() -> None:
    for bad in (None, "", "x", "https://a.example/", "//a.example/", "/\\a.example", "/a\nb"):
        assert safe_next(bad) == "/ui/dashboard"
    assert safe_next("/ui/invoices?page=2#top") == "/ui/invoices?page=2#top"
