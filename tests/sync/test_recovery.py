"""Team states county IT must be able to recover from (issue 16), by the steps of
docs/it/trust.md ("Wiederherstellung eines Teams") through the functions its commands call:
case manager enrolled before any coordinator, the only coordinator laptop lost, all devices
lost but one, a key rotation interrupted, a revocation signed after the rotation. The commands
themselves, as typed, run in tests/sync/test_recovery_commands.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from kimdesk.casework.clients import find_clients, read_client, update_client
from kimdesk.models import TeamKey
from kimdesk.server import admin
from kimdesk.server.tables import changes as server_changes
from kimdesk.server.tables import envelopes as server_envelopes
from kimdesk.sync import client, crypto, protocol
from kimdesk.sync.client import SyncClient
from tests.factories import make_person
from tests.sync.devices import snapshot


def test_a_case_manager_enrolled_before_any_coordinator_waits_and_the_team_then_works(
        devices, team):
    ewa, anna = devices(2)
    team.join(ewa, coordinator=False, confirm=False)  # first on the server, not a coordinator
    person = make_person(ewa, consent=True, last_name="Ebrahimi")
    assert team.sync(ewa).state == "pending"  # made no team key of its own
    with ewa.vault.reading() as session:
        assert session.scalars(select(TeamKey)).all() == []

    team.join(anna, coordinator=True, confirm=False)  # certified by the county, makes the key
    SyncClient(anna, team.http).confirm_device(client.enrolled_device(ewa).fingerprint)
    team.sync_all()

    assert [hit.id for hit in find_clients(anna, "Ebrahimi")] == [person.id]
    assert snapshot(anna.vault) == snapshot(ewa.vault)


def test_the_only_coordinator_lost_a_new_certified_coordinator_joins_and_confirms(
        devices, team):
    anna, ewa, new_anna, jonas = devices(4)
    team.join(anna)
    team.join(ewa)
    person = make_person(ewa, consent=True, last_name="Ebrahimi")
    team.sync_all()

    team.revoke(anna)  # the coordinator's laptop is stolen (root-signed revocation)
    team.sync(ewa)  # rotates: the stolen laptop gets no new key
    team.join(new_anna, coordinator=True, confirm=False)  # new laptop, certified by county IT
    assert team.sync(new_anna).state == "pending"
    team.sync(ewa)  # the remaining device hands the keys to the certified coordinator
    team.sync(new_anna)
    team.join(jonas, by=new_anna)  # the new coordinator confirms a new device
    for _ in range(2):
        for ctx in (ewa, new_anna, jonas):
            team.sync(ctx)

    for ctx in (new_anna, jonas):
        assert [hit.id for hit in find_clients(ctx, "Ebrahimi")] == [person.id]
    assert snapshot(new_anna.vault) == snapshot(ewa.vault) == snapshot(jonas.vault)
    with team.db.engine.connect() as conn:  # the stolen laptop holds no envelope after epoch 1
        stolen = conn.execute(select(server_envelopes.c.epoch).where(
            server_envelopes.c.recipient_id == client.enrolled_device(anna).device_id)
        ).scalars().all()
    assert stolen == [1]


def test_an_uncertified_pending_coordinator_gets_no_key(devices, team):
    anna, ewa, mallory = devices(3)
    team.join(anna)
    team.join(ewa)
    code, _ = admin.issue_code(team.db, team.team, mallory.user, coordinator=True)
    client.enrol(mallory, team.http, server_url="http://kreis.test", code=code,
                 device_name="Laptop X", root_public=team.root_public)  # no county certificate
    team.sync_all()

    assert team.sync(mallory).state == "pending"
    with mallory.vault.reading() as session:
        assert session.scalars(select(TeamKey)).all() == []


def _envelope_epochs(team, ctx) -> list[int]:
    with team.db.engine.connect() as conn:
        return sorted(conn.execute(select(server_envelopes.c.epoch).where(
            server_envelopes.c.recipient_id == client.enrolled_device(ctx).device_id)
        ).scalars().all())


def _team_key(ctx, epoch: int) -> bytes | None:
    with ctx.vault.reading() as session:
        found = session.get(TeamKey, epoch)
        return None if found is None else found.key


@pytest.mark.parametrize("survivor", ["member", "coordinator"])
def test_all_devices_lost_but_one_the_team_is_rebuilt_around_it(devices, team, survivor):
    """Three laptops, two of them stolen: county IT revokes both (root-signed); the one left
    rotates the key for itself alone. If it is a member's laptop, county IT certifies a new
    coordinator laptop, which the survivor hands the keys to; the coordinator then confirms
    the new laptops. Nothing written after the theft opens with the stolen keys."""
    anna, ewa, jonas, new_anna, new_jonas, new_ewa = devices(6)
    team.join(anna)
    team.join(ewa)
    team.join(jonas)
    before = make_person(jonas, consent=True, last_name="Ebrahimi")
    team.sync_all()
    left = ewa if survivor == "member" else anna
    lost = [ctx for ctx in (anna, ewa, jonas) if ctx is not left]
    stolen_key = _team_key(jonas, 1)
    for ctx in lost:
        team.revoke(ctx)
    team.sync(left)  # rotates to epoch 2, for the survivor alone
    after = make_person(left, consent=True, last_name="Wiśniewska")
    team.sync(left)

    if survivor == "member":
        team.join(new_anna, coordinator=True, confirm=False)  # certified by the county
        team.sync(left)  # hands every team key to the certified coordinator laptop
        coordinator = new_anna
        newcomers = [new_jonas]
    else:
        coordinator = left
        newcomers = [new_ewa, new_jonas]
    team.sync(coordinator)
    for ctx in newcomers:
        team.join(ctx, by=coordinator)
    working = [left, coordinator, *newcomers] if coordinator is not left else [left, *newcomers]
    for _ in range(2):
        for ctx in working:
            team.sync(ctx)

    for ctx in working:
        assert {hit.id for hit in find_clients(ctx, "Ebrahimi")} == {before.id}
        assert {hit.id for hit in find_clients(ctx, "Wiśniewska")} == {after.id}
        assert _team_key(ctx, 2) is not None
    assert all(snapshot(ctx.vault) == snapshot(left.vault) for ctx in working)
    for ctx in lost:
        assert _envelope_epochs(team, ctx) == [1]  # the stolen laptops got no later key
    server_file = Path(team.db.engine.url.database or "").read_bytes()
    with left.vault.reading() as session:
        team_keys = [row.key for row in session.scalars(select(TeamKey))]
    assert len(team_keys) == 2
    for key in team_keys:  # the server never held a team key in the clear
        assert key not in server_file and protocol.b64e(key).encode() not in server_file
    with team.db.engine.connect() as conn:
        rows = conn.execute(select(server_changes).where(server_changes.c.epoch == 1)).all()
    for row in rows:  # the thief's key opens only what was written before the theft
        payload = crypto.decrypt_change(
            stolen_key, team=team.team, record_id=row.record_id, kind=row.kind, hlc=row.hlc,
            epoch=1, nonce=protocol.b64e(bytes(row.nonce)),
            ciphertext=protocol.b64e(bytes(row.ciphertext)))
        assert payload.get("fields", {}).get("last_name") != "Wiśniewska"
    # A newly confirmed laptop works on: its edit reaches the survivor.
    update_client(newcomers[-1], after.id, {"first_name": "Soraya"})
    team.sync(newcomers[-1])
    team.sync(left)
    assert read_client(left, after.id).first_name == "Soraya"


def test_an_interrupted_rotation_is_finished_by_the_next_sync(devices, team):
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(ewa)
    team.join(jonas)
    team.sync_all()
    team.revoke(jonas)
    rotating = SyncClient(anna, team.http)
    status = rotating._get("/status")
    rotating._load_team_keys()
    rotating._rotate(int(status["epoch"]))  # the server took the new key ...
    with anna.vault.writing() as session:  # ... and the laptop died before keeping it
        session.delete(session.get(TeamKey, 2))

    secret = make_person(ewa, consent=True, last_name="Ebrahimi")
    team.sync(ewa)
    team.sync(anna)  # fetches its own envelope of epoch 2

    with anna.vault.reading() as session:
        assert session.get(TeamKey, 2) is not None
    assert [hit.id for hit in find_clients(anna, "Ebrahimi")] == [secret.id]


@pytest.mark.parametrize("lost", ["request", "answer"])
def test_a_rotation_cut_off_mid_request_is_finished_by_the_next_sync(devices, team, lost):
    """The connection drops while the new key goes up: before the server got it, or after it
    stored it but before the laptop heard back. The next ordinary sync finishes either way."""
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(ewa)
    team.join(jonas)
    team.sync_all()
    team.revoke(jonas)

    def cut(event: httpx.Request | httpx.Response) -> None:
        request = event if isinstance(event, httpx.Request) else event.request
        if request.method == "POST" and request.url.path == "/v1/envelopes":
            raise httpx.ReadError("connection lost", request=request)

    hooks = team.http.event_hooks
    team.http.event_hooks = {**hooks, lost if lost == "request" else "response": [cut]}
    try:
        with pytest.raises(client.ServerUnreachable):
            team.sync(anna)
    finally:
        team.http.event_hooks = hooks
    with team.db.engine.connect() as conn:
        stored = conn.execute(select(server_envelopes.c.epoch).where(
            server_envelopes.c.epoch == 2)).scalars().all()
    assert len(stored) == (0 if lost == "request" else 2)  # all or nothing on the server

    secret = make_person(anna, consent=True, last_name="Ebrahimi")
    team.sync(anna)
    team.sync(ewa)
    for ctx in (anna, ewa):
        assert _team_key(ctx, 2) is not None
    assert [hit.id for hit in find_clients(ewa, "Ebrahimi")] == [secret.id]
    assert _envelope_epochs(team, jonas) == [1]


def test_a_revocation_signed_after_the_rotation_costs_one_more_rotation(devices, team):
    """County IT revokes a laptop at once and hands in the signed revocation days later
    (docs/it/trust.md allows it). The devices learn of the revocation only then and send
    nothing under a key older than it; hinterlegen asks for one more rotation, which the next
    ordinary sync makes, and the team sends again."""
    anna, ewa, jonas = devices(3)
    team.join(anna)
    team.join(ewa)
    team.join(jonas)
    team.sync_all()
    team.revoke(jonas, signed=False)
    team.sync(anna)  # rotates to epoch 2
    team.sync(ewa)

    admin.revoke(team.db, client.enrolled_device(jonas).device_id, team.revocation(jonas))
    person = make_person(ewa, consent=True, last_name="Ebrahimi")
    assert team.sync(ewa).pushed > 0  # rotates to epoch 3 first, then sends
    team.sync(anna)

    for ctx in (anna, ewa):
        assert _team_key(ctx, 3) is not None
        assert client.ROTATION_OWED_NOTE not in team.sync(ctx).notes
    assert [hit.id for hit in find_clients(anna, "Ebrahimi")] == [person.id]
    assert _envelope_epochs(team, jonas) == [1]


def test_a_code_of_another_team_is_refused_at_enrolment_and_stays_valid(devices, team):
    (ewa,) = devices(1)
    admin.create_team(team.db, "ost", "Team 2 Ost")
    code, _ = admin.issue_code(team.db, "ost", ewa.user)

    try:
        client.enrol(ewa, team.http, server_url="http://kreis.test", code=code,
                     device_name="Laptop", root_public=team.root_public)
    except client.SyncError as exc:
        message = exc.message
    else:
        raise AssertionError("a vault of team nord enrolled with a code of team ost")

    assert "Team ost" in message and "Team nord" in message
    assert not client.is_enrolled(ewa)
    assert [d.team for d in admin.list_devices(team.db)] == []
    keys = crypto.DeviceKeys.generate()  # the code was not used up: an Ost laptop can use it
    answer = team.http.post("/v1/enrol", json={
        "code": code, "user": ewa.user, "device_name": "Laptop Ost", "team": "ost",
        "sign_public_key": protocol.b64e(keys.sign_public),
        "box_public_key": protocol.b64e(keys.box_public)})
    assert answer.status_code == 201 and answer.json()["team"] == "ost"
