"""Invoice endpoints: issue, read, list, void."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from sqlalchemy.orm import Session

from fapiao.http.body import json_body, read_model
from fapiao.http.deps import PlatformDep, ReadAfter, bearer, platform_of
from fapiao.http.direct import DirectRoute, direct_arguments
from fapiao.http.openapi import PROBLEMS
from fapiao.http.problems import locale_of
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import Issuer, OwnBooks, Reader, issuer
from fapiao.invoices import export, listing, qrcode, rejections, rules, service, void
from fapiao.invoices.buyer import BuyerInput
from fapiao.invoices.schemas import (
    InvoiceIn,
    InvoiceOut,
    InvoicePage,
    IssuedInvoiceOut,
    invoice_view,
)
from fapiao.kit.errors import N_, FapiaoError, NotFound
from fapiao.ledger import service as ledger
from fapiao.ledger.schemas import Receipt
from fapiao.metrics import ISSUE_LATENCY

router = APIRouter(prefix="/api/v1", tags=["invoices"], responses=PROBLEMS, route_class=DirectRoute)
NumberPath = Annotated[str, Path(pattern=r"^\d{20}$", description="20-digit invoice number")]


def to_request(body: InvoiceIn, idempotency_key: str | None = None) -> service.IssueRequest:
    # The fingerprint only matters when a retry can be compared with the first request.
    fingerprint = service.fingerprint(body.model_dump(mode="json")) if idempotency_key else ""
    return service.IssueRequest(
        kind=body.kind,
        medium=body.medium,
        buyer=BuyerInput(**body.buyer.model_dump()),
        lines=[rules.LineInput(**line.model_dump()) for line in body.lines],
        prices_include_tax=body.prices_include_tax,
        remarks=body.remarks,
        drawer=body.drawer,
        fingerprint=fingerprint,
    )


IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # what the header parameter allows


async def _issue_arguments(request: Request) -> dict[str, Any] | None:
    """`issue_invoice`'s arguments without FastAPI's dependency solving (see
    fapiao.http.direct): the same role check on the same token. A key the header
    parameter would refuse goes to FastAPI, which answers with its validation error."""
    key = request.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        return None
    actor = await issuer(request, await bearer(request))
    return {
        "request": request,
        "platform": platform_of(request),
        "actor": actor,
        "idempotency_key": key,
    }


@router.post(
    "/invoices",
    status_code=201,
    response_model=IssuedInvoiceOut,
    openapi_extra={"requestBody": json_body(InvoiceIn)},
)
@direct_arguments(_issue_arguments)
async def issue_invoice(
    request: Request,
    platform: PlatformDep,
    actor: Issuer,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> JSONResponse:
    """Issue a blue invoice as the caller's taxpayer. Answered only after the commit."""
    body = await read_model(request, InvoiceIn)  # an InvoiceIn, from the bytes in one pass
    started = time.perf_counter()
    try:
        issued = await service.issue_async(
            platform, actor, to_request(body, idempotency_key), idempotency_key
        )
    except FapiaoError as error:
        # Remembered (after the refused write rolled back) so the sender can trace the key.
        if idempotency_key and actor.taxpayer_id is not None and rejections.should_record(error):
            await asyncio.to_thread(
                rejections.record,
                platform.database,
                actor.taxpayer_id,
                idempotency_key,
                error,
                platform.clock.now(),
            )
        raise
    ISSUE_LATENCY.observe(time.perf_counter() - started)
    view = invoice_view(issued.earlier or issued.record())
    view["receipt"] = issued.receipt
    headers = {"Location": f"/api/v1/invoices/{view['number']}"}
    if issued.earlier is not None:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(view, status_code=201, headers=headers)


ListSort = Annotated[
    Literal["-issue_date", "issue_date", "-total_with_tax", "total_with_tax"],
    Query(description="order: issue date or total with tax; a leading - means descending"),
]


