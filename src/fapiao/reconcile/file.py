"""An enterprise's own list of issued invoices, read from CSV or XLSX as a stream.

The list is kept compactly for comparison with the platform: one dict from the invoice
number (as an int: numbers are exactly 20 digits) to a position in typed arrays, so a
million rows take some 150 MB rather than the gigabyte that objects per row would.
A bad row is recorded with its row number and field and the run goes on; only a file
that cannot be read as a list at all (unknown type, missing column) stops it."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import IO, Any

from fapiao.kit.errors import N_, FapiaoError, FieldError
from fapiao.kit.taxid import classify_tax_id

COLUMNS = ("number", "issue_date", "buyer_tax_id", "total_with_tax")
CHINESE = {
    "number": "发票号码",
    "issue_date": "开票日期",
    "buyer_tax_id": "购买方纳税人识别号",
    "total_with_tax": "价税合计",
}
_HEADERS = {**{name: name for name in COLUMNS}, **{zh: en for en, zh in CHINESE.items()}}
# Rows kept in detail per kind of finding; the counts are always complete.
DETAIL_LIMIT = 100_000
PROGRESS_EVERY = 20_000
HEADER_SEARCH_ROWS = 20
_MAX_CENTS = 10**17
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")

Progress = Callable[[str, int, int], None]  # (phase, done, total)


class FileUnusable(FapiaoError):
    """The file cannot be read as an invoice list at all."""

    status = 422


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    code: str
    message: str  # msgid, translated when shown
    value: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


@dataclass
class EnterpriseList:
    index: dict[int, int] = dataclass_field(default_factory=dict)  # number → position
    rows: array[int] = dataclass_field(default_factory=lambda: array("l"))
    days: array[int] = dataclass_field(default_factory=lambda: array("l"))  # date ordinals
    cents: array[int] = dataclass_field(default_factory=lambda: array("q"))
    buyers: list[str | None] = dataclass_field(default_factory=list)
    errors: list[RowError] = dataclass_field(default_factory=list)
    error_count: int = 0
    rows_read: int = 0
    # Numbers of rows that had a bad field: in the list, so never "missing in the list".
    unusable: set[int] = dataclass_field(default_factory=set)

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < DETAIL_LIMIT:
            self.errors.append(error)

    @property
    def date_range(self) -> tuple[date, date] | None:
        if not self.days:
            return None
        return date.fromordinal(min(self.days)), date.fromordinal(max(self.days))


class _Bad(Exception):
    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(code)
        self.code, self.message, self.params = code, message, params


def read_list(
    handle: IO[bytes], filename: str | None, today: date, progress: Progress | None = None
) -> EnterpriseList:
    """Read a seekable binary file of CSV or XLSX; raise FileUnusable when it is neither
    or a required column is missing."""
    head = handle.read(8)
    handle.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _parse(_xlsx_records(handle, progress), today)
    suffix = PurePath(filename or "").suffix.lower()
    text_like = b"\0" not in head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if suffix in ("", ".csv", ".txt", ".tsv") and text_like and head:
        return _parse(_csv_records(handle, progress), today)
    if not head:
        raise FileUnusable("FILE_EMPTY", N_("The file is empty."))
    raise FileUnusable(
        "UNSUPPORTED_FILE_TYPE",
        N_("Only CSV and XLSX files can be reconciled; save the list as one of them."),
        status=415,
    )


def _encoding(handle: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as it, else GB18030, which
    is what Chinese Excel writes for "CSV"."""
    head = handle.read(4)
    handle.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := handle.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        handle.seek(0)


def _csv_records(handle: IO[bytes], progress: Progress | None) -> Iterator[Sequence[Any]]:
    encoding = _encoding(handle)
    size = handle.seek(0, io.SEEK_END)
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    try:
        first = text.readline()
        text.seek(0)
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        for count, record in enumerate(csv.reader(text, delimiter=delimiter), start=1):
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress("read", handle.tell(), size)
            yield record
    except UnicodeDecodeError:
        raise FileUnusable(
            "FILE_ENCODING",
            N_("The file is neither UTF-8 nor GB18030 text; save it as CSV UTF-8."),
        ) from None
    except csv.Error as exc:
        raise FileUnusable(
            "FILE_UNREADABLE", N_("The file cannot be read: {reason}"), params={"reason": str(exc)}
        ) from None
    finally:
        text.detach()
    if progress is not None:
        progress("read", size, size)


