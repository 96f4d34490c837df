"""Attacks by a team member on authorship (issue 16, step 3): a member with a valid token and
the team key writes a change in a colleague's name (``origin``/``author`` forged inside the
encrypted payload), or with a clock far in the future that would win every later edit; and
changes a hostile server slips into the log (unsigned, or signed by a revoked device).

The first two attacks succeeded before changes were signed (commit 9a79459 has them as strict
xfails): the receiver applied the forged change and attributed it to the colleague, and the
server stored the future clock. Now every change carries its author device's signature, the
server checks it on push, and every receiver checks it against the certificates it verified."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, update

from kimdesk.casework.clients import find_clients
from kimdesk.casework.context import Context
from kimdesk.models import Client, SyncDevice, TeamKey, VaultProfile
from kimdesk.models.changelog import DeviceAuthor, RecordState, format_hlc
from kimdesk.server import admin
from kimdesk.server.tables import changes as server_changes
from kimdesk.server.tables import record_versions
from kimdesk.server.tables import teams as server_teams
from kimdesk.sync import client, crypto, protocol
from kimdesk.sync.client import SyncClient
from tests.factories import make_person
from tests.sync.team import Team


def _origin(ctx: Context) -> str:
    with ctx.vault.reading() as session:
        profile = session.query(VaultProfile).one()
        return str(profile.device_id)


def _forged_change(team: Team, mallory: Context, *, record_id: str, fields: dict[str, Any],
                   origin: str, author: str, hlc: str | None = None) -> dict[str, Any]:
    """A well-encrypted change of ``mallory`` (a member holding the team key) that claims to
    come from ``origin``/``author``."""
    with mallory.vault.reading() as session:
        epoch = max(k.epoch for k in session.query(TeamKey))
        key = session.get(TeamKey, epoch).key
    hlc = hlc or format_hlc(time.time_ns() // 1_000_000, 0)
    payload = {"origin": origin, "author": author, "cl": 1, "fields": fields,
               "base": {name: None for name in fields}}
    nonce, ciphertext = crypto.encrypt_change(key, team=team.team, record_id=record_id,
                                              kind="clients", hlc=hlc, epoch=epoch,
                                              payload=payload)
    return {"change_id": uuid.uuid4().hex, "record_id": record_id, "kind": "clients",
            "hlc": hlc, "epoch": epoch, "nonce": nonce, "ciphertext": ciphertext}


def signed(team: Team, device: SyncDevice, change: dict[str, Any]) -> dict[str, Any]:
    """``change`` with the signature of ``device`` (its own signing key)."""
    message = protocol.change_signing_bytes(
        team=team.team, device_id=device.device_id, change_id=change["change_id"],
        record_id=change["record_id"], kind=change["kind"], hlc=change["hlc"],
        epoch=change["epoch"], nonce=protocol.b64d(change["nonce"]),
        ciphertext=protocol.b64d(change["ciphertext"]))
    signature = Ed25519PrivateKey.from_private_bytes(device.sign_private).sign(message)
    return {**change, "signature": protocol.b64e(signature)}


def push_as(team: Team, ctx: Context, change: dict[str, Any], *, sign: bool = True) -> Any:
    device = client.enrolled_device(ctx)
    return team.http.post("/v1/push",
                          json={"batch_id": uuid.uuid4().hex,
                                "changes": [signed(team, device, change) if sign else change]},
                          headers={"Authorization": f"Bearer {device.token}"})


def store_on_server(team: Team, device_id: str, change: dict[str, Any]) -> None:
    """What a hostile server (or whoever writes its database) can do: put a change into the
    team's log as if ``device_id`` had pushed it, past every check of the push endpoint."""
    with team.db.engine.begin() as conn:
        head = conn.execute(select(server_teams.c.head)
                            .where(server_teams.c.code == team.team)).scalar_one()
        signature = change.get("signature")
        conn.execute(insert(server_changes).values(
            team=team.team, seq=head + 1, change_id=change["change_id"], device_id=device_id,
            record_id=change["record_id"], kind=change["kind"], hlc=change["hlc"],
            epoch=change["epoch"], nonce=protocol.b64d(change["nonce"]),
            ciphertext=protocol.b64d(change["ciphertext"]),
            signature=protocol.b64d(signature) if signature else None,
            received_at=admin.utcnow()))
        conn.execute(update(server_teams).where(server_teams.c.code == team.team)
                     .values(head=head + 1))
        team.db.upsert_max(conn, record_versions, [
            {"team": team.team, "record_id": change["record_id"], "kind": change["kind"],
             "max_hlc": change["hlc"]}], "max_hlc")


