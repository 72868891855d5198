"""Amounts in Chinese uppercase words (价税合计 大写)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fapiao.kit.words import MAX_AMOUNT, amount_in_words

CASES = [
    # The examples every invoice platform documents.
    ("113.00", "壹佰壹拾叁圆整"),
    ("1409.50", "壹仟肆佰零玖圆伍角"),
    ("6007.14", "陆仟零柒圆壹角肆分"),
    ("10.07", "壹拾圆零柒分"),
    ("-113.00", "负壹佰壹拾叁圆整"),
    # Runs of zeros, also across 万 and 亿 sections.
    ("100000001.00", "壹亿零壹圆整"),
    ("10010.00", "壹万零壹拾圆整"),
    ("1000000.00", "壹佰万圆整"),
    ("1000100.00", "壹佰万零壹佰圆整"),
    ("1001000.00", "壹佰万壹仟圆整"),
    ("100010000.00", "壹亿零壹万圆整"),
    ("1000000001.00", "壹拾亿零壹圆整"),
    ("1000001000.00", "壹拾亿零壹仟圆整"),
    ("101.00", "壹佰零壹圆整"),
    ("1001.00", "壹仟零壹圆整"),
    ("10000.00", "壹万圆整"),
    ("100000000.00", "壹亿圆整"),
    ("1000000000000.00", "壹万亿圆整"),
    ("1000100000000.00", "壹万零壹亿圆整"),
    ("1000010000000.00", "壹万亿零壹仟万圆整"),
    ("1000000000001.00", "壹万亿零壹圆整"),
    ("100000001000.00", "壹仟亿零壹仟圆整"),
    # 10–19 keep the 壹 before 拾.
    ("10.00", "壹拾圆整"),
    ("19.00", "壹拾玖圆整"),
    ("110000.00", "壹拾壹万圆整"),
    # Fractions.
    ("10.50", "壹拾圆伍角"),
    ("1.01", "壹圆零壹分"),
    ("1.10", "壹圆壹角"),
    ("0.50", "伍角"),
    ("0.05", "伍分"),
    ("0.55", "伍角伍分"),
    ("0.00", "零圆整"),
    ("0", "零圆整"),
    ("-0.50", "负伍角"),
    ("-10.07", "负壹拾圆零柒分"),
    # Half-up rounding to two places happens first.
    ("0.005", "壹分"),
    ("0.004", "零圆整"),
    ("2.675", "贰圆陆角捌分"),
    ("-0.005", "负壹分"),
    ("-0.004", "零圆整"),
    ("9.995", "壹拾圆整"),
    # The largest amount.
    (
        "9999999999999999.99",
        "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖圆玖角玖分",
    ),
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_known_amounts(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_int_is_accepted() -> None:
    assert amount_in_words(113) == "壹佰壹拾叁圆整"  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [1.5, "113.00", None, True])
def test_non_decimal_is_rejected(bad: object) -> None:
    with pytest.raises(TypeError):
        amount_in_words(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    ["NaN", "Infinity", "-Infinity", "10000000000000000", "9999999999999999.995", "-1e30", "1e100"],
)
def test_out_of_range_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        amount_in_words(Decimal(bad))


def test_max_amount_is_accepted_both_signs() -> None:
    assert amount_in_words(MAX_AMOUNT).endswith("玖角玖分")
    assert amount_in_words(-MAX_AMOUNT).startswith("负玖仟")


amounts = st.decimals(
    min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, allow_nan=False, allow_infinity=False, places=3
)


@given(amounts)
def test_words_never_use_yuan_or_double_zero(value: Decimal) -> None:
    words = amount_in_words(value)
    assert "元" not in words
    assert "零零" not in words
    assert set(words) <= set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆角分整负")


@given(amounts)
def test_ends_in_zheng_iff_no_jiao_or_fen(value: Decimal) -> None:
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    words = amount_in_words(value)
    no_cents = rounded == rounded.to_integral_value()
    assert words.endswith("整") == no_cents
    assert words.endswith(("整", "角", "分"))


@given(amounts)
def test_sign_and_negation(value: Decimal) -> None:
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    words = amount_in_words(value)
    assert words.startswith("负") == (rounded < 0)
    if rounded < 0:
        assert words == "负" + amount_in_words(-value)


@given(amounts)
def test_no_zero_before_a_unit_or_at_the_edges(value: Decimal) -> None:
    words = amount_in_words(value).removeprefix("负")
    if words != "零圆整":
        # 零 is never the first character, never ends the yuan part and never carries a unit.
        assert not words.startswith("零")
        for unit in "拾佰仟万亿圆角分":
            assert "零" + unit not in words


# Plain random integers rarely contain long runs of zeros, so mix in zero-heavy ones.
yuan_values = st.one_of(
    st.integers(min_value=1, max_value=10**16 - 1),
    st.lists(st.sampled_from("0000019"), min_size=1, max_size=16)
    .map(lambda digits: int("".join(digits)))
    .filter(lambda n: n > 0),
)


@given(yuan_values)
def test_digits_read_back(value: int) -> None:
    """Reading the words back with a small parser gives the number again."""
    assert _parse_yuan(amount_in_words(Decimal(value))) == value


def _parse_yuan(words: str) -> int:
    """Inverse of the yuan part for whole amounts (test helper, deliberately naive)."""
    assert words.endswith("圆整")
    digits = {char: value for value, char in enumerate("零壹贰叁肆伍陆柒捌玖")}
    small = {"拾": 10, "佰": 100, "仟": 1000}
    total = section = wan_part = 0
    digit = 0
    for char in words[: -len("圆整")]:
        if char in digits:
            digit = digits[char]
        elif char in small:
            section += digit * small[char]
            digit = 0
        elif char == "万":
            wan_part += (section + digit) * 10**4
            section = digit = 0
        elif char == "亿":
            total = (total + wan_part + section + digit) * 10**8
            wan_part = section = digit = 0
    return total + wan_part + section + digit


@given(yuan_values)
def test_zero_count_follows_the_reading_rule(value: int) -> None:
    """One 零 per run of zeros before a non-zero digit, except zeros that only end a section."""
    digits = str(value)
    expected = 0
    run = 0
    for index, char in enumerate(digits):
        place = len(digits) - 1 - index
        if char == "0":
            run += 1
            continue
        if run and not (place % 4 == 3 and run < 4):
            expected += 1
        run = 0
    yuan_part = amount_in_words(Decimal(value)).removesuffix("圆整")
    assert yuan_part.count("零") == expected
