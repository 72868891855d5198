"""Taxpayer identification numbers as they appear in the buyer and seller boxes of an invoice.

Three kinds are recognised, each with its own check:

* the unified social credit code (统一社会信用代码, GB 32100-2015) of organisations: 18
  characters, check character mod 31;
* the PRC resident identity card number (公民身份号码, GB 11643-1999) of natural persons:
  18 characters, ISO 7064 MOD 11-2 check;
* legacy taxpayer identification numbers (15, 17 or 20 characters) that predate the USCC.

Nothing is normalised: callers pass the exact string, so surrounding whitespace and lowercase
letters make a number invalid rather than being silently repaired.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal

from fapiao.kit.clock import CST

__all__ = [
    "USCC_ALPHABET",
    "TaxIdKind",
    "UsccError",
    "classify_tax_id",
    "describe_uscc_error",
    "is_valid_legacy_tax_id",
    "is_valid_resident_id",
    "is_valid_uscc",
    "uscc_check_char",
]

# GB 32100-2015 leaves out I, O, S, V and Z so that they cannot be misread as 1, 0, 5, U and 2.
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE: Final = {char: value for value, char in enumerate(USCC_ALPHABET)}
# Weight of position i (1-based) is 3**(i-1) mod 31.
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))

# GB 11643-1999: weight of position i (1-based, left to right) is 2**(18-i) mod 11.
_RESIDENT_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_RESIDENT_CHECK: Final = "10X98765432"  # indexed by (weighted sum mod 11)
# First two digits of the address code (GB/T 2260 provinces); 71 Taiwan, 81 Hong Kong,
# 82 Macao, 83 the residence permits issued to residents of Taiwan.
_PROVINCES: Final = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    }
)  # fmt: skip
# 18-digit numbers came into use in 1999; nobody holding one was born before 1900.
_EARLIEST_BIRTH: Final = date(1900, 1, 1)

# GB 11714-1997 organisation code: 8 body characters, then a check character.
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_DIGITS: Final = frozenset("0123456789")
_UPPER_ALNUM: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

UsccError = Literal["LENGTH", "CHARSET", "REGION", "CHECK_CHAR"]
TaxIdKind = Literal["uscc", "resident_id", "legacy"]


def uscc_check_char(first17: str) -> str:
    """Return the check character (18th) for the first 17 characters of a USCC.

    Raises ValueError unless `first17` is exactly 17 characters of USCC_ALPHABET.
    """
    if len(first17) != 17 or any(char not in _USCC_VALUE for char in first17):
        raise ValueError("a USCC body is 17 characters of USCC_ALPHABET")
    total = sum(
        _USCC_VALUE[char] * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


def describe_uscc_error(code: str) -> UsccError | None:
    """Return why `code` is not a valid USCC, or None when it is valid.

    The reasons are stable codes, checked in this order: "LENGTH" (not 18 characters),
    "CHARSET" (a character outside USCC_ALPHABET, lowercase included, or a first character
    0, which is no registration authority), "REGION" (characters
    3–8, the administrative region, are not all digits), "CHECK_CHAR" (the 18th character
    does not match the first 17).
    """
    if len(code) != 18:
        return "LENGTH"
    if any(char not in _USCC_VALUE for char in code) or code[0] == "0":
        return "CHARSET"
    if any(char not in _DIGITS for char in code[2:8]):
        return "REGION"
    if uscc_check_char(code[:17]) != code[17]:
        return "CHECK_CHAR"
    return None


def is_valid_uscc(code: str) -> bool:
    """True when `code` is a well-formed USCC whose check character matches.

    Registration authority (1st) and category (2nd) characters may be any character of the
    alphabet, so codes starting with letters (N for farmers' cooperatives, Y and others) are
    accepted.
    """
    return describe_uscc_error(code) is None


def is_valid_resident_id(s: str, *, today: date | None = None) -> bool:
    """True when `s` is an 18-character PRC resident identity number that passes its checks.

    Checks: 17 digits then a digit or uppercase X; the first two digits name a province (or
    Hong Kong, Macao, Taiwan); characters 7–14 are a real calendar date between 1900-01-01 and
    `today` (default: the current date in China Standard Time); the last character is the
    ISO 7064 MOD 11-2 check character.
    """
    if len(s) != 18 or any(char not in _DIGITS for char in s[:17]):
        return False
    if s[17] not in _DIGITS and s[17] != "X":
        return False
    if s[:2] not in _PROVINCES:
        return False
    birth = _parse_yyyymmdd(s[6:14])
    if birth is None:
        return False
    if today is None:
        today = datetime.now(CST).date()
    if not _EARLIEST_BIRTH <= birth <= today:
        return False
    total = sum(int(char) * weight for char, weight in zip(s[:17], _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11] == s[17]


def is_valid_legacy_tax_id(s: str) -> bool:
    """True when `s` has the shape of a legacy taxpayer identification number.

    Accepted lengths are 15, 17 and 20, made of digits and uppercase letters. A 15-character
    number must be a 6-digit region code followed by a GB 11714 organisation code whose check
    character (digit or X) matches; 17- and 20-character numbers (built from a resident ID)
    are checked for their alphabet only.
    """
    if len(s) not in (15, 17, 20) or any(char not in _UPPER_ALNUM for char in s):
        return False
    if len(s) == 15:
        return all(char in _DIGITS for char in s[:6]) and _is_valid_org_code(s[6:])
    return True


def classify_tax_id(s: str, *, today: date | None = None) -> TaxIdKind | None:
    """Return which kind of taxpayer number `s` is, or None when it is none of them.

    Returns "uscc", "resident_id" or "legacy". A string that passes both the USCC and the
    resident ID checks (possible for some all-digit strings) is reported as "uscc", the kind
    that seller and buyer organisations use. `today` bounds resident ID birth dates, as in
    is_valid_resident_id.
    """
    if is_valid_uscc(s):
        return "uscc"
    if is_valid_resident_id(s, today=today):
        return "resident_id"
    if is_valid_legacy_tax_id(s):
        return "legacy"
    return None


def _is_valid_org_code(code: str) -> bool:
    """True when `code` is 8 digits/uppercase letters plus a matching GB 11714 check char."""
    if len(code) != 9 or any(char not in _UPPER_ALNUM for char in code[:8]):
        return False
    # Letters count as 10 (A) to 35 (Z), which int(char, 36) gives directly.
    total = sum(int(char, 36) * weight for char, weight in zip(code[:8], _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    expected = "X" if check == 10 else "0" if check == 11 else str(check)
    return code[8] == expected


def _parse_yyyymmdd(text: str) -> date | None:
    """The date written as YYYYMMDD, or None when it is not a calendar date."""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
