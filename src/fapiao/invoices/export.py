"""An invoice list as a spreadsheet: CSV (UTF-8 with a byte-order mark, so Excel reads the
Chinese names) or XLSX. Headers and the words for kind, medium and status are in the
caller's language; amounts are exact decimals; a text cell that a spreadsheet would run as a
formula is kept as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Final

from openpyxl import Workbook
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.audit.export import as_text
from fapiao.crypto.personal import shown_buyer_id
from fapiao.invoices import listing
from fapiao.invoices.models import Invoice
from fapiao.kit.errors import N_, invalid
from fapiao.kit.i18n import translate
from fapiao.platform import Platform

MAX_ROWS: Final = 100_000
FORMATS: Final = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_KINDS: Final[dict[str, str]] = {"special": N_("special"), "ordinary": N_("ordinary")}
_MEDIA: Final[dict[str, str]] = {"electronic": N_("electronic"), "paper": N_("paper")}
_STATUSES: Final[dict[str, str]] = {
    "normal": N_("normal"),
    "partially_reversed": N_("partially reversed"),
    "fully_reversed": N_("fully reversed"),
    "voided": N_("voided"),
}

# (header, value of an invoice); headers are messages, translated per caller.
COLUMNS: Final[tuple[tuple[str, Callable[[Invoice], Any]], ...]] = (
    (N_("Invoice number"), lambda inv: inv.number),
    (N_("Issue date"), lambda inv: inv.issue_date.isoformat()),
    (N_("Kind"), lambda inv: _KINDS[inv.kind]),
    (N_("Medium"), lambda inv: _MEDIA[inv.medium]),
    (N_("Status"), lambda inv: _STATUSES.get(inv.status, inv.status)),
    (N_("Seller tax ID"), lambda inv: inv.seller_tax_id),
    (N_("Seller"), lambda inv: inv.seller_name),
    (N_("Buyer tax ID"), lambda inv: shown_buyer_id(inv) or ""),
    (N_("Buyer"), lambda inv: inv.buyer_name),
    (N_("Amount before tax"), lambda inv: inv.total_amount),
    (N_("Tax"), lambda inv: inv.total_tax),
    (N_("Total with tax"), lambda inv: inv.total_with_tax),
    (N_("Reverses invoice"), lambda inv: inv.red_of or ""),
    (N_("Certified for period"), lambda inv: inv.cert_period or ""),
)


def rows(invoices: Iterable[Invoice], locale: str) -> Iterable[list[Any]]:
    """The header row, then one row per invoice, translated into `locale`."""
    yield [translate(header, locale) for header, _ in COLUMNS]
    for invoice in invoices:
        row = []
        for index, (_, value_of) in enumerate(COLUMNS):
            value = value_of(invoice)
            if 2 <= index <= 4:  # kind, medium, status: words of the catalogue
                value = translate(value, locale)
            row.append(value)
        yield row


def _cell(value: Any) -> Any:
    return as_text(value) if isinstance(value, str) else value


def to_csv(table: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in table:
        writer.writerow([_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Iterable[list[Any]], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in table:
        # A Decimal is written as the exact number it is; strings never as formulas.
        sheet.append([_cell(value) if not isinstance(value, Decimal) else value for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export(
    platform: Platform, actor: Actor, filters: listing.ListFilter, format: str, locale: str
) -> tuple[bytes, str]:
    """The actor's invoices passing `filters` as a `format` (csv, xlsx) file, and the file's
    name; the same for the API and the web page. More than MAX_ROWS: EXPORT_TOO_LARGE."""

    def work(session: Session) -> list[list[Any]]:
        query = listing.matching(session, actor, filters)
        if query is None:
            return list(rows([], locale))
        found = list(session.scalars(listing.ordered(query, filters.sort).limit(MAX_ROWS + 1)))
        if len(found) > MAX_ROWS:
            raise invalid(
                "to",
                "EXPORT_TOO_LARGE",
                N_("More than {max} invoices match; choose a shorter date range."),
                max=MAX_ROWS,
            )
        return list(rows(found, locale))

    table = platform.database.read(work)
    name = f"invoices-{filters.direction}-{platform.clock.now().strftime('%Y%m%d')}.{format}"
    body = to_csv(table) if format == "csv" else to_xlsx(table, filters.direction)
    return body, name
