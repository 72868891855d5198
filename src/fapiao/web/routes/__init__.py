"""The web pages, one module per area. A new area adds its router to ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.web.routes import (
    admin_audit,
    admin_taxpayers,
    admin_tokens,
    admin_users,
    admin_webhooks,
    dashboard,
    password,
    session,
    totp,
)

ROUTERS: list[APIRouter] = [session.router, password.router, dashboard.router]
ROUTERS += [r.router for r in (admin_users, admin_tokens, admin_webhooks, admin_taxpayers)]
ROUTERS += [admin_audit.router, totp.router]
