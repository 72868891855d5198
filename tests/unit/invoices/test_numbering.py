"""Invoice number layout (domain.md §2)."""

from __future__ import annotations

from datetime import date

import pytest

from fapiao.invoices.numbering import format_number, parse_number, prefix_for


def test_layout() -> None:
    prefix = prefix_for(date(2026, 11, 10), "11", "1")
    assert prefix == "26111"
    number = format_number(prefix, 186599318)
    assert number == "26111000000186599318" and len(number) == 20
    parts = parse_number(number)
    assert parts is not None
    assert (parts.year, parts.region, parts.channel, parts.sequence) == (2026, "11", "1", 186599318)
    assert str(parts) == number


def test_samples_from_other_regions_parse() -> None:
    parts = parse_number("24312000000136634917")
    assert parts is not None and parts.region == "31" and parts.year == 2024


@pytest.mark.parametrize(
    "bad", ["2611100000000000001", "261110000000000000011", "2611100000000000000X", ""]
)
def test_malformed(bad: str) -> None:
    assert parse_number(bad) is None


def test_sequence_bounds() -> None:
    with pytest.raises(ValueError):
        format_number("26111", 0)
    with pytest.raises(ValueError):
        format_number("26111", 10**15)
