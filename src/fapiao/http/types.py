"""Pydantic field types for decimals that travel as strings ("113.00", "0.13")."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from fapiao.kit.money import places_of, to_decimal


def _decimal_parser(places: int, max_integer_digits: int, positive: bool) -> Any:
    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise PydanticCustomError(
                "decimal_type", 'Give the number as a string, for example "113.00".'
            )
        number = to_decimal(str(value).strip())
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
