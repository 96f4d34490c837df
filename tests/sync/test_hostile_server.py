"""Attacks by a hostile county server (issue 16): a real in-process server whose database the
test edits as whoever controls the server host could. The server may refuse service; it must
never get a team key or a plaintext to a device outside the chain of trust, and never make a
device destroy its vault or apply a forged change."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from kimdesk.casework.clients import find_clients, read_client, update_client
from kimdesk.models import TeamKey
from kimdesk.server import admin
from kimdesk.server import trust as server_trust
from kimdesk.server.db import utcnow
from kimdesk.server.tables import changes as server_changes
from kimdesk.server.tables import devices as server_devices
from kimdesk.server.tables import envelopes as server_envelopes
from kimdesk.server.tables import record_versions as server_record_versions
from kimdesk.server.tables import teams as server_teams
from kimdesk.sync import client, crypto, protocol, trust
from kimdesk.sync.client import SyncClient
from kimdesk.vault.store import vault_exists
from tests.factories import make_person
from tests.sync.devices import snapshot
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


@pytest.mark.parametrize("blocked_by", ["injected device", "cleared flag"])
def test_a_thief_with_a_revoked_laptop_and_the_server_reads_nothing_new(devices, team,
                                                                       blocked_by):
    """Jonas's laptop is stolen and revoked (root-signed, relayed to the devices). The thief
    also controls the server and blocks the rotation: an injected "active" device makes every
    rotation incomplete, or the rotation flag is cleared. Before, the team kept writing under
    the key the stolen laptop holds and the thief read it (this test failed). Now the devices
    send nothing under a key older than a revocation they verified, and once county IT has
    cleaned up, the next sync rotates and sends."""
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(ewa)
    team.join(jonas)
    team.sync_all()
    with jonas.vault.reading() as session:
        stolen_key = session.get(TeamKey, 1).key
    team.revoke(jonas)
    if blocked_by == "injected device":
        fake = _insert_fake_device(team, crypto.DeviceKeys.generate())
    else:
        _set_team(team, rotation_needed=False)

    person = make_person(anna, consent=True, last_name="Ebrahimi")
    report = team.sync(anna)
    assert report.pushed == 0 and client.ROTATION_OWED_NOTE in report.notes
    assert team.sync(ewa).pushed == 0
    names = [p.get("fields", {}).get("last_name") for p in _plaintexts(team, {1: stolen_key})]
    assert "Ebrahimi" not in names

    # County IT finds the unknown device (server-admin devices) and revokes it, or the flag is
    # set again: the next ordinary sync rotates and sends, under a key the thief lacks.
    if blocked_by == "injected device":
        admin.revoke(team.db, fake)
    else:
        _set_team(team, rotation_needed=True)
    assert team.sync(anna).pushed > 0
    team.sync(ewa)
    assert [hit.id for hit in find_clients(ewa, "Ebrahimi")] == [person.id]
    names = [p.get("fields", {}).get("last_name") for p in _plaintexts(team, {1: stolen_key})]
    assert "Ebrahimi" not in names
    _no_plaintext_on_server(team, "Ebrahimi")


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


def _insert_document(team: Team, document: dict[str, Any]) -> None:
    """A trust document the attacker wrote straight into the server's store."""
    with team.db.engine.begin() as conn:
        server_trust.insert(conn, document)


def _no_plaintext_on_server(team: Team, *names: str) -> None:
    """The server's database file holds none of ``names`` (what the attacker reads)."""
    data = Path(team.db.engine.url.database or "").read_bytes()
    for name in names:
        assert name.encode() not in data


