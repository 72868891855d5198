""" "Did my request with this Idempotency-Key become an invoice, and if not, why?"

Answered for the clerks and admins of the seller that sent it (and officers naming the
seller): the invoice number when the key produced one; otherwise NOT_ISSUED with the
refusals recorded for the key, latest first, and what to fix. Another taxpayer's keys are
simply unknown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts.service import Actor
from fapiao.invoices import rejections
from fapiao.kit.errors import N_, NotFound, invalid
from fapiao.maintenance.service import Window
from fapiao.taxpayers.models import Taxpayer
from fapiao.trace.service import Diagnosis, describe

# What to fix, by the code of the latest refusal (or one of its field errors).
HINTS = {
    "CREDIT_LIMIT_EXCEEDED": N_(
        "The invoice's amount before tax is more than this month's remaining credit (the "
        "refusal says how much is left). Issue a smaller invoice, ask the tax bureau to "
        "raise the limit, or wait for next month's credit; then send the request again."
    ),
    "BUYER_NAME_MISMATCH": N_(
        "A registered buyer must be named exactly as registered for its tax ID (the "
        "refusal gives the name). Correct the buyer's name and send the request again with "
        "the same key."
    ),
    "ROLE_NOT_ALLOWED": N_(
        "The user who sent it may not issue invoices: a clerk or an administrator of the "
        "seller must send it."
    ),
}
FIX_FIELDS = N_(
    "Correct what the latest refusal names and send the request again with the same key: "
    "a refused request issued nothing and used no credit (the invoice number it had been "
    "given is left unused, so numbers can have gaps)."
)


@dataclass(frozen=True)
class KeyAnswer:
    diagnosis: Diagnosis
    number: str | None = None
    refusals: list[rejections.Rejection] = field(default_factory=list)

    def describe(self, locale: str) -> dict[str, Any]:
        described = describe(self.diagnosis, locale)
        described["number"] = self.number
        described["rejections"] = [item.describe(locale) for item in self.refusals]
        return described


def diagnose_key(
    session: Session, taxpayer_id: int, key: str, maintenance: Window | None
) -> KeyAnswer:
    """What became of the issue request(s) `taxpayer_id` sent with `key`. The caller
    has been checked to be one of that taxpayer's clerks or admins, or an officer."""
    params: dict[str, Any] = {"key": key}
    number = rejections.issued_number(session, taxpayer_id, key)
    if number is not None:
        return KeyAnswer(
            Diagnosis(
                "ISSUED",
                N_("The request with Idempotency-Key {key} was issued as invoice {number}."),
                N_("Trace invoice {number} to see where it is now."),
                {**params, "number": number},
            ),
            number=number,
        )
    refusals = rejections.rejections(session, taxpayer_id, key)
    if refusals:
        latest = refusals[0]
        hint = next((HINTS[code] for code in latest.codes if code in HINTS), FIX_FIELDS)
        return KeyAnswer(
            Diagnosis(
                "NOT_ISSUED",
                N_(
                    "No invoice was issued with Idempotency-Key {key}: the platform refused "
                    "it {count} time(s), most recently with {code}."
                ),
                hint,
                {**params, "count": len(refusals), "code": latest.code},
            ),
            refusals=refusals,
        )
    if maintenance is not None:
        return KeyAnswer(
            Diagnosis(
                "MAINTENANCE",
                N_(
                    "The platform is in maintenance until {until} (Beijing time) and issues "
                    "no invoice until then; none was issued with Idempotency-Key {key}."
                ),
                N_(
                    "Requests to issue are refused with 503 during maintenance; send them "
                    "again after {until}. Reading and verification keep working."
                ),
                {
                    **params,
                    "until": maintenance.until_local(),
                    "until_at": maintenance.until.isoformat(),
                },
            )
        )
    return KeyAnswer(
        Diagnosis(
            "NOT_ISSUED",
            N_("No invoice was issued with Idempotency-Key {key}, and no refusal of it is known."),
            N_(
                "Check the key your system sent and the seller it was sent for. Refusals are "
                "kept for 30 days; a request refused before its body was read (malformed "
                "JSON, wrong field types) is not recorded."
            ),
            params,
        )
    )


def key_owner(session: Session, actor: Actor, tax_id: str | None) -> int:
    """Whose idempotency keys the caller asks about: their own taxpayer's (clerks and
    admins), or the seller an officer names (404 if unknown); 403 for anyone else."""
    if actor.is_officer:
        if not tax_id:
            raise invalid(
                "taxpayer", "FIELD_REQUIRED", N_("Officers name the seller: taxpayer=TAX_ID.")
            )
        found = session.scalar(select(Taxpayer.id).where(Taxpayer.tax_id == tax_id))
        if found is None:
            raise NotFound(
                "TAXPAYER_NOT_FOUND",
                N_("Taxpayer {tax_id} is not registered."),
                params={"tax_id": tax_id},
            )
        return int(found)
    return actor.require_write()
