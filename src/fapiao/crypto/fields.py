"""Which columns hold encrypted values (the key tools and sweeps walk this list)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: str = "id"  # the primary key the sweeps walk in order

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
    # Second-factor secrets: whoever reads them can make every user's one-time codes.
    Table("user_security", ("totp_secret", "totp_pending_secret"), key="user_id"),
)
