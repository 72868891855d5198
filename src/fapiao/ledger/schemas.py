"""The receipt and key shapes of the API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReceiptPayload(BaseModel):
    number: str
    seller_tax_id: str
    buyer_tax_id: str | None
    total_with_tax: str
    issued_at: str
    journal_seq: int
    entry_hash: str


class Receipt(BaseModel):
    """The platform's Ed25519 signature over the canonical JSON of `payload` (keys
    sorted, no spaces, UTF-8), base64url without padding; `kid` names the key in
    `GET /api/v1/keys`."""

    payload: ReceiptPayload
    alg: str = Field(examples=["Ed25519"])
    kid: str
    signature: str


class PublicKey(BaseModel):
    kid: str
    alg: str
    public_key: str = Field(description="raw 32-byte Ed25519 public key, base64url")
    created_at: str
    retired_at: str | None


class KeySet(BaseModel):
    keys: list[PublicKey]
