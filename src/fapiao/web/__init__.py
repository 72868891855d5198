"""The server-rendered web UI (Jinja2 + vendored htmx): pages under /ui, static files
under /static. `install(app)` adds it to the application.

To add a page: a router in web/routes/<area>.py (added to routes.ROUTERS), its
templates extending base.html, its nav entry with `nav.register`, and `render()` from
web/templating.py to answer. See docs/web.md."""

from __future__ import annotations

from typing import Any, cast

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from fapiao.kit.errors import N_, FapiaoError, NotFound
from fapiao.web.auth import SignInRequired, WebError, login_url, optional_web_actor
from fapiao.web.guards import refuse_writes_in_maintenance
from fapiao.web.routes import ROUTERS
from fapiao.web.templating import STATIC, render

# Static URLs carry the file's digest (templating.static_url), so they may be cached
# for a year: a changed file has a new URL.
STATIC_CACHE = "public, max-age=31536000, immutable"


class CachedStatic(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = STATIC_CACHE
        return response


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(login_url(exc.next_path), status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    return render(
        request,
        "error.html",
        status_code=exc.error.status,
        headers=exc.error.headers,
        error=exc.error,
    )


def _html_for_pages(api_handler: Any) -> Any:
    """Starlette's own errors (404 of an unknown path, 405) as an HTML page under /ui/,
    so a link to a page not built yet shows the site's layout, not problem JSON."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith("/ui/"):
            return cast(Response, await api_handler(request, exc))
        if request.method == "GET":  # no route ran the dependency: the menu needs the user
            await optional_web_actor(request, request.app.state.platform)
        error: FapiaoError = NotFound("NOT_FOUND", N_("This page does not exist."))
        if exc.status_code != 404:
            error = FapiaoError(
                "HTTP_ERROR", N_("This request cannot be answered."), status=exc.status_code
            )
        return render(request, "error.html", status_code=error.status, error=error)

    return handle


def install(app: FastAPI) -> None:
    app.mount("/static", CachedStatic(directory=str(STATIC)), name="static")
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(refuse_writes_in_maintenance)])
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(WebError, _refused)
    api_handler = app.exception_handlers[StarletteHTTPException]
    app.add_exception_handler(StarletteHTTPException, _html_for_pages(api_handler))
