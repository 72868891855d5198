"""The field ciphers and the stored form of encrypted values, without a database."""

from __future__ import annotations

import os

import pytest

from fapiao.crypto import cipher as c

AVAILABLE = [name for name in c.CIPHERS if c.unavailable_reason(name) is None]


def _flip(stored: str, position: int) -> str:
    head, _, body = stored.rpartition(":")
    raw = bytearray(c.b64decode(body))
    raw[position] ^= 0x01
    return f"{head}:{c.b64encode(bytes(raw))}"


@pytest.mark.parametrize("name", AVAILABLE)
def test_round_trip_with_fresh_nonces(name: str) -> None:
    cipher = c.make_cipher(name, os.urandom(32))
    first = c.seal_value(cipher, 7, "invoices.buyer_account", "0200 0012 3456 7890 123")
    second = c.seal_value(cipher, 7, "invoices.buyer_account", "0200 0012 3456 7890 123")
    assert first.startswith("e1:7:") and first != second
    assert "0200" not in first
    for stored in (first, second):
        plain = c.open_value(cipher, 7, "invoices.buyer_account", stored)
        assert plain == "0200 0012 3456 7890 123"
    assert c.open_value(cipher, 7, "t.c", c.seal_value(cipher, 7, "t.c", "北京市海淀区")) == (
        "北京市海淀区"
    )


@pytest.mark.parametrize("name", AVAILABLE)
@pytest.mark.parametrize("position", [0, 12, -1])  # nonce, ciphertext, tag
def test_a_flipped_bit_is_refused(name: str, position: int) -> None:
    cipher = c.make_cipher(name, os.urandom(32))
    stored = c.seal_value(cipher, 1, "taxpayers.phone", "010-62751234")
    with pytest.raises(c.DecryptionError, match="authentication failed"):
        c.open_value(cipher, 1, "taxpayers.phone", _flip(stored, position))


@pytest.mark.parametrize("name", AVAILABLE)
def test_a_value_moved_to_another_column_or_key_is_refused(name: str) -> None:
    cipher = c.make_cipher(name, os.urandom(32))
    stored = c.seal_value(cipher, 1, "taxpayers.phone", "010-62751234")
    with pytest.raises(c.DecryptionError):
        c.open_value(cipher, 1, "taxpayers.account", stored)
    relabelled = stored.replace("e1:1:", "e1:2:")
    with pytest.raises(c.DecryptionError):
        c.open_value(cipher, 2, "taxpayers.phone", relabelled)


def test_sm4_round_trip_or_the_reason_it_cannot_run() -> None:
    has_sm4, has_gcm = c.sm4_support()
    if not has_sm4:
        assert c.unavailable_reason(c.SM4_GCM) == (
            "the installed cryptography/OpenSSL build has no SM4"
        )
        pytest.skip("this cryptography/OpenSSL build has no SM4")
    names = [c.SM4_CTR_HMAC] + ([c.SM4_GCM] if has_gcm else [])
    if not has_gcm:
        assert "not SM4-GCM" in (c.unavailable_reason(c.SM4_GCM) or "")
    for name in names:
        key = os.urandom(32)
        stored = c.seal_value(c.make_cipher(name, key), 3, "taxpayers.bank", "中国工商银行")
        assert c.open_value(c.make_cipher(name, key), 3, "taxpayers.bank", stored) == "中国工商银行"
        other = c.make_cipher(c.AES_GCM, key)
        with pytest.raises(c.DecryptionError):
            c.open_value(other, 3, "taxpayers.bank", stored)


def test_wrapped_keys_open_only_with_their_master_and_name() -> None:
    master, key = os.urandom(32), os.urandom(32)
    wrapped = c.wrap_key(master, 4, "field", c.AES_GCM, key)
    assert c.unwrap_key(master, 4, "field", c.AES_GCM, wrapped) == key
    with pytest.raises(c.DecryptionError):
        c.unwrap_key(os.urandom(32), 4, "field", c.AES_GCM, wrapped)
    with pytest.raises(c.DecryptionError):
        c.unwrap_key(master, 5, "field", c.AES_GCM, wrapped)


def test_blind_index_is_keyed_stable_and_fits_a_tax_id_column() -> None:
    key = os.urandom(32)
    index = c.blind_index(key, "11010519491231002X")
    assert index == c.blind_index(key, "11010519491231002X")
    assert len(index) == 20 and c.is_blind(index)
    assert index != c.blind_index(key, "110105194912310029")
    assert index != c.blind_index(os.urandom(32), "11010519491231002X")
    assert not c.is_blind("91110108551385082Q")


def test_malformed_values_are_refused() -> None:
    cipher = c.make_cipher(c.AES_GCM, os.urandom(32))
    for bad in ("e1:x:abc", "plain", "e2:1:abc"):
        with pytest.raises(c.DecryptionError):
            c.key_id_of(bad)
    with pytest.raises(c.DecryptionError):
        c.open_value(cipher, 1, "t.c", "e1:1:AAAA")
