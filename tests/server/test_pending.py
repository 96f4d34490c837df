"""A pending device (enrolled, not yet confirmed by the coordination) can only wait.

Its token must get it the status, the envelopes addressed to it, and the certificates and keys of
the devices it needs to check those envelopes (plus the first team key of a coordinator's
device). Everything else — the team's device list, changes, checksum, statistics, anchors,
quarantine reports, certificates it would upload — is refused, whatever endpoint exists now or is
added later (the sweep over the OpenAPI schema below).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from kimdesk.server import trust as server_trust
from kimdesk.server.db import Database
from kimdesk.server.tables import (
    audit_anchors,
    changes,
    quarantine_reports,
    team_stat_cells,
    teams,
    trust_documents,
)
from kimdesk.sync import protocol
from kimdesk.sync import trust as chain
from tests.server.conftest import grant
from tests.server.support import Device, make_change, push_body

Enrol = Callable[..., Device]

# What a waiting device calls (kimdesk/sync/client.py: run → _ensure_keys → team_trust,
# _fetch_envelopes); everything else answers 409 "noch nicht bestätigt".
WAITING_MAY = {("GET", "/v1/status"), ("GET", "/v1/envelopes"), ("POST", "/v1/envelopes"),
               ("GET", "/v1/trust"), ("GET", "/v1/devices")}
OPEN = {("GET", "/v1/health"), ("POST", "/v1/enrol")}


def _fingerprint(device: Device) -> str:
    return protocol.fingerprint(device.sign_public, device.box_public)


def _counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (changes, team_stat_cells, audit_anchors, quarantine_reports,
                              trust_documents)}


def test_a_pending_device_does_not_see_the_team(
        client: TestClient, enrolled_device: Enrol, active_team: tuple[Device, Device]) -> None:
    coordinator, member = active_team
    pending = enrolled_device("nord", "Neu im Team", device_name="Laptop Neu")

    response = client.get("/v1/devices", headers=pending.headers)

    # Before: the whole team with names, device names and when each was last seen.
    assert response.status_code == 200, response.text
    listed = response.json()["devices"]
    assert [d["device_id"] for d in listed] == [pending.device_id]
    assert [(d["user"], d["device_name"], d["state"]) for d in listed] == [
        ("Neu im Team", "Laptop Neu", "pending")]
    # The coordinator's own view is unchanged: the whole team.
    everyone = client.get("/v1/devices", headers=coordinator.headers).json()["devices"]
    assert {d["device_id"] for d in everyone} == {coordinator.device_id, member.device_id,
                                                 pending.device_id}


def test_a_pending_device_writes_no_statistics_and_reads_no_checksum(
        client: TestClient, db: Database, enrolled_device: Enrol,
        active_team: tuple[Device, Device]) -> None:
    coordinator, _member = active_team
    pending = enrolled_device("nord", "Neu im Team")
    cells = {"cells": [{"municipality": "kleve", "dimension": "gender", "value": "female",
                        "measure": "new", "count": 1_000_000_000}]}
    change = make_change(1)

    answers = [
        client.put("/v1/stats/2026-05", headers=pending.headers, json=cells),
        client.get("/v1/checksum", headers=pending.headers),
        client.post("/v1/push", headers=pending.headers, json=push_body([change], by=pending)),
        client.get("/v1/pull", headers=pending.headers),
        client.put("/v1/audit-anchor", headers=pending.headers,
                   json={"seq": 1, "mac": "0" * 64, "problems": []}),
    ]

    assert [a.status_code for a in answers] == [409] * len(answers), [a.text for a in answers]
    assert all("noch nicht bestätigt" in a.json()["detail"] for a in answers)
    assert _counts(db) == {"changes": 0, "team_stat_cells": 0, "audit_anchors": 0,
                           "quarantine_reports": 0, "trust_documents": 0}
    assert client.get("/v1/checksum", headers=coordinator.headers).status_code == 200


def test_a_pending_device_learns_its_state_but_not_how_much_the_team_wrote(
        client: TestClient, enrolled_device: Enrol, active_team: tuple[Device, Device]) -> None:
    coordinator, _member = active_team
    assert client.post("/v1/push", headers=coordinator.headers, json=push_body(
        [make_change(1), make_change(1)], by=coordinator)).status_code == 200
    pending = enrolled_device("nord", "Neu im Team")

    status = client.get("/v1/status", headers=pending.headers).json()

    assert (status["state"], status["epoch"], status["head"]) == ("pending", 1, 0)
    assert client.get("/v1/status", headers=coordinator.headers).json()["head"] == 2


def test_a_pending_device_sees_only_the_chain_of_its_envelope(
        client: TestClient, db: Database, enrolled_device: Enrol) -> None:
    """A device granted an old epoch only (stays pending) sees its granter, the granter's
    certificate and the issuer of that certificate, not the rest of the team."""
    root = chain.new_root_key()
    coordinator = enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    member = enrolled_device("nord", "Anna Becker")
    grant(client, coordinator, member, epoch=1)
    bystander = enrolled_device("nord", "Jan Peters")
    grant(client, coordinator, bystander, epoch=1)
    documents = [
        chain.certify(team="nord", fingerprint=_fingerprint(coordinator), role="coordinator",
                      issuer=chain.ROOT, signer_private=root),
        chain.certify(team="nord", fingerprint=_fingerprint(member), role="member",
                      issuer=_fingerprint(coordinator), signer_private=_raw(coordinator)),
        chain.certify(team="nord", fingerprint=_fingerprint(bystander), role="member",
                      issuer=_fingerprint(coordinator), signer_private=_raw(coordinator)),
    ]
    with db.write() as conn:
        for document in documents:
            server_trust.insert(conn, document)
    # The team moves to epoch 2; the newcomer gets epoch 1 from the member (no activation).
    new_key = os.urandom(32)
    coordinator_2, member_2 = (coordinator.seal(d, 2, new_key) for d in (coordinator, member))
    with db.write() as conn:
        conn.execute(update(teams).where(teams.c.code == "nord").values(rotation_needed=True))
    body = {"envelopes": [coordinator_2, member_2,
                          coordinator.seal(bystander, 2, new_key)]}
    assert client.post("/v1/envelopes", headers=coordinator.headers,
                       json=body).status_code == 200
    newcomer = enrolled_device("nord", "Neu im Team", coordinator=True)
    grant(client, member, newcomer, epoch=1)
    assert client.get("/v1/status", headers=newcomer.headers).json()["state"] == "pending"

    listed = client.get("/v1/devices", headers=newcomer.headers).json()["devices"]
    documents_seen = client.get("/v1/trust", headers=newcomer.headers).json()["documents"]

    assert {d["device_id"] for d in listed} == {newcomer.device_id, member.device_id,
                                                coordinator.device_id}
    assert {d["body"]["fingerprint"] for d in documents_seen} == {
        _fingerprint(coordinator), _fingerprint(member)}
    assert len(client.get("/v1/envelopes", headers=newcomer.headers).json()["envelopes"]) == 1


def _raw(device: Device) -> bytes:
    return device.sign_key.private_bytes(serialization.Encoding.Raw,
                                         serialization.PrivateFormat.Raw,
                                         serialization.NoEncryption())


def test_every_other_endpoint_refuses_a_pending_device(
        app: FastAPI, client: TestClient, db: Database, enrolled_device: Enrol,
        active_team: tuple[Device, Device]) -> None:
    """Every operation of the schema that is not on the waiting list answers 409 to a pending
    device's token, before its body is even looked at: an endpoint added later is covered."""
    pending = enrolled_device("nord", "Neu im Team")
    before = _counts(db)
    seen: set[tuple[str, str]] = set()
    refused: dict[str, Any] = {}
    for path, methods in app.openapi()["paths"].items():
        for method in methods:
            key = (method.upper(), path)
            seen.add(key)
            if key in WAITING_MAY | OPEN:
                continue
            url = path.replace("{period}", "2026-05").replace("{blob_id}", "0" * 32) \
                .replace("{index}", "0").replace("{transfer_id}", "0" * 32) \
                .replace("{team}", "nord")
            assert "{" not in url, f"add a value for the parameter of {path}"
            response = client.request(method.upper(), url, headers=pending.headers, json={})
            refused[f"{method.upper()} {path}"] = response.status_code
    assert seen >= WAITING_MAY | OPEN
    assert set(refused.values()) == {409}, {k: v for k, v in refused.items() if v != 409}
    assert _counts(db) == before
