"""The help centre: articles in the reader's language (fapiao.helpcentre), public. An
article opened with ?number= links its trace causes to the trace of that invoice."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from fapiao.helpcentre import service
from fapiao.kit.errors import N_, NotFound
from fapiao.web import nav
from fapiao.web.auth import MaybeWebActor, WebError
from fapiao.web.locale import request_locale
from fapiao.web.templating import render

router = APIRouter(include_in_schema=False)
nav.register(nav.NavItem("/ui/help", N_("Help"), None, 90))
NUMBER = re.compile(r"^\d{20}$")


@router.get("/ui/help")
async def help_index(request: Request, actor: MaybeWebActor) -> Response:
    return render(request, "help.html", articles=service.articles(request_locale(request)))


@router.get("/ui/help/{slug}")
async def help_article(request: Request, slug: str, actor: MaybeWebActor) -> Response:
    item = service.article(slug, request_locale(request))
    if item is None:
        raise WebError(NotFound("NOT_FOUND", N_("This page does not exist.")))
    number = request.query_params.get("number", "").strip()
    # Articles are our own text rendered without raw HTML (helpcentre.service._parser).
    body = Markup(service.render(item, number if NUMBER.match(number) else None))
    return render(request, "help_article.html", article=item, body=body)
