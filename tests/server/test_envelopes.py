"""Wrapped team keys: first key, confirmation by the coordination, rotation after revocation."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from kimdesk.server import admin
from kimdesk.server.db import Database
from kimdesk.server.tables import envelopes
from kimdesk.sync import protocol
from tests.server.conftest import TEAM_KEY, grant
from tests.server.support import Device, make_change, push_body

Enrol = Callable[..., Device]


def _status(client: TestClient, device: Device) -> dict[str, Any]:
    response = client.get("/v1/status", headers=device.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _stored(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(envelopes)).scalar_one())


def test_first_device_creates_the_team_key_and_becomes_active(
        client: TestClient, enrolled_device: Enrol) -> None:
    first = enrolled_device("nord", "Anna Becker", coordinator=True)
    second = enrolled_device("nord", "Jan Peters", coordinator=True)

    assert grant(client, first, first, epoch=1) == {"stored": 1}
    assert _status(client, first)["state"] == "active"
    assert _status(client, first)["epoch"] == 1
    # First one wins: another device's own key would split the team.
    refused = grant(client, second, second, epoch=1, expect=409)
    assert refused["epoch"] == 1
    assert _status(client, second)["state"] == "pending"
    assert enrolled_device("nord", "Eva Schmitz").enrolment["team_has_key"] is True


def test_a_case_managers_device_does_not_make_the_first_key(
        client: TestClient, enrolled_device: Enrol, db: Database) -> None:
    case_manager = enrolled_device("nord", "Jan Peters")

    refused = grant(client, case_manager, case_manager, epoch=1, expect=409)

    assert "Koordination" in refused["detail"] and refused["epoch"] == 0
    assert _stored(db) == 0 and _status(client, case_manager)["state"] == "pending"
    coordinator = enrolled_device("nord", "Anna Becker", coordinator=True)
    grant(client, coordinator, coordinator, epoch=1)  # enrolled later, still the first key
    grant(client, coordinator, case_manager, epoch=1)
    assert _status(client, case_manager)["state"] == "active"


def test_the_first_key_is_only_for_oneself_and_epoch_one(
        client: TestClient, enrolled_device: Enrol, db: Database) -> None:
    first = enrolled_device("nord", "Anna Becker")
    other = enrolled_device("nord", "Jan Peters")

    grant(client, first, other, epoch=1, expect=403)
    grant(client, first, first, epoch=2, expect=403)
    both = {"envelopes": [first.seal(first, 1, TEAM_KEY), first.seal(other, 1, TEAM_KEY)]}
    assert client.post("/v1/envelopes", headers=first.headers, json=both).status_code == 403
    assert _stored(db) == 0 and _status(client, first)["epoch"] == 0


def test_a_wrong_signature_or_foreign_granter_stores_nothing(
        client: TestClient, enrolled_device: Enrol, db: Database) -> None:
    first = enrolled_device("nord", "Anna Becker")
    impostor = Device(device_id=first.device_id, team="nord")  # other keys, same id
    forged = impostor.seal(first, 1, TEAM_KEY)
    other_team = first.seal(first, 1, TEAM_KEY) | {"signature": forged["signature"]}
    other = enrolled_device("nord", "Jan Peters")
    not_mine = other.seal(first, 1, TEAM_KEY)

    for envelope in (forged, other_team, not_mine):
        response = client.post("/v1/envelopes", headers=first.headers,
                               json={"envelopes": [envelope]})
        assert response.status_code == 403, response.text
    wrong_team = Device(sign_key=first.sign_key, device_id=first.device_id, team="sued")
    response = client.post("/v1/envelopes", headers=first.headers,
                           json={"envelopes": [wrong_team.seal(first, 1, TEAM_KEY)]})
    assert response.status_code == 403
    assert _stored(db) == 0
    assert _status(client, first)["state"] == "pending"


def test_the_coordination_confirms_a_new_device(
        client: TestClient, enrolled_device: Enrol) -> None:
    coordinator = enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    member = enrolled_device("nord", "Anna Becker")
    assert _status(client, member)["state"] == "pending"
    assert client.post("/v1/push", headers=member.headers,
                       json=push_body([make_change(1)], by=member)).status_code == 409

    grant(client, coordinator, member, epoch=1)

    assert _status(client, member)["state"] == "active"
    (received,) = client.get("/v1/envelopes", headers=member.headers).json()["envelopes"]
    assert received["granter_id"] == coordinator.device_id
    assert protocol.verify_envelope_signature(coordinator.sign_public, received, "nord")
    assert client.post("/v1/push", headers=member.headers,
                       json=push_body([make_change(1)], by=member)).status_code == 200


def test_only_an_active_coordinator_confirms(
        client: TestClient, enrolled_device: Enrol) -> None:
    coordinator = enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    member = enrolled_device("nord", "Anna Becker")
    grant(client, coordinator, member)
    newcomer = enrolled_device("nord", "Jan Peters")
    pending_coordinator = enrolled_device("nord", "Zweite Koordination", coordinator=True)

    grant(client, member, newcomer, expect=403)  # active, but not the coordination
    grant(client, pending_coordinator, newcomer, expect=403)  # not confirmed itself
    assert _status(client, newcomer)["state"] == "pending"


def test_keys_go_only_to_the_own_team_and_never_to_revoked_devices(
        client: TestClient, enrolled_device: Enrol, db: Database) -> None:
    coordinator = enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    stranger = enrolled_device("sued", "Eva Schmitz")
    leaver = enrolled_device("nord", "Jan Peters")
    admin.revoke(db, leaver.device_id)

    grant(client, coordinator, stranger, expect=403)
    grant(client, coordinator, leaver, expect=403)
    ghost = Device(device_id="f" * 32)
    grant(client, coordinator, ghost, expect=403)
    assert _stored(db) == 1


def test_older_epochs_can_be_granted_and_replays_are_harmless(
        client: TestClient, active_team: tuple[Device, Device], db: Database) -> None:
    coordinator, member = active_team
    envelope = coordinator.seal(member, 1, TEAM_KEY)
    body = {"envelopes": [envelope]}

    # member already holds epoch 1 (from the fixture): a different envelope conflicts ...
    assert client.post("/v1/envelopes", headers=coordinator.headers,
                       json=body).status_code == 409
    # ... the stored one, sent again, is fine.
    (stored,) = client.get("/v1/envelopes", headers=member.headers).json()["envelopes"]
    for _ in range(3):
        response = client.post("/v1/envelopes", headers=coordinator.headers,
                               json={"envelopes": [stored]})
        assert response.json() == {"stored": 1}
    assert _stored(db) == 2
    doubled = {"envelopes": [envelope, envelope]}
    assert client.post("/v1/envelopes", headers=coordinator.headers,
                       json=doubled).status_code == 422


def test_rotation_after_revocation_needs_every_active_device(
        client: TestClient, enrolled_device: Enrol, db: Database) -> None:
    coordinator = enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    anna = enrolled_device("nord", "Anna Becker")
    jan = enrolled_device("nord", "Jan Peters")
    lost = enrolled_device("nord", "Eva Schmitz")
    pending = enrolled_device("nord", "Neu im Team")
    for device in (anna, jan, lost):
        grant(client, coordinator, device)
    admin.revoke(db, lost.device_id)
    assert _status(client, anna)["rotation_needed"] is True
    new_key = os.urandom(32)
    before = _stored(db)

    incomplete = {"envelopes": [anna.seal(d, 2, new_key) for d in (coordinator, anna)]}
    response = client.post("/v1/envelopes", headers=anna.headers, json=incomplete)
    assert response.status_code == 409 and response.json()["epoch"] == 1
    with_pending = {"envelopes": [anna.seal(d, 2, new_key)
                                  for d in (coordinator, anna, jan, pending)]}
    assert client.post("/v1/envelopes", headers=anna.headers,
                       json=with_pending).status_code == 403
    skipping = {"envelopes": [anna.seal(d, 3, new_key) for d in (coordinator, anna, jan)]}
    assert client.post("/v1/envelopes", headers=anna.headers, json=skipping).status_code == 409
    assert _stored(db) == before and _status(client, anna)["epoch"] == 1

    complete = {"envelopes": [anna.seal(d, 2, new_key) for d in (coordinator, anna, jan)]}
    response = client.post("/v1/envelopes", headers=anna.headers, json=complete)

    assert response.json() == {"stored": 3}
    status = _status(client, jan)
    assert status["epoch"] == 2 and status["rotation_needed"] is False
    epochs = [e["epoch"] for e in client.get("/v1/envelopes", headers=jan.headers
                                             ).json()["envelopes"]]
    assert epochs == [1, 2]
    # Writing under the old key is now refused, and nothing of such a batch is stored.
    stale = client.post("/v1/push", headers=jan.headers, json=push_body([make_change(1)], by=jan))
    assert stale.status_code == 409 and stale.json()["epoch"] == 2
    assert client.post("/v1/push", headers=jan.headers,
                       json=push_body([make_change(2)], by=jan)).status_code == 200
    # A second rotation is not due.
    again = {"envelopes": [anna.seal(d, 3, new_key) for d in (coordinator, anna, jan)]}
    assert client.post("/v1/envelopes", headers=anna.headers, json=again).status_code == 409
    # The newcomer is confirmed with the new key afterwards.
    grant(client, coordinator, pending, epoch=2, team_key=new_key)
    assert _status(client, pending)["state"] == "active"
    actions = [e.action for e in admin.audit_entries(db, 100)]
    assert actions.count("key_rotated") == 1 and "device_revoked" in actions


def test_a_pending_device_cannot_rotate(client: TestClient, enrolled_device: Enrol,
                                        db: Database) -> None:
    coordinator = enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    pending = enrolled_device("nord", "Anna Becker")
    lost = enrolled_device("nord", "Jan Peters")
    grant(client, coordinator, lost)
    admin.revoke(db, lost.device_id)

    body = {"envelopes": [pending.seal(coordinator, 2, os.urandom(32))]}

    assert client.post("/v1/envelopes", headers=pending.headers, json=body).status_code == 403
    assert _status(client, coordinator)["epoch"] == 1
