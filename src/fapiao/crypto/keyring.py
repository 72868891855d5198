"""The key ring of one Database: its master key, its unwrapped data keys, and the data
key that seals new values.

State is per Database, never per process: several platforms with different data dirs
and keys may live in one process (tests make one per test). The ring is attached to
each engine's dialect object, which is what SQLAlchemy hands a column type's bind and
result processors, so `Encrypted` columns find the ring of the engine running the
statement."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fapiao.crypto import cipher as c
from fapiao.crypto.models import DataKey
from fapiao.settings import Settings, SettingsError

log = logging.getLogger(__name__)
FIELD = "field"
INDEX = "index"
# How often a process looks for a newer data key (written by `fapiao keys rotate` in
# another process), so it stops sealing new values under the old one.
REFRESH_SECONDS = 30.0
_ATTRIBUTE = "_fapiao_keyring"


class KeyRingError(Exception):
    """Keys are missing or do not open; the message says what to do."""


@dataclass(frozen=True)
class Loaded:
    ciphers: dict[int, c.FieldCipher]
    current: int | None
    index_key: bytes | None


class KeyRing:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._loaded = Loaded({}, None, None)
        self._loaded_at = -REFRESH_SECONDS
        self._master: bytes | None = None
        # True while rows written before encryption may still hold plaintext.
        self.plaintext_allowed = True

    def attach(self, *engines: Engine) -> None:
        """Serve the columns of statements run on these engines; the first one is used
        to read the data keys."""
        for engine in engines:
            setattr(engine.dialect, _ATTRIBUTE, self)
        if self._engine is None and engines:
            self._engine = engines[0]

    # -- master key --------------------------------------------------------------------

    def master(self) -> bytes:
        if self._master is None:
            self._master = self.settings.resolved_master_key()
        return self._master

    def master_id(self) -> str:
        return c.master_fingerprint(self.master())

    # -- loading -----------------------------------------------------------------------

    def load(self, session: Session) -> None:
        """Unwrap every data key in the database (SettingsError naming the master key
        setting when they do not open)."""
        rows = session.scalars(select(DataKey).order_by(DataKey.id)).all()
        self._install(rows)

    def _install(self, rows: Any) -> None:
        rows = list(rows)
        try:
            self._install_with(self.master(), rows)
        except SettingsError:
            # `fapiao keys rotate --master` re-wraps the data keys under a new master key
            # and replaces the key file: read it again before giving up.
            fresh = self.settings.resolved_master_key()
            if fresh == self._master:
                raise
            self._master = fresh
            self._install_with(fresh, rows)

    def _install_with(self, master: bytes, rows: list[Any]) -> None:
        ciphers: dict[int, c.FieldCipher] = {}
        current: int | None = None
        index_key: bytes | None = None
        for row in rows:
            if not row.wrapped:  # retired: its material is gone
                continue
            try:
                key = c.unwrap_key(master, row.id, row.purpose, row.cipher, row.wrapped)
            except c.DecryptionError:
                raise SettingsError(
                    f"{self.settings.master_key_setting} does not open data key {row.id} "
                    "in this database: it is not the master key these data keys were "
                    f"wrapped with (master key {row.master_id}, given "
                    f"{c.master_fingerprint(master)})"
                ) from None
            if row.purpose == INDEX:
                index_key = key
            elif c.unavailable_reason(row.cipher) is None:
                ciphers[row.id] = c.make_cipher(row.cipher, key)
                if row.retired_at is None and row.cipher == self.settings.field_cipher:
                    current = row.id
        with self._lock:
            self._loaded = Loaded(ciphers, current, index_key)
            self._loaded_at = time.monotonic()

    def refresh(self) -> None:
        """Read the data keys again (on this ring's engine, in a short read of its own)."""
        if self._engine is None:
            raise KeyRingError("no database engine to read the data keys from")
        with Session(self._engine) as session:
            self.load(session)

    def _state(self) -> Loaded:
        if time.monotonic() - self._loaded_at >= REFRESH_SECONDS and self._engine is not None:
            try:
                self.refresh()
            except Exception as exc:  # keep the keys we have; try again next time
                # (a master key rotated elsewhere changes no data key: the ones loaded
                # still open every value)
                log.warning("could not refresh the data keys: %s", exc)
                self._loaded_at = time.monotonic()
        return self._loaded

    # -- values ------------------------------------------------------------------------

    def current_key(self) -> tuple[int, c.FieldCipher]:
        state = self._state()
        if state.current is None:
            raise KeyRingError(
                "no data key for new values: open the database through the platform "
                "(fapiao serve / worker / CLI), which creates one"
            )
        return state.current, state.ciphers[state.current]

    def encrypt(self, field: str, plaintext: str, key_id: int | None = None) -> str:
        if key_id is None:
            key_id, cipher = self.current_key()
        else:
            cipher = self._cipher(key_id)
        return c.seal_value(cipher, key_id, field, plaintext)

    def _cipher(self, key_id: int) -> c.FieldCipher:
        cipher = self._state().ciphers.get(key_id)
        if cipher is None:
            self.refresh()  # a key added by another process since we looked
            cipher = self._loaded.ciphers.get(key_id)
        if cipher is None:
            raise c.DecryptionError(f"data key {key_id} is not available (retired or unknown)")
        return cipher

    def decrypt(self, field: str, stored: str) -> str:
        """The plaintext of a stored value of column `field`; DecryptionError when it was
        tampered with, moved from another column, or is plaintext after the first-run
        sweep said none is left."""
        if not c.is_sealed(stored):
            if self.plaintext_allowed:
                return stored
            raise c.DecryptionError(f"{field} holds a value that is not encrypted")
        key_id = c.key_id_of(stored)
        try:
            return c.open_value(self._cipher(key_id), key_id, field, stored)
        except c.DecryptionError as exc:
            raise c.DecryptionError(
                f"the stored value of {field} (key {key_id}) was refused: {exc} "
                "(altered, or copied from another column)"
            ) from None

    def blind(self, value: str) -> str:
        """The blind index of a natural person's ID number."""
        key = self._state().index_key
        if key is None:
            raise KeyRingError("no blind index key: open the database through the platform")
        return c.blind_index(key, value)

    # -- creating keys -----------------------------------------------------------------

    def add_key(self, session: Session, purpose: str, cipher: str, now: datetime) -> int:
        """A new random data key, wrapped and stored; its id. The caller commits."""
        last = session.scalar(select(DataKey.id).order_by(DataKey.id.desc()).limit(1))
        key_id = (last or 0) + 1
        key = os.urandom(c.KEY_BYTES)
        session.add(
            DataKey(
                id=key_id,
                purpose=purpose,
                cipher=cipher,
                wrapped=c.wrap_key(self.master(), key_id, purpose, cipher, key),
                master_id=self.master_id(),
                created_at=now,
            )
        )
        session.flush()
        return key_id

    def ensure(self, database: Any, now: datetime) -> None:
        """Check the master key and make sure an index key and a data key for the
        configured cipher exist; load them all. Start-up calls this once."""
        reason = c.unavailable_reason(self.settings.field_cipher)
        if reason is not None:
            raise SettingsError(f"FAPIAO_FIELD_CIPHER={self.settings.field_cipher}: {reason}")
        finish_master_rotation(self.settings, database)
        for _attempt in range(3):
            try:
                with database.transaction() as session:
                    self.load(session)
                    if self._loaded.index_key is None:
                        self.add_key(session, INDEX, c.AES_GCM, now)
                    if self._loaded.current is None:
                        self.add_key(session, FIELD, self.settings.field_cipher, now)
                    self.load(session)
                return
            except IntegrityError:  # another process added a key at the same moment
                continue
        raise KeyRingError("could not create the data keys")


def keyring_of(dialect: Any) -> KeyRing:
    ring = getattr(dialect, _ATTRIBUTE, None)
    if ring is None:
        raise KeyRingError("this database engine has no key ring (use fapiao.db.Database)")
    return ring


def finish_master_rotation(settings: Settings, database: Any) -> None:
    """Complete a `keys rotate --master` that stopped after re-wrapping the data keys and
    before replacing the key file: the new key waits beside it as `<file>.new`."""
    if settings.master_key:
        return
    path = settings.master_key_path
    pending = path.with_name(path.name + ".new")
    if not pending.exists():
        return
    from fapiao.settings import decode_master_key

    new_id = c.master_fingerprint(decode_master_key(pending.read_text()))
    with database.transaction(write=False) as session:
        used = set(session.scalars(select(DataKey.master_id).where(DataKey.wrapped != "")))
    if used == {new_id}:
        os.replace(pending, path)
    elif used and new_id not in used:
        pending.unlink()  # the re-wrap never committed; the old key is still the key
