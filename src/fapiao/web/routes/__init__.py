"""The web pages, one module per area. A new area adds its router to ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.web.routes import (
    admin_audit,
    admin_taxpayers,
    admin_tokens,
    admin_users,
    admin_webhooks,
    announcements,
    certification,
    dashboard,
    help,
    invoice_page,
    invoices,
    issue,
    maintenance,
    password,
    redletter,
    session,
    tickets,
    totp,
    trace,
    verify,
)

ROUTERS: list[APIRouter] = [
    session.router,
    password.router,
    dashboard.router,
    # /ui/invoices/export before /ui/invoices/{number}
    invoices.router,
    invoice_page.router,
    trace.router,
    help.router,
    redletter.router,
    certification.router,
    verify.router,
    issue.router,
    tickets.router,
    announcements.router,
    maintenance.router,
    admin_users.router,
    admin_tokens.router,
    admin_webhooks.router,
    admin_taxpayers.router,
    admin_audit.router,
    totp.router,
]
