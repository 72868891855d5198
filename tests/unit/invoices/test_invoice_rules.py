"""Invoice arithmetic of domain.md §4, without fixtures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fapiao.invoices import rules
from fapiao.invoices.buyer import BuyerInput, check_buyer
from fapiao.kit.errors import ValidationFailed

D = Decimal
TODAY = date(2026, 11, 10)


def short(code: str) -> str | None:
    return "信息技术服务" if code == "3040201030000000000" else None


def compute(*lines: rules.LineInput, include_tax: bool = False, kind: str = "general"):
    return rules.compute_invoice(
        lines,
        short,
        include_tax=include_tax,
        taxpayer_kind=kind,
        issue_date=TODAY,
        tolerances=rules.Tolerances(),
    )


def line(**kw) -> rules.LineInput:
    base = {"name": "软件开发", "tax_code": "3040201030000000000", "tax_rate": "0.06"}
    base.update(kw)
    return rules.LineInput(**base)


def codes(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


def test_tax_exclusive_line_rounds_half_up() -> None:
    lines, totals = compute(line(quantity=D("3"), unit_price=D("33.335"), tax_rate="0.13"))
    assert lines[0].amount == D("100.01")  # 100.005 rounds up
    assert lines[0].tax == D("13.00")  # 13.0013 → 13.00
    assert totals.with_tax == D("113.01")
    assert totals.in_words == "壹佰壹拾叁圆零壹分"


def test_half_up_not_bankers_on_tax() -> None:
    lines, _ = compute(line(amount=D("0.50"), tax_rate="0.13"))  # 0.065 → 0.07
    assert lines[0].tax == D("0.07")


def test_tax_inclusive_line_splits_gross() -> None:
    lines, totals = compute(
        line(quantity=D("1"), unit_price=D("113"), tax_rate="0.13"), include_tax=True
    )
    assert (lines[0].amount, lines[0].tax) == (D("100.00"), D("13.00"))
    assert lines[0].unit_price == D("100")
    assert totals.with_tax == D("113.00")
    assert totals.in_words == "壹佰壹拾叁圆整"


def test_tax_inclusive_rounding_keeps_gross() -> None:
    lines, totals = compute(line(amount=D("10.00"), tax_rate="0.06"), include_tax=True)
    assert lines[0].amount == D("9.43")  # 10 / 1.06 = 9.4339…
    assert lines[0].tax == D("0.57")
    assert totals.with_tax == D("10.00")


def test_totals_identity_over_many_lines() -> None:
    items = [line(quantity=D(q), unit_price=D("19.99"), tax_rate="0.06") for q in ("1", "2", "7")]
    lines, totals = compute(*items)
    assert totals.amount == sum(x.amount for x in lines)
    assert totals.tax == sum(x.tax for x in lines)
    assert totals.with_tax == totals.amount + totals.tax


def test_given_amount_must_match_quantity_times_price() -> None:
    with pytest.raises(ValidationFailed) as exc:
        compute(line(quantity=D("2"), unit_price=D("10"), amount=D("20.02")))
    assert codes(exc) == [("lines.0.amount", "LINE_AMOUNT_MISMATCH")]
    lines, _ = compute(line(quantity=D("3"), unit_price=D("3.333"), amount=D("10.00")))
    assert lines[0].amount == D("10.00")  # 9.999 rounds half-up to 10.00


def test_given_tax_within_line_tolerance_is_kept() -> None:
    lines, _ = compute(line(amount=D("100.00"), tax=D("6.06")))
    assert lines[0].tax == D("6.06")
    with pytest.raises(ValidationFailed) as exc:
        compute(line(amount=D("100.00"), tax=D("6.07")))
    assert codes(exc) == [("lines.0.tax", "TAX_OUT_OF_TOLERANCE")]


def test_invoice_tax_tolerance() -> None:
    within = [line(amount=D("100.00"), tax=D("6.06")) for _ in range(21)]  # 21 × 0.06 = 1.26
    compute(*within)
    beyond = [line(amount=D("100.00"), tax=D("6.06")) for _ in range(22)]  # 1.32
    with pytest.raises(ValidationFailed) as exc:
        compute(*beyond)
    assert codes(exc) == [("lines", "INVOICE_TAX_OUT_OF_TOLERANCE")]


@pytest.mark.parametrize("rate", ["exempt", "not_taxable", "0"])
def test_zero_treatments_have_no_tax(rate: str) -> None:
    lines, _ = compute(line(amount=D("50.00"), tax_rate=rate))
    assert lines[0].tax == D("0.00")
    with pytest.raises(ValidationFailed) as exc:
        compute(line(amount=D("50.00"), tax_rate=rate, tax=D("0.01")))
    assert codes(exc) == [("lines.0.tax", "TAX_MUST_BE_ZERO")]
    assert rules.RATE_DISPLAY["exempt"] == "免税"


def test_small_scale_cannot_use_general_rates() -> None:
    with pytest.raises(ValidationFailed) as exc:
        compute(line(amount=D("50.00"), tax_rate="0.13"), kind="small_scale")
    assert codes(exc) == [("lines.0.tax_rate", "TAX_RATE_NOT_ALLOWED")]
    compute(line(amount=D("50.00"), tax_rate="0.01"), kind="small_scale")
    assert rules.allowed_rate("0.01", "small_scale", date(2028, 1, 1)) == "TAX_RATE_NOT_ALLOWED"
    assert rules.allowed_rate("0.01", "general", TODAY) == "TAX_RATE_NOT_ALLOWED"


def test_all_bad_fields_reported_together() -> None:
    with pytest.raises(ValidationFailed) as exc:
        compute(line(tax_code="9999999999999999999"), line(unit_price=D("1")), line())
    assert codes(exc) == [
        ("lines.0.tax_code", "TAX_CODE_UNKNOWN"),
        ("lines.1.quantity", "QUANTITY_REQUIRED"),
        ("lines.2.amount", "AMOUNT_REQUIRED"),
    ]


def test_display_name_is_not_prefixed_twice() -> None:
    assert rules.display_name("信息技术服务", "软件开发") == "*信息技术服务*软件开发"
    assert rules.display_name("信息技术服务", "*信息技术服务*软件开发") == "*信息技术服务*软件开发"


def test_buyer_rules() -> None:
    def check(kind: str, **kw) -> list[str]:
        buyer = BuyerInput(**{"name": "某某", **kw})
        classify = {
            "91110105MA01ABCD13": "uscc",
            "91110108551385082Q": "uscc",
            "110101199003074514": "resident_id",
        }.get
        return [e.code for e in check_buyer(kind, buyer, "91110108551385082Q", classify)]

    assert check("special", tax_id="91110105MA01ABCD13") == []
    assert check("special") == ["BUYER_TAX_ID_REQUIRED"]
    assert check("special", natural_person=True, tax_id="110101199003074514") == [
        "SPECIAL_TO_NATURAL_PERSON"
    ]
    assert check("ordinary", natural_person=True) == []
    assert check("ordinary", natural_person=True, tax_id="110101199003074514") == []
    assert check("ordinary", tax_id="110101199003074514") == ["BUYER_TAX_ID_INVALID"]
    assert check("ordinary", tax_id="bogus") == ["BUYER_TAX_ID_INVALID"]
    assert check("ordinary", tax_id="91110108551385082Q") == ["BUYER_IS_SELLER"]


money = st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2)
rates = st.sampled_from(["0.13", "0.09", "0.06", "0.05", "0.03", "0", "exempt"])


@given(st.lists(st.tuples(money, rates), min_size=1, max_size=20), st.booleans())
def test_totals_always_add_up(items: list[tuple[Decimal, str]], include_tax: bool) -> None:
    lines, totals = compute(
        *(line(amount=a, tax_rate=r) for a, r in items), include_tax=include_tax
    )
    assert totals.with_tax == totals.amount + totals.tax
    for (gross, rate), computed in zip(items, lines, strict=True):
        assert computed.amount.as_tuple().exponent == -2
        assert abs(computed.tax - computed.amount * rules.RATES[rate]) <= D("0.01")
        if include_tax:
            assert computed.amount + computed.tax == gross
        else:
            assert computed.amount == gross


def test_amount_must_be_the_half_up_product() -> None:
    with pytest.raises(ValidationFailed) as exc:
        compute(line(quantity=D("3"), unit_price=D("0.335"), amount=D("1.00")))
    assert codes(exc) == [("lines.0.amount", "LINE_AMOUNT_MISMATCH")]
    lines, _ = compute(line(quantity=D("3"), unit_price=D("0.335"), amount=D("1.01")))
    assert lines[0].amount == D("1.01")


def test_no_double_rounding_of_long_products() -> None:
    lines, _ = compute(
        line(
            quantity=D("0.0001923901662"), unit_price=D("1255791009369.1680588610043"), tax_rate="0"
        )
    )
    assert lines[0].amount == D("241601841.00")  # exact product 241601841.004999…


def test_negative_tax_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        compute(line(amount=D("0.10"), tax=D("-0.04"), tax_rate="0.13"))
    assert codes(exc) == [("lines.0.tax", "TAX_NEGATIVE")]