@router.get(
    "/invoices/export",
    responses={200: {"content": {media: {} for media in export.FORMATS.values()}}},
    response_class=Response,
)
def export_invoices(
    request: Request,
    platform: PlatformDep,
    actor: OwnBooks,
    format: Literal["csv", "xlsx"] = "csv",
    direction: Literal["issued", "received"] = "issued",
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    counterparty: Annotated[str | None, Query(pattern=r"^[0-9A-Z]{15,20}$")] = None,
    status: Literal["normal", "partially_reversed", "fully_reversed", "voided"] | None = None,
    kind: Literal["special", "ordinary"] | None = None,
    sort: ListSort = "-issue_date",
) -> Response:
    """The caller's issued or received invoices with the filters of the list, as a CSV or
    XLSX file with headers in the caller's language (at most 100,000 rows: narrow the dates
    for more)."""
    filters = listing.make_filter(direction, date_from, date_to, counterparty, status, kind, sort)
    body, name = export.export(platform, actor, filters, format, locale_of(request))
    return Response(
        body,
        media_type=export.FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/invoices/{number}", response_model=InvoiceOut)
def get_invoice(
    number: NumberPath, platform: PlatformDep, actor: Reader, after: ReadAfter
) -> JSONResponse:
    """One invoice, for its seller, its buyer or an officer; 404 for anyone else. May be
    served by a replica (see `X-Fapiao-Consistency`)."""
    view = platform.database.read(
        lambda session: invoice_view(service.get_visible(session, actor, number)), after=after
    )
    return JSONResponse(view)


@router.get("/invoices/{number}/receipt", response_model=Receipt)
def get_receipt(
    number: NumberPath, platform: PlatformDep, actor: Reader, after: ReadAfter
) -> JSONResponse:
    """The signed receipt of an invoice, as given when it was issued: for its seller, its
    buyer or an officer; 404 for anyone else."""

    def work(session: Session) -> dict[str, Any] | None:
        invoice = service.get_visible(session, actor, number)
        return ledger.receipt_of(session, invoice.number)

    receipt = platform.database.read(work, after=after)
    if receipt is None:
        raise NotFound(
            "RECEIPT_NOT_FOUND",
            N_("Invoice {number} has no receipt (it was issued before receipts existed)."),
            params={"number": number},
        )
    return JSONResponse(receipt)


@router.get(
    "/invoices/{number}/qrcode.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def get_qrcode(
    number: NumberPath, platform: PlatformDep, actor: Reader, after: ReadAfter
) -> Response:
    """The invoice's QR code as SVG (its text is in the `X-Fapiao-QR` header): for its
    seller, its buyer or an officer; 404 for anyone else."""

    def work(session: Session) -> str:
        invoice = service.get_visible(session, actor, number)
        return qrcode.payload(
            invoice.kind,
            invoice.number,
            invoice.total_with_tax,
            invoice.issue_date,
            platform.secret,
        )

    text = platform.database.read(work, after=after)
    return Response(
        qrcode.svg(text),
        media_type="image/svg+xml",
        headers={"X-Fapiao-QR": text, "Cache-Control": "private, max-age=3600"},
    )


@router.get("/invoices", response_model=InvoicePage)
def list_invoices(
    platform: PlatformDep,
    actor: OwnBooks,
    direction: Literal["issued", "received"] = "issued",
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    counterparty: Annotated[str | None, Query(pattern=r"^[0-9A-Z]{15,20}$")] = None,
    status: Literal["normal", "partially_reversed", "fully_reversed", "voided"] | None = None,
    kind: Literal["special", "ordinary"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    sort: ListSort = "-issue_date",
    after: ReadAfter = None,
) -> JSONResponse:
    """The caller's issued or received invoices, newest first unless `sort` says otherwise,
    a page at a time. May be served by a replica (see `X-Fapiao-Consistency`)."""
    filters = listing.make_filter(
        direction, date_from, date_to, counterparty, status, kind, sort, limit, cursor
    )

    def work(session: Session) -> dict[str, Any]:
        items, next_cursor = listing.list_invoices(session, actor, filters)
        return {"items": [invoice_view(item) for item in items], "next_cursor": next_cursor}

    return JSONResponse(platform.database.read(work, after=after))


@router.post("/invoices/{number}/void", response_model=InvoiceOut)
def void_invoice(number: NumberPath, platform: PlatformDep, actor: Issuer) -> JSONResponse:
    """Void a paper invoice in its month of issue (electronic ones are reversed instead)."""
    invoice = void.void(platform, actor, number)
    return JSONResponse(invoice_view(invoice))
