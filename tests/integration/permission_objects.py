"""The seller's real objects that the permission test (test_permissions.py) names in
paths and bodies, made through the API as the seller's users and its buyer would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from conftest import OTHER_ID, SELLER_ID, World, invoice_body, make_user
from fapiao.webhooks.relay import Relay
from pictures import png


@dataclass
class Objects:
    """The seller's real objects that path parameters and bodies name."""

    issued: str  # electronic special invoice the seller issued to the buyer
    paper: str  # paper invoice the seller issued (voidable)
    unreversed: str  # uncertified invoice of the seller, for a new red-letter form
    received: str  # special invoice the seller received (certifiable by the seller)
    form_id: int  # red-letter form the seller filed, waiting for the buyer
    webhook_id: int
    delivery_id: int
    reconciliation_id: int
    token_id: int  # an API token the seller's admin made
    period: str = "202611"
    announcement_id: int = 0  # a published release note
    ticket: str = ""  # a support ticket the seller's clerk opened
    attachment_id: int = 0  # a screenshot on it


ANNOUNCEMENT = {"kind": "release", "title_zh": "新版本", "title_en": "New release"}

# Seen by no one but the seller's users, officers and parties to its invoices.
SELLER_NAME = "北京示例科技有限公司"


def reconciliation_csv(o: Objects) -> bytes:
    return (
        f"number,issue_date,buyer_tax_id,total_with_tax\n{o.issued},2026-11-10,,226.00\n".encode()
    )


def build_objects(world: World) -> Objects:
    """The seller's objects, made through the API as its users would."""
    platform = world.platform
    world.headers["auditor"] = make_user(platform, "auditor", "auditor", None)
    world.headers["other_admin"] = make_user(platform, "other_admin", "admin", OTHER_ID)
    make_user(platform, "seller_spare", "viewer", SELLER_ID)
    make_user(platform, "seller_browser", "viewer", SELLER_ID)
    make_user(platform, "seller_spare_admin", "admin", SELLER_ID)

    def post(who: str, path: str, expect: int = 201, **kwargs: Any) -> Any:
        response = world.client.post(path, headers=world.as_(who), **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    hook = post(
        "seller_admin",
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/seller", "events": ["invoice.issued"]},
    )
    issued = post("seller", "/api/v1/invoices", json=invoice_body())["number"]
    paper = post("seller", "/api/v1/invoices", json=invoice_body(medium="paper"))["number"]
    unreversed = post("seller", "/api/v1/invoices", json=invoice_body())["number"]
    to_reverse = post("seller", "/api/v1/invoices", json=invoice_body())["number"]
    seller_as_buyer = {"tax_id": SELLER_ID, "name": SELLER_NAME}
    received = post("buyer", "/api/v1/invoices", json=invoice_body(buyer=seller_as_buyer))
    confirmed = post("buyer", "/api/v1/invoices", json=invoice_body(buyer=seller_as_buyer))
    # Certified by the buyer, the blue invoice's reversal waits for the buyer's answer.
    certify = {"period": "202611", "purpose": "deduct"}
    post("buyer", f"/api/v1/invoices/{to_reverse}/certify", 200, json=certify)
    form = post(
        "seller", "/api/v1/red-letter-forms", json={"blue_number": to_reverse, "reason": "01"}
    )
    assert form["red_invoice_number"] is None
    # Something stays certified in the period whatever the certify routes do, so it can be
    # confirmed.
    post("seller", f"/api/v1/invoices/{confirmed['number']}/certify", 200, json=certify)
    Relay(platform).run_once()  # the webhook's delivery fails (nothing listens) and is logged
    deliveries = world.client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", headers=world.as_("seller_admin")
    ).json()
    objects = Objects(
        issued=issued,
        paper=paper,
        unreversed=unreversed,
        received=received["number"],
        form_id=form["id"],
        webhook_id=hook["id"],
        delivery_id=deliveries[0]["id"],
        reconciliation_id=0,
        token_id=post(
            "seller_admin", "/api/v1/api-tokens", json={"name": "erp", "scopes": ["read"]}
        )["id"],
    )
    reconciliation = post(
        "seller",
        "/api/v1/reconciliations",
        files={"file": ("list.csv", reconciliation_csv(objects))},
    )
    objects.reconciliation_id = reconciliation["id"]
    note = post("officer", "/api/v1/announcements", json=ANNOUNCEMENT)
    post("officer", f"/api/v1/announcements/{note['id']}/publish", 200)
    objects.announcement_id = note["id"]
    ticket = post(
        "seller",
        "/api/v1/tickets",
        json={
            "subject": "截图",
            "category": "issuing",
            "body": "报错",
            "invoice_numbers": [issued],
        },
    )
    objects.ticket = ticket["number"]
    shot = post(
        "seller",
        f"/api/v1/tickets/{ticket['number']}/attachments",
        files={"files": ("shot.png", png(), "image/png")},
    )
    objects.attachment_id = shot["messages"][-1]["attachments"][0]["id"]
    platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    return objects