def _xlsx_records(handle: IO[bytes], progress: Progress | None) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook  # imported here: the API and CLI start without it

    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileUnusable(
            "FILE_UNREADABLE", N_("The file cannot be read: {reason}"), params={"reason": str(exc)}
        ) from None

    def unusable(exc: Exception) -> FileUnusable:  # a damaged workbook, not a platform fault
        reason = f"{type(exc).__name__}: {exc}"
        return FileUnusable(
            "FILE_UNREADABLE", N_("The file cannot be read: {reason}"), params={"reason": reason}
        )

    try:
        try:
            sheet = book.worksheets[0]
            total = sheet.max_row or 0
            rows = sheet.iter_rows(values_only=True)
        except Exception as exc:  # no worksheet at all, or a damaged one
            raise unusable(exc) from None
        count = 0
        while True:
            try:
                record = next(rows)
            except StopIteration:
                break
            except Exception as exc:  # damaged XML inside the workbook
                raise unusable(exc) from None
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress("read", count, max(total, count))
            yield record
        if progress is not None:
            progress("read", total, total)
    finally:
        book.close()


def _columns(records: Iterator[Sequence[Any]]) -> tuple[dict[str, int], int]:
    """Find the header row (the first of the first rows naming every required column;
    exports often put a title above it) and return the column positions and its row."""
    first: list[str] | None = None
    for row_no, record in enumerate(records, start=1):
        cells = ["" if cell is None else str(cell).strip().lstrip("\ufeff") for cell in record]
        if not any(cells):
            continue
        found: dict[str, int] = {}
        for position, cell in enumerate(cells):
            name = _HEADERS.get(cell) or _HEADERS.get(cell.lower())
            if name is not None and name not in found:
                found[name] = position
        if len(found) == len(COLUMNS):
            return found, row_no
        if first is None:
            first = cells
        if row_no >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise FileUnusable("FILE_EMPTY", N_("The file has no rows."))
    present = {_HEADERS.get(cell) or _HEADERS.get(cell.lower()) for cell in first}
    missing = [name for name in COLUMNS if name not in present]
    raise FileUnusable(
        "COLUMNS_MISSING",
        N_("The file lacks required columns: {columns}."),
        params={"columns": ", ".join(f"{name} ({CHINESE[name]})" for name in missing)},
        errors=[
            FieldError(
                name,
                "COLUMN_MISSING",
                N_("Add a column headed {english} or {chinese}."),
                {"english": name, "chinese": CHINESE[name]},
            )
            for name in missing
        ],
    )


def _parse(records: Iterator[Sequence[Any]], today: date) -> EnterpriseList:
    columns, header_row = _columns(records)
    n_at, d_at, b_at, t_at = (columns[name] for name in COLUMNS)
    width = max(columns.values()) + 1
    result = EnterpriseList()
    index, rows, days, cents_of, buyers = (
        result.index,
        result.rows,
        result.days,
        result.cents,
        result.buyers,
    )
    day_cache: dict[Any, int] = {}
    buyer_cache: dict[Any, str | None] = {"": None, None: None}
    for row_no, record in enumerate(records, start=header_row + 1):
        if len(record) < width:
            if not any(cell not in (None, "") for cell in record):
                continue
            record = [*record, *([None] * (width - len(record)))]
        cells = (record[n_at], record[d_at], record[b_at], record[t_at])
        if all(cell is None or cell == "" for cell in cells):
            continue
        result.rows_read += 1
        bad: list[tuple[str, _Bad]] = []
        try:
            number = _number(cells[0])
        except _Bad as problem:
            number = None
            bad.append(("number", problem))
        day = day_cache.get(cells[1])
        if day is None:
            try:
                day = day_cache[cells[1]] = _day(cells[1])
            except _Bad as problem:
                bad.append(("issue_date", problem))
        buyer_cell = cells[2]
        if buyer_cell in buyer_cache:
            buyer = buyer_cache[buyer_cell]
        else:
            try:
                buyer = buyer_cache[buyer_cell] = _buyer(buyer_cell, today)
            except _Bad as problem:
                buyer = None
                bad.append(("buyer_tax_id", problem))
        try:
            cents = _cents(cells[3])
        except _Bad as problem:
            cents = 0
            bad.append(("total_with_tax", problem))
        if number is not None and not bad and number in index:
            first_row = rows[index[number]]
            bad.append(("number", _Bad("DUPLICATE_NUMBER", _DUPLICATE, first=first_row)))
            number = None  # the first row stands; this one is reported
        if bad:
            if number is not None:
                result.unusable.add(number)
            for name, issue in bad:
                value = cells[COLUMNS.index(name)]
                shown = "" if value is None else str(value)
                result.add_error(
                    RowError(row_no, name, issue.code, issue.message, shown, issue.params)
                )
            continue
        assert number is not None and day is not None
        index[number] = len(rows)
        rows.append(row_no)
        days.append(day)
        cents_of.append(cents)
        buyers.append(buyer)
    if result.rows_read == 0:  # a header and nothing under it: no dates, nothing to compare
        raise FileUnusable("LIST_EMPTY", N_("The list has no invoices under its header row."))
    return result


