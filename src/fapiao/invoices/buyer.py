"""Buyer rules (domain.md §1 and §3), as pure functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fapiao.kit.errors import N_, FieldError
from fapiao.kit.mail import is_mail_address
from fapiao.kit.taxid import describe_uscc_error


@dataclass(frozen=True)
class BuyerInput:
    name: str
    tax_id: str | None = None
    address: str = ""
    phone: str = ""
    bank: str = ""
    account: str = ""
    email: str = ""
    natural_person: bool = False
    # A natural person's ID number when `tax_id` holds its blind index (a red invoice
    # copying its blue one's buyer); see crypto/personal.py.
    id_number: str = ""


_TAX_ID_HINTS = {
    "SPACES": N_("{value} is not a valid taxpayer ID: remove the spaces."),
    "LOWERCASE": N_("{value} is not a valid taxpayer ID: letters must be upper case."),
    "CHECK_CHAR": N_(
        "{value} is not a valid taxpayer ID: the last character does not match the others "
        "(a typing error?)."
    ),
    "LENGTH": N_(
        "{value} is not a valid taxpayer ID: a unified social credit code has 18 characters."
    ),
    "OTHER": N_("{value} is not a valid taxpayer ID."),
}


def tax_id_problem(value: str) -> str:
    """The most useful reason a taxpayer ID was refused, for the message."""
    if value != value.strip() or " " in value:
        return "SPACES"
    if value != value.upper():
        return "LOWERCASE"
    if len(value) != 18:
        return "LENGTH" if len(value) not in (15, 17, 20) else "OTHER"
    problem = describe_uscc_error(value)
    return "CHECK_CHAR" if problem == "CHECK_CHAR" else "OTHER"


def check_buyer(
    kind: str, buyer: BuyerInput, seller_tax_id: str, classify: Callable[[str], str | None]
) -> list[FieldError]:
    """Buyer rules of domain.md §1 and §3: special invoices need an enterprise tax ID;
    an ordinary invoice to a natural person may omit it."""
    errors: list[FieldError] = []
    if not buyer.name.strip():
        errors.append(FieldError("buyer.name", "FIELD_REQUIRED", N_("This field is required.")))
    if buyer.email and not is_mail_address(buyer.email):
        errors.append(
            FieldError(
                "buyer.email",
                "BUYER_EMAIL_INVALID",
                N_("{value} is not an e-mail address such as name@example.com."),
                {"value": buyer.email},
            )
        )
    if kind == "special" and buyer.natural_person:
        errors.append(
            FieldError(
                "buyer.natural_person",
                "SPECIAL_TO_NATURAL_PERSON",
                N_("A special invoice cannot be issued to a natural person."),
            )
        )
    if not buyer.tax_id:
        if kind == "special" or not buyer.natural_person:
            errors.append(
                FieldError(
                    "buyer.tax_id",
                    "BUYER_TAX_ID_REQUIRED",
                    N_("The buyer's taxpayer ID is required for this invoice."),
                )
            )
        return errors
    id_kind = classify(buyer.tax_id)
    if id_kind is None or (id_kind == "resident_id" and not buyer.natural_person):
        errors.append(
            FieldError(
                "buyer.tax_id",
                "BUYER_TAX_ID_INVALID",
                _TAX_ID_HINTS[tax_id_problem(buyer.tax_id)],
                {"value": buyer.tax_id},
            )
        )
    elif buyer.tax_id == seller_tax_id:
        errors.append(
            FieldError("buyer.tax_id", "BUYER_IS_SELLER", N_("The buyer cannot be the seller."))
        )
    return errors
