"""The invoice list: the signed-in taxpayer's issued or received invoices with the API's
filters, sort orders and keyset paging (invoices.listing), and the same list as a CSV or
XLSX file (invoices.export). Officers keep no books: they get a lookup by number."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.invoices import export, listing
from fapiao.invoices.models import Invoice
from fapiao.kit.errors import N_, FapiaoError, FieldError, ValidationFailed
from fapiao.kit.i18n import translate
from fapiao.platform import Platform
from fapiao.web import nav, words
from fapiao.web.auth import WebError, web_allow
from fapiao.web.forms import FormErrors
from fapiao.web.locale import request_locale
from fapiao.web.templating import render, see_other

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(web_allow(permissions.READ))]
nav.register(nav.NavItem("/ui/invoices", N_("Invoices"), permissions.READ, 20))

PAGE_SIZE = 25
NUMBER = re.compile(r"^\d{20}$")
COUNTERPARTY = re.compile(r"^[0-9A-Z]{15,20}$")
CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
# The query fields of the filter form, as the API names them.
FIELDS = ("direction", "from", "to", "counterparty", "status", "kind", "sort")


def _date(values: dict[str, str], name: str, errors: list[FieldError]) -> date | None:
    if not values[name]:
        return None
    try:
        return date.fromisoformat(values[name])
    except ValueError:
        errors.append(FieldError(name, "DATE_INVALID", N_("Enter a date as YYYY-MM-DD.")))
        return None


def form_values(request: Request) -> dict[str, str]:
    """The filter form's values from the query, cleaned: unknown choices are the defaults."""
    query = request.query_params
    values = {name: query.get(name, "").strip()[:40] for name in FIELDS}
    values["counterparty"] = values["counterparty"].upper()
    if values["direction"] not in ("issued", "received"):
        values["direction"] = "issued"
    if values["sort"] not in listing.SORTS:
        values["sort"] = "-issue_date"
    if values["status"] not in words.STATUSES:
        values["status"] = ""
    if values["kind"] not in words.KINDS:
        values["kind"] = ""
    return values


def read_filters(request: Request, values: dict[str, str]) -> listing.ListFilter:
    """The list filter the form's values make; a wrong value is a ValidationFailed naming
    its field, like the API's 422."""
    query = request.query_params
    errors: list[FieldError] = []
    date_from, date_to = _date(values, "from", errors), _date(values, "to", errors)
    if values["counterparty"] and not COUNTERPARTY.match(values["counterparty"]):
        errors.append(
            FieldError(
                "counterparty",
                "TAX_ID_INVALID",
                N_("A tax ID has 15 to 20 digits and capital letters."),
            )
        )
    cursor = query.get("cursor") or None
    if cursor is not None and not CURSOR.match(cursor):
        cursor = None
    if errors:
        raise ValidationFailed(errors)
    return listing.make_filter(
        values["direction"],
        date_from,
        date_to,
        values["counterparty"] or None,
        values["status"] or None,
        values["kind"] or None,
        values["sort"],
        PAGE_SIZE,
        cursor,
    )


def _query(values: dict[str, str], **extra: str) -> str:
    return urlencode({**{k: v for k, v in values.items() if v}, **extra})


@router.get("/ui/invoices")
async def invoices_page(request: Request, platform: PlatformDep, actor: Reader) -> Response:
    locale = request_locale(request)
    if not permissions.may(actor.role, permissions.OWN_BOOKS):
        return _lookup(request, actor, locale)
    errors = FormErrors()
    items: list[Invoice] = []
    next_cursor = None
    values = form_values(request)
    status_code = 200
    try:
        filters = read_filters(request, values)
        items, next_cursor = await run_in_threadpool(_page, platform, actor, filters)
    except FapiaoError as refused:
        errors = FormErrors.from_error(refused, locale)
        status_code = refused.status
    here = _query(values)
    return render(
        request,
        "invoices.html",
        status_code=status_code,
        values=values,
        errors=errors,
        items=items,
        words=words,
        paged=bool(request.query_params.get("cursor")),
        first_page=f"/ui/invoices?{here}",
        next_page=f"/ui/invoices?{_query(values, cursor=next_cursor)}" if next_cursor else None,
        export_csv=f"/ui/invoices/export?{_query(values, format='csv')}",
        export_xlsx=f"/ui/invoices/export?{_query(values, format='xlsx')}",
        sort_links=_sort_links(values),
    )


def _sort_links(values: dict[str, str]) -> dict[str, str]:
    """Each column header's link: that column's order, the other way when already used."""
    links = {}
    for column in ("issue_date", "total_with_tax"):
        sort = column if values["sort"] == f"-{column}" else f"-{column}"
        links[column] = f"/ui/invoices?{_query(values | {'sort': sort})}"
    return links


def _page(
    platform: Platform, actor: Actor, filters: listing.ListFilter
) -> tuple[list[Invoice], str | None]:
    def work(session: Any) -> tuple[list[Invoice], str | None]:
        items, cursor = listing.list_invoices(session, actor, filters)
        session.expunge_all()  # read after the session ends: no lazy loads wanted
        return items, cursor

    result: tuple[list[Invoice], str | None] = platform.database.read(work)
    return result


def _lookup(request: Request, actor: Actor, locale: str) -> Response:
    """Officers: open an invoice by its number (their role has no list of its own)."""
    number = request.query_params.get("number", "").strip()[:40]
    errors = FormErrors()
    if number and NUMBER.match(number):
        return see_other(f"/ui/invoices/{number}")
    if number:
        errors.add(
            "number",
            translate(N_("An invoice number has 20 digits."), locale),
        )
    return render(
        request,
        "invoice_lookup.html",
        status_code=422 if errors else 200,
        number=number,
        errors=errors,
    )


@router.get("/ui/invoices/export")
async def export_page(request: Request, platform: PlatformDep, actor: Reader) -> Response:
    """The list's invoices as a file: the same code as GET /api/v1/invoices/export."""
    fmt = request.query_params.get("format", "csv")
    try:
        permissions.check(actor.role, permissions.OWN_BOOKS)
        if fmt not in export.FORMATS:
            raise ValidationFailed(
                [FieldError("format", "FORMAT_INVALID", N_("Choose CSV or XLSX."))]
            )
        filters = read_filters(request, form_values(request))
        body, name = await run_in_threadpool(
            export.export, platform, actor, filters, fmt, request_locale(request)
        )
    except FapiaoError as refused:
        raise WebError(refused) from refused
    return Response(
        body,
        media_type=export.FORMATS[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
