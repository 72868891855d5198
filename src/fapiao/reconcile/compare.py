"""An enterprise's list against the seller's invoices on the platform.

The platform side is every invoice of the seller issued over the dates the list covers,
read in one ordered pass over the (seller, issue date, id) index in bounded chunks; a
number the list has that the pass did not meet is then looked up by number (its date on
the platform may lie outside the list's range, which is a difference, not a gap)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, String, func, select, type_coerce
from sqlalchemy.orm import Session

from fapiao.invoices.models import Invoice
from fapiao.reconcile.file import DETAIL_LIMIT, EnterpriseList, Progress

CHUNK = 20_000
LOOKUP_CHUNK = 500
NORMAL = "normal"
COUNTS = (
    "rows",
    "valid_rows",
    "row_errors",
    "platform_invoices",
    "matched",
    "missing_on_platform",
    "missing_in_list",
    "with_differences",
    "differences",
)

_T = Invoice.__table__
# Raw values, no per-row conversion by SQLAlchemy: cents as stored (the Cents type would
# make a Decimal of every amount), the date as the driver gives it (text on SQLite, a date
# on PostgreSQL; see _ordinal).
_COLUMNS = (
    _T.c.number,
    type_coerce(_T.c.issue_date, String()),
    _T.c.buyer_tax_id,
    type_coerce(_T.c.total_with_tax, BigInteger()),
    _T.c.status,
    # Decrypted only where set: a natural person's ID, in place of its blind index.
    _T.c.buyer_id_number,
)


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


@dataclass
class Findings:
    """What a reconciliation found: complete counts and, per kind, up to DETAIL_LIMIT
    rows of detail as plain lists (they are stored as JSON)."""

    date_from: str | None = None
    date_to: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    # [row, number, issue_date, buyer_tax_id, total_with_tax]
    missing_on_platform: list[list[Any]] = field(default_factory=list)
    # [number, issue_date, buyer_tax_id, total_with_tax, platform status]
    missing_in_list: list[list[Any]] = field(default_factory=list)
    # [row, number, field, enterprise value, platform value, platform status]
    differences: list[list[Any]] = field(default_factory=list)
    # [row, field, code, message id, value, params]
    row_errors: list[list[Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        counts = self.counts
        return not any(
            counts[name]
            for name in ("row_errors", "missing_on_platform", "missing_in_list", "differences")
        )

    @property
    def truncated(self) -> bool:
        """True when some kind has more findings than are listed."""
        listed = (
            ("missing_on_platform", self.missing_on_platform),
            ("missing_in_list", self.missing_in_list),
            ("differences", self.differences),
            ("row_errors", self.row_errors),
        )
        return any(self.counts[name] > len(rows) for name, rows in listed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "counts": self.counts,
            "missing_on_platform": self.missing_on_platform,
            "missing_in_list": self.missing_in_list,
            "differences": self.differences,
            "row_errors": self.row_errors,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Findings:
        return cls(**data)


def _ordinal(value: str | date) -> int:
    return (date.fromisoformat(value) if isinstance(value, str) else value).toordinal()


class _Comparison:
    def __init__(self, listing: EnterpriseList) -> None:
        self.listing = listing
        self.findings = Findings()
        self.counts = self.findings.counts

    def platform_only(
        self, number: str, day: int, buyer: str | None, cents: int, status: str
    ) -> None:
        self.counts["missing_in_list"] += 1
        if len(self.findings.missing_in_list) < DETAIL_LIMIT:
            shown = date.fromordinal(day).isoformat()
            self.findings.missing_in_list.append([number, shown, buyer or "", money(cents), status])

    def differs(
        self, position: int, number: str, day: int, buyer: str | None, cents: int, status: str
    ) -> bool:
        """Record how the platform's invoice differs from the list's row; False if not."""
        listing = self.listing
        found: list[tuple[str, str, str]] = []
        if listing.days[position] != day:
            theirs = date.fromordinal(listing.days[position]).isoformat()
            found.append(("issue_date", theirs, date.fromordinal(day).isoformat()))
        if listing.buyers[position] != (buyer or None):
            found.append(("buyer_tax_id", listing.buyers[position] or "", buyer or ""))
        if listing.cents[position] != cents:
            found.append(("total_with_tax", money(listing.cents[position]), money(cents)))
        if status != NORMAL:
            found.append(("status", "", status))
        if found:
            self.counts["with_differences"] += 1
            self.counts["differences"] += len(found)
            row = listing.rows[position]
            for name, theirs, ours in found:
                if len(self.findings.differences) < DETAIL_LIMIT:
                    self.findings.differences.append([row, number, name, theirs, ours, status])
        return bool(found)


def compare(
    session: Session, seller_id: int, listing: EnterpriseList, progress: Progress | None = None
) -> Findings:
    """Compare `listing` (consumed: its index is emptied) with the seller's invoices."""
    work = _Comparison(listing)
    findings, counts = work.findings, work.counts
    counts["rows"] = listing.rows_read
    counts["valid_rows"] = len(listing.rows)
    counts["row_errors"] = listing.error_count
    findings.row_errors = [
        [error.row, error.field, error.code, error.message, error.value, error.params]
        for error in listing.errors
    ]
    span = listing.date_range
    if span is not None:
        findings.date_from, findings.date_to = span[0].isoformat(), span[1].isoformat()
        where = (_T.c.seller_id == seller_id, _T.c.issue_date.between(span[0], span[1]))
        total = 0
        if progress is not None:
            total = session.scalar(select(func.count()).select_from(_T).where(*where)) or 0
        query = select(*_COLUMNS).where(*where).order_by(_T.c.issue_date, _T.c.id)
        result = session.execute(query, execution_options={"yield_per": CHUNK})
        done = 0
        for chunk in result.partitions():
            _scan(work, chunk)
            done += len(chunk)
            if progress is not None:
                progress("compare", done, max(total, done))
        counts["platform_invoices"] = done
    _look_up_the_rest(session, seller_id, work)
    findings.differences.sort(key=lambda item: item[0])
    return findings


