"""The navigation: one list of entries, each shown to the roles that have its capability.

A page adds its own entry with `register(NavItem(...))` at import time (its routes module);
until a page exists its entry still shows and leads to a 404."""

from __future__ import annotations

from dataclasses import dataclass

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.kit.errors import N_


@dataclass(frozen=True)
class NavItem:
    """`label` is an English msgid (marked with N_), translated when shown. `capability`
    None: shown to everyone, signed in or not; else only to signed-in roles that have it."""

    href: str
    label: str
    capability: str | None = None
    order: int = 100


NAV: list[NavItem] = [
    NavItem("/ui/dashboard", N_("Dashboard"), permissions.ACCOUNT, 10),
    NavItem("/ui/invoices", N_("Invoices"), permissions.READ, 20),
    NavItem("/ui/issue", N_("Issue"), permissions.ISSUE, 30),
    NavItem("/ui/red-letter", N_("Red-letter"), permissions.READ, 40),
    NavItem("/ui/certification", N_("Certification"), permissions.OWN_BOOKS, 50),
    NavItem("/verify", N_("Verify"), None, 60),
    NavItem("/ui/tickets", N_("Support"), permissions.SUPPORT, 70),
    NavItem("/ui/admin/users", N_("Users"), permissions.MANAGE_USERS, 80),
    NavItem("/ui/admin/taxpayers", N_("Taxpayers"), permissions.MANAGE_TAXPAYERS, 81),
    NavItem("/ui/maintenance", N_("Maintenance"), permissions.OPERATE, 82),
    NavItem("/ui/admin/audit", N_("Audit log"), permissions.AUDIT, 83),
    NavItem("/ui/announcements", N_("Announcements"), None, 85),
    NavItem("/ui/help", N_("Help"), None, 90),
]


def register(item: NavItem) -> None:
    """Add an entry, or replace the one with the same href."""
    NAV[:] = [existing for existing in NAV if existing.href != item.href]
    NAV.append(item)


def items_for(actor: Actor | None) -> list[NavItem]:
    """The entries this caller sees, in order."""
    shown = [
        item
        for item in NAV
        if item.capability is None
        or (actor is not None and permissions.may(actor.role, item.capability))
    ]
    return sorted(shown, key=lambda item: item.order)
