"""Which columns hold encrypted values (the key tools and sweeps walk this list)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]

    def field(self, column: str) -> str:
        return f"{self.name}.{column}"


TABLES = (
    Table("taxpayers", ("address", "phone", "bank", "account")),
    Table(
        "invoices",
        (
            "seller_address",
            "seller_phone",
            "seller_bank",
            "seller_account",
            "buyer_address",
            "buyer_phone",
            "buyer_bank",
            "buyer_account",
            "buyer_id_number",
        ),
    ),
)
