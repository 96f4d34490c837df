"""Attacks by a hostile county server (issue 16): a real in-process server whose database the
test edits as whoever controls the server host could. The server may refuse service; it must
never get a team key or a plaintext to a device outside the chain of trust, and never make a
device destroy its vault or apply a forged change."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from sqlalchemy import insert, select, update

from kimdesk.casework.clients import find_clients
from kimdesk.models import TeamKey
from kimdesk.server.db import utcnow
from kimdesk.server.tables import changes as server_changes
from kimdesk.server.tables import devices as server_devices
from kimdesk.server.tables import envelopes as server_envelopes
from kimdesk.server.tables import teams as server_teams
from kimdesk.sync import client, crypto, protocol
from kimdesk.vault.store import vault_exists
from tests.factories import make_person
from tests.sync.team import Team

# Every attack below succeeded on the code before issue 16 (each test failed there).


def _insert_fake_device(team: Team, keys: crypto.DeviceKeys, *, coordinator: bool = False
                        ) -> str:
    """A device row the attacker wrote straight into the server database."""
    device_id = uuid.uuid4().hex
    with team.db.engine.begin() as conn:
        conn.execute(insert(server_devices).values(
            id=device_id, team=team.team, user_name="Mallory", device_name="Laptop 9",
            coordinator=coordinator, state="active", sign_public=keys.sign_public,
            box_public=keys.box_public, fingerprint=keys.fingerprint, token_hash="0" * 64,
            lease_secret=b"\0" * 32, lease_counter=0, enrolled_at=utcnow()))
    return device_id


def _set_team(team: Team, **values: Any) -> None:
    with team.db.engine.begin() as conn:
        conn.execute(update(server_teams).where(server_teams.c.code == team.team)
                     .values(**values))


def _keys_the_attacker_opens(team: Team, device_id: str, keys: crypto.DeviceKeys
                             ) -> dict[int, bytes]:
    """Every team key in an envelope for ``device_id`` that ``keys`` can open."""
    opened = {}
    with team.db.engine.connect() as conn:
        rows = conn.execute(select(server_envelopes).where(
            server_envelopes.c.recipient_id == device_id)).all()
    for row in rows:
        envelope = {f: getattr(row, f) for f in (
            "recipient_id", "epoch", "granter_id", "ephemeral_public", "nonce",
            "ciphertext", "signature")}
        try:
            sign_public, box_public = _server_keys(team, row.granter_id)
            opened[row.epoch] = crypto.open_team_key(
                envelope, team=team.team, recipient_id=device_id, recipient=keys,
                granter_sign_public=sign_public, granter_box_public=box_public)
        except crypto.DecryptionFailed:
            continue
    return opened


def _server_keys(team: Team, device_id: str) -> tuple[bytes, bytes]:
    """The public keys the server database holds for a device (what the attacker knows)."""
    with team.db.engine.connect() as conn:
        row = conn.execute(select(server_devices.c.sign_public, server_devices.c.box_public)
                           .where(server_devices.c.id == device_id)).one()
    return bytes(row.sign_public), bytes(row.box_public)


def _plaintexts(team: Team, keys: dict[int, bytes]) -> list[dict[str, Any]]:
    """Every change on the server the attacker can decrypt with ``keys``."""
    found = []
    with team.db.engine.connect() as conn:
        rows = conn.execute(select(server_changes).order_by(server_changes.c.seq)).all()
    for row in rows:
        key = keys.get(row.epoch)
        if key is None:
            continue
        try:
            found.append(crypto.decrypt_change(
                key, team=team.team, record_id=row.record_id, kind=row.kind, hlc=row.hlc,
                epoch=row.epoch, nonce=protocol.b64e(bytes(row.nonce)),
                ciphertext=protocol.b64e(bytes(row.ciphertext))))
        except crypto.DecryptionFailed:
            continue
    return found


def _sync_may_refuse(team: Team, ctx: Any) -> None:
    """A hostile server may stop a sync (refusing service is always in its power)."""
    with contextlib.suppress(client.SyncError):
        team.sync(ctx)


def test_an_injected_device_row_and_a_rotation_flag_do_not_get_the_team_key(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    mallory = crypto.DeviceKeys.generate()
    fake = _insert_fake_device(team, mallory)
    _set_team(team, rotation_needed=True)

    _sync_may_refuse(team, anna)  # the coordinator's ordinary sync
    make_person(anna, consent=True, last_name="Ebrahimi")
    _sync_may_refuse(team, anna)
    _sync_may_refuse(team, ewa)

    stolen = _keys_the_attacker_opens(team, fake, mallory)
    assert stolen == {}
    assert _plaintexts(team, stolen) == []


def test_replaced_public_keys_of_a_team_device_do_not_get_the_team_key(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    ewa_id = client.enrolled_device(ewa).device_id
    mallory = crypto.DeviceKeys.generate()
    with team.db.engine.begin() as conn:
        conn.execute(update(server_devices).where(server_devices.c.id == ewa_id).values(
            sign_public=mallory.sign_public, box_public=mallory.box_public,
            fingerprint=mallory.fingerprint))
    _set_team(team, rotation_needed=True)

    _sync_may_refuse(team, anna)
    make_person(anna, consent=True, last_name="Ebrahimi")
    _sync_may_refuse(team, anna)

    stolen = _keys_the_attacker_opens(team, ewa_id, mallory)
    assert stolen == {}
    assert _plaintexts(team, stolen) == []


def test_a_team_key_granted_by_an_injected_device_is_not_used(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    anna_device = client.enrolled_device(anna)
    mallory = crypto.DeviceKeys.generate()
    fake = _insert_fake_device(team, mallory, coordinator=True)
    chosen_key = crypto.new_team_key()
    envelope = crypto.seal_team_key(
        team_key=chosen_key, team=team.team, epoch=2, recipient_id=anna_device.device_id,
        recipient_sign_public=crypto.DeviceKeys(anna_device.sign_private,
                                                anna_device.box_private).sign_public,
        recipient_box_public=crypto.DeviceKeys(anna_device.sign_private,
                                               anna_device.box_private).box_public,
        granter_id=fake, granter=mallory)
    with team.db.engine.begin() as conn:
        conn.execute(insert(server_envelopes).values(team=team.team, created_at=utcnow(),
                                                     **envelope))
    _set_team(team, epoch=2)

    make_person(anna, consent=True, last_name="Ebrahimi")
    _sync_may_refuse(team, anna)

    with anna.vault.reading() as session:
        assert session.get(TeamKey, 2) is None
    assert _plaintexts(team, {2: chosen_key}) == []


def test_a_rolled_back_epoch_does_not_make_devices_write_under_an_old_key(devices, team):
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(ewa)
    team.join(jonas)
    team.sync_all()
    with jonas.vault.reading() as session:
        jonas_old_key = session.get(TeamKey, 1).key
    team.revoke(jonas)
    team.sync(anna)  # rotates to epoch 2
    team.sync(ewa)
    with anna.vault.reading() as session:
        assert session.get(TeamKey, 2) is not None

    _set_team(team, epoch=1)  # the server serves the old epoch (and its old envelopes) again
    make_person(anna, consent=True, last_name="Ebrahimi")
    _sync_may_refuse(team, anna)

    names = [p.get("fields", {}).get("last_name") for p in _plaintexts(team, {1: jonas_old_key})]
    assert "Ebrahimi" not in names


def test_a_revocation_the_county_did_not_sign_does_not_wipe_a_device(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    person = make_person(anna, consent=True, last_name="Ebrahimi")
    team.sync_all()
    ewa_dir = ewa.vault.data_dir
    with team.db.engine.begin() as conn:
        conn.execute(update(server_devices)
                     .where(server_devices.c.id == client.enrolled_device(ewa).device_id)
                     .values(state="revoked", revoked_at=utcnow()))

    _sync_may_refuse(team, ewa)

    assert vault_exists(ewa_dir)
    assert [hit.id for hit in find_clients(ewa, "Ebrahimi")] == [person.id]


# Garbage, unsigned, future-clock and revoked-device changes in the log: quarantined, the team
# keeps syncing (tests/sync/test_signed_changes.py).
