"""The red-letter confirmation form's states (domain.md §7), as pure functions."""

from __future__ import annotations

from datetime import datetime

NO_CONFIRMATION = "01"
SELLER_AWAITING_BUYER = "02"
BUYER_AWAITING_SELLER = "03"
CONFIRMED = "04"
VOID_BUYER_REFUSED = "05"
VOID_SELLER_REFUSED = "06"
VOID_LAPSED = "07"
VOID_WITHDRAWN = "08"
PENDING = frozenset({SELLER_AWAITING_BUYER, BUYER_AWAITING_SELLER})
STATES = (
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
)  # fmt: skip
REASONS = {
    "01": "issued in error",
    "02": "goods returned",
    "03": "service stopped",
    "04": "sales allowance",
}


def opening_state(initiator: str, needs_confirmation: bool) -> str:
    if not needs_confirmation:
        return NO_CONFIRMATION
    return SELLER_AWAITING_BUYER if initiator == "seller" else BUYER_AWAITING_SELLER


def answering_party(state: str) -> str | None:
    """Which party must answer a pending form."""
    if state == SELLER_AWAITING_BUYER:
        return "buyer"
    if state == BUYER_AWAITING_SELLER:
        return "seller"
    return None


def is_lapsed(state: str, deadline: datetime, now: datetime) -> bool:
    return state in PENDING and now >= deadline


def after_decision(state: str, decision: str, party: str) -> str | None:
    """The next state when `party` (seller|buyer) decides Y, N or C; None if not allowed."""
    if state not in PENDING:
        return None
    answerer = answering_party(state)
    initiator = "seller" if state == SELLER_AWAITING_BUYER else "buyer"
    if decision == "C":
        return VOID_WITHDRAWN if party == initiator else None
    if party != answerer:
        return None
    if decision == "Y":
        return CONFIRMED
    if decision == "N":
        return VOID_BUYER_REFUSED if answerer == "buyer" else VOID_SELLER_REFUSED
    return None
