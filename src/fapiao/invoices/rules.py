"""Pure invoice arithmetic and checks (domain.md §2, §4). No web or database imports.

Every check appends a FieldError rather than raising at once, so a caller hears about all
bad fields of a request together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from fapiao.kit.errors import N_, FieldError, ValidationFailed
from fapiao.kit.money import ZERO, round2, round_places
from fapiao.kit.words import amount_in_words

RATES: dict[str, Decimal] = {
    "0.13": Decimal("0.13"),
    "0.09": Decimal("0.09"),
    "0.06": Decimal("0.06"),
    "0.05": Decimal("0.05"),
    "0.03": Decimal("0.03"),
    "0.01": Decimal("0.01"),
    "0": Decimal("0"),
    "exempt": Decimal("0"),
    "not_taxable": Decimal("0"),
}
# What the rate column of the printed invoice shows.
RATE_DISPLAY = {
    "0.13": "13%",
    "0.09": "9%",
    "0.06": "6%",
    "0.05": "5%",
    "0.03": "3%",
    "0.01": "1%",
    "0": "0%",
    "exempt": "免税",
    "not_taxable": "不征税",
}
SMALL_SCALE_RATES = frozenset({"0.05", "0.03", "0.01", "0", "exempt", "not_taxable"})
# The 1% levy rate for small-scale taxpayers is a reduction with an end date (domain.md §4).
ONE_PERCENT_UNTIL = date(2027, 12, 31)
MAX_TOTAL = Decimal("9999999999999.99")
MAX_UNIT_PRICE = Decimal(10) ** 16


@dataclass(frozen=True)
class Tolerances:
    line: Decimal = Decimal("0.06")
    invoice: Decimal = Decimal("1.27")


@dataclass(frozen=True)
class LineInput:
    name: str
    tax_code: str
    tax_rate: str
    spec: str = ""
    unit: str = ""
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    tax: Decimal | None = None


@dataclass(frozen=True)
class Line:
    line_no: int
    name: str
    tax_code: str
    short_name: str
    spec: str
    unit: str
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal
    tax_rate: str
    tax: Decimal
    blue_line_no: int | None = None

    @property
    def display_name(self) -> str:
        return display_name(self.short_name, self.name)


@dataclass(frozen=True)
class Totals:
    amount: Decimal
    tax: Decimal
    with_tax: Decimal
    in_words: str


def display_name(short_name: str, name: str) -> str:
    """`*简称*名称` as printed; a name already carrying the prefix is not prefixed twice."""
    prefix = f"*{short_name}*"
    return name if name.startswith(prefix) else prefix + name


def allowed_rate(rate: str, taxpayer_kind: str, issue_date: date) -> str | None:
    """None when the seller may use `rate`, else the error code saying why not."""
    if rate not in RATES:
        return "TAX_RATE_UNKNOWN"
    if taxpayer_kind == "small_scale" and rate not in SMALL_SCALE_RATES:
        return "TAX_RATE_NOT_ALLOWED"
    if rate == "0.01" and (taxpayer_kind != "small_scale" or issue_date > ONE_PERCENT_UNTIL):
        return "TAX_RATE_NOT_ALLOWED"
    return None


def allowed_rates(taxpayer_kind: str, issue_date: date) -> list[str]:
    return [rate for rate in RATES if allowed_rate(rate, taxpayer_kind, issue_date) is None]


def compute_line(
    index: int,
    data: LineInput,
    short_name: str,
    *,
    include_tax: bool,
    tolerances: Tolerances,
    errors: list[FieldError],
) -> Line | None:
    """The line with amount and tax worked out per domain.md §4, or None (errors added)."""
    field = f"lines.{index}"
    rate = RATES[data.tax_rate]
    quantity, price, given = data.quantity, data.unit_price, data.amount
    if price is not None and quantity is None:
        errors.append(
            FieldError(
                f"{field}.quantity", "QUANTITY_REQUIRED", N_("A unit price needs a quantity.")
            )
        )
        return None
    if given is None and (quantity is None or price is None):
        errors.append(
            FieldError(
                f"{field}.amount",
                "AMOUNT_REQUIRED",
                N_("Give the amount, or the quantity and the unit price."),
            )
        )
        return None
    # `gross` is the line value as the client priced it: before tax, or including tax.
    if quantity is not None and price is not None:
        gross = round2(quantity * price)
        if given is not None and given != gross:
            errors.append(
                FieldError(
                    f"{field}.amount",
                    "LINE_AMOUNT_MISMATCH",
                    N_("Amount {amount} does not equal quantity × unit price ({expected})."),
                    {"amount": f"{given}", "expected": f"{gross}"},
                )
            )
            return None
        if given is not None:
            gross = given
    else:
        assert given is not None
        gross = given
    if gross <= ZERO:
        errors.append(
            FieldError(f"{field}.amount", "AMOUNT_NOT_POSITIVE", N_("The amount must be positive."))
        )
        return None
    if gross > MAX_TOTAL:
        errors.append(
            FieldError(f"{field}.amount", "LINE_TOO_LARGE", N_("The line amount is too large."))
        )
        return None

    if include_tax:
        amount = round2(gross / (1 + rate))
        expected_tax = gross - amount
    else:
        amount = gross
        expected_tax = round2(amount * rate)
    tax = expected_tax
    if data.tax is not None:
        exact = amount * rate if not include_tax else gross * rate / (1 + rate)
        if data.tax < ZERO:
            errors.append(FieldError(f"{field}.tax", "TAX_NEGATIVE", N_("Tax cannot be negative.")))
            return None
        if rate == ZERO and data.tax != ZERO:
            errors.append(
                FieldError(
                    f"{field}.tax", "TAX_MUST_BE_ZERO", N_("Tax must be 0.00 at this tax rate.")
                )
            )
            return None
        if abs(data.tax - exact) > tolerances.line:
            errors.append(
                FieldError(
                    f"{field}.tax",
                    "TAX_OUT_OF_TOLERANCE",
                    N_("Tax {tax} differs from amount × rate ({expected}) by more than {limit}."),
                    {
                        "tax": f"{data.tax}",
                        "expected": f"{expected_tax}",
                        "limit": f"{tolerances.line}",
                    },
                )
            )
            return None
        tax = data.tax
        if include_tax:
            amount = gross - tax

    unit_price = price
    if include_tax and price is not None:
        unit_price = round_places(price / (1 + rate), 13)
    if quantity is not None and price is None:
        unit_price = round_places(amount / quantity, 13)
        if unit_price >= MAX_UNIT_PRICE:
            errors.append(
                FieldError(
                    f"{field}.quantity",
                    "UNIT_PRICE_TOO_LARGE",
                    N_("Amount ÷ quantity gives a unit price that is too large."),
                )
            )
            return None
    return Line(
        line_no=index + 1,
        name=data.name,
        tax_code=data.tax_code,
        short_name=short_name,
        spec=data.spec,
        unit=data.unit,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        tax_rate=data.tax_rate,
        tax=tax,
    )


def totals_of(lines: Sequence[Line]) -> Totals:
    """合计金额, 合计税额, 价税合计 and the amount in words (domain.md §4)."""
    amount = sum((line.amount for line in lines), ZERO)
    tax = sum((line.tax for line in lines), ZERO)
    with_tax = amount + tax
    return Totals(amount=amount, tax=tax, with_tax=with_tax, in_words=amount_in_words(with_tax))


def compute_invoice(
    inputs: Sequence[LineInput],
    short_name_of: Callable[[str], str | None],
    *,
    include_tax: bool,
    taxpayer_kind: str,
    issue_date: date,
    tolerances: Tolerances,
) -> tuple[list[Line], Totals]:
    """All lines and totals of a blue invoice; raises ValidationFailed with every bad field.

    Products of 16+13-digit quantities and prices have up to 58 significant digits; the
    default 28-digit context would round them once before the half-up rounding to cents
    (a wrong cent), or fail on quantize. Work exactly, round once."""
    with localcontext() as context:
        context.prec = 80
        return _compute_invoice(
            inputs,
            short_name_of,
            include_tax=include_tax,
            taxpayer_kind=taxpayer_kind,
            issue_date=issue_date,
            tolerances=tolerances,
        )


def _compute_invoice(
    inputs: Sequence[LineInput],
    short_name_of: Callable[[str], str | None],
    *,
    include_tax: bool,
    taxpayer_kind: str,
    issue_date: date,
    tolerances: Tolerances,
) -> tuple[list[Line], Totals]:
    errors: list[FieldError] = []
    lines: list[Line] = []
    for index, data in enumerate(inputs):
        short_name = short_name_of(data.tax_code)
        bad = False
        if short_name is None:
            errors.append(
                FieldError(
                    f"lines.{index}.tax_code",
                    "TAX_CODE_UNKNOWN",
                    N_("Tax classification code {code} is not in the code table."),
                    {"code": data.tax_code},
                )
            )
            bad = True
        rate_problem = allowed_rate(data.tax_rate, taxpayer_kind, issue_date)
        if rate_problem is not None:
            errors.append(
                FieldError(
                    f"lines.{index}.tax_rate",
                    rate_problem,
                    N_(
                        "Tax rate {rate} may not be used by this seller on this date; "
                        "allowed: {allowed}."
                    ),
                    {
                        "rate": data.tax_rate,
                        "allowed": ", ".join(allowed_rates(taxpayer_kind, issue_date)),
                    },
                )
            )
            bad = True
        if bad:
            continue
        assert short_name is not None
        line = compute_line(
            index, data, short_name, include_tax=include_tax, tolerances=tolerances, errors=errors
        )
        if line is not None:
            lines.append(line)
    if errors:
        raise ValidationFailed(errors)
    exact_tax = sum((line.amount * RATES[line.tax_rate] for line in lines), ZERO)
    totals = totals_of(lines)
    if abs(totals.tax - exact_tax) > tolerances.invoice:
        raise ValidationFailed(
            [
                FieldError(
                    "lines",
                    "INVOICE_TAX_OUT_OF_TOLERANCE",
                    N_("Total tax differs from the exact tax by more than {limit}."),
                    {"limit": f"{tolerances.invoice}"},
                )
            ]
        )
    if totals.with_tax > MAX_TOTAL:
        raise ValidationFailed(
            [FieldError("lines", "INVOICE_TOTAL_TOO_LARGE", N_("The invoice total is too large."))]
        )
    return lines, totals
