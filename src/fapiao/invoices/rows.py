"""The rows and objects of a new invoice, built from a checked request: plain dicts for
the issuing hot path (Core inserts), an Invoice for the ORM paths (red invoices)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fapiao.accounts.service import Actor
from fapiao.invoices import rules
from fapiao.invoices.credit import Seller
from fapiao.invoices.models import Invoice, InvoiceLine
from fapiao.taxpayers.models import Taxpayer

# What an invoice copies from its seller, and the credit limit it is checked against.
SELLER_COLUMNS = (
    Taxpayer.id,
    Taxpayer.tax_id,
    Taxpayer.name,
    Taxpayer.address,
    Taxpayer.phone,
    Taxpayer.bank,
    Taxpayer.account,
    Taxpayer.credit_limit,
)

if TYPE_CHECKING:
    from fapiao.invoices.service import IssueRequest, PreparedIssue


def invoice_row(seller: Seller, prepared: PreparedIssue, number: str) -> dict[str, Any]:
    request, buyer, totals = prepared.request, prepared.request.buyer, prepared.totals
    return {
        "number": number,
        "kind": request.kind,
        "medium": request.medium,
        "is_red": False,
        "red_of": None,
        "seller_id": seller.id,
        "seller_tax_id": seller.tax_id,
        "seller_name": seller.name,
        "seller_address": seller.address,
        "seller_phone": seller.phone,
        "seller_bank": seller.bank,
        "seller_account": seller.account,
        "buyer_tax_id": buyer.tax_id or None,
        "buyer_name": buyer.name,
        "buyer_address": buyer.address,
        "buyer_phone": buyer.phone,
        "buyer_bank": buyer.bank,
        "buyer_account": buyer.account,
        "buyer_email": buyer.email,
        "buyer_natural_person": buyer.natural_person,
        # Filled by crypto.personal.protect_row for natural persons.
        "buyer_id_number": "",
        "issue_date": prepared.issue_date,
        "issued_at": prepared.issued_at,
        "total_amount": totals.amount,
        "total_tax": totals.tax,
        "total_with_tax": totals.with_tax,
        "total_in_words": totals.in_words,
        "prices_include_tax": request.prices_include_tax,
        "remarks": request.remarks,
        "drawer": request.drawer,
        "status": "normal",
        "reversed_amount": Decimal("0"),
        "reversed_tax": Decimal("0"),
        "created_by": prepared.actor.user_id,
        "cert_period": None,
        "cert_purpose": None,
        "cert_reason": None,
        "cert_reason_text": None,
        "certified_at": None,
        "voided_at": None,
        "red_form_id": None,
    }


def line_row(line: rules.Line) -> dict[str, Any]:
    return {
        "line_no": line.line_no,
        "blue_line_no": line.blue_line_no,
        "name": line.name,
        "tax_code": line.tax_code,
        "short_name": line.short_name,
        "spec": line.spec,
        "unit": line.unit,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "amount": line.amount,
        "tax_rate": line.tax_rate,
        "tax": line.tax,
    }


def build_invoice(
    seller: Seller,
    request: IssueRequest,
    number: str,
    issue_date: date,
    now: datetime,
    lines: Sequence[rules.Line],
    totals: rules.Totals,
    actor: Actor,
    *,
    red_of: str | None = None,
) -> Invoice:
    buyer = request.buyer
    invoice = Invoice(
        number=number,
        kind=request.kind,
        medium=request.medium,
        is_red=red_of is not None,
        red_of=red_of,
        seller_id=seller.id,
        seller_tax_id=seller.tax_id,
        seller_name=seller.name,
        seller_address=seller.address,
        seller_phone=seller.phone,
        seller_bank=seller.bank,
        seller_account=seller.account,
        buyer_tax_id=buyer.tax_id or None,
        buyer_name=buyer.name,
        buyer_address=buyer.address,
        buyer_phone=buyer.phone,
        buyer_bank=buyer.bank,
        buyer_account=buyer.account,
        buyer_email=buyer.email,
        buyer_natural_person=buyer.natural_person,
        buyer_id_number=buyer.id_number,
        issue_date=issue_date,
        issued_at=now,
        total_amount=totals.amount,
        total_tax=totals.tax,
        total_with_tax=totals.with_tax,
        total_in_words=totals.in_words,
        prices_include_tax=request.prices_include_tax,
        remarks=request.remarks,
        drawer=request.drawer,
        status="normal",
        reversed_amount=Decimal("0"),
        reversed_tax=Decimal("0"),
        created_by=actor.user_id,
    )
    invoice.lines = [
        InvoiceLine(
            line_no=line.line_no,
            blue_line_no=line.blue_line_no,
            name=line.name,
            tax_code=line.tax_code,
            short_name=line.short_name,
            spec=line.spec,
            unit=line.unit,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_rate=line.tax_rate,
            tax=line.tax,
        )
        for line in lines
    ]
    return invoice
