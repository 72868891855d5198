"""The issuing form's fields: reading them into the API's request body (InvoiceIn), the
form names of the API's field paths, and the live figures of the preview. No rules of
its own: the body is checked by the API's model and the issuing service, the figures are
worked out by invoices.rules."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from fastapi import Request
from pydantic import TypeAdapter, ValidationError

from fapiao.http.problems import field_errors
from fapiao.http.types import Quantity, UnitPrice
from fapiao.invoices import rules
from fapiao.invoices.schemas import InvoiceIn
from fapiao.kit import taxcodes
from fapiao.kit.errors import FieldError, ValidationFailed

BUYER_FIELDS = {
    "name": 200,
    "tax_id": 20,
    "address": 200,
    "phone": 40,
    "bank": 200,
    "account": 60,
    "email": 254,
}
LINE_FIELDS = {
    "name": 300,
    "tax_code": 19,
    "spec": 100,
    "unit": 20,
    "quantity": 40,
    "unit_price": 40,
    "tax_rate": 12,
}
# The API's line fields the form has no box for, shown next to the nearest one.
LINE_NEAREST = {"amount": "unit_price", "tax": "tax_rate"}
FIRST_ROWS = 3  # empty line rows of a new form
MORE_ROWS = 3  # rows the "more lines" button adds
MAX_ROWS = 200  # a form is for people typing; longer invoices go through the API
DEFAULT_RATE = "0.13"
_QUANTITY: TypeAdapter[Decimal] = TypeAdapter(Quantity)
_PRICE: TypeAdapter[Decimal] = TypeAdapter(UnitPrice)


def line_name(row: int, name: str) -> str:
    return f"line{row}_{name}"


@dataclass
class IssueForm:
    """What the user typed, kept as text so a refused form shows it again as it was."""

    values: dict[str, str]
    rows: int
    key: str

    def line(self, row: int, name: str) -> str:
        return self.values.get(line_name(row, name), "")

    def filled_rows(self) -> list[int]:
        """The rows with anything typed in them (the rate alone does not count)."""
        return [
            row
            for row in range(self.rows)
            if any(self.line(row, name).strip() for name in LINE_FIELDS if name != "tax_rate")
        ]

    def checked(self, name: str) -> bool:
        return self.values.get(name) in ("1", "on", "true")

    def body(self) -> dict[str, Any]:
        """The JSON body the API would receive for this form (blank optional fields
        left out, so the API's model judges exactly what it would judge)."""
        buyer: dict[str, Any] = {
            name: self.values[f"buyer_{name}"].strip() for name in BUYER_FIELDS
        }
        if not buyer["tax_id"]:
            del buyer["tax_id"]
        buyer["natural_person"] = self.checked("buyer_natural_person")
        lines = []
        for row in self.filled_rows():
            line: dict[str, Any] = {}
            for name in LINE_FIELDS:
                text = self.line(row, name).strip()
                if text or name in ("name", "tax_code", "tax_rate"):
                    line[name] = text
            lines.append(line)
        return {
            "kind": self.values["kind"],
            "medium": self.values["medium"],
            "buyer": buyer,
            "lines": lines,
            "prices_include_tax": self.checked("prices_include_tax"),
            "remarks": self.values["remarks"],
        }

    def aliases(self) -> dict[str, str]:
        """API field paths ("buyer.tax_id", "lines.0.unit_price") to the form's names.
        Blank rows are not sent, so the API's line index is not always the row."""
        found = {f"buyer.{name}": f"buyer_{name}" for name in BUYER_FIELDS}
        found["buyer.natural_person"] = "buyer_natural_person"
        for index, row in enumerate(self.filled_rows()):
            for name in LINE_FIELDS:
                found[f"lines.{index}.{name}"] = line_name(row, name)
            for name, nearest in LINE_NEAREST.items():
                found[f"lines.{index}.{name}"] = line_name(row, nearest)
        return found

    def invoice_in(self) -> InvoiceIn:
        """The body as the API's model; ValidationFailed with the API's field errors."""
        try:
            return InvoiceIn.model_validate(self.body())
        except ValidationError as exc:
            raise ValidationFailed(field_errors(exc.errors())) from None


def blank_form(values: dict[str, str] | None = None, rows: int = FIRST_ROWS) -> IssueForm:
    found = {
        "kind": "special",
        "medium": "electronic",
        "remarks": "",
        "prices_include_tax": "",
        "buyer_natural_person": "",
    }
    found.update({f"buyer_{name}": "" for name in BUYER_FIELDS})
    for row in range(rows):
        found.update({line_name(row, name): "" for name in LINE_FIELDS})
        found[line_name(row, "tax_rate")] = DEFAULT_RATE
    found.update(values or {})
    return IssueForm(found, rows, secrets.token_urlsafe(18))


async def read_issue_form(request: Request) -> IssueForm:
    """The submitted form. Rows a script removed leave gaps; they read as blank."""
    form = await request.form()

    def text(name: str, limit: int) -> str:
        value = form.get(name)
        return value[:limit] if isinstance(value, str) else ""

    try:
        rows = max(1, min(MAX_ROWS, int(text("line_count", 4) or FIRST_ROWS)))
    except ValueError:
        rows = FIRST_ROWS
    values = {
        "kind": text("kind", 20),
        "medium": text("medium", 20),
        "remarks": text("remarks", 500),
        "prices_include_tax": text("prices_include_tax", 5),
        "buyer_natural_person": text("buyer_natural_person", 5),
    }
    values.update({f"buyer_{name}": text(f"buyer_{name}", n) for name, n in BUYER_FIELDS.items()})
    for row in range(rows):
        for name, limit in LINE_FIELDS.items():
            values[line_name(row, name)] = text(line_name(row, name), limit)
    key = text("idempotency_key", 200) or secrets.token_urlsafe(18)
    return IssueForm(values, rows, key)


def without_row(form: IssueForm, row: int) -> IssueForm:
    """The form with one line row taken out (the button of a row, without a script)."""
    values = dict(form.values)
    for later in range(row, form.rows - 1):
        for name in LINE_FIELDS:
            values[line_name(later, name)] = values.get(line_name(later + 1, name), "")
    for name in LINE_FIELDS:
        values.pop(line_name(form.rows - 1, name), None)
    return IssueForm(values, max(1, form.rows - 1), form.key)


def with_more_rows(form: IssueForm) -> IssueForm:
    rows = min(MAX_ROWS, form.rows + MORE_ROWS)
    values = dict(form.values)
    for row in range(form.rows, rows):
        values.update({line_name(row, name): "" for name in LINE_FIELDS})
        values[line_name(row, "tax_rate")] = DEFAULT_RATE
    return IssueForm(values, rows, form.key)


@dataclass
class Preview:
    """The figures of the lines that can be worked out, by form row, and their totals."""

    lines: dict[int, rules.Line] = field(default_factory=dict)
    totals: rules.Totals | None = None


def preview(form: IssueForm, taxpayer_kind: str | None, today: date) -> Preview:
    """Amount and tax of every line that is complete and valid, with the same rules as
    issuing (invoices.rules); a line that is not simply has no figures."""
    found = Preview()
    include_tax = form.checked("prices_include_tax")
    with localcontext() as context:
        context.prec = 80  # as rules.compute_invoice: exact products, rounded once
        for row in form.filled_rows():
            line = _preview_line(form, row, include_tax, taxpayer_kind or "general", today)
            if line is not None:
                found.lines[row] = line
        if found.lines:
            found.totals = rules.totals_of(list(found.lines.values()))
    return found


def _preview_line(
    form: IssueForm, row: int, include_tax: bool, taxpayer_kind: str, today: date
) -> rules.Line | None:
    rate = form.line(row, "tax_rate")
    if rules.allowed_rate(rate, taxpayer_kind, today) is not None:
        return None
    try:
        quantity = _QUANTITY.validate_python(form.line(row, "quantity").strip())
        price = _PRICE.validate_python(form.line(row, "unit_price").strip())
    except ValidationError:
        return None
    errors: list[FieldError] = []
    data = rules.LineInput(
        name=form.line(row, "name"),
        tax_code=form.line(row, "tax_code"),
        tax_rate=rate,
        quantity=quantity,
        unit_price=price,
    )
    entry = taxcodes.lookup(data.tax_code)
    short_name = entry.short_name if entry else ""  # the line is named *简称*名称 if known
    return rules.compute_line(
        row, data, short_name, include_tax=include_tax, tolerances=rules.Tolerances(), errors=errors
    )
