"""Pydantic field types for decimals that travel as strings ("113.00", "0.13")."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from fapiao.kit.money import places_of, to_decimal

_PLAIN_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_character", "Control characters are not allowed.")
    return value


# Free text from clients: no NUL or other control characters (PostgreSQL refuses NUL, and
# nothing printable on an invoice needs them). Tabs and line breaks are allowed.
Text = Annotated[str, AfterValidator(_no_control_characters)]


def _decimal_parser(places: int, max_integer_digits: int, positive: bool) -> Any:
    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise PydanticCustomError(
                "decimal_type", 'Give the number as a string, for example "113.00".'
            )
        text = str(value)
        # Only plain decimals: no spaces, exponents, underscores or full-width digits,
        # which Decimal() would otherwise accept.
        number = to_decimal(text) if _PLAIN_DECIMAL.match(text) else None
        if number is None:
            raise PydanticCustomError("decimal_format", "Not a decimal number.")
        if places_of(number) > places:
            raise PydanticCustomError(
                "decimal_places", "At most {places} decimal places.", {"places": places}
            )
        if abs(number) >= Decimal(10) ** max_integer_digits:
            raise PydanticCustomError(
                "decimal_too_large",
                "At most {digits} digits before the decimal point.",
                {"digits": max_integer_digits},
            )
        if positive and number <= 0:
            raise PydanticCustomError("decimal_not_positive", "Must be greater than zero.")
        return number

    return parse


def _schema(pattern: str, example: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


_serialize = PlainSerializer(lambda value: f"{value:f}", return_type=str, when_used="json")

Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_parser(2, 14, positive=False)),
    _schema(r"^-?\d{1,14}(\.\d{1,2})?$", "113.00"),
    _serialize,
]
PositiveAmount = Annotated[
    Decimal,
    BeforeValidator(_decimal_parser(2, 14, positive=True)),
    _schema(r"^\d{1,14}(\.\d{1,2})?$", "100.00"),
    _serialize,
]
Quantity = Annotated[
    Decimal,
    BeforeValidator(_decimal_parser(13, 16, positive=True)),
    _schema(r"^\d{1,16}(\.\d{1,13})?$", "2"),
    _serialize,
]
UnitPrice = Quantity
