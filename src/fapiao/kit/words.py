"""Amounts in Chinese uppercase words (大写金额) as printed in the 价税合计 box of an invoice.

The form follows the banks' rules for writing amounts on vouchers, narrowed to one spelling
so that the same amount always prints the same way:

* digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟, section units 万 and 亿, then 圆 (never 元),
  角 and 分;
* 10–19 are written 壹拾…, never a bare 拾;
* inside the yuan part, a run of zeros between two non-zero digits is written as a single 零,
  also when the run crosses a 万 or 亿 section (100000001 → 壹亿零壹). Zeros that end a section
  are silent when the next section starts with a non-zero thousands digit (1001000 → 壹佰万壹仟),
  which is the ordinary reading of the number; an empty section between non-zero ones still
  gets its 零 (100000001000 → 壹仟亿零壹仟);
* 整 follows 圆 when there are neither 角 nor 分; 零 stands for an empty 角 before 分
  (10.07 → 壹拾圆零柒分);
* amounts under one yuan print only their 角 and 分 (0.50 → 伍角, 0.05 → 伍分);
* negative amounts (red-letter invoices) start with 负.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

__all__ = ["MAX_AMOUNT", "amount_in_words"]

DIGITS = "零壹贰叁肆伍陆柒捌玖"
# Units inside one four-digit section, indexed by the position within the section.
_SECTION_UNITS = ("", "拾", "佰", "仟")

MAX_AMOUNT = Decimal("9999999999999999.99")
_CENT = Decimal("0.01")


def amount_in_words(value: Decimal) -> str:
    """Return `value` in Chinese uppercase words as an invoice prints it.

    The value is first rounded half-up to two places (四舍五入), so 0.005 reads 壹分.
    The result always ends in 整, 角 or 分, never contains 元, and never has two 零 in a row.
    A value that rounds to zero reads 零圆整 whatever its sign.

    Raises TypeError for anything but a Decimal or an int (floats are never money), and
    ValueError for NaN, infinities and amounts whose absolute value, once rounded, exceeds
    9999999999999999.99.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"amount must be a Decimal, not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError("amount must be a finite number")
    # Checked before rounding as well: quantize() on a huge value would overflow the context.
    if abs(amount) > MAX_AMOUNT + 1:
        raise ValueError(f"amount exceeds {MAX_AMOUNT}")
    with localcontext() as ctx:
        ctx.prec = 40
        rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    if abs(rounded) > MAX_AMOUNT:
        raise ValueError(f"amount exceeds {MAX_AMOUNT}")

    cents_total = int(abs(rounded) * 100)
    yuan, cents = divmod(cents_total, 100)
    jiao, fen = divmod(cents, 10)

    if cents_total == 0:
        return "零圆整"

    parts: list[str] = []
    if rounded < 0:
        parts.append("负")
    if yuan:
        parts.append(_integer_words(yuan))
        parts.append("圆")
        if jiao == 0 and fen == 0:
            parts.append("整")
            return "".join(parts)
        if jiao == 0:
            # The empty 角 between 圆 and 分 is spoken as 零 (壹拾圆零柒分).
            parts.append("零")
    if jiao:
        parts.append(DIGITS[jiao] + "角")
    if fen:
        parts.append(DIGITS[fen] + "分")
    return "".join(parts)


def _integer_words(n: int) -> str:
    """Words for 0 < n < 10**16, without the 圆.

    Digits are read from the top in four-digit sections (个, 万, 亿, 万亿). A zero only makes a
    零 pending; the 零 is written before the next non-zero digit. Zeros that end a non-empty
    section are dropped at the section's end, so the following section adds a 零 only when its
    own thousands digit is zero or it is empty altogether.
    """
    digits = [int(char) for char in str(n)]
    out: list[str] = []
    zero_pending = False
    section_nonzero = False
    for index, digit in enumerate(digits):
        place = len(digits) - 1 - index
        if digit == 0:
            zero_pending = True
        else:
            if zero_pending:
                out.append("零")
                zero_pending = False
            out.append(DIGITS[digit] + _SECTION_UNITS[place % 4])
            section_nonzero = True
        if place % 4 or place == 0:
            continue
        # End of a section: write its unit. 亿 also closes a 万亿 count whose 亿 section is
        # empty (壹万亿), since the count of 亿 is itself written with 万.
        if place == 8:
            out.append("亿")
        elif section_nonzero:
            out.append("万")
        if section_nonzero:
            zero_pending = False
        section_nonzero = False
    return "".join(out)