def _scan(work: _Comparison, chunk: Sequence[Any]) -> None:
    """The hot loop: one platform invoice at a time, a clean match in a few comparisons."""
    listing = work.listing
    index, unusable = listing.index, listing.unusable
    days, buyers, cents_of = listing.days, listing.buyers, listing.cents
    ordinals: dict[Any, int] = {}
    matched = 0
    for number, day, buyer, cents, status, id_number in chunk:
        if id_number:
            buyer = id_number
        ordinal = ordinals.get(day)
        if ordinal is None:
            ordinal = ordinals[day] = _ordinal(day)
        key = int(number)
        position = index.pop(key, None)
        if position is None:
            if key not in unusable:
                work.platform_only(number, ordinal, buyer, cents, status)
            continue
        matched += 1
        if (
            days[position] != ordinal
            or cents_of[position] != cents
            or buyers[position] != (buyer or None)
            or status != NORMAL
        ):
            work.differs(position, number, ordinal, buyer, cents, status)
    work.counts["matched"] += matched


def _look_up_the_rest(session: Session, seller_id: int, work: _Comparison) -> None:
    listing, findings, counts = work.listing, work.findings, work.counts
    rest = list(listing.index.items())  # in the order of the file's rows
    for start in range(0, len(rest), LOOKUP_CHUNK):
        part = rest[start : start + LOOKUP_CHUNK]
        numbers = [f"{number:020d}" for number, _ in part]
        query = select(*_COLUMNS).where(_T.c.seller_id == seller_id, _T.c.number.in_(numbers))
        elsewhere = {row[0]: row for row in session.execute(query)}
        for (_, position), text in zip(part, numbers, strict=True):
            found = elsewhere.get(text)
            if found is not None:
                counts["platform_invoices"] += 1
                counts["matched"] += 1
                day = _ordinal(found[1])
                work.differs(position, text, day, found[5] or found[2], found[3], found[4])
                continue
            counts["missing_on_platform"] += 1
            if len(findings.missing_on_platform) < DETAIL_LIMIT:
                findings.missing_on_platform.append(
                    [
                        listing.rows[position],
                        text,
                        date.fromordinal(listing.days[position]).isoformat(),
                        listing.buyers[position] or "",
                        money(listing.cents[position]),
                    ]
                )
    listing.index.clear()
