"""Red-letter arithmetic: what a form reverses, line by line, and the red lines it makes.
Pure functions; the sum of red invoices against a blue line never exceeds the line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fapiao.invoices.rules import RATES, Line
from fapiao.kit.errors import N_, FieldError, ValidationFailed
from fapiao.kit.money import ZERO, round2


@dataclass(frozen=True)
class Reversal:
    """What is to be reversed on one blue line (positive numbers)."""

    line_no: int
    amount: Decimal
    tax: Decimal
    quantity: Decimal | None


@dataclass(frozen=True)
class Reversed:
    """What red invoices have already reversed on one blue line (positive numbers)."""

    amount: Decimal = ZERO
    tax: Decimal = ZERO
    quantity: Decimal = ZERO


def plan_reversal(
    blue_lines: Sequence[Line],
    reversed_so_far: dict[int, Reversed],
    requested: Sequence[tuple[int, Decimal, Decimal | None]] | None,
) -> list[Reversal]:
    """The reversals a red-letter form asks for, checked so that the red invoices against a
    blue line can never add up to more than the line — in amount, tax or quantity.
    `requested` None means everything that is left."""
    errors: list[FieldError] = []
    plan: list[Reversal] = []

    if requested is None:
        for line in blue_lines:
            done = reversed_so_far.get(line.line_no, Reversed())
            left_amount, left_tax = line.amount - done.amount, line.tax - done.tax
            if left_amount > ZERO or left_tax > ZERO:
                plan.append(
                    Reversal(
                        line.line_no, left_amount, left_tax, _left_quantity(line, done, left_amount)
                    )
                )
        if not plan:
            raise ValidationFailed(
                [
                    FieldError(
                        "blue_number", "ALREADY_FULLY_REVERSED", N_("Nothing is left to reverse.")
                    )
                ]
            )
        return plan

    by_no = {line.line_no: line for line in blue_lines}
    seen: set[int] = set()
    for index, (line_no, amount, quantity) in enumerate(requested):
        field = f"lines.{index}"
        found = by_no.get(line_no)
        if found is None or line_no in seen:
            errors.append(
                FieldError(
                    f"{field}.line_no",
                    "LINE_NOT_FOUND" if found is None else "LINE_REPEATED",
                    N_("Line {line_no} is not on the blue invoice, or is given twice."),
                    {"line_no": line_no},
                )
            )
            continue
        seen.add(line_no)
        done = reversed_so_far.get(line_no, Reversed())
        left_amount, left_tax = found.amount - done.amount, found.tax - done.tax
        if amount <= ZERO or amount > left_amount:
            errors.append(
                FieldError(
                    f"{field}.amount",
                    "REVERSAL_EXCEEDS_REMAINING",
                    N_("The amount to reverse must be above 0 and at most {remaining}."),
                    {"remaining": f"{left_amount}"},
                )
            )
            continue
        if quantity is not None:
            problem = _quantity_problem(found, done, amount, quantity, f"{field}.quantity")
            if problem is not None:
                errors.append(problem)
                continue
        tax = (
            left_tax
            if amount == left_amount
            else min(round2(amount * RATES[found.tax_rate]), left_tax)
        )
        plan.append(Reversal(line_no, amount, tax, quantity))
    if errors:
        raise ValidationFailed(errors)
    return plan


def _left_quantity(line: Line, done: Reversed, left_amount: Decimal) -> Decimal | None:
    """The quantity still to reverse, when it is consistent with the amount left."""
    if line.quantity is None or line.unit_price is None:
        return None
    left = line.quantity - done.quantity
    return left if left > ZERO and round2(left * line.unit_price) == left_amount else None


def _quantity_problem(
    line: Line, done: Reversed, amount: Decimal, quantity: Decimal, field: str
) -> FieldError | None:
    if line.quantity is None or line.unit_price is None:
        return FieldError(
            field, "QUANTITY_NOT_ON_LINE", N_("The blue line has no quantity to reverse.")
        )
    left = line.quantity - done.quantity
    if quantity > left:
        return FieldError(
            field,
            "REVERSAL_QUANTITY_EXCEEDS_REMAINING",
            N_("At most {remaining} can be reversed on this line."),
            {"remaining": f"{left:f}"},
        )
    expected = round2(quantity * line.unit_price)
    if expected != amount:
        return FieldError(
            field,
            "REVERSAL_QUANTITY_MISMATCH",
            N_("Quantity × unit price is {expected}, not the amount given."),
            {"expected": f"{expected}"},
        )
    return None


def red_lines(blue_lines: Sequence[Line], plan: Sequence[Reversal]) -> list[Line]:
    """Negative lines of the red invoice for a reversal plan."""
    by_no = {line.line_no: line for line in blue_lines}
    result = []
    for position, item in enumerate(plan, start=1):
        blue = by_no[item.line_no]
        quantity = -item.quantity if item.quantity is not None else None
        result.append(
            Line(
                line_no=position,
                name=blue.name,
                tax_code=blue.tax_code,
                short_name=blue.short_name,
                spec=blue.spec,
                unit=blue.unit,
                quantity=quantity,
                unit_price=blue.unit_price if quantity is not None else None,
                amount=-item.amount,
                tax_rate=blue.tax_rate,
                tax=-item.tax,
                blue_line_no=blue.line_no,
            )
        )
    return result


def blue_status(
    total_amount: Decimal, total_tax: Decimal, rev_amount: Decimal, rev_tax: Decimal
) -> str:
    """normal → partially_reversed → fully_reversed, from the running red totals."""
    if rev_amount == ZERO and rev_tax == ZERO:
        return "normal"
    if rev_amount >= total_amount and rev_tax >= total_tax:
        return "fully_reversed"
    return "partially_reversed"
