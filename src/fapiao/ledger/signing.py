"""Receipt signatures: Ed25519 over a canonical JSON of the receipt's fields."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.dbsql import insert_ignore
from fapiao.kit.errors import N_
from fapiao.kit.files import create_once
from fapiao.ledger.models import SigningKey

ALGORITHM = "Ed25519"
RECEIPT_FIELDS = (
    "number",
    "seller_tax_id",
    "buyer_tax_id",
    "total_with_tax",
    "issued_at",
    "journal_seq",
    "entry_hash",
)


def canonical(value: Any) -> bytes:
    """The one byte string a JSON value is signed and hashed as: keys sorted, no spaces,
    UTF-8 (not \\u escapes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def public_b64(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64(raw)


@dataclass
class Signer:
    """This server's signing key."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        """The key in `path`, created there (mode 0600, atomically) on first use."""
        if not path.exists():
            _create(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key, key_id_of(key.public_key()))

    def sign(self, payload: dict[str, Any]) -> str:
        return b64(self.private_key.sign(canonical(payload)))

    def register(self, session: Session, now: datetime) -> None:
        """Publish this server's public key (once)."""
        session.execute(
            insert_ignore(
                session,
                SigningKey,
                {
                    "key_id": self.key_id,
                    "algorithm": ALGORITHM,
                    "public_key": public_b64(self.private_key.public_key()),
                    "created_at": now,
                },
            )
        )


def _create(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    create_once(path, pem)


def rotate(path: Path) -> Path:
    """Move the current key aside (kept, for the record) so the next start creates a new
    one. Returns where the old key went."""
    old = Signer.from_file(path)
    retired = path.with_name(f"{path.stem}.{old.key_id}.retired{path.suffix}")
    os.replace(path, retired)
    return retired


def retire(session: Session, key_id: str, now: datetime) -> None:
    key = session.get(SigningKey, key_id)
    if key is not None and key.retired_at is None:
        key.retired_at = now


def published_keys(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.key_id))
    return [
        {
            "kid": row.key_id,
            "alg": row.algorithm,
            "public_key": row.public_key,
            "created_at": row.created_at.isoformat(),
            "retired_at": row.retired_at.isoformat() if row.retired_at else None,
        }
        for row in rows
    ]


Problem = tuple[str, dict[str, Any]]


def verify(receipt: dict[str, Any], keys: list[dict[str, Any]]) -> Problem | None:
    """None when the receipt's signature is good under one of `keys`, else why not (a
    translatable message and its parameters)."""
    try:
        payload = {name: receipt["payload"][name] for name in RECEIPT_FIELDS}
        key_id, signature = str(receipt["kid"]), unb64(str(receipt["signature"]))
    except (KeyError, TypeError, ValueError):
        return N_("This is not a receipt: it needs payload, kid and signature."), {}
    if set(receipt["payload"]) != set(RECEIPT_FIELDS):
        return N_("The payload has fields that are not signed."), {}
    matching = [key for key in keys if key.get("kid") == key_id]
    if not matching:
        return N_("There is no public key with id {kid}."), {"kid": key_id}
    retired = matching[0].get("retired_at")
    if retired and str(payload["issued_at"]) > str(retired):
        return N_("Key {kid} was retired before this receipt's time."), {"kid": key_id}
    try:
        public_key = Ed25519PublicKey.from_public_bytes(unb64(matching[0]["public_key"]))
        public_key.verify(signature, canonical(payload))
    except (InvalidSignature, ValueError):
        return N_("The signature does not match the signed fields."), {}
    return None
