"""Public verification (查验) as a page, for anyone, signed in or not. It runs the API's
own POST /api/v1/verify handler, so the per-address rate limit, the five checks per
invoice per day and the five-year window are the same."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from fapiao.http import csrf
from fapiao.http.deps import PlatformDep
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.verification import api
from fapiao.web.auth import MaybeWebActor, WebError
from fapiao.web.forms import FormErrors, read_form
from fapiao.web.locale import request_locale
from fapiao.web.templating import render

router = APIRouter(include_in_schema=False)
FIELDS = {"number": 20, "issue_date": 10, "total_with_tax": 20}

RESULTS = {
    "match": N_("The invoice exists and its data match."),
    "mismatch": N_(
        "An invoice with this number exists, but the issue date or the total with tax does "
        "not match."
    ),
    "not_found": N_("No invoice with this number has been issued on the platform."),
    "limit_exceeded": N_(
        "{limit} checks per invoice per day used up, try tomorrow (Beijing time)."
    ),
    "out_of_window": N_(
        "Only invoices issued within the last {years} years, and not in the future, can be "
        "verified."
    ),
}
STATUSES = {
    "normal": N_("Normal"),
    "voided": N_("Voided"),
    "partially_reversed": N_("Partially reversed"),
    "fully_reversed": N_("Fully reversed"),
}
KINDS = {"special": N_("Special VAT invoice"), "ordinary": N_("Ordinary VAT invoice")}


def _page(
    request: Request,
    values: dict[str, str],
    errors: FormErrors,
    outcome: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "verify.html",
        status_code=status_code,
        headers=headers,
        values=values,
        errors=errors,
        outcome=outcome,
        statuses=STATUSES,
        kinds=KINDS,
    )


@router.get("/verify")
async def verify_page(request: Request, actor: MaybeWebActor) -> Response:
    values = {name: request.query_params.get(name, "")[:size] for name, size in FIELDS.items()}
    return _page(request, values, FormErrors())


@router.post("/verify")
async def verify_submit(request: Request, platform: PlatformDep, actor: MaybeWebActor) -> Response:
    values = await read_form(request, FIELDS)
    values = {name: value.strip() for name, value in values.items()}
    locale = request_locale(request)
    if actor is None:  # signed-in posts passed the session's CSRF check already
        try:
            csrf.check_origin(request)
        except FapiaoError as refused:
            raise WebError(refused) from refused
    messages = {
        "number": N_("An invoice number has 20 digits."),
        "issue_date": N_("Write the date as YYYY-MM-DD."),
        "total_with_tax": N_("Write the total with tax like 226.00."),
    }
    errors = FormErrors()
    try:  # the API's own request model: the same rules for every field
        body = api.VerifyIn.model_validate(values)
    except ValidationError as refused:
        for problem in refused.errors():
            name = str(problem["loc"][0]) if problem["loc"] else ""
            if name in messages:
                errors.add(name, translate(messages[name], locale))
        return _page(request, values, errors, status_code=422)
    try:
        answer = await run_in_threadpool(api.verify, body, platform, request, None)
    except FapiaoError as refused:  # too many requests from this address
        errors = FormErrors.from_error(refused, locale)
        return _page(request, values, errors, status_code=refused.status, headers=refused.headers)
    settings = platform.settings
    answer["text"] = translate(
        RESULTS[answer["result"]],
        locale,
        limit=settings.verify_daily_limit,
        years=settings.verify_window_years,
    )
    answer["limit"] = settings.verify_daily_limit
    if answer["invoice"] is not None:  # amounts shown like the rest of the site (1,060.00)
        for key in ("total_amount", "total_tax", "total_with_tax"):
            answer["invoice"][key] = Decimal(answer["invoice"][key])
    return _page(request, values, FormErrors(), outcome=answer)
