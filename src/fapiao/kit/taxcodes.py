"""Tax classification codes (税收分类编码) and their short names (商品和服务分类简称).

Every invoice line carries a 19-digit code from the State Taxation Administration's table, and
its item name is printed as `*简称*名称`, where 简称 is the code's short name. This module ships
a small, hand-checked subset of that table (kit/data/tax_codes.csv; the file's header says where
it comes from) and looks codes up in it. A code missing here may still be a real code: callers
that need the full table must load it from the tax bureau's release.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["CODE_LENGTH", "TaxCode", "all_codes", "is_well_formed", "lookup", "search"]

CODE_LENGTH = 19
_DATA_PACKAGE = "fapiao.kit"
_DATA_FILE = "data/tax_codes.csv"
_COLUMNS = ("code", "short_name", "description_zh")


@dataclass(frozen=True, slots=True)
class TaxCode:
    """One row of the shipped table: the code, its 简称 and the item's description."""

    code: str
    short_name: str
    description: str


def is_well_formed(code: str) -> bool:
    """True when `code` is exactly 19 ASCII digits (the shape of every 税收分类编码).

    Says nothing about whether the code exists in the tax bureau's table.
    """
    return len(code) == CODE_LENGTH and code.isascii() and code.isdigit()


def lookup(code: str) -> TaxCode | None:
    """The shipped entry for `code`, or None when the code is malformed or not shipped."""
    return _table().get(code)


def search(query: str, limit: int = 20) -> list[TaxCode]:
    """Entries whose code, short name or description contains `query`, best matches first.

    Surrounding whitespace of `query` is ignored and a blank query matches nothing. Ranking:
    exact code, code prefix, short name, then description; ties keep code order. At most
    `limit` entries are returned; a negative limit raises ValueError.
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    needle = query.strip().casefold()
    if not needle or limit == 0:
        return []
    ranked: list[tuple[int, TaxCode]] = []
    for entry in _table().values():
        rank = _rank(entry, needle)
        if rank is not None:
            ranked.append((rank, entry))
    # sorted() is stable and the table is in code order, so equal ranks stay in code order.
    ranked.sort(key=lambda item: item[0])
    return [entry for _, entry in ranked[:limit]]


def all_codes() -> tuple[TaxCode, ...]:
    """Every shipped entry, in code order."""
    return tuple(_table().values())


def _rank(entry: TaxCode, needle: str) -> int | None:
    """How well `entry` matches the casefolded `needle` (lower is better), None if not at all."""
    if entry.code == needle:
        return 0
    if entry.code.startswith(needle):
        return 1
    if needle in entry.short_name.casefold():
        return 2
    if needle in entry.code or needle in entry.description.casefold():
        return 3
    return None


@cache
def _table() -> dict[str, TaxCode]:
    """The shipped table keyed by code, read once; raises ValueError when the file is bad."""
    # importlib.resources reads the file from the installed package (wheel, zip or source tree).
    text = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return _parse(text)


def _parse(text: str) -> dict[str, TaxCode]:
    """Parse the CSV text (comment lines start with #) into entries sorted by code."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = next(reader, None)
    if header is None or tuple(header) != _COLUMNS:
        raise ValueError(f"tax code table must start with the header {','.join(_COLUMNS)}")
    entries: dict[str, TaxCode] = {}
    for row in reader:
        if len(row) != len(_COLUMNS):
            raise ValueError(f"tax code table row has {len(row)} columns: {row!r}")
        code, short_name, description = (cell.strip() for cell in row)
        if not is_well_formed(code):
            raise ValueError(f"tax code {code!r} is not 19 digits")
        if not short_name:
            raise ValueError(f"tax code {code} has no short name")
        if code in entries:
            raise ValueError(f"tax code {code} is listed twice")
        entries[code] = TaxCode(code=code, short_name=short_name, description=description)
    return dict(sorted(entries.items()))
