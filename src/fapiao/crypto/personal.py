"""Natural persons' ID numbers on invoices.

An ordinary invoice to a natural person names the buyer by an ID number (a resident
identity number, usually). It is personal data, so it is stored only encrypted, in
`invoices.buyer_id_number`. The buyer tax ID column, which the buyer lookups match on
(the buyer's inbox, a seller's "counterparty" filter, red-letter forms, the ledger),
holds its blind index instead: HMAC-SHA256 under the database's index key, 20
characters, so equal IDs keep matching and the index says nothing without the key. The
index key is never rotated (indexes in the ledger and on red-letter forms must keep
matching); a master key rotation only re-wraps it."""

from __future__ import annotations

from typing import Any

from fapiao.crypto.cipher import is_blind
from fapiao.crypto.keyring import KeyRing


def protect_row(row: dict[str, Any], keyring: KeyRing) -> dict[str, Any]:
    """Move a natural person's ID number of an invoice row into `buyer_id_number` and
    put its blind index in `buyer_tax_id`. Rows of enterprises, and rows already
    protected, are left as they are."""
    tax_id = row.get("buyer_tax_id")
    row.setdefault("buyer_id_number", "")
    if row.get("buyer_natural_person") and tax_id and not is_blind(tax_id):
        row["buyer_id_number"] = tax_id
        row["buyer_tax_id"] = keyring.blind(tax_id)
    return row


def lookup_ids(tax_id: str, keyring: KeyRing) -> list[str]:
    """The stored buyer tax IDs an ID given by a user can match: itself (an enterprise),
    and its blind index (a natural person)."""
    return [tax_id, keyring.blind(tax_id)]


def shown_buyer_id(invoice: Any) -> str | None:
    """The buyer ID to show to someone entitled to see the invoice: the decrypted ID
    number of a natural person, else the tax ID."""
    return getattr(invoice, "buyer_id_number", "") or invoice.buyer_tax_id
