"""The web pages, one module per area. A new area adds its router to ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.web.routes import (
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
]
