"""GET /api/v1/audit (search) and GET /api/v1/audit/export, for officers and auditors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from fapiao.audit import export, service
from fapiao.audit.filters import decode_cursor, encode_cursor, filters
from fapiao.audit.schemas import AuditPage
from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import AuditReader

router = APIRouter(prefix="/api/v1", tags=["audit"], responses=PROBLEMS)
Text = Annotated[str | None, Query(max_length=100)]
Result = Literal["ok", "refused", "error"] | None


@router.get("/audit", response_model=AuditPage)
def search_audit(
    platform: PlatformDep,
    actor: AuditReader,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=64)] = None,
    action: Text = None,
    object_type: Text = None,
    object_id: Text = None,
    result: Result = None,
    time_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    time_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSONResponse:
    """Audit entries, newest first, a page at a time: filter by actor (username), action,
    object, result and time (`from`, `to`: dates in Beijing time or ISO 8601 times).
    Officers and auditors only."""
    wanted = filters(
        actor=actor_name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        result=result,
        time_from=time_from,
        time_to=time_to,
    )
    before = decode_cursor(cursor) if cursor else None
    with platform.database.transaction(write=False) as session:
        rows, next_seq = service.search(session, wanted, limit, before)
        items = [export.view(row) for row in rows]
    page: dict[str, Any] = {
        "items": items,
        "next_cursor": encode_cursor(next_seq) if next_seq is not None else None,
    }
    return JSONResponse(page)


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {}, "application/json": {}},
            "description": "every matching entry, oldest first",
        }
    },
)
def export_audit(
    platform: PlatformDep,
    actor: AuditReader,
    file_format: Annotated[Literal["csv", "json"], Query(alias="format")] = "csv",
    actor_name: Annotated[str | None, Query(alias="actor", max_length=64)] = None,
    action: Text = None,
    object_type: Text = None,
    object_id: Text = None,
    result: Result = None,
    time_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    time_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> StreamingResponse:
    """Every matching entry, oldest first, as CSV (cells that would start a spreadsheet
    formula are written as text) or a JSON array, streamed. Officers and auditors only."""
    wanted = filters(
        actor=actor_name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        result=result,
        time_from=time_from,
        time_to=time_to,
    )
    entries = service.stream(platform.database, wanted)
    if file_format == "json":
        chunks, media, suffix = export.json_chunks(entries), "application/json", "json"
    else:
        chunks, media, suffix = export.csv_lines(entries), "text/csv; charset=utf-8", "csv"
    return StreamingResponse(
        (chunk.encode() for chunk in chunks),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{suffix}"'},
    )
