"""Wire formats of invoices. Amounts, quantities, prices and rates are decimal strings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from fapiao.crypto.personal import shown_buyer_id
from fapiao.http.types import Amount, PositiveAmount, Quantity, Text, UnitPrice
from fapiao.invoices import rules
from fapiao.invoices.models import Invoice
from fapiao.kit.money import fmt_plain
from fapiao.ledger.schemas import Receipt


def _rate_text(value: Any) -> Any:
    """Accept 0.13 as well as "0.13": a rate is a code, so its number form is harmless."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    return value


TaxRate = Annotated[
    Literal["0.13", "0.09", "0.06", "0.05", "0.03", "0.01", "0", "exempt", "not_taxable"],
    BeforeValidator(_rate_text),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuyerIn(Strict):
    name: Text = Field(min_length=1, max_length=200)
    tax_id: Text | None = Field(default=None, min_length=1, max_length=20)
    address: Text = Field(default="", max_length=200)
    phone: Text = Field(default="", max_length=40)
    bank: Text = Field(default="", max_length=200)
    account: Text = Field(default="", max_length=60)
    email: Text = Field(default="", max_length=254)
    natural_person: bool = False


class LineIn(Strict):
    name: Text = Field(min_length=1, max_length=300)
    tax_code: str = Field(pattern=r"^\d{19}$")
    spec: Text = Field(default="", max_length=100)
    unit: Text = Field(default="", max_length=20)
    quantity: Quantity | None = None
    unit_price: UnitPrice | None = None
    amount: PositiveAmount | None = None
    tax_rate: TaxRate
    tax: Amount | None = None


class InvoiceIn(Strict):
    kind: Literal["special", "ordinary"]
    medium: Literal["electronic", "paper"] = "electronic"
    buyer: BuyerIn
    # The hard ceiling of the schema; FAPIAO_MAX_LINES (default 2000) is checked by the service.
    lines: list[LineIn] = Field(min_length=1, max_length=10000)
    prices_include_tax: bool = False
    remarks: Text = Field(default="", max_length=500)
    drawer: Text = Field(default="", max_length=40)


class PartyOut(BaseModel):
    tax_id: str | None
    name: str
    address: str
    phone: str
    bank: str
    account: str


class BuyerOut(PartyOut):
    natural_person: bool
    email: str


class LineOut(BaseModel):
    line_no: int
    name: str
    display_name: str
    tax_code: str
    spec: str
    unit: str
    quantity: str | None
    unit_price: str | None
    amount: str
    tax_rate: str
    tax_rate_display: str
    tax: str
    amount_with_tax: str
    blue_line_no: int | None = None


class CertificationOut(BaseModel):
    period: str
    purpose: str
    reason: str | None
    reason_text: str | None
    certified_at: datetime


class InvoiceOut(BaseModel):
    number: str
    kind: str
    medium: str
    issue_date: date
    issued_at: datetime
    seller: PartyOut
    buyer: BuyerOut
    lines: list[LineOut]
    total_amount: str
    total_tax: str
    total_with_tax: str
    total_in_words: str
    prices_include_tax: bool
    remarks: str
    drawer: str
    status: Literal["normal", "partially_reversed", "fully_reversed", "voided"]
    red_of: str | None
    reversed_amount: str
    reversed_tax: str
    certification: CertificationOut | None


class IssuedInvoiceOut(InvoiceOut):
    receipt: Receipt | None = Field(
        description="the platform's signed receipt (also at /invoices/{number}/receipt)"
    )


class InvoicePage(BaseModel):
    items: list[InvoiceOut]
    next_cursor: str | None


def _plain(value: Any) -> str | None:
    return None if value is None else fmt_plain(value)


def invoice_view(invoice: Invoice | SimpleNamespace) -> dict[str, Any]:
    """The JSON body of an invoice (the InvoiceOut shape), built without re-validation,
    from a stored Invoice or a just-issued one's record (`Issued.record`)."""
    certification = None
    if invoice.cert_period is not None and invoice.certified_at is not None:
        certification = {
            "period": invoice.cert_period,
            "purpose": invoice.cert_purpose,
            "reason": invoice.cert_reason,
            "reason_text": invoice.cert_reason_text,
            "certified_at": invoice.certified_at.isoformat(),
        }
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "medium": invoice.medium,
        "issue_date": invoice.issue_date.isoformat(),
        "issued_at": invoice.issued_at.isoformat(),
        "seller": {
            "tax_id": invoice.seller_tax_id,
            "name": invoice.seller_name,
            "address": invoice.seller_address,
            "phone": invoice.seller_phone,
            "bank": invoice.seller_bank,
            "account": invoice.seller_account,
        },
        "buyer": {
            "tax_id": shown_buyer_id(invoice),
            "name": invoice.buyer_name,
            "address": invoice.buyer_address,
            "phone": invoice.buyer_phone,
            "bank": invoice.buyer_bank,
            "account": invoice.buyer_account,
            "natural_person": invoice.buyer_natural_person,
            "email": invoice.buyer_email,
        },
        "lines": [
            {
                "line_no": line.line_no,
                "name": line.name,
                "display_name": rules.display_name(line.short_name, line.name),
                "tax_code": line.tax_code,
                "spec": line.spec,
                "unit": line.unit,
                "quantity": _plain(line.quantity),
                "unit_price": _plain(line.unit_price),
                "amount": f"{line.amount:.2f}",
                "tax_rate": line.tax_rate,
                "tax_rate_display": rules.RATE_DISPLAY[line.tax_rate],
                "tax": f"{line.tax:.2f}",
                "amount_with_tax": f"{line.amount + line.tax:.2f}",
                "blue_line_no": line.blue_line_no,
            }
            for line in invoice.lines
        ],
        "total_amount": f"{invoice.total_amount:.2f}",
        "total_tax": f"{invoice.total_tax:.2f}",
        "total_with_tax": f"{invoice.total_with_tax:.2f}",
        "total_in_words": invoice.total_in_words,
        "prices_include_tax": invoice.prices_include_tax,
        "remarks": invoice.remarks,
        "drawer": invoice.drawer,
        "status": invoice.status,
        "red_of": invoice.red_of,
        "reversed_amount": f"{invoice.reversed_amount:.2f}",
        "reversed_tax": f"{invoice.reversed_tax:.2f}",
        "certification": certification,
    }
