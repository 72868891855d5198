"""Which role may do what: the one table of role rules.

Every API route names the capability it needs (see fapiao.http.roles); services that act
for a taxpayer check the same table again, so the CLI and jobs obey it too. A capability
says what kind of act a call is; which objects the caller then sees is a separate rule
(a taxpayer's users see their own taxpayer's objects, officers everyone's; anything else
is a 404 exactly as if it did not exist).
"""

from __future__ import annotations

from fapiao.kit.errors import N_, Forbidden

# Signed in at all: who am I, my own password and second factor.
ACCOUNT = "account"
# Read invoices, red-letter forms, traces and reconciliations that the caller may see:
# a taxpayer's own (as seller or buyer), or any taxpayer's for an officer.
READ = "read"
# Read the books of the caller's own taxpayer: lists, its credit, certification periods.
OWN_BOOKS = "own_books"
# Act for the caller's taxpayer: issue, void, red-letter forms, certify, confirm.
ISSUE = "issue"
# Reconcile a seller's own list, and trace its idempotency keys (officers name the seller).
RECONCILE = "reconcile"
# The caller's taxpayer's webhooks.
WEBHOOKS = "webhooks"
# The caller's taxpayer's users and API tokens.
MANAGE_USERS = "manage_users"
MANAGE_TOKENS = "manage_tokens"
# Register and manage taxpayers and their admins (tax bureau).
MANAGE_TAXPAYERS = "manage_taxpayers"
# Run the platform: maintenance windows (tax bureau).
OPERATE = "operate"
# Search and export the audit log.
AUDIT = "audit"
# Support tickets: a taxpayer's users open and answer their taxpayer's tickets (viewers
# too: asking for help changes no books); officers answer everyone's.
SUPPORT = "support"

CAPABILITIES: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            ACCOUNT,
            READ,
            OWN_BOOKS,
            ISSUE,
            RECONCILE,
            WEBHOOKS,
            MANAGE_USERS,
            MANAGE_TOKENS,
            SUPPORT,
        }
    ),
    "clerk": frozenset({ACCOUNT, READ, OWN_BOOKS, ISSUE, RECONCILE, SUPPORT}),
    "viewer": frozenset({ACCOUNT, READ, OWN_BOOKS, SUPPORT}),
    "officer": frozenset(
        {ACCOUNT, READ, RECONCILE, MANAGE_TAXPAYERS, MANAGE_USERS, OPERATE, AUDIT, SUPPORT}
    ),
    "auditor": frozenset({ACCOUNT, AUDIT}),
}

# A taxpayer's own books mean nothing to an officer, who is told how to look instead.
_TAXPAYER_ONLY = frozenset({OWN_BOOKS})


def may(role: str, capability: str) -> bool:
    """Whether the role has the capability (unknown roles have none)."""
    if capability not in _ALL:
        raise ValueError(f"unknown capability {capability!r}")
    return capability in CAPABILITIES.get(role, frozenset())


def check(role: str, capability: str) -> None:
    """Nothing if the role has the capability; otherwise a 403 naming the role."""
    if may(role, capability):
        return
    if role == "officer" and capability in _TAXPAYER_ONLY:
        raise Forbidden(
            "TAXPAYER_REQUIRED",
            N_("Only users of a taxpayer can do this; officers look up invoices by number."),
        )
    raise Forbidden(
        "ROLE_NOT_ALLOWED",
        N_("Your role ({role}) may not do this."),
        params={"role": role},
    )


def roles_with(capability: str) -> tuple[str, ...]:
    """The roles that have a capability, in the order of CAPABILITIES."""
    return tuple(role for role, held in CAPABILITIES.items() if capability in held)


_ALL = frozenset().union(*CAPABILITIES.values())
