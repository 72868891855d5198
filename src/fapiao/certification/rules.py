"""Certification (勾选 / 用途确认) rules of domain.md §8, as pure functions."""

from __future__ import annotations

import re
from datetime import date

from fapiao.kit.errors import N_, FieldError

PERIOD_RE = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
PURPOSES = ("deduct", "no_deduct")
# Reasons for not deducting: 1 non-taxable use, 2 exempt use, 3 staff welfare or personal
# consumption, 4 abnormal loss, 5 other (with text).
NO_DEDUCT_REASONS = ("1", "2", "3", "4", "5")


def check_request(
    period: str,
    purpose: str,
    reason: str | None,
    reason_text: str | None,
    issue_date: date,
    today: date,
) -> list[FieldError]:
    """Every problem with a certification request, by field."""
    errors: list[FieldError] = []
    match = PERIOD_RE.match(period)
    if match is None:
        errors.append(FieldError("period", "PERIOD_INVALID", N_("A period is written YYYYMM.")))
    else:
        key = (int(match.group(1)), int(match.group(2)))
        if key < (issue_date.year, issue_date.month):
            errors.append(
                FieldError(
                    "period",
                    "PERIOD_BEFORE_ISSUE",
                    N_("The period is before the invoice was issued."),
                )
            )
        elif key > (today.year, today.month):
            errors.append(FieldError("period", "PERIOD_IN_FUTURE", N_("The period has not begun.")))
    if purpose == "no_deduct":
        if reason not in NO_DEDUCT_REASONS:
            errors.append(
                FieldError(
                    "reason", "REASON_REQUIRED", N_("Not deducting needs a reason from 1 to 5.")
                )
            )
        elif reason == "5" and not (reason_text or "").strip():
            errors.append(
                FieldError(
                    "reason_text", "REASON_TEXT_REQUIRED", N_("Reason 5 (other) needs a text.")
                )
            )
    elif reason is not None:
        errors.append(
            FieldError(
                "reason", "REASON_NOT_ALLOWED", N_("A reason is only given when not deducting.")
            )
        )
    return errors


def period_of(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}"
