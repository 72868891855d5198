"""Reconciling an enterprise's own invoice list (CSV or XLSX) with the platform."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.problems import locale_of
from fapiao.http.roles import Reader, Reconciler
from fapiao.kit.clock import local_date
from fapiao.reconcile import service
from fapiao.reconcile.report import write_xlsx
from fapiao.taxpayers.models import Taxpayer

router = APIRouter(prefix="/api/v1", tags=["reconciliations"], responses=PROBLEMS)
ReconciliationId = Annotated[int, Path(ge=1, le=2**62)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/reconciliations", status_code=201)
def create_reconciliation(
    request: Request,
    platform: PlatformDep,
    actor: Reconciler,
    file: Annotated[
        UploadFile,
        File(
            description="CSV (UTF-8 or GB18030) or XLSX with the columns number, issue_date, "
            "buyer_tax_id, total_with_tax (or 发票号码, 开票日期, 购买方纳税人识别号, 价税合计)"
        ),
    ],
    taxpayer: Annotated[
        str | None, Form(max_length=20, description="officers: the seller's tax ID")
    ] = None,
) -> JSONResponse:
    """Compare the seller's own list of issued invoices with the seller's invoices on the
    platform over the dates the list covers: invoices missing on either side and fields
    that differ. Sellers' admins and clerks, or officers naming the seller."""
    with platform.database.transaction(write=False) as session:
        seller = service.seller_for(session, actor, taxpayer)
        seller_id = seller.id
    now = platform.clock.now()
    findings = service.run(platform.database, seller_id, file.file, file.filename, local_date(now))
    locale = locale_of(request)
    with platform.database.transaction() as session:
        record = service.store(
            session, seller_id, actor, file.filename or "upload", findings, platform.clock.now()
        )
        body = service.describe(session, record, locale)
    location = f"/api/v1/reconciliations/{body['id']}"
    return JSONResponse(body, status_code=201, headers={"Location": location})


@router.get("/reconciliations/{reconciliation_id}")
def get_reconciliation(
    reconciliation_id: ReconciliationId, request: Request, platform: PlatformDep, actor: Reader
) -> JSONResponse:
    """The summary of a reconciliation of the caller's taxpayer."""
    with platform.database.transaction(write=False) as session:
        record = service.load(session, actor, reconciliation_id)
        return JSONResponse(service.describe(session, record, locale_of(request)))


@router.get(
    "/reconciliations/{reconciliation_id}/report.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the report workbook"}},
)
def get_report(
    reconciliation_id: ReconciliationId, request: Request, platform: PlatformDep, actor: Reader
) -> Response:
    """The report as XLSX, in the caller's language: summary, missing on the platform,
    missing in the list, differences, row errors."""
    with platform.database.transaction(write=False) as session:
        record = service.load(session, actor, reconciliation_id)
        seller = session.get(Taxpayer, record.taxpayer_id)
        findings = service.findings_of(record)
        filename = record.filename
    tax_id = seller.tax_id if seller else ""
    content = write_xlsx(findings, locale_of(request), tax_id, filename)
    download = f"reconciliation-{reconciliation_id}.xlsx"
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{download}"'},
    )
