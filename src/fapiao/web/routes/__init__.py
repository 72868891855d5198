"""The web pages, one module per area. A new area adds its router to ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.web.routes import announcements, dashboard, maintenance, password, session, tickets

ROUTERS: list[APIRouter] = [session.router, password.router, dashboard.router]
ROUTERS += [tickets.router, announcements.router, maintenance.router]
