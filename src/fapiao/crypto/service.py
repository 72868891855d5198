"""Start-up of encryption, key rotation, status and retirement (`fapiao keys ...`)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from fapiao.crypto import cipher as c
from fapiao.crypto import sweep
from fapiao.crypto.keyring import FIELD, REFRESH_SECONDS, KeyRing
from fapiao.crypto.models import DataKey, EncryptionState
from fapiao.kit.errors import N_, Conflict, NotFound
from fapiao.kit.files import create_once
from fapiao.settings import Settings, SettingsError, decode_master_key

PLAINTEXT = "plaintext"
ROTATION = "rotation"


def start(database: Any, now: datetime) -> None:
    """Open the keys of `database` (creating the first ones), and encrypt rows written
    before encryption existed, once. Every process calls this at start-up."""
    keyring: KeyRing = database.keyring
    keyring.ensure(database, now)
    with database.transaction(write=False) as session:
        pending = session.get(EncryptionState, PLAINTEXT) is not None
    if pending:
        batch = database.settings.keys_batch_size
        key_id, _cipher = keyring.current_key()
        sweep.protect_natural_persons(database, keyring, batch)
        sweep.sweep(database, keyring, key_id, batch=batch, only_plaintext=True)
        with database.transaction() as session:
            marker = session.get(EncryptionState, PLAINTEXT)
            if marker is not None:
                session.delete(marker)
    keyring.plaintext_allowed = False


@dataclass(frozen=True)
class KeyStatus:
    id: int
    purpose: str
    cipher: str
    master_id: str
    created_at: datetime
    retired_at: datetime | None
    values: int
    current: bool


@dataclass(frozen=True)
class Status:
    keys: list[KeyStatus]
    plaintext: int
    rotation_target: int | None


def status(database: Any) -> Status:
    keyring: KeyRing = database.keyring
    with database.transaction(write=False) as session:
        rows = session.scalars(select(DataKey).order_by(DataKey.id)).all()
        field_ids = [row.id for row in rows if row.purpose == FIELD]
        used = sweep.usage(session, field_ids)
        rotation = session.get(EncryptionState, ROTATION)
    current, _cipher = keyring.current_key()
    keys = [
        KeyStatus(
            id=row.id,
            purpose=row.purpose,
            cipher=row.cipher,
            master_id=row.master_id,
            created_at=row.created_at,
            retired_at=row.retired_at,
            values=used.by_key.get(row.id, 0),
            current=row.id == current,
        )
        for row in rows
    ]
    target = int(rotation.value) if rotation is not None else None
    return Status(keys=keys, plaintext=used.plaintext, rotation_target=target)


def begin_rotation(database: Any, now: datetime) -> tuple[int, bool]:
    """The data key a rotation re-encrypts to: the one of an unfinished rotation
    (continued: True), else a new one, made the key of new values."""
    keyring: KeyRing = database.keyring
    with database.transaction() as session:
        marker = session.get(EncryptionState, ROTATION)
        if marker is not None:
            key = session.get(DataKey, int(marker.value))
            if key is not None and key.retired_at is None:
                keyring.load(session)
                return key.id, True
            session.delete(marker)
        key_id = keyring.add_key(session, FIELD, database.settings.field_cipher, now)
        session.add(EncryptionState(name=ROTATION, value=str(key_id)))
    keyring.refresh()
    return key_id, False


def pending_count(database: Any, target: int) -> int:
    with database.transaction(write=False) as session:
        return sweep.count_pending(session, target)


def finish_rotation(database: Any, target: int) -> bool:
    """End the rotation when no value is left under another key; whether it ended."""
    with database.transaction() as session:
        if sweep.count_pending(session, target):
            return False
        marker = session.get(EncryptionState, ROTATION)
        if marker is not None and marker.value == str(target):
            session.delete(marker)
    return True


def rotate_master(database: Any) -> str:
    """Wrap every data key under a new master key, then put the new key in place of the
    file; the new key's fingerprint. A stop between the two is finished at the next
    start (keyring.finish_master_rotation). Needs the key in a file."""
    settings: Settings = database.settings
    if settings.master_key:
        raise SettingsError(
            "FAPIAO_MASTER_KEY is set: a new master key can only be written to a file. "
            "Set FAPIAO_MASTER_KEY_FILE instead (or unset it for the data dir's master.key)"
        )
    keyring: KeyRing = database.keyring
    old = keyring.master()
    path = settings.master_key_path
    pending = path.with_name(path.name + ".new")
    # An unfinished earlier attempt left its key: reuse it (its wraps may be committed).
    create_once(pending, base64.b64encode(os.urandom(32)) + b"\n")
    new = decode_master_key(pending.read_text())
    new_id = c.master_fingerprint(new)
    with database.transaction() as session:
        for row in session.scalars(select(DataKey).where(DataKey.wrapped != "")):
            key = c.unwrap_key(old, row.id, row.purpose, row.cipher, row.wrapped)
            row.wrapped = c.wrap_key(new, row.id, row.purpose, row.cipher, key)
            row.master_id = new_id
    os.replace(pending, path)
    keyring._master = new
    return new_id


def retire(database: Any, key_id: int, now: datetime) -> None:
    """Destroy a data key's material; refused while any value uses it or while it is the
    key of new values."""
    keyring: KeyRing = database.keyring
    with database.transaction() as session:
        key = session.get(DataKey, key_id)
        if key is None or key.purpose != FIELD:
            raise NotFound(
                "DATA_KEY_NOT_FOUND", N_("There is no data key {id}."), params={"id": key_id}
            )
        if key.retired_at is not None:
            return
        current, _cipher = keyring.current_key()
        if key_id == current:
            raise Conflict(
                "DATA_KEY_CURRENT",
                N_("Data key {id} encrypts new values; rotate to a new key first."),
                params={"id": key_id},
            )
        # Servers read the data keys again every REFRESH_SECONDS: until then some may still
        # encrypt under this key, so values could appear after the count below.
        newest = session.scalar(
            select(func.max(DataKey.created_at)).where(
                DataKey.purpose == FIELD, DataKey.id > key_id
            )
        )
        wait = REFRESH_SECONDS - (now - newest).total_seconds() if newest else 0.0
        if wait > 0:
            raise Conflict(
                "DATA_KEY_TOO_NEW",
                N_(
                    "Servers may still encrypt under data key {id} for {seconds} s; run "
                    "fapiao keys rotate again after that, then retire it."
                ),
                params={"id": key_id, "seconds": int(wait) + 1},
            )
        values = sweep.usage(session, [key_id]).by_key[key_id]
        if values:
            raise Conflict(
                "DATA_KEY_IN_USE",
                N_("Data key {id} still encrypts {count} values; run fapiao keys rotate first."),
                params={"id": key_id, "count": values},
            )
        key.wrapped = ""
        key.retired_at = now
    keyring.refresh()
