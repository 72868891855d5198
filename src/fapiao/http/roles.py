"""Route-level role checks: a route declares the capability it needs by the type of its
`actor` parameter, and the check runs before the route reads its body or touches the
database. The table itself is fapiao.accounts.permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.http.deps import bearer, get_actor, platform_of


def allow(capability: str) -> Callable[[Request, str | None], Awaitable[Actor]]:
    """A dependency giving the signed-in caller if their role has the capability
    (401 when not signed in, 403 when the role lacks it)."""
    permissions.may("admin", capability)  # an unknown capability fails at import time

    # get_actor is called here rather than declared as a sub-dependency: each dependency
    # FastAPI solves costs it per request (the issuing route pays this on every invoice),
    # and the bearer scheme stays declared, so the API description is unchanged.
    async def allowed(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Actor:
        actor = await get_actor(request, platform_of(request), token)
        permissions.check(actor.role, capability)
        return actor

    allowed.__name__ = f"allow_{capability}"
    return allowed


Account = Annotated[Actor, Depends(allow(permissions.ACCOUNT))]
Reader = Annotated[Actor, Depends(allow(permissions.READ))]
OwnBooks = Annotated[Actor, Depends(allow(permissions.OWN_BOOKS))]
issuer = allow(permissions.ISSUE)  # also called directly by the issuing route
Issuer = Annotated[Actor, Depends(issuer)]
Reconciler = Annotated[Actor, Depends(allow(permissions.RECONCILE))]
WebhookAdmin = Annotated[Actor, Depends(allow(permissions.WEBHOOKS))]
UserAdmin = Annotated[Actor, Depends(allow(permissions.MANAGE_USERS))]
TokenAdmin = Annotated[Actor, Depends(allow(permissions.MANAGE_TOKENS))]
TaxpayerAdmin = Annotated[Actor, Depends(allow(permissions.MANAGE_TAXPAYERS))]
Operator = Annotated[Actor, Depends(allow(permissions.OPERATE))]
AuditReader = Annotated[Actor, Depends(allow(permissions.AUDIT))]
Supporter = Annotated[Actor, Depends(allow(permissions.SUPPORT))]
