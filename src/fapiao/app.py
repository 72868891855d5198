"""create_app(): the one composition root of the HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse

from fapiao import __version__, health, metrics, migrate, web
from fapiao.accounts.api import router as auth_router
from fapiao.accounts.password_api import router as password_router
from fapiao.accounts.sessions_api import router as sessions_router
from fapiao.accounts.tokens_api import router as tokens_router
from fapiao.accounts.twofactor_api import router as twofactor_router
from fapiao.accounts.users_api import router as users_router
from fapiao.announcements.api import router as announcements_router
from fapiao.announcements.feed import router as announcements_feed_router
from fapiao.audit.api import router as audit_router
from fapiao.audit.buffer import AuditBuffer
from fapiao.audit.middleware import AuditTrail
from fapiao.certification.api import router as certification_router
from fapiao.http import docs, problems
from fapiao.http.accesslog import RequestContext, configure_access_log
from fapiao.http.body import add_schemas
from fapiao.http.middleware import BodyLimit, ConsistencyHeaders
from fapiao.http.openapi import use_problem_media_type
from fapiao.http.responses import JSONResponse
from fapiao.http.security import HardenedFastAPI
from fapiao.invoices.api import router as invoices_router
from fapiao.invoices.lookups_api import router as lookups_router
from fapiao.invoices.schemas import InvoiceIn
from fapiao.kit.clock import Clock
from fapiao.ledger.api import router as ledger_router
from fapiao.maintenance.api import router as maintenance_router
from fapiao.maintenance.gate import MaintenanceGate
from fapiao.platform import Platform, build_platform
from fapiao.reconcile.api import router as reconcile_router
from fapiao.redletter.api import router as redletter_router
from fapiao.settings import Settings, load_settings
from fapiao.support.api import TICKET_UPLOADS, ticket_upload_limit
from fapiao.support.api import router as support_router
from fapiao.support.schemas import MessageIn, TicketIn
from fapiao.taxpayers.api import router as taxpayers_router
from fapiao.taxpayers.manage_api import router as taxpayers_manage_router
from fapiao.trace.api import router as trace_router
from fapiao.verification.api import router as verification_router
from fapiao.webhooks.api import router as webhooks_router
from fapiao.worker import create_worker

# The order of the API documentation.
ROUTERS = (
    auth_router,
    twofactor_router,
    sessions_router,
    tokens_router,
    invoices_router,
    lookups_router,
    redletter_router,
    certification_router,
    verification_router,
    taxpayers_router,
    # After taxpayers_router: /taxpayers/me must not be taken for a tax ID.
    taxpayers_manage_router,
    password_router,
    users_router,
    ledger_router,
    webhooks_router,
    trace_router,
    reconcile_router,
    maintenance_router,
    announcements_router,
    announcements_feed_router,
    audit_router,
    support_router,
)


def documented_order(routes: list[Any]) -> list[Any]:
    """`routes` with the included routers in the order of ROUTERS, where the first of
    them stands; other routes keep their places."""
    rank = {id(router): index for index, router in enumerate(ROUTERS)}

    def rank_of(route: Any) -> int | None:
        return rank.get(id(getattr(route, "original_router", None)))

    first = next((i for i, route in enumerate(routes) if rank_of(route) is not None), 0)

    def key(item: tuple[int, Any]) -> tuple[int, int]:
        index, route = item
        found = rank_of(route)
        return (first, found) if found is not None else (index, 0)

    return [route for _index, route in sorted(enumerate(routes), key=key)]


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    platform: Platform | None = None,
    embedded_worker: bool = False,
    access_log: str | None = None,
) -> FastAPI:
    """The API over one Platform (built here from settings unless given). `access_log`
    overrides FAPIAO_ACCESS_LOG (a file, "-" for standard output, "" for none)."""
    if platform is None:
        platform = build_platform(settings or load_settings(), clock)
    audit_buffer = AuditBuffer(platform.database, delay=platform.settings.audit_flush_seconds)
    logging_access = configure_access_log(
        access_log if access_log is not None else platform.settings.access_log or ""
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = create_worker(platform) if embedded_worker else None
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            try:
                if worker is not None:
                    worker.stop()
                await platform.writer.aclose()  # this loop's connections (PostgreSQL)
            finally:
                audit_buffer.close()  # what the last requests did is written before exit

    app = HardenedFastAPI(
        trusted_proxies=platform.settings.trusted_proxy_networks,
        title="fapiao",
        version=__version__,
        description="Electronic VAT invoice platform (电子发票服务平台).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        default_response_class=JSONResponse,
    )
    app.state.platform = platform
    app.state.audit = audit_buffer
    problems.install(app)
    app.add_middleware(
        BodyLimit,
        limit=platform.settings.max_body_bytes,
        uploads={"/api/v1/reconciliations": platform.settings.max_upload_bytes},
        upload_patterns=[(TICKET_UPLOADS, ticket_upload_limit(platform.settings))],
    )
    app.add_middleware(ConsistencyHeaders)
    app.add_middleware(AuditTrail, buffer=audit_buffer, clock=platform.clock)
    # A refused write is answered before its body is read.
    app.add_middleware(MaintenanceGate, state=platform.maintenance, clock=platform.clock)
    # Outermost: every request gets an id and an access-log line.
    app.add_middleware(
        RequestContext,
        clock=platform.clock,
        access_log=logging_access,
        trusted_proxies=platform.settings.trusted_proxy_networks,
    )
    # Routers are matched in the order they were included, path by path; issuing is most
    # of the traffic, so its router goes first (no other router has a path under
    # /api/v1/invoices, so no request is matched differently). The API documentation
    # keeps the order of ROUTERS.
    app.include_router(invoices_router)
    for router in ROUTERS:
        if router is not invoices_router:
            app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = use_problem_media_type(
                add_schemas(
                    get_openapi(
                        title=app.title,
                        version=app.version,
                        description=app.description,
                        routes=documented_order(app.routes),
                    ),
                    InvoiceIn,  # read by its route with http.body.read_model
                    TicketIn,
                    MessageIn,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        """Alive, and whether the database answers with the current schema."""
        try:
            current = migrate.is_current(platform.database)
        except Exception:
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "schema_current": current})

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """Ready for traffic: the database answers, its schema is current and the platform
        is not in maintenance (503 with the reason if not)."""
        state = health.readiness(platform)
        if not state.database:
            return JSONResponse({"ready": False, "database": "unreachable"}, status_code=503)
        if not state.schema_current:
            return JSONResponse({"ready": False, "schema_current": False}, status_code=503)
        if state.maintenance_until is not None:
            return JSONResponse(
                {
                    "ready": False,
                    "reason": "maintenance",
                    "until": state.maintenance_until.isoformat(),
                },
                status_code=503,
                headers={"Retry-After": str(state.retry_after)},
            )
        return JSONResponse({"ready": True})

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics_endpoint() -> PlainTextResponse:
        """Prometheus metrics: documents by kind, outbox depth and age, webhook deliveries
        by outcome and per consumer, dead letters, buyer e-mail notices pending, sent and
        dead, issue latency (this process), whether maintenance is on; with read replicas,
        each one's lag in bytes and seconds and where reads were served."""
        with platform.database.transaction(write=False) as session:
            text = metrics.render(session, platform.clock.now())
        text += metrics.render_maintenance(platform.maintenance.current() is not None)
        text += metrics.render_replicas(platform.database)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    docs.install(app)
    web.install(app)  # the pages, under /ui and at /; static files under /static
    return app