_DUPLICATE = N_("The number already appears in row {first}.")


def _number(cell: Any) -> int:
    if type(cell) is str and len(cell) == 20 and cell.isascii() and cell.isdigit():
        return int(cell)
    if isinstance(cell, int) and not isinstance(cell, bool) and 10**19 <= cell < 10**20:
        return cell
    text = "" if cell is None else str(cell).strip()
    if isinstance(cell, float) or re.fullmatch(r"[\d.]+[eE]\+?\d+", text):
        raise _Bad(
            "NUMBER_LOST_DIGITS",
            N_("The number was stored as a number and lost digits; format the column as text."),
        )
    # Excel's ways of keeping a number as text: ="…" and a leading apostrophe.
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    text = text.lstrip("'")
    if len(text) == 20 and text.isascii() and text.isdigit():
        return int(text)
    if not text:
        raise _Bad("FIELD_REQUIRED", N_("This field is required."))
    raise _Bad("NUMBER_INVALID", N_("An invoice number has 20 digits."))


def _day(cell: Any) -> int:
    if isinstance(cell, datetime):
        return cell.date().toordinal()
    if isinstance(cell, date):
        return cell.toordinal()
    text = "" if cell is None else str(cell).strip()
    if not text:
        raise _Bad("FIELD_REQUIRED", N_("This field is required."))
    text = text.split(" ")[0].split("T")[0] if len(text) > 11 else text
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:])).toordinal()
        found = _DATE_RE.match(text)
        if found:
            year, month, day = (int(part) for part in found.groups())
            return date(year, month, day).toordinal()
    except ValueError:
        pass
    raise _Bad("DATE_INVALID", N_("Must be a date written YYYY-MM-DD."))


def _buyer(cell: Any, today: date) -> str | None:
    text = "" if cell is None else str(cell).strip()
    if not text:
        return None  # a natural person without a tax ID
    if classify_tax_id(text, today=today) is None:
        raise _Bad("TAX_ID_INVALID", N_("Not a valid taxpayer identification number."))
    return text


def _cents(cell: Any) -> int:
    if isinstance(cell, bool):
        raise _Bad("AMOUNT_INVALID", N_("Not a decimal number."))
    if isinstance(cell, int):
        value = Decimal(cell)
    elif isinstance(cell, float):
        # Excel keeps amounts as binary floats; a real amount is within a hair of a cent.
        cents = round(cell * 100)
        if abs(cell * 100 - cents) > 1e-6 or abs(cents) >= _MAX_CENTS:
            raise _Bad("TOO_MANY_DECIMALS", N_("At most {places} decimal places."), places=2)
        return int(cents)
    else:
        text = "" if cell is None else str(cell).strip().replace(",", "").lstrip("¥￥")
        if not text:
            raise _Bad("FIELD_REQUIRED", N_("This field is required."))
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _Bad("AMOUNT_INVALID", N_("Not a decimal number.")) from None
        if not value.is_finite() or "_" in text:
            raise _Bad("AMOUNT_INVALID", N_("Not a decimal number."))
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise _Bad("TOO_MANY_DECIMALS", N_("At most {places} decimal places."), places=2)
    if abs(scaled) >= _MAX_CENTS:
        raise _Bad("AMOUNT_TOO_LARGE", N_("The amount is too large."))
    return int(scaled)
