"""Webhook subscriptions of the caller's taxpayer, their delivery log and redelivery.
Managed by the taxpayer's admins; anyone else's subscription is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from fapiao.accounts.service import Actor
from fapiao.http.deps import PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.responses import JSONResponse
from fapiao.http.roles import WebhookAdmin
from fapiao.webhooks import service
from fapiao.webhooks.models import Delivery, DeliveryAttempt, Webhook

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses=PROBLEMS)
WebhookId = Annotated[int, Path(ge=1, le=2**62)]


class WebhookIn(BaseModel):
    url: str = Field(max_length=2000, examples=["https://erp.example.com/fapiao/events"])
    events: list[str] = Field(max_length=20, examples=[["invoice.issued", "invoice.received"]])
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="generated when omitted"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(default=None, description="only in the answer that created it")


class AttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    log: list[AttemptOut] = []


def own_taxpayer(actor: Actor) -> int:
    assert actor.taxpayer_id is not None  # WEBHOOKS is a taxpayer admin's capability
    return actor.taxpayer_id


def _webhook(webhook: Webhook, secret: bool = False) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": webhook.events.split(),
        "active": webhook.active,
        "created_at": webhook.created_at.isoformat(),
        **({"secret": webhook.secret} if secret else {}),
    }


def _delivery(delivery: Delivery, log: list[DeliveryAttempt]) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "subject": delivery.subject,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "log": [
            {
                "attempt": item.attempt,
                "attempted_at": item.attempted_at.isoformat(),
                "status_code": item.status_code,
                "latency_ms": item.latency_ms,
                "error": item.error,
            }
            for item in log
        ],
    }


@router.post("/webhooks", status_code=201, response_model=WebhookOut)
def create_webhook(body: WebhookIn, platform: PlatformDep, actor: WebhookAdmin) -> JSONResponse:
    """Subscribe a URL to events of the caller's taxpayer. The secret signs every
    delivery (`Fapiao-Signature`); it is shown in this answer only."""
    taxpayer_id = own_taxpayer(actor)
    with platform.database.transaction() as session:
        webhook = service.subscribe(
            session,
            taxpayer_id,
            body.url,
            body.events,
            body.secret,
            platform.clock.now(),
            allow_private=platform.settings.webhook_allow_private,
        )
        return JSONResponse(_webhook(webhook, secret=True), status_code=201)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(platform: PlatformDep, actor: WebhookAdmin) -> JSONResponse:
    """The caller's taxpayer's subscriptions (secrets are not shown again)."""
    taxpayer_id = own_taxpayer(actor)
    with platform.database.transaction(write=False) as session:
        rows = session.scalars(
            select(Webhook).where(Webhook.taxpayer_id == taxpayer_id).order_by(Webhook.id)
        )
        return JSONResponse([_webhook(row) for row in rows])


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: WebhookId, platform: PlatformDep, actor: WebhookAdmin) -> Response:
    """Stop a subscription; its deliveries still waiting are dead-lettered."""
    taxpayer_id = own_taxpayer(actor)
    with platform.database.transaction() as session:
        service.deactivate(session, service.get_webhook(session, taxpayer_id, webhook_id))
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    webhook_id: WebhookId, platform: PlatformDep, actor: WebhookAdmin
) -> JSONResponse:
    """The last 100 deliveries of a subscription, newest first, each with its attempts
    (status code, latency, error)."""
    taxpayer_id = own_taxpayer(actor)
    with platform.database.transaction(write=False) as session:
        service.get_webhook(session, taxpayer_id, webhook_id)
        deliveries = service.deliveries_of(session, webhook_id)
        logs = service.attempts_of(session, [item.id for item in deliveries])
        return JSONResponse([_delivery(item, logs.get(item.id, [])) for item in deliveries])


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryOut,
)
def redeliver(
    webhook_id: WebhookId, delivery_id: WebhookId, platform: PlatformDep, actor: WebhookAdmin
) -> JSONResponse:
    """Send a delivery again now (a dead letter, or one already delivered), with a fresh
    count of attempts."""
    taxpayer_id = own_taxpayer(actor)
    with platform.database.transaction() as session:
        service.get_webhook(session, taxpayer_id, webhook_id)
        delivery = service.redeliver(session, taxpayer_id, delivery_id, platform.clock.now())
        if delivery.webhook_id != webhook_id:
            raise service.delivery_not_found(delivery_id)
        return JSONResponse(_delivery(delivery, []), status_code=202)
