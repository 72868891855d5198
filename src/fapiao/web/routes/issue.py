"""Issue an invoice (issue 5 §1): the form, its live helpers (totals, tax-code search,
tax ID check) and the confirmation with the signed receipt. Issuing goes through the
API's own path: the body is the API's InvoiceIn, turned into the service's request by
invoices.api.to_request, under an idempotency key kept in the form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.invoices import recent, rules, service
from fapiao.invoices.api import to_request
from fapiao.invoices.buyer import BuyerInput, check_buyer
from fapiao.invoices.schemas import invoice_view
from fapiao.kit import taxcodes
from fapiao.kit.clock import local_date
from fapiao.kit.errors import N_, FapiaoError
from fapiao.kit.i18n import translate
from fapiao.kit.taxid import classify_tax_id
from fapiao.ledger import service as ledger
from fapiao.platform import Platform
from fapiao.web import nav
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors
from fapiao.web.issue_form import (
    IssueForm,
    blank_form,
    preview,
    read_issue_form,
    with_more_rows,
    without_row,
)
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
Issuer = Annotated[Actor, Depends(web_allow(permissions.ISSUE))]
nav.register(nav.NavItem("/ui/issue", N_("Issue"), permissions.ISSUE, 30))
RECENT_BUYERS = 20
RATE_LABELS = {
    "exempt": N_("Exempt (免税)"),
    "not_taxable": N_("Not taxable (不征税)"),
}


def _rates(actor: Actor, platform: Platform) -> list[tuple[str, str]]:
    """The rates the seller may use today, with what the rate column shows."""
    today = local_date(platform.clock.now())
    kind = actor.taxpayer_kind or "general"
    return [
        (rate, RATE_LABELS.get(rate, rules.RATE_DISPLAY[rate]))
        for rate in rules.allowed_rates(kind, today)
    ]


def _page(
    request: Request,
    platform: Platform,
    actor: Actor,
    form: IssueForm,
    buyers: list[dict[str, Any]],
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    figures = preview(form, actor.taxpayer_kind, local_date(platform.clock.now()))
    return render(
        request,
        "issue.html",
        form=form,
        values=form.values,
        errors=errors or FormErrors(),
        rates=_rates(actor, platform),
        buyers=buyers,
        figures=figures,
        status_code=status_code,
    )


def _buyers(platform: Platform, actor: Actor) -> list[dict[str, Any]]:
    return platform.database.read(
        lambda session: recent.recent_buyers(session, actor.taxpayer_id, "", RECENT_BUYERS)
    )


@router.get("/ui/issue")
async def issue_page(
    request: Request,
    platform: PlatformDep,
    actor: Issuer,
    buyer: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The empty form; `?buyer=TAX_ID` fills the buyer from a recent invoice (the picker
    without a script)."""
    buyers = await run_in_threadpool(_buyers, platform, actor)
    prefill: dict[str, str] = {}
    for known in buyers:
        if buyer and known["tax_id"] == buyer:
            prefill = {f"buyer_{name}": known[name] for name in known if name != "last_invoiced"}
    return _page(request, platform, actor, blank_form(prefill), buyers)


@router.post("/ui/issue")
async def issue_submit(request: Request, platform: PlatformDep, actor: Issuer) -> Response:
    form = await read_issue_form(request)
    submitted = await request.form()
    remove = submitted.get("remove")
    if submitted.get("more") is not None or isinstance(remove, str):
        # Row buttons of the form without a script: show it again, nothing issued.
        if (
            isinstance(remove, str)
            and remove.isascii()
            and remove.isdigit()
            and int(remove) < form.rows
        ):
            form = without_row(form, int(remove))
        else:
            form = with_more_rows(form)
        buyers = await run_in_threadpool(_buyers, platform, actor)
        return _page(request, platform, actor, form, buyers)
    try:
        body = form.invoice_in()
        issued = await service.issue_async(platform, actor, to_request(body, form.key), form.key)
    except FapiaoError as refused:
        errors = FormErrors.from_error(refused, request_locale(request), aliases=form.aliases())
        buyers = await run_in_threadpool(_buyers, platform, actor)
        return _page(request, platform, actor, form, buyers, errors, refused.status)
    number = issued.earlier.number if issued.earlier is not None else issued.record().number
    return see_other(f"/ui/issue/done/{number}")


@router.post("/ui/issue/preview")
async def issue_preview(request: Request, platform: PlatformDep, actor: Issuer) -> Response:
    """The live figures (a fragment for htmx): per line, the totals, the words."""
    form = await read_issue_form(request)
    figures = preview(form, actor.taxpayer_kind, local_date(platform.clock.now()))
    return render(request, "_issue_preview.html", form=form, figures=figures)


@router.get("/ui/issue/tax-codes")
async def tax_code_options(request: Request, actor: Issuer) -> Response:
    """Options of a datalist (a fragment for htmx): codes whose code, short name or
    description contains `q`. A line's own code box sends its value under its own name
    (lineN_tax_code), which is read as `q` too."""
    query = request.query_params.get("q")
    if query is None:
        query = next(
            (value for name, value in request.query_params.items() if name.endswith("_tax_code")),
            "",
        )
    query = query.strip()[:40]
    found = taxcodes.search(query, 15) if query else []
    return render(request, "_issue_taxcodes.html", codes=found)


@router.get("/ui/issue/check-tax-id")
async def check_tax_id(
    request: Request,
    platform: PlatformDep,
    actor: Issuer,
    buyer_tax_id: Annotated[str, Query(max_length=20)] = "",
    kind: Annotated[str, Query(max_length=20)] = "special",
    buyer_natural_person: Annotated[str, Query(max_length=5)] = "",
) -> Response:
    """The buyer rules' verdict on the tax ID typed so far (a fragment for htmx); the
    issuing service checks it again, this is only quicker."""
    message = ""
    valid = False
    if buyer_tax_id:
        today = local_date(platform.clock.now())
        buyer = BuyerInput(
            name="-", tax_id=buyer_tax_id, natural_person=buyer_natural_person in ("1", "on")
        )
        problems = [
            error
            for error in check_buyer(
                kind, buyer, actor.tax_id or "", lambda value: classify_tax_id(value, today=today)
            )
            if error.field == "buyer.tax_id"
        ]
        if problems:
            first = problems[0]
            message = translate(first.message, request_locale(request), **first.params)
        else:
            valid = True
    return render(request, "_issue_taxid.html", message=message, valid=valid)


NumberPath = Annotated[str, Path(pattern=r"^\d{20}$")]


@router.get("/ui/issue/done/{number}")
async def issue_done(
    request: Request, platform: PlatformDep, actor: Issuer, number: NumberPath
) -> Response:
    """The issued invoice and its signed receipt; another taxpayer's number is a 404."""

    def work(session: Session) -> tuple[dict[str, Any], dict[str, Any] | None]:
        invoice = service.get_visible(session, actor, number)
        return invoice_view(invoice), ledger.receipt_of(session, invoice.number)

    try:
        view, receipt = await run_in_threadpool(platform.database.read, work)
    except FapiaoError as refused:
        raise WebError(refused) from refused
    return render(request, "issue_done.html", invoice=view, receipt=receipt)
