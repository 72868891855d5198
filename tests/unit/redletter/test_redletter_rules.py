"""Red-letter states and the never-exceed rule, without fixtures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fapiao.invoices import rules as inv
from fapiao.kit.errors import ValidationFailed
from fapiao.redletter import arithmetic as ar
from fapiao.redletter import rules

D = Decimal


def test_opening_states() -> None:
    assert rules.opening_state("seller", needs_confirmation=False) == "01"
    assert rules.opening_state("seller", needs_confirmation=True) == "02"
    assert rules.opening_state("buyer", needs_confirmation=True) == "03"


@pytest.mark.parametrize(
    ("state", "decision", "party", "expected"),
    [
        ("02", "Y", "buyer", "04"),
        ("02", "N", "buyer", "05"),
        ("03", "N", "seller", "06"),
        ("03", "Y", "seller", "04"),
        ("02", "C", "seller", "08"),
        ("03", "C", "buyer", "08"),
        ("02", "Y", "seller", None),  # the initiator cannot confirm its own form
        ("02", "C", "buyer", None),  # nor can the other side withdraw it
        ("04", "N", "buyer", None),
        ("07", "Y", "buyer", None),
    ],
)
def test_decisions(state: str, decision: str, party: str, expected: str | None) -> None:
    assert rules.after_decision(state, decision, party) == expected


def test_lapse_after_deadline() -> None:
    created = datetime(2026, 11, 10, tzinfo=UTC)
    deadline = created + timedelta(hours=72)
    assert not rules.is_lapsed("02", deadline, deadline - timedelta(seconds=1))
    assert rules.is_lapsed("02", deadline, deadline)
    assert not rules.is_lapsed("04", deadline, deadline + timedelta(days=1))


def blue(*amounts: str, rate: str = "0.13") -> list[inv.Line]:
    return [
        inv.Line(
            no,
            "货物",
            "1",
            "货物",
            "",
            "",
            D("1"),
            D(a),
            D(a),
            rate,
            inv.round2(D(a) * inv.RATES[rate]),
        )
        for no, a in enumerate(amounts, start=1)
    ]


def test_full_reversal_takes_everything_left() -> None:
    lines = blue("100.00", "50.00")
    plan = ar.plan_reversal(lines, {1: ar.Reversed(D("40.00"), D("5.20"))}, None)
    assert [(p.line_no, p.amount, p.tax) for p in plan] == [
        (1, D("60.00"), D("7.80")),
        (2, D("50.00"), D("6.50")),
    ]
    red = ar.red_lines(lines, plan)
    assert [r.amount for r in red] == [D("-60.00"), D("-50.00")]
    assert red[0].blue_line_no == 1


def test_partial_reversal_cannot_exceed_line() -> None:
    lines = blue("100.00")
    with pytest.raises(ValidationFailed) as exc:
        ar.plan_reversal(lines, {1: ar.Reversed(D("90.00"), D("11.70"))}, [(1, D("10.01"), None)])
    assert exc.value.errors[0].code == "REVERSAL_EXCEEDS_REMAINING"
    with pytest.raises(ValidationFailed):
        ar.plan_reversal(lines, {}, [(2, D("1.00"), None)])


@settings(max_examples=200)
@given(
    st.lists(
        st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2), min_size=1, max_size=30
    ),
    st.sampled_from(["0.13", "0.06", "0.03", "exempt"]),
)
def test_red_never_exceeds_blue(requests: list[Decimal], rate: str) -> None:
    lines = blue("999.99", rate=rate)
    done: dict[int, ar.Reversed] = {}
    for amount in requests:
        try:
            plan = ar.plan_reversal(lines, done, [(1, amount, None)])
        except ValidationFailed:
            continue
        for item in plan:
            before = done.get(item.line_no, ar.Reversed())
            done[item.line_no] = ar.Reversed(before.amount + item.amount, before.tax + item.tax)
        assert done[1].amount <= lines[0].amount and done[1].tax <= lines[0].tax
    total = done.get(1, ar.Reversed())
    if total.amount == lines[0].amount:
        assert total.tax == lines[0].tax  # the last reversal takes exactly the remaining tax
    status = ar.blue_status(lines[0].amount, lines[0].tax, total.amount, total.tax)
    assert status == (
        "fully_reversed"
        if total.amount == lines[0].amount
        else "partially_reversed"
        if total.amount
        else "normal"
    )


def test_partial_reversal_by_quantity() -> None:
    lines = [
        inv.Line(1, "货物", "1", "货物", "", "", D("2"), D("100"), D("200.00"), "0.13", D("26.00"))
    ]
    plan = ar.plan_reversal(lines, {}, [(1, D("100.00"), D("1"))])
    assert plan[0].quantity == D("1") and plan[0].tax == D("13.00")
    with pytest.raises(ValidationFailed) as exc:
        ar.plan_reversal(lines, {}, [(1, D("10.00"), D("999"))])
    assert exc.value.errors[0].code == "REVERSAL_QUANTITY_EXCEEDS_REMAINING"
    with pytest.raises(ValidationFailed) as exc:
        ar.plan_reversal(lines, {}, [(1, D("10.00"), D("1"))])
    assert exc.value.errors[0].code == "REVERSAL_QUANTITY_MISMATCH"
    rest = ar.plan_reversal(lines, {1: ar.Reversed(D("100.00"), D("13.00"), D("1"))}, None)
    assert (rest[0].amount, rest[0].quantity) == (D("100.00"), D("1"))
