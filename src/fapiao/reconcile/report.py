"""The reconciliation report as an XLSX workbook, in the reader's language: a summary,
then one sheet per kind of finding. Written row by row (openpyxl's write-only mode), so
the report of a large list never exists as cell objects in memory."""

from __future__ import annotations

import io
from typing import Any

from fapiao.kit.errors import N_
from fapiao.kit.i18n import translate
from fapiao.reconcile.compare import Findings
from fapiao.reconcile.file import DETAIL_LIMIT

FIELD_LABELS = {
    "number": N_("Invoice number"),
    "issue_date": N_("Issue date"),
    "buyer_tax_id": N_("Buyer tax ID"),
    "total_with_tax": N_("Total with tax"),
    "status": N_("Platform status"),
}
STATUS_LABELS = {
    "normal": N_("Normal"),
    "voided": N_("Voided"),
    "partially_reversed": N_("Partially reversed"),
    "fully_reversed": N_("Fully reversed"),
}
COUNT_LABELS = {
    "rows": N_("Rows in the list"),
    "valid_rows": N_("Rows read"),
    "row_errors": N_("Rows with errors"),
    "platform_invoices": N_("Invoices on the platform"),
    "matched": N_("Invoices in both"),
    "missing_on_platform": N_("Missing on the platform"),
    "missing_in_list": N_("Missing in the list"),
    "with_differences": N_("Invoices with differences"),
    "differences": N_("Differences"),
}
ROW = N_("Row")


def status_label(status: str, locale: str) -> str:
    return translate(STATUS_LABELS[status], locale) if status in STATUS_LABELS else status


def field_label(name: str, locale: str) -> str:
    return translate(FIELD_LABELS[name], locale) if name in FIELD_LABELS else name


class _Sheet:
    """A write-only sheet whose text cells never become formulas: text that a spreadsheet
    would run (=, +, -, @ first) gets a leading apostrophe. An uploaded cell must never turn
    into a live formula in a report that clerks and officers open."""

    def __init__(self, sheet: Any) -> None:
        self._sheet = sheet

    def append(self, values: Any) -> None:
        self._sheet.append([_inert(value) for value in values])


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _sheet(book: Any, title: str) -> _Sheet:
    return _Sheet(book.create_sheet(title))


def error_message(error: list[Any], locale: str) -> str:
    """A stored row error ([row, field, code, message id, value, params]) in words."""
    return translate(error[3], locale, **error[5])


def summary_rows(
    findings: Findings, locale: str, taxpayer: str, filename: str
) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        (translate(N_("Seller"), locale), taxpayer),
        (translate(N_("File"), locale), filename),
        (translate(N_("From"), locale), findings.date_from or ""),
        (translate(N_("To"), locale), findings.date_to or ""),
    ]
    rows += [
        (translate(label, locale), findings.counts[name]) for name, label in COUNT_LABELS.items()
    ]
    verdict = N_("The list and the platform agree.") if findings.clean else N_("Differences found.")
    rows.append((translate(N_("Result"), locale), translate(verdict, locale)))
    if findings.truncated:
        note = N_("Each sheet lists at most {limit} rows; the counts above are complete.")
        rows.append(("", translate(note, locale, limit=DETAIL_LIMIT)))
    return rows


def write_xlsx(findings: Findings, locale: str, taxpayer: str, filename: str) -> bytes:
    from openpyxl import Workbook  # imported here: the API and CLI start without it

    def tr(message: str) -> str:
        return translate(message, locale)

    book = Workbook(write_only=True)
    summary = _sheet(book, tr(N_("Summary")))
    for label, value in summary_rows(findings, locale, taxpayer, filename):
        summary.append([label, value])

    number, day, buyer, total = (
        tr(FIELD_LABELS[name]) for name in FIELD_LABELS if name != "status"
    )
    status = tr(FIELD_LABELS["status"])
    sheet = _sheet(book, tr(N_("Missing on platform")))
    sheet.append([tr(ROW), number, day, buyer, total])
    for item in findings.missing_on_platform:
        sheet.append(item)

    sheet = _sheet(book, tr(N_("Missing in list")))
    sheet.append([number, day, buyer, total, status])
    for *values, state in findings.missing_in_list:
        sheet.append([*values, status_label(state, locale)])

    sheet = _sheet(book, tr(N_("Differences")))
    sheet.append(
        [tr(ROW), number, tr(N_("Field")), tr(N_("In the list")), tr(N_("On the platform")), status]
    )
    for row, text, name, theirs, ours, state in findings.differences:
        if name == "status":
            ours = status_label(ours, locale)
        sheet.append(
            [row, text, field_label(name, locale), theirs, ours, status_label(state, locale)]
        )

    sheet = _sheet(book, tr(N_("Row errors")))
    sheet.append([tr(ROW), tr(N_("Field")), tr(N_("Code")), tr(N_("Problem")), tr(N_("Value"))])
    for error in findings.row_errors:
        sheet.append(
            [
                error[0],
                field_label(error[1], locale),
                error[2],
                error_message(error, locale),
                error[4],
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
