"""The invoice QR code text: fields, the keyed check value, and reading it back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fapiao.invoices import qrcode

SECRET = "s" * 32


def test_payload_has_the_eight_fields_and_reads_back_as_genuine() -> None:
    text = qrcode.payload(
        "ordinary", "26110000000000000001", Decimal("113"), date(2026, 12, 1), SECRET
    )
    fields = text.split(",")
    assert fields[:7] == ["01", "32", "", "26110000000000000001", "113.00", "20261201", ""]
    assert len(fields[7]) == 4 and fields[7] == fields[7].upper()
    scanned = qrcode.parse(text, SECRET)
    assert scanned is not None and scanned.genuine
    assert scanned.kind == "ordinary" and scanned.total_with_tax == Decimal("113.00")
    assert scanned.issue_date == date(2026, 12, 1)


def test_a_changed_amount_or_another_key_is_not_genuine_but_still_read() -> None:
    text = qrcode.payload(
        "special", "26110000000000000002", Decimal("226.00"), date(2026, 12, 1), SECRET
    )
    forged = text.replace("226.00", "2260.00")
    scanned = qrcode.parse(forged, SECRET)
    assert scanned is not None and not scanned.genuine
    other = qrcode.parse(text, "t" * 32)
    assert other is not None and not other.genuine


def test_nine_fields_and_amounts_without_decimals_are_accepted() -> None:
    text = qrcode.payload(
        "special", "26110000000000000003", Decimal("112"), date(2026, 1, 5), SECRET
    )
    fields = text.split(",")
    short = ",".join([*fields[:4], "112", *fields[5:]]) + ","
    scanned = qrcode.parse(short, SECRET)
    assert scanned is not None and scanned.genuine and scanned.kind == "special"


def test_other_texts_are_not_invoice_codes() -> None:
    for text in (
        "",
        "hello",
        "02,32,,26110000000000000001,1.00,20261201,,ABCD",
        "01,99,,26110000000000000001,1.00,20261201,,ABCD",
        "01,32,,2611,1.00,20261201,,ABCD",
        "01,32,,26110000000000000001,abc,20261201,,ABCD",
        "01,32,,26110000000000000001,NaN,20261201,,ABCD",
        "01,32,,26110000000000000001,1.00,20261341,,ABCD",
    ):
        assert qrcode.parse(text, SECRET) is None, text


def test_svg_is_an_svg_image() -> None:
    assert qrcode.svg("01,32,,1,1.00,20261201,,ABCD").startswith("<svg")
