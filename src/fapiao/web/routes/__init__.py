"""The web pages, one module per area. A new area adds its router to ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.web.routes import dashboard, issue, password, session

ROUTERS: list[APIRouter] = [session.router, password.router, dashboard.router, issue.router]