def test_forged_revocations_neither_wipe_a_device_nor_remove_it_from_the_team(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    ewa_device = client.enrolled_device(ewa)
    person = make_person(ewa, consent=True, last_name="Ebrahimi")
    team.sync_all()
    # The attacker signs revocations of Ewa's laptop with a root key of its own, and with an
    # injected "coordinator" device that carries a certificate of that key.
    fake_root = trust.new_root_key()
    mallory = crypto.DeviceKeys.generate()
    fake = _insert_fake_device(team, mallory, coordinator=True)
    for document in (
            trust.certify(team=team.team, fingerprint=mallory.fingerprint, role="coordinator",
                          issuer=trust.ROOT, signer_private=fake_root),
            trust.revoke(team=team.team, fingerprint=ewa_device.fingerprint, issuer=trust.ROOT,
                         signer_private=fake_root),
            trust.revoke(team=team.team, fingerprint=ewa_device.fingerprint,
                         issuer=mallory.fingerprint, signer_private=mallory.sign_private)):
        _insert_document(team, document)
    with team.db.engine.begin() as conn:
        conn.execute(update(server_devices).where(server_devices.c.id == ewa_device.device_id)
                     .values(state="revoked", revoked_at=utcnow()))

    ewa_dir = ewa.vault.data_dir
    _sync_may_refuse(team, ewa)  # 403 "wipe" with the forged revocations as evidence
    assert vault_exists(ewa_dir)
    assert [hit.id for hit in find_clients(ewa, "Ebrahimi")] == [person.id]

    # The forged documents stay in the store; Ewa's laptop is let back in (and the injected
    # device set aside: as an "active" device that no one grants keys to it would only block
    # the rotation). Anna still counts Ewa as a member, takes her changes and gives her the
    # next team key.
    with team.db.engine.begin() as conn:
        conn.execute(update(server_devices).where(server_devices.c.id == ewa_device.device_id)
                     .values(state="active", revoked_at=None))
        conn.execute(update(server_devices).where(server_devices.c.id == fake)
                     .values(state="pending"))
    anna_client = SyncClient(anna, team.http)
    verdict = anna_client.team_trust(refresh=True)
    assert verdict.role(ewa_device.fingerprint) == "member"
    assert verdict.role(mallory.fingerprint) is None
    update_client(ewa, person.id, {"first_name": "Soraya"})
    team.sync(ewa)
    _set_team(team, rotation_needed=True)
    report = team.sync(anna)
    assert report.quarantined == 0
    assert read_client(anna, person.id).first_name == "Soraya"
    team.sync(ewa)
    with ewa.vault.reading() as session:
        assert session.get(TeamKey, 2) is not None
    assert _keys_the_attacker_opens(team, fake, mallory) == {}
    _no_plaintext_on_server(team, "Ebrahimi", "Soraya")


def test_an_old_envelope_replayed_as_a_new_epoch_is_not_taken(devices, team):
    """Jonas's laptop is stolen and revoked; the server pretends the team rotated, serving each
    device its epoch-1 envelope relabelled as epoch 2 (or a colleague's epoch-2 envelope), so
    that the devices would write under a key the thief holds."""
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(ewa)
    team.join(jonas)
    team.sync_all()
    with jonas.vault.reading() as session:
        stolen_key = session.get(TeamKey, 1).key
    team.revoke(jonas)
    anna_id = client.enrolled_device(anna).device_id
    ewa_id = client.enrolled_device(ewa).device_id
    with team.db.engine.begin() as conn:
        old = {row.recipient_id: row._asdict() for row in conn.execute(
            select(server_envelopes).where(server_envelopes.c.epoch == 1))}
        conn.execute(insert(server_envelopes), [
            {**old[anna_id], "epoch": 2},  # Anna's own epoch-1 envelope as epoch 2
            {**old[ewa_id], "epoch": 2, "recipient_id": ewa_id}])
    _set_team(team, epoch=2, rotation_needed=False)

    make_person(anna, consent=True, last_name="Ebrahimi")
    make_person(ewa, consent=True, last_name="Wiśniewska")
    _sync_may_refuse(team, anna)
    _sync_may_refuse(team, ewa)
    for ctx in (anna, ewa):
        with ctx.vault.reading() as session:
            assert session.get(TeamKey, 2) is None

    # Next the server hands Ewa Anna's (relabelled) envelope instead of her own.
    with team.db.engine.begin() as conn:
        conn.execute(update(server_envelopes).where(
            server_envelopes.c.recipient_id == ewa_id, server_envelopes.c.epoch == 2)
            .values(**{f: old[anna_id][f] for f in (
                "ephemeral_public", "nonce", "ciphertext", "signature")}))
    _sync_may_refuse(team, ewa)
    with ewa.vault.reading() as session:
        assert session.get(TeamKey, 2) is None

    names = [p.get("fields", {}).get("last_name")
             for p in _plaintexts(team, {1: stolen_key, 2: stolen_key})]
    assert "Ebrahimi" not in names and "Wiśniewska" not in names
    _no_plaintext_on_server(team, "Ebrahimi", "Wiśniewska")


def _rewrite_log(team: Team, order: Any, *, drop: str | None = None) -> None:
    """The attacker rewrites the team's log on the server: ``order`` rearranges the stored
    changes, ``drop`` removes every trace of one record (its changes and its entry in the
    team checksum)."""
    with team.db.engine.begin() as conn:
        rows = [row._asdict() for row in conn.execute(
            select(server_changes).where(server_changes.c.team == team.team)
            .order_by(server_changes.c.seq))]
        kept = [row for row in rows if row["record_id"] != drop]
        seqs = [row["seq"] for row in rows][-len(kept):]  # the head stays where it was
        conn.execute(delete(server_changes).where(server_changes.c.team == team.team))
        conn.execute(insert(server_changes), [
            {**row, "seq": seq} for row, seq in zip(order(kept), seqs, strict=True)])
        if drop is not None:
            conn.execute(delete(server_record_versions).where(
                server_record_versions.c.record_id == drop))
            # The server keeps its checksum as a running sum; a rewrite that wants to go
            # unnoticed serves the sum of the rewritten log (the server recomputes a cleared one).
            conn.execute(update(server_teams).where(server_teams.c.code == team.team)
                         .values(checksum=None, checksum_head=None))


def _authors_swapped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The log with its author devices in reverse order, each device's changes in theirs."""
    by_device: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_device.setdefault(row["device_id"], []).append(row)
    return [row for changes in reversed(list(by_device.values())) for row in changes]


def _three_people(devices: Any, team: Team) -> tuple[Any, ...]:
    """Anna writes two people (and edits the first), Ewa one; both push, Ewa first, so Ewa
    gets Anna's changes only after the attack."""
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(ewa)
    first = make_person(anna, consent=True, last_name="Ebrahimi")
    second = make_person(anna, consent=True, last_name="Kowalczyk")
    update_client(anna, first.id, {"first_name": "Soraya"})
    third = make_person(ewa, consent=True, last_name="Wiśniewska")
    team.sync(ewa)
    team.sync(anna)
    return anna, ewa, jonas, first, second, third


def test_reordered_and_dropped_changes_apply_nothing_forged(
        devices, team):
    anna, ewa, jonas, first, dropped, third = _three_people(devices, team)
    _rewrite_log(team, _authors_swapped, drop=dropped.id)

    team.join(jonas)
    ewa_report = team.sync(ewa)
    jonas_report = team.sync(jonas)

    for ctx in (ewa, jonas):
        assert read_client(ctx, first.id).first_name == "Soraya"
        assert read_client(ctx, third.id).last_name == "Wiśniewska"
        assert find_clients(ctx, "Kowalczyk") == []  # dropped: withheld, nothing forged
    assert ewa_report.quarantined == jonas_report.quarantined == 0
    assert snapshot(ewa.vault) == snapshot(jonas.vault)
    # Withholding is in the server's power: Anna's device, which wrote the dropped person,
    # sees the team checksum differ, rebuilds its merge state from the log (reported as a
    # repair) and keeps the person in its own vault.
    assert team.sync(anna).repaired
    assert [hit.id for hit in find_clients(anna, "Kowalczyk")] == [dropped.id]
    _no_plaintext_on_server(team, "Ebrahimi", "Kowalczyk", "Wiśniewska")


def test_a_log_reversed_against_causal_order_still_converges(devices, team):
    anna, _ewa, jonas, _first, _second, _third = _three_people(devices, team)
    team.sync(anna)
    _rewrite_log(team, lambda rows: list(reversed(rows)))

    team.join(jonas)
    team.sync(jonas)

    assert snapshot(jonas.vault) == snapshot(anna.vault)


# Garbage, unsigned, future-clock and revoked-device changes in the log: quarantined, the team
# keeps syncing (tests/sync/test_signed_changes.py).
