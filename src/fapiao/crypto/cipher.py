"""Field ciphers, key wrapping and the stored form of an encrypted value. Pure functions
over bytes and strings: no database, no settings.

Stored form of an encrypted value: ``e1:<key id>:<base64url(nonce | ciphertext | tag)>``.
``e1`` is the format version; the data key named by the id says which cipher sealed it.
The associated data binds the value to its version, key id and column (``table.column``),
so a value copied into another column, or relabelled with another key id, fails
authentication instead of decrypting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Protocol

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "e1"
PREFIX = VERSION + ":"
AES_GCM = "aes-256-gcm"
SM4_GCM = "sm4-gcm"
SM4_CTR_HMAC = "sm4-ctr-hmac"
CIPHERS = (AES_GCM, SM4_GCM, SM4_CTR_HMAC)
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
# The blind index of a natural person's ID number fits the 20-character tax ID columns.
BLIND_PREFIX = "b1:"
BLIND_LENGTH = 20


class DecryptionError(Exception):
    """A stored value failed authentication or is malformed: tampered with, moved from
    another column, or sealed by a key this process does not hold."""


class FieldCipher(Protocol):
    name: str

    def seal(self, data: bytes, aad: bytes) -> bytes: ...

    def open(self, blob: bytes, aad: bytes) -> bytes: ...


class AesGcm:
    """AES-256-GCM with a fresh random 96-bit nonce per value."""

    name = AES_GCM

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("value too short")
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionError("authentication failed") from None


class Sm4Gcm:
    """SM4 (GB/T 32907) in GCM mode, where the OpenSSL build offers it. SM4 keys are 128
    bits: the first half of the data key."""

    name = SM4_GCM

    def __init__(self, key: bytes) -> None:
        self._key = key[:16]

    def seal(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        body = encryptor.update(data) + encryptor.finalize()
        return nonce + body + encryptor.tag

    def open(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("value too short")
        nonce, body, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        try:
            return decryptor.update(body) + decryptor.finalize()
        except InvalidTag:
            raise DecryptionError("authentication failed") from None


class Sm4CtrHmac:
    """SM4-CTR, then HMAC-SM3 over the associated data, nonce and ciphertext
    (encrypt-then-MAC), for builds that have SM4 but not SM4-GCM. The data key's first
    half encrypts, its second half authenticates."""

    name = SM4_CTR_HMAC

    def __init__(self, key: bytes) -> None:
        self._enc, self._mac = key[:16], key[16:32]

    def _tag(self, nonce: bytes, body: bytes, aad: bytes) -> bytes:
        mac = crypto_hmac.HMAC(self._mac, hashes.SM3())
        mac.update(len(aad).to_bytes(8, "big") + aad + nonce + body)
        return mac.finalize()[:TAG_BYTES]

    def _ctr(self, nonce: bytes) -> Cipher[modes.CTR]:
        # 96-bit random nonce, 32-bit block counter from zero (like GCM's layout).
        return Cipher(algorithms.SM4(self._enc), modes.CTR(nonce + bytes(4)))

    def seal(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        encryptor = self._ctr(nonce).encryptor()
        body = encryptor.update(data) + encryptor.finalize()
        return nonce + body + self._tag(nonce, body, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("value too short")
        nonce, body, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(nonce, body, aad)):
            raise DecryptionError("authentication failed")
        decryptor = self._ctr(nonce).decryptor()
        return decryptor.update(body) + decryptor.finalize()


def sm4_support() -> tuple[bool, bool]:
    """(SM4 at all, SM4-GCM) in the installed `cryptography` and its OpenSSL build."""
    key, nonce = bytes(16), bytes(NONCE_BYTES)
    try:
        Cipher(algorithms.SM4(key), modes.CTR(bytes(16))).encryptor().finalize()
        crypto_hmac.HMAC(key, hashes.SM3()).finalize()
    except (UnsupportedAlgorithm, AttributeError, ValueError):
        return False, False
    try:
        Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor().finalize()
    except (UnsupportedAlgorithm, ValueError):
        return True, False
    return True, True


def unavailable_reason(name: str) -> str | None:
    """Why cipher `name` cannot run on this build, or None when it can."""
    if name == AES_GCM:
        return None
    has_sm4, has_gcm = sm4_support()
    if not has_sm4:
        return "the installed cryptography/OpenSSL build has no SM4"
    if name == SM4_GCM and not has_gcm:
        return (
            "the installed cryptography/OpenSSL build has SM4 but not SM4-GCM; "
            f"use {SM4_CTR_HMAC} (SM4-CTR with HMAC-SM3)"
        )
    return None


def make_cipher(name: str, key: bytes) -> FieldCipher:
    if len(key) != KEY_BYTES:
        raise ValueError("a data key has 32 bytes")
    if name == AES_GCM:
        return AesGcm(key)
    if name == SM4_GCM:
        return Sm4Gcm(key)
    if name == SM4_CTR_HMAC:
        return Sm4CtrHmac(key)
    raise ValueError(f"unknown cipher {name}")


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise DecryptionError("not base64") from None


def aad_of(key_id: int, field: str) -> bytes:
    return f"{VERSION}:{key_id}:{field}".encode()


def seal_value(cipher: FieldCipher, key_id: int, field: str, plaintext: str) -> str:
    """The stored form of `plaintext` in column `field` ("table.column")."""
    blob = cipher.seal(plaintext.encode(), aad_of(key_id, field))
    return f"{PREFIX}{key_id}:{b64encode(blob)}"


def key_id_of(stored: str) -> int:
    """The data key id of a stored value (DecryptionError when it is not one)."""
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION or not parts[1].isdigit():
        raise DecryptionError("not an encrypted value")
    return int(parts[1])


def open_value(cipher: FieldCipher, key_id: int, field: str, stored: str) -> str:
    blob = b64decode(stored.split(":", 2)[2])
    try:
        return cipher.open(blob, aad_of(key_id, field)).decode()
    except UnicodeDecodeError:
        raise DecryptionError("not text") from None


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def wrap_key(master: bytes, key_id: int, purpose: str, cipher: str, key: bytes) -> str:
    """A data key encrypted by the master key, bound to its id, purpose and cipher."""
    aad = f"fapiao-data-key:{key_id}:{purpose}:{cipher}".encode()
    return "w1:" + b64encode(AesGcm(master).seal(key, aad))


def unwrap_key(master: bytes, key_id: int, purpose: str, cipher: str, wrapped: str) -> bytes:
    if not wrapped.startswith("w1:"):
        raise DecryptionError("not a wrapped key")
    aad = f"fapiao-data-key:{key_id}:{purpose}:{cipher}".encode()
    return AesGcm(master).open(b64decode(wrapped[3:]), aad)


def master_fingerprint(master: bytes) -> str:
    """A short public name of a master key (not a secret: a hash of a random key)."""
    return hashlib.sha256(b"fapiao-master:" + master).hexdigest()[:16]


def blind_index(index_key: bytes, value: str) -> str:
    """A keyed hash of a natural person's ID number: equal IDs give equal indexes, and
    without the key the index says nothing about the ID. 102 bits in 20 characters."""
    digest = hmac.new(index_key, b"buyer-id\x00" + value.encode(), hashlib.sha256).digest()
    return BLIND_PREFIX + b64encode(digest)[: BLIND_LENGTH - len(BLIND_PREFIX)]


def is_blind(value: str | None) -> bool:
    return (
        bool(value) and len(value or "") == BLIND_LENGTH and (value or "").startswith(BLIND_PREFIX)
    )
