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
    None: shown to everyone, signed in or not; else only to signed-in roles that have it.
    `taxpayer_only`: not shown to officers and auditors (the page is a taxpayer's). `group`:
    the entry sits in a folded sub-menu of that name (ADMIN), keeping the bar short on a
    phone."""

    href: str
    label: str
    capability: str | None = None
    order: int = 100
    taxpayer_only: bool = False
    group: str | None = None


ADMIN = N_("Admin")


NAV: list[NavItem] = [
    NavItem("/ui/dashboard", N_("Dashboard"), permissions.ACCOUNT, 10),
    NavItem("/ui/invoices", N_("Invoices"), permissions.READ, 20),
    NavItem("/ui/issue", N_("Issue"), permissions.ISSUE, 30),
    NavItem("/ui/red-letter", N_("Red-letter"), permissions.READ, 40),
    NavItem("/ui/certification", N_("Certification"), permissions.OWN_BOOKS, 50),
    NavItem("/verify", N_("Verify"), None, 60),
    NavItem("/ui/tickets", N_("Support"), permissions.SUPPORT, 70),
    NavItem("/ui/announcements", N_("Announcements"), None, 75),
    NavItem("/ui/admin/users", N_("Users"), permissions.MANAGE_USERS, 80, True, ADMIN),
    NavItem("/ui/admin/tokens", N_("API tokens"), permissions.ACCOUNT, 81, True, ADMIN),
    NavItem("/ui/admin/webhooks", N_("Webhooks"), permissions.WEBHOOKS, 82, True, ADMIN),
    NavItem("/ui/admin/taxpayers", N_("Taxpayers"), permissions.MANAGE_TAXPAYERS, 83, group=ADMIN),
    NavItem("/ui/maintenance", N_("Maintenance"), permissions.OPERATE, 84, group=ADMIN),
    NavItem("/ui/admin/audit", N_("Audit log"), permissions.AUDIT, 85, group=ADMIN),
    NavItem("/ui/totp", N_("Two-factor"), permissions.ACCOUNT, 86, group=ADMIN),
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
        or (
            actor is not None
            and permissions.may(actor.role, item.capability)
            and not (item.taxpayer_only and actor.taxpayer_id is None)
        )
    ]
    return sorted(shown, key=lambda item: item.order)


def grouped(items: list[NavItem]) -> list[tuple[str | None, list[NavItem]]]:
    """The entries as the menu shows them: each ungrouped entry alone, each group's
    entries together where its first entry stands."""
    out: list[tuple[str | None, list[NavItem]]] = []
    groups: dict[str, list[NavItem]] = {}
    for item in items:
        if item.group is None:
            out.append((None, [item]))
        elif item.group in groups:
            groups[item.group].append(item)
        else:
            groups[item.group] = [item]
            out.append((item.group, groups[item.group]))
    return out
