"""The QR code printed on an invoice (domain.md §10).

Its text is eight comma-separated fields: version `01`, type `31` (special) or `32`
(ordinary), an empty invoice code, the 20-digit number, the total with tax, the issue date
as YYYYMMDD, an empty check code, and a 4-character value. How the tax bureau derives that
last value is not published; here it is the first four hex digits (upper case) of an
HMAC-SHA256, under a key derived from the platform's secret, of the seven fields before it,
so the platform can tell a code it printed from a made-up one. Readers also accept the
9-field form (a trailing empty field) and amounts without decimals."""

from __future__ import annotations

import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import segno

VERSION = "01"
TYPES = {"special": "31", "ordinary": "32"}
KINDS = {code: kind for kind, code in TYPES.items()}


@dataclass(frozen=True)
class Scanned:
    kind: str
    number: str
    total_with_tax: Decimal
    issue_date: date
    genuine: bool  # the check value is the one this platform prints


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"fapiao invoice QR check value", hashlib.sha256).digest()


def _value(fields: list[str], secret: str) -> str:
    digest = hmac.new(_key(secret), ",".join(fields).encode(), hashlib.sha256).hexdigest()
    return digest[:4].upper()


def payload(kind: str, number: str, total_with_tax: Decimal, issued: date, secret: str) -> str:
    fields = [VERSION, TYPES[kind], "", number, f"{total_with_tax:.2f}", f"{issued:%Y%m%d}", ""]
    return ",".join([*fields, _value(fields, secret)])


def parse(text: str, secret: str) -> Scanned | None:
    """What a scanned code says, or None when it is not an invoice QR code of this form."""
    fields = text.strip().split(",")
    if len(fields) == 9 and fields[8] == "":
        fields = fields[:8]
    if len(fields) != 8 or fields[0] != VERSION or fields[1] not in KINDS:
        return None
    number, amount, day, value = fields[3], fields[4], fields[5], fields[7]
    if len(number) != 20 or not number.isdigit() or len(day) != 8 or not day.isdigit():
        return None
    try:
        total = Decimal(amount)
        issued = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except (InvalidOperation, ValueError):
        return None
    if not total.is_finite():
        return None
    # The value is computed over the amount as printed here (two decimals).
    printed = [*fields[:4], f"{total:.2f}", fields[5], fields[6]]
    genuine = hmac.compare_digest(value.upper(), _value(printed, secret))
    return Scanned(KINDS[fields[1]], number, total, issued, genuine)


def svg(text: str) -> str:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, nl=False
    )
    return buffer.getvalue().decode()
