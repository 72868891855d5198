"""The shipped table of tax classification codes and their short names."""

from __future__ import annotations

import dataclasses
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fapiao.kit import taxcodes
from fapiao.kit.taxcodes import TaxCode, all_codes, is_well_formed, lookup, search


def test_table_loads_and_is_consistent() -> None:
    entries = all_codes()
    assert len(entries) >= 25
    codes = [entry.code for entry in entries]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    for entry in entries:
        assert is_well_formed(entry.code)
        assert entry.short_name
        assert entry.description
        assert "*" not in entry.short_name  # it is printed between asterisks


def test_data_file_is_a_package_resource_with_a_provenance_note() -> None:
    text = resources.files("fapiao.kit").joinpath("data/tax_codes.csv").read_text("utf-8")
    first = text.splitlines()[0]
    assert first.startswith("#")


def test_table_is_read_once() -> None:
    assert taxcodes._table() is taxcodes._table()


@pytest.mark.parametrize(
    ("code", "short_name"),
    [
        ("3040201990000000000", "其他软件服务"),
        ("3040201030000000000", "软件维护服务"),
        ("3040203000000000000", "信息系统服务"),
        ("3049900000000000000", "现代服务"),
        ("3070401000000000000", "餐饮服务"),
        ("3070402000000000000", "住宿服务"),
        ("3040801010000000000", "企业管理服务"),
        ("1010101010000000000", "谷物"),
        ("1070101010200000000", "汽油"),
    ],
)
def test_lookup_known_codes(code: str, short_name: str) -> None:
    entry = lookup(code)
    assert entry is not None
    assert entry.code == code
    assert entry.short_name == short_name


@pytest.mark.parametrize(
    "code",
    ["", "304020103", "3040201030000000000 ", "30402010300000000000", "9999999999999999999"],
)
def test_lookup_unknown_or_malformed(code: str) -> None:
    assert lookup(code) is None


def test_tax_code_is_frozen() -> None:
    entry = lookup("3070401000000000000")
    assert entry is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.short_name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("3040201030000000000", True),
        ("0000000000000000000", True),
        ("304020103000000000", False),
        ("30402010300000000000", False),
        ("304020103000000000A", False),
        ("３040201030000000000", False),  # full-width digit
        (" 304020103000000000", False),
        ("", False),
    ],
)
def test_is_well_formed(code: str, ok: bool) -> None:
    assert is_well_formed(code) is ok


def test_search_by_short_name_and_description() -> None:
    names = {entry.code for entry in search("住宿")}
    assert "3070402000000000000" in names
    # Former short names are kept in the description so that old wording still finds codes.
    former = search("信息技术服务", limit=100)
    assert {"3040201030000000000", "3040203000000000000"} <= {e.code for e in former}


def test_search_ranks_exact_code_first() -> None:
    results = search("3040201030000000000")
    assert results[0].code == "3040201030000000000"


def test_search_code_prefix_before_text_matches() -> None:
    results = search("30402", limit=100)
    assert results
    assert all(entry.code.startswith("30402") for entry in results)
    assert [e.code for e in results] == sorted(e.code for e in results)


def test_search_short_name_before_description() -> None:
    results = search("服务", limit=100)
    short_name_hits = [i for i, e in enumerate(results) if "服务" in e.short_name]
    other_hits = [i for i, e in enumerate(results) if "服务" not in e.short_name]
    assert short_name_hits and other_hits
    assert max(short_name_hits) < min(other_hits)


def test_search_limits_and_blank_queries() -> None:
    assert len(search("服务", limit=3)) == 3
    assert search("服务", limit=0) == []
    assert search("") == []
    assert search("   ") == []
    assert search("没有这个东西") == []
    assert search("  餐饮 ") == search("餐饮")
    with pytest.raises(ValueError):
        search("服务", limit=-1)


@given(st.text(max_size=6), st.integers(min_value=0, max_value=50))
def test_search_results_really_match(query: str, limit: int) -> None:
    results = search(query, limit=limit)
    assert len(results) <= limit
    needle = query.strip().casefold()
    for entry in results:
        assert isinstance(entry, TaxCode)
        assert needle in entry.code or needle in entry.short_name or needle in entry.description


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,name\n", "header"),
        ("code,short_name,description_zh\n123,餐饮服务,x\n", "19 digits"),
        ("code,short_name,description_zh\n3070401000000000000,,x\n", "no short name"),
        (
            "code,short_name,description_zh\n"
            "3070401000000000000,餐饮服务,x\n3070401000000000000,餐饮服务,y\n",
            "twice",
        ),
        ("code,short_name,description_zh\n3070401000000000000,餐饮服务\n", "columns"),
        ("# only a comment\n", "header"),
    ],
)
def test_bad_tables_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        taxcodes._parse(text)


def test_parse_skips_comments_and_sorts() -> None:
    table = taxcodes._parse(
        "# note\ncode,short_name,description_zh\n"
        "3070402000000000000,住宿服务,住宿服务\n# another note\n"
        '3070401000000000000,餐饮服务,"餐饮服务, 堂食"\n'
    )
    assert list(table) == ["3070401000000000000", "3070402000000000000"]
    assert table["3070401000000000000"].description == "餐饮服务, 堂食"
