"""The web pages, one module per area. A new area adds its router to ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.web.routes import dashboard, help, invoice_page, invoices, password, session, trace

ROUTERS: list[APIRouter] = [session.router, password.router, dashboard.router]
ROUTERS += [invoices.router, invoice_page.router, trace.router, help.router]