def assert_quarantined(team: Team, receiver: Context, change: dict[str, Any],
                       author_id: str, reason: str) -> None:
    """Kept aside on ``receiver`` (sync status) and reported to county IT (server-admin)."""
    held = {q.change_id: q for q in SyncClient(receiver, team.http).quarantined()}
    assert change["change_id"] in held
    assert held[change["change_id"]].author_device == author_id
    assert reason in held[change["change_id"]].reason
    listed = admin.quarantine_reports_of(team.db, team.team)
    assert (change["change_id"], author_id, client.enrolled_device(receiver).device_id) in {
        (r.change_id, r.author_id, r.reporter_id) for r in listed}
    with receiver.vault.reading() as session:
        state = session.get(RecordState, change["record_id"])
        assert state is None or change["hlc"] not in str(state.clocks)  # never applied


def test_a_member_cannot_write_in_a_colleagues_name(devices, team):
    anna, ewa, mallory = devices(3)
    for ctx in (anna, ewa, mallory):
        team.join(ctx)
    person = make_person(ewa, consent=True, last_name="Ebrahimi")
    team.sync_all()
    ewa_origin = _origin(ewa)

    forged = _forged_change(team, mallory, record_id=person.id,
                            fields={"last_name": "Gefälscht"}, origin=ewa_origin,
                            author=ewa.user)
    assert push_as(team, mallory, forged).status_code == 200  # signed by Mallory's device
    report = team.sync(anna)
    make_person(ewa, consent=True, last_name="Nowak")  # Ewa keeps working
    team.sync_all()

    for ctx in (anna, ewa):
        with ctx.vault.reading() as session:
            assert session.get(Client, person.id).last_name == "Ebrahimi"  # never applied
            clocks = session.get(RecordState, person.id).clocks
            authors = dict(session.execute(
                select(DeviceAuthor.origin, DeviceAuthor.user_name)).all())
        assert clocks["last_name"][0] != forged["hlc"]
        assert find_clients(ctx, "Nowak")
    assert authors.get(ewa_origin) in (None, ewa.user)
    assert report.quarantined == 1 and "Quarantäne" in " ".join(report.notes)
    assert_quarantined(team, anna, forged, client.enrolled_device(mallory).device_id,
                       "gibt sich als Gerät")


def test_the_author_of_a_change_is_the_verified_signer_not_the_payload(devices, team):
    anna, mallory = devices(2)
    team.join(anna)
    team.join(mallory)
    person = make_person(anna, consent=True, last_name="Ebrahimi")
    team.sync_all()
    # Mallory edits under her own origin but names someone else as the author.
    change = _forged_change(team, mallory, record_id=person.id,
                            fields={"last_name": "Ohne Namen"}, origin=_origin(mallory),
                            author="Kreis-IT")
    assert push_as(team, mallory, change).status_code == 200

    team.sync(anna)

    with anna.vault.reading() as session:
        author = session.get(DeviceAuthor, _origin(mallory))
        assert author is not None and author.user_name == mallory.user
        assert author.device_id == client.enrolled_device(mallory).device_id


