"""The Jinja2 environment of the web pages and `render()`, the one way a page is answered.

There is one environment per language, each with its translations installed once
(`jinja2.ext.i18n`), so concurrent requests in different languages never share mutable
state. Templates call `_("Text with {name}", name=value)`: English msgids with named
placeholders, the same rule as Python code, extracted by scripts/i18n.py."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fapiao.kit.clock import CST
from fapiao.kit.i18n import LOCALES, translate
from fapiao.web import banners, nav
from fapiao.web.locale import request_locale

TEMPLATES = resources.files("fapiao.web") / "templates"
STATIC = resources.files("fapiao.web") / "static"
# Pages show personal and tax data: never kept by a browser's or proxy's cache.
NO_STORE = {"Cache-Control": "no-store"}


def _gettext(locale: str) -> Callable[..., str]:
    def gettext(message: str, **params: Any) -> str:
        return translate(message, locale, **params)

    return gettext


def _ngettext(locale: str) -> Callable[..., str]:
    def ngettext(singular: str, plural: str, count: int, **params: Any) -> str:
        return translate(singular if count == 1 else plural, locale, count=count, **params)

    return ngettext


@functools.cache
def static_version(name: str) -> str:
    """A short digest of a static file, put in its URL so a long cache never serves an
    old copy after an upgrade."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version(name)}"


def money(value: Decimal | str | None) -> str:
    """An amount as people read it on an invoice: thousands separated, two places (an
    API answer's decimal string too)."""
    return "" if value is None else f"{Decimal(value):,.2f}"


def localtime(value: datetime | str | None) -> str:
    """A time as people in China read it: Beijing time, to the minute."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M")


@functools.cache
def environment(locale: str) -> jinja2.Environment:
    """The environment for one language (zh-CN or en)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fapiao.web", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    # Our own callables: named {placeholders} filled by str.format, like kit.i18n.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext(locale), _ngettext(locale), newstyle=False
    )
    env.globals["static_url"] = static_url
    env.filters["money"] = money
    env.filters["localtime"] = localtime
    env.filters["when"] = localtime
    return env


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page `template` in the request's language, with what every page needs: the
    signed-in actor (when a web dependency found one), the CSRF token, the navigation,
    the banners and the current path."""
    locale = request_locale(request)
    actor = getattr(request.state, "web_actor", None)
    page: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh-CN" else "en",
        "actor": actor,
        "csrf_token": getattr(request.state, "web_csrf", ""),
        "nav": nav.grouped(nav.items_for(actor)),
        "banners": banners.banners(request),
        "path": request.url.path,
    }
    page.update(context)
    text = environment(locale).get_template(template).render(page)
    return HTMLResponse(
        text,
        status_code=status_code,
        media_type="text/html; charset=utf-8",
        headers={**NO_STORE, **(headers or {})},
    )


def see_other(path: str) -> RedirectResponse:
    """The answer to a successful form POST (or a page that lives elsewhere): 303 to a
    local path, so reloading the next page does not submit the form again."""
    return RedirectResponse(path, status_code=303)
