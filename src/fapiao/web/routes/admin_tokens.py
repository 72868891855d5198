"""API tokens: the same functions as /api/v1/api-tokens. Users of a taxpayer make tokens
for themselves; admins see and revoke all of their taxpayer's, others only their own.
The token text is shown once, on the page that answers its creation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from fapiao.accounts import apitokens
from fapiao.accounts import tokens_api as api
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import FapiaoError
from fapiao.platform import Platform
from fapiao.web import admin
from fapiao.web.auth import WebActor, WebError
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]


def _tokens(platform: Platform, actor: Actor) -> list[dict[str, Any]]:
    try:
        answer = api.list_api_tokens(platform, actor)
    except FapiaoError as refused:
        raise WebError(refused) from refused
    rows: list[dict[str, Any]] = admin.body_of(answer)
    return rows


def _scopes_for(actor: Actor) -> list[str]:
    """The scopes this user's role may give a token, in the usual order."""
    allowed = apitokens.ROLE_SCOPES.get(actor.role, frozenset())
    return [scope for scope in apitokens.SCOPES if scope in allowed]


def _page(
    request: Request,
    actor: Actor,
    rows: list[dict[str, Any]],
    values: dict[str, Any],
    errors: FormErrors,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin_tokens.html",
        status_code=status_code,
        rows=rows,
        values=values,
        errors=errors,
        scopes=_scopes_for(actor),
        revoked=request.query_params.get("done") == "revoked",
    )


@router.get("/ui/admin/tokens")
async def tokens_page(request: Request, platform: PlatformDep, actor: WebActor) -> Response:
    rows = await run_in_threadpool(_tokens, platform, actor)
    values = {"name": "", "scopes": ["read"], "expires_in_days": "90"}
    return _page(request, actor, rows, values, FormErrors())


@router.post("/ui/admin/tokens")
async def create_token(request: Request, platform: PlatformDep, actor: WebActor) -> Response:
    values: dict[str, Any] = await read_form(request, {"name": 64, "expires_in_days": 8})
    form = await request.form()
    values["scopes"] = [str(scope)[:16] for scope in form.getlist("scopes")][:3]
    rows = await run_in_threadpool(_tokens, platform, actor)
    try:
        body = api.TokenIn(
            name=values["name"],
            scopes=values["scopes"],
            expires_in_days=values["expires_in_days"] or 90,
        )
        answer = await run_in_threadpool(api.create_api_token, body, request, platform, actor)
    except ValidationError as refused:
        admin.audit(request, actor, "POST", "/api/v1/api-tokens", error=refused)
        errors = admin.invalid_fields(refused, request)
        return _page(request, actor, rows, values, errors, 422)
    except FapiaoError as refused:
        admin.audit(request, actor, "POST", "/api/v1/api-tokens", error=refused)
        errors = FormErrors.from_error(refused, request_locale(request))
        return _page(request, actor, rows, values, errors, refused.status)
    created = admin.body_of(answer)
    admin.audit(request, actor, "POST", "/api/v1/api-tokens", created=created["id"])
    # The secret is in this answer only (no-store): a redirect would have to keep it.
    return render(request, "admin_token_created.html", token=created)


@router.post("/ui/admin/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, platform: PlatformDep, actor: WebActor, token_id: TokenId
) -> Response:
    template, params = "/api/v1/api-tokens/{token_id}", {"token_id": token_id}
    try:
        await run_in_threadpool(api.revoke_api_token, token_id, platform, actor)
    except FapiaoError as refused:
        admin.audit(request, actor, "DELETE", template, params, error=refused)
        raise WebError(refused) from refused
    admin.audit(request, actor, "DELETE", template, params)
    return see_other("/ui/admin/tokens?done=revoked")