def test_an_unsigned_or_wrongly_signed_push_is_refused(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    team.sync_all()
    change = _forged_change(team, ewa, record_id=uuid.uuid4().hex, fields={},
                            origin=_origin(ewa), author=ewa.user)

    unsigned = push_as(team, ewa, change, sign=False)
    other = signed(team, client.enrolled_device(anna), change)  # Anna's key, Ewa's token
    wrong = push_as(team, ewa, other, sign=False)
    moved = push_as(team, ewa, {**signed(team, client.enrolled_device(ewa), change),
                                "record_id": uuid.uuid4().hex}, sign=False)

    assert unsigned.status_code == 422
    assert wrong.status_code == 422 and wrong.json()["error"] == "signature_invalid"
    assert moved.status_code == 422 and moved.json()["error"] == "signature_invalid"
    assert "ä" not in wrong.json()["detail"]  # a machine code; the device says it in German


def test_a_member_cannot_push_a_clock_far_in_the_future(devices, team):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    team.sync_all()
    ahead = format_hlc(time.time_ns() // 1_000_000 + 3600 * 1000, 0)
    future = _forged_change(team, ewa, record_id=uuid.uuid4().hex,
                            fields={"last_name": "Zukunft"}, origin=_origin(ewa),
                            author=ewa.user, hlc=ahead)

    response = push_as(team, ewa, future)

    assert response.status_code == 422
    assert response.json()["error"] == "clock_ahead"
    assert response.json()["index"] == 0


def test_a_change_of_a_revoked_device_after_its_revocation_is_quarantined(devices, team):
    anna, ewa, jan = devices(3)
    team.join(anna)
    team.join(ewa)
    team.sync_all()
    before = make_person(ewa, consent=True, last_name="Ebrahimi")
    team.sync_all()
    ewa_device = client.enrolled_device(ewa)
    team.revoke(ewa)  # the laptop is lost; its keys are in a thief's hands
    team.sync(anna)   # rotation: Ewa gets no new key
    time.sleep(0.01)
    stolen = signed(team, ewa_device, _forged_change(
        team, ewa, record_id=before.id, fields={"last_name": "Gestohlen"},
        origin=_origin(ewa), author=ewa.user))
    store_on_server(team, ewa_device.device_id, stolen)  # the server cannot refuse it here

    report = team.sync(anna)
    team.join(jan, by=anna)  # a new device: Ewa's changes from before the revocation count
    for ctx in (jan, anna, jan):
        team.sync(ctx)

    assert report.quarantined == 1
    for ctx in (anna, jan):
        with ctx.vault.reading() as session:
            assert session.get(Client, before.id).last_name == "Ebrahimi"
    assert_quarantined(team, anna, stolen, ewa_device.device_id, "gesperrten Gerät")


@pytest.mark.parametrize("garbage", ["unsigned", "signed garbage", "clock far ahead"])
def test_a_bad_change_in_the_log_is_quarantined_and_the_team_keeps_syncing(
        devices, team, garbage):
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    team.sync_all()
    ewa_device = client.enrolled_device(ewa)
    ahead = format_hlc(time.time_ns() // 1_000_000 + 3600 * 1000, 0)
    change = _forged_change(team, ewa, record_id=uuid.uuid4().hex, fields={"last_name": "X"},
                            origin=_origin(ewa), author=ewa.user,
                            hlc=ahead if garbage == "clock far ahead" else None)
    reason = {"unsigned": "nicht vom Autorgerät signiert",
              "signed garbage": "nicht entschlüsseln",
              "clock far ahead": "in der Zukunft"}[garbage]
    if garbage == "signed garbage":
        change = {**change, "ciphertext": protocol.b64e(b"\0" * 64)}
        assert push_as(team, ewa, change).status_code == 200  # the server cannot look inside
    else:
        if garbage == "clock far ahead":
            change = signed(team, ewa_device, change)
        store_on_server(team, ewa_device.device_id, change)
    person = make_person(ewa, consent=True, last_name="Ebrahimi")

    team.sync(ewa)
    report = team.sync(anna)
    team.sync_all()

    assert [hit.id for hit in find_clients(anna, "Ebrahimi")] == [person.id]
    assert report.quarantined == 1 and "Quarantäne" in " ".join(report.notes)
    assert_quarantined(team, anna, change, ewa_device.device_id, reason)
