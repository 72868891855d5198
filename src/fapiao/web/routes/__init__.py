"""The web pages, one module per area. A new area adds its router to ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.web.routes import certification, dashboard, password, redletter, session, verify

ROUTERS: list[APIRouter] = [session.router, password.router, dashboard.router]
ROUTERS += [redletter.router, certification.router, verify.router]
