"""Taxpayer identification numbers: USCC, resident ID, legacy numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fapiao.kit.taxid import (
    USCC_ALPHABET,
    classify_tax_id,
    describe_uscc_error,
    is_valid_legacy_tax_id,
    is_valid_resident_id,
    is_valid_uscc,
    uscc_check_char,
)

TODAY = date(2025, 6, 30)
KNOWN_USCC = "91110108551385082Q"
KNOWN_RESIDENT_ID = "11010519491231002X"  # the worked example of GB 11643-1999


# --- independent reference implementations (different formulations from the module) -------


def _uscc_check_reference(body: str) -> str:
    total = 0
    weight = 1
    for char in body:
        total += USCC_ALPHABET.index(char) * weight
        weight = weight * 3 % 31
    return USCC_ALPHABET[-total % 31]


def _resident_check_reference(body: str) -> str:
    # ISO 7064 MOD 11-2 computed the recursive way.
    p = 0
    for char in body:
        p = (p + int(char)) * 2 % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


def _org_check_reference(body: str) -> str:
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    c9 = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


# --- USCC ----------------------------------------------------------------------------------


def test_known_uscc_is_valid() -> None:
    assert is_valid_uscc(KNOWN_USCC)
    assert uscc_check_char(KNOWN_USCC[:17]) == "Q"
    assert describe_uscc_error(KNOWN_USCC) is None
    assert classify_tax_id(KNOWN_USCC, today=TODAY) == "uscc"


@pytest.mark.parametrize(
    "body",
    [
        "N2110108MA0043365",  # farmers' cooperative
        "Y1110000MA01ABCDE",  # other registration authority
        "A1440300MA5FXY123",
        "5111000050000123X",  # social organisation registered with civil affairs
    ],
)
def test_letter_prefixed_codes_are_valid(body: str) -> None:
    code = body + uscc_check_char(body)
    assert is_valid_uscc(code)
    assert classify_tax_id(code, today=TODAY) == "uscc"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("", "LENGTH"),
        ("91110108551385082", "LENGTH"),
        ("91110108551385082QQ", "LENGTH"),
        (" 91110108551385082Q", "LENGTH"),
        ("91110108551385082q", "CHARSET"),
        ("9111010855138508 Q", "CHARSET"),
        ("9111010855138508IQ", "CHARSET"),  # I, O, S, V, Z are not in the alphabet
        ("911101085513850O2Q", "CHARSET"),
        ("91110108551385082S", "CHARSET"),
        ("9111010Z551385082Q", "CHARSET"),
        ("911101A8551385082Q", "REGION"),
        ("91A10108551385082Q", "REGION"),
        ("91110108551385082R", "CHECK_CHAR"),
        ("91110108551385083Q", "CHECK_CHAR"),
    ],
)
def test_describe_uscc_error(code: str, error: str) -> None:
    assert describe_uscc_error(code) == error
    assert not is_valid_uscc(code)


@pytest.mark.parametrize(
    "body", ["", "1234567890123456", "123456789012345678", "9111010855138508i"]
)
def test_check_char_rejects_bad_bodies(body: str) -> None:
    with pytest.raises(ValueError):
        uscc_check_char(body)


alphabet = st.sampled_from(USCC_ALPHABET)
digit = st.sampled_from("0123456789")
uscc_bodies = st.tuples(
    # The first character is a registration authority: never 0.
    alphabet.filter(lambda char: char != "0"),
    st.text(alphabet, min_size=1, max_size=1),
    st.text(digit, min_size=6, max_size=6),
    st.text(alphabet, min_size=9, max_size=9),
).map("".join)


@given(uscc_bodies)
def test_any_body_with_its_check_char_is_valid(body: str) -> None:
    check = uscc_check_char(body)
    assert check == _uscc_check_reference(body)
    assert is_valid_uscc(body + check)


@given(uscc_bodies, st.integers(min_value=0, max_value=17), alphabet)
def test_changing_one_char_invalidates(body: str, position: int, replacement: str) -> None:
    code = body + uscc_check_char(body)
    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid_uscc(changed)
    expected = {"REGION", "CHECK_CHAR"} | ({"CHARSET"} if changed[0] == "0" else set())
    assert describe_uscc_error(changed) in expected


@given(uscc_bodies, st.integers(min_value=0, max_value=16))
def test_swapping_neighbours_invalidates(body: str, position: int) -> None:
    code = body + uscc_check_char(body)
    assume(code[position] != code[position + 1])
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert not is_valid_uscc(swapped)


# --- resident ID ---------------------------------------------------------------------------


def _resident(region: str, birth: str, sequence: str) -> str:
    body = region + birth + sequence
    return body + _resident_check_reference(body)


def test_known_resident_id_is_valid() -> None:
    assert is_valid_resident_id(KNOWN_RESIDENT_ID, today=TODAY)
    assert classify_tax_id(KNOWN_RESIDENT_ID, today=TODAY) == "resident_id"


def test_default_today_accepts_an_old_birth_date() -> None:
    assert is_valid_resident_id(KNOWN_RESIDENT_ID)


@pytest.mark.parametrize(
    "number",
    [
        _resident("440305", "20000229", "123"),  # leap day
        _resident("810000", "19850101", "001"),  # Hong Kong residence permit
        _resident("650102", "19000101", "999"),  # earliest accepted birth date
        _resident("310101", "20250630", "010"),  # born today
    ],
)
def test_valid_resident_ids(number: str) -> None:
    assert is_valid_resident_id(number, today=TODAY)


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002x",  # lowercase check character
        "11010519491231002",  # too short
        "11010519491231002XX",
        " 11010519491231002X",
        "110105194912310021",  # wrong check digit
        "1101051949123100X2",  # X only in the last place
        _resident("990105", "19491231", "002"),  # no such province
        _resident("000105", "19491231", "002"),
        _resident("110105", "19490230", "002"),  # 30 February
        _resident("110105", "19001301", "002"),  # month 13
        _resident("110105", "18991231", "002"),  # before 1900
        _resident("110105", "20250701", "002"),  # after today
        "1101051949123100２X",  # full-width digit
    ],
)
def test_invalid_resident_ids(number: str) -> None:
    assert not is_valid_resident_id(number, today=TODAY)


resident_bodies = st.builds(
    lambda region, born, sequence: region + born.strftime("%Y%m%d") + f"{sequence:03d}",
    st.sampled_from(["110105", "310115", "440305", "510107", "650102", "820000"]),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)


@given(resident_bodies)
def test_any_resident_body_with_its_check_is_valid(body: str) -> None:
    assert is_valid_resident_id(body + _resident_check_reference(body), today=TODAY)


@given(resident_bodies, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_changing_one_resident_char_invalidates(body: str, position: int, new: str) -> None:
    number = body + _resident_check_reference(body)
    assume(number[position] != new)
    changed = number[:position] + new + number[position + 1 :]
    assert not is_valid_resident_id(changed, today=TODAY)


# --- legacy numbers ------------------------------------------------------------------------


def test_legacy_fifteen_from_an_organisation_code() -> None:
    # 110108 + organisation code 55138508-2, the same organisation as KNOWN_USCC.
    assert is_valid_legacy_tax_id("110108551385082")
    assert classify_tax_id("110108551385082", today=TODAY) == "legacy"


@pytest.mark.parametrize(
    "number",
    [
        "110108551385083",  # wrong organisation check character
        "11010855138508X",
        "1101A8551385082",  # region must be digits
        "110108551385082 ",
        "110108a51385082",  # lowercase
        "1101085513850820",  # 16 characters
        "1101051949123100ZZ",  # 18 characters is not a legacy length
        "12345678901234",  # 14 characters
        "1234567890123456789",  # 19 characters
        "123456789012345678901",  # 21 characters
        "1101085513850８2",  # full-width digit
    ],
)
def test_invalid_legacy_numbers(number: str) -> None:
    assert not is_valid_legacy_tax_id(number)


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002",  # 17: a 15-digit ID number plus two digits (format only)
        "11010519491231002X01",  # 20: an 18-character ID number plus two digits
        "ABCDEFGHIJKLMNOPQRST",
    ],
)
def test_legacy_seventeen_and_twenty_are_format_checks(number: str) -> None:
    assert is_valid_legacy_tax_id(number)
    assert classify_tax_id(number, today=TODAY) == "legacy"


@given(st.text(st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"), min_size=8, max_size=8))
def test_org_code_check(body: str) -> None:
    check = _org_check_reference(body)
    assert is_valid_legacy_tax_id("110108" + body + check)
    for other in "0123456789X":
        if other != check:
            assert not is_valid_legacy_tax_id("110108" + body + other)


# --- classification ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["", "abc", "91110108551385082R", "91110108551385082q", " 91110108551385082Q", "123"],
)
def test_classify_rejects(value: str) -> None:
    assert classify_tax_id(value, today=TODAY) is None


def test_string_valid_as_both_is_reported_as_uscc() -> None:
    """An all-digit resident ID can also carry a matching USCC check character."""
    for sequence in range(1000):
        number = _resident("110105", "19800101", f"{sequence:03d}")
        if number[17] in USCC_ALPHABET and uscc_check_char(number[:17]) == number[17]:
            break
    else:  # pragma: no cover - the search space is large enough
        pytest.fail("no ambiguous number found")
    assert is_valid_resident_id(number, today=TODAY)
    assert classify_tax_id(number, today=TODAY) == "uscc"
