"""The issuing hot path writes rows built by hand; they must cover every column."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

from fapiao.invoices import rows, rules, service
from fapiao.invoices.buyer import BuyerInput
from fapiao.invoices.models import Invoice, InvoiceLine


def test_invoice_and_line_rows_name_every_column() -> None:
    line = rules.Line(
        line_no=1,
        name="数据库软件",
        tax_code="1060301010200000000",
        short_name="软件",
        spec="",
        unit="套",
        quantity=Decimal("2"),
        unit_price=Decimal("100"),
        amount=Decimal("200.00"),
        tax_rate="0.13",
        tax=Decimal("26.00"),
    )
    prepared = service.PreparedIssue(
        seller_id=1,
        actor=SimpleNamespace(user_id=7),  # type: ignore[arg-type]
        request=service.IssueRequest(kind="ordinary", buyer=BuyerInput(name="个人"), lines=[]),
        idempotency_key=None,
        issued_at=datetime(2026, 11, 10, 2, tzinfo=UTC),
        issue_date=date(2026, 11, 10),
        lines=[line],
        totals=rules.Totals(
            amount=Decimal("200.00"),
            tax=Decimal("26.00"),
            with_tax=Decimal("226.00"),
            in_words="贰佰贰拾陆圆整",
        ),
        number_prefix="2611",
    )
    seller = SimpleNamespace(
        id=1, tax_id="91110108551385082Q", name="卖方", address="", phone="", bank="", account=""
    )
    row = rows.invoice_row(seller, prepared, "26111000000000000001")  # type: ignore[arg-type]
    assert set(row) == {c.key for c in Invoice.__table__.columns} - {"id"}
    assert row["total_with_tax"] == Decimal("226.00") and row["created_by"] == 7
    assert set(rows.line_row(line)) == {c.key for c in InvoiceLine.__table__.columns} - {
        "id",
        "invoice_id",
    }
