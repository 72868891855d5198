"""Money arithmetic: Decimal only, half-up rounding (四舍五入)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_PRICE_PLACES = 13


def round2(value: Decimal) -> Decimal:
    """Round half-up to two decimal places (amounts and tax)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_places(value: Decimal, places: int) -> Decimal:
    """Round half-up to `places` decimals and drop trailing zeros (quantities, prices)."""
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    return normalize(rounded)


def normalize(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def fmt2(value: Decimal) -> str:
    """Two-decimal string as amounts travel on the wire ("113.00")."""
    return f"{round2(value):.2f}"


def fmt_plain(value: Decimal) -> str:
    """Plain string for quantities and prices, no exponent ("1.5", "100")."""
    return f"{normalize(value):f}"


def places_of(value: Decimal) -> int:
    """Number of decimal places written in a Decimal."""
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def to_decimal(text: str) -> Decimal | None:
    """Parse a decimal string; None when it is not a finite number."""
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return value if value.is_finite() else None
