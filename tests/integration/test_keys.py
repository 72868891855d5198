"""`fapiao keys …` on both backends: rotation that survives being stopped, master key
rotation, retiring keys, the wrong master key, and SM4."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from conftest import SELLER_ID, World, invoice_body
from fapiao.cli.main import app
from fapiao.crypto import keyring as keyring_module
from fapiao.crypto import service as keys
from fapiao.crypto import sweep
from fapiao.crypto.cipher import SM4_GCM, unavailable_reason
from fapiao.db import Database
from fapiao.kit.clock import FixedClock
from fapiao.kit.errors import Conflict
from fapiao.platform import Platform, build_platform
from fapiao.settings import Settings, SettingsError
from fapiao.taxpayers import service as taxpayers


def raw(platform: Platform, sql: str) -> list[Any]:
    with platform.database.write_engine.begin() as connection:
        return list(connection.execute(text(sql)))


def cli(settings: Settings, *args: str, **env: str) -> Any:
    environment = {
        "FAPIAO_DATABASE_URL": settings.database_url,
        "FAPIAO_SECRET_KEY": settings.secret_key,
        **env,
    }
    result = CliRunner().invoke(
        app, ["--lang", "en", "--data-dir", str(settings.data_dir), *args], env=environment
    )
    return result


def _issue(world: World, count: int) -> list[str]:
    numbers = []
    for index in range(count):
        body = invoice_body()
        body["buyer"]["account"] = f"62170000{index:011d}"
        response = world.client.post("/api/v1/invoices", json=body, headers=world.as_("seller"))
        assert response.status_code == 201, response.text
        numbers.append(response.json()["number"])
    return numbers


def _key_ids(platform: Platform) -> set[int]:
    """The data key ids the stored encrypted values carry."""
    found = set()
    for (value,) in raw(platform, "SELECT buyer_account FROM invoices") + raw(
        platform, "SELECT account FROM taxpayers"
    ):
        if value:
            found.add(int(value.split(":")[1]))
    return found


class Stop(Exception):
    pass


def test_rotation_stopped_midway_continues_and_finishes(world: World) -> None:
    numbers = _issue(world, 6)
    platform = world.platform
    database = platform.database
    (old,) = _key_ids(platform)
    target, continued = keys.begin_rotation(database, platform.clock.now())
    assert not continued and target != old

    def stop_after_first_batch(_rows: int) -> None:
        raise Stop  # as if the process were killed after its first batch committed

    with pytest.raises(Stop):
        sweep.sweep(database, database.keyring, target, batch=2, progress=stop_after_first_batch)
    assert _key_ids(platform) == {old, target}
    shown = cli(platform.settings, "keys", "status")
    assert shown.exit_code == 0, shown.output
    assert "unfinished" in shown.output and "in use" in shown.output
    refused = cli(platform.settings, "keys", "retire", str(old))
    assert refused.exit_code == 1 and "DATA_KEY_IN_USE" in refused.output

    again = cli(platform.settings, "keys", "rotate", "--batch", "3")
    assert again.exit_code == 0, again.output
    assert f"Continuing the unfinished rotation to data key {target}" in again.output
    assert _key_ids(platform) == {target}
    status = keys.status(database)
    by_id = {key.id: key for key in status.keys}
    assert by_id[old].values == 0 and by_id[target].values > 0 and by_id[target].current
    assert status.rotation_target is None and status.plaintext == 0
    # Every value still reads back, through the API.
    for index, number in enumerate(numbers):
        got = world.client.get(f"/api/v1/invoices/{number}", headers=world.as_("seller"))
        assert got.json()["buyer"]["account"] == f"62170000{index:011d}"
    assert cli(platform.settings, "keys", "retire", str(target)).exit_code == 1
    retired = cli(platform.settings, "keys", "retire", str(old))
    assert retired.exit_code == 0, retired.output
    ((wrapped,),) = raw(platform, f"SELECT wrapped FROM data_keys WHERE id = {old}")
    assert wrapped == ""


def test_a_new_rotation_makes_a_new_key(world: World) -> None:
    _issue(world, 2)
    before = _key_ids(world.platform)
    result = cli(world.platform.settings, "keys", "rotate")
    assert result.exit_code == 0, result.output
    after = _key_ids(world.platform)
    assert len(after) == 1 and after != before
    # New invoices of the running platform use the new key once it has looked again.
    world.platform.database.keyring.refresh()
    _issue(world, 1)
    assert _key_ids(world.platform) == after


def test_master_key_rotation(world: World, clock: FixedClock) -> None:
    _issue(world, 2)
    settings = world.platform.settings
    old_master = settings.master_key_path.read_text()
    result = cli(settings, "keys", "rotate", "--master")
    assert result.exit_code == 0, result.output
    assert "New master key" in result.output
    new_master = settings.master_key_path.read_text()
    assert new_master != old_master
    assert oct(settings.master_key_path.stat().st_mode & 0o777) == "0o600"
    reopened = Platform(settings=settings, database=Database(settings), clock=clock)
    try:
        with reopened.database.transaction(write=False) as session:
            seller = taxpayers.by_tax_id(session, SELLER_ID)
            assert seller is not None and seller.account == "0200001234567890123"
    finally:
        reopened.close()
    # A server that was running goes on: when it reads the data keys again (every
    # REFRESH_SECONDS) it takes the new master key from its file.
    keyring = world.platform.database.keyring
    keyring._loaded_at -= keyring_module.REFRESH_SECONDS + 1
    answer = world.client.get(f"/api/v1/taxpayers/{SELLER_ID}", headers=world.as_("seller"))
    assert answer.status_code == 200 and answer.json()["account"] == "0200001234567890123"
    assert keyring._master == base64.b64decode(new_master.strip())
    # The old master key no longer opens anything, and start-up says which setting.
    stale = settings.model_copy(update={"master_key": old_master.strip()})
    with pytest.raises(SettingsError, match="FAPIAO_MASTER_KEY does not open data key"):
        build_platform(stale, clock)


def test_a_master_rotation_that_never_committed_is_undone_at_start(
    world: World, clock: FixedClock
) -> None:
    settings = world.platform.settings
    pending = settings.master_key_path.with_name("master.key.new")
    pending.write_text(base64.b64encode(os.urandom(32)).decode())
    reopened = Platform(settings=settings, database=Database(settings), clock=clock)
    reopened.close()
    assert not pending.exists()


def test_wrong_master_key_stops_start_up_naming_the_setting(
    world: World, clock: FixedClock
) -> None:
    settings = world.platform.settings
    wrong = base64.b64encode(os.urandom(32)).decode()
    result = cli(settings, "keys", "status", FAPIAO_MASTER_KEY=wrong)
    assert result.exit_code == 2
    assert "FAPIAO_MASTER_KEY does not open data key" in result.output
    other_file = settings.data_dir / "other.key"
    other_file.write_text(wrong)
    named = settings.model_copy(update={"master_key_file": other_file})
    with pytest.raises(SettingsError, match="FAPIAO_MASTER_KEY_FILE"):
        build_platform(named, clock)
    with pytest.raises(SettingsError, match="FAPIAO_MASTER_KEY: Value error, must be the base64"):
        from fapiao.settings import load_settings

        load_settings(master_key="not-a-key")


def test_sm4_field_cipher_round_trip(world: World, clock: FixedClock) -> None:
    reason = unavailable_reason(SM4_GCM)
    if reason is not None:
        pytest.skip(f"FAPIAO_FIELD_CIPHER=sm4-gcm cannot run here: {reason}")
    _issue(world, 1)
    settings = world.platform.settings.model_copy(update={"field_cipher": SM4_GCM})
    sm4 = Platform(settings=settings, database=Database(settings), clock=clock)
    try:
        with sm4.database.transaction() as session:
            taxpayers.add_taxpayer(
                session,
                tax_id="91110101MA01ABCD2C",
                name="北京国密有限公司",
                kind="general",
                credit_limit=Decimal("1.00"),
                now=clock.now(),
                bank="国密测试银行",
            )
        ((key_id, cipher),) = raw(
            sm4, "SELECT id, cipher FROM data_keys WHERE retired_at IS NULL ORDER BY id DESC"
        )[:1]
        assert cipher == SM4_GCM
        ((stored,),) = raw(sm4, "SELECT bank FROM taxpayers WHERE tax_id = '91110101MA01ABCD2C'")
        assert stored.startswith(f"e1:{key_id}:")
        with sm4.database.transaction(write=False) as session:
            added = taxpayers.by_tax_id(session, "91110101MA01ABCD2C")
            old = taxpayers.by_tax_id(session, SELLER_ID)
            assert added is not None and added.bank == "国密测试银行"
            assert old is not None and old.account == "0200001234567890123"  # AES, still read
    finally:
        sm4.close()


def test_a_key_is_not_retired_while_servers_may_still_use_it(world: World) -> None:
    """Servers read the data keys again every REFRESH_SECONDS; until then the old key may
    still seal new values, so retiring it at once could lose them."""
    _issue(world, 2)
    platform = world.platform
    database = platform.database
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    (old,) = _key_ids(platform)
    target, _ = keys.begin_rotation(database, clock.now())
    sweep.sweep(database, database.keyring, target, batch=100)
    with pytest.raises(Conflict) as refused:
        keys.retire(database, old, clock.now())
    assert refused.value.code == "DATA_KEY_TOO_NEW"
    clock.advance(timedelta(seconds=keyring_module.REFRESH_SECONDS + 1))
    keys.retire(database, old, clock.now())
    assert _key_ids(platform) == {target}
