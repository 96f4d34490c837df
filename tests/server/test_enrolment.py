"""Enrolment with one-time codes, authentication by token, and the wipe order for revoked
devices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from kimdesk import __version__
from kimdesk.server import admin
from kimdesk.server.db import Database, utcnow
from kimdesk.server.tables import devices, enrolment_codes
from kimdesk.sync import protocol
from tests.server.support import Device, make_change, push_body


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_a_device_enrols_with_a_valid_code(client: TestClient, db: Database) -> None:
    admin.create_team(db, "nord", "Team Nord")
    code, _ = admin.issue_code(db, "nord", "Anna  Becker", coordinator=True)
    device = Device()

    response = client.post("/v1/enrol", json=device.enrol_body(
        code.lower().replace("-", " "), "anna becker", "Laptop Kleve 3"))

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"device_id", "team", "token", "fingerprint", "coordinator",
                         "team_has_key", "lease_secret", "lease_warn_days", "lease_lock_days"}
    assert body["team"] == "nord" and body["coordinator"] is True
    assert body["team_has_key"] is False
    assert body["fingerprint"] == protocol.fingerprint(device.sign_public, device.box_public)
    assert body["token"].startswith(body["device_id"] + ".")
    assert len(protocol.b64d(body["lease_secret"])) == 32
    assert (body["lease_warn_days"], body["lease_lock_days"]) == (30, 60)
    device.token = body["token"]
    status = client.get("/v1/status", headers=device.headers).json()
    assert status["state"] == "pending" and status["epoch"] == 0 and status["head"] == 0
    listed = client.get("/v1/devices", headers=device.headers).json()["devices"]
    assert [(d["user"], d["device_name"], d["state"]) for d in listed] == [
        ("Anna Becker", "Laptop Kleve 3", "pending")]
    with db.read() as conn:
        row = conn.execute(select(devices)).one()
    # Only a hash of the token's secret is stored.
    assert body["token"].split(".", 1)[1] not in repr(tuple(row))


def test_a_code_works_only_once(client: TestClient, db: Database) -> None:
    admin.create_team(db, "ost", "Team Ost")
    code, _ = admin.issue_code(db, "ost", "Jan Peters")

    first = client.post("/v1/enrol", json=Device().enrol_body(code, "Jan Peters"))
    second = client.post("/v1/enrol", json=Device().enrol_body(code, "Jan Peters"))

    assert first.status_code == 201
    assert second.status_code == 403
    assert "schon benutzt" in second.json()["detail"]
    assert len(admin.list_devices(db)) == 1


def test_an_expired_or_unknown_code_is_refused(client: TestClient, db: Database) -> None:
    admin.create_team(db, "ost", "Team Ost")
    code, expires = admin.issue_code(db, "ost", "Jan Peters", valid_days=7)
    assert timedelta(days=6, hours=23) < expires - utcnow() <= timedelta(days=7)
    with db.write() as conn:
        conn.execute(update(enrolment_codes).values(expires_at=utcnow() - timedelta(minutes=1)))

    expired = client.post("/v1/enrol", json=Device().enrol_body(code, "Jan Peters"))
    unknown = client.post("/v1/enrol", json=Device().enrol_body("2222-3333-4444-5555",
                                                                "Jan Peters"))

    assert expired.status_code == 403 and unknown.status_code == 403
    assert admin.list_devices(db) == []


def test_a_code_is_bound_to_its_person(client: TestClient, db: Database) -> None:
    admin.create_team(db, "ost", "Team Ost")
    code, _ = admin.issue_code(db, "ost", "Jan Peters")

    response = client.post("/v1/enrol", json=Device().enrol_body(code, "Eva Schmitz"))

    assert response.status_code == 403
    # The refused attempt does not use the code up.
    assert client.post("/v1/enrol", json=Device().enrol_body(code, "Jan Peters")
                       ).status_code == 201


@pytest.mark.parametrize("field, value", [
    ("sign_public_key", protocol.b64e(b"\x01" * 31)),
    ("box_public_key", protocol.b64e(b"\x01" * 33)),
    ("sign_public_key", "nicht base64!"),
    ("user", "   "),
    ("device_name", "Laptop\x00"),
    ("code", "ÄÖÜ"),
])
def test_malformed_enrolment_is_422(client: TestClient, db: Database, field: str,
                                    value: str) -> None:
    admin.create_team(db, "ost", "Team Ost")
    code, _ = admin.issue_code(db, "ost", "Jan Peters")
    body = Device().enrol_body(code, "Jan Peters")
    body[field] = value

    response = client.post("/v1/enrol", json=body)

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    assert admin.list_devices(db) == []


AUTHENTICATED = [("get", "/v1/status", None), ("get", "/v1/devices", None),
                 ("get", "/v1/envelopes", None), ("get", "/v1/pull", None),
                 ("get", "/v1/checksum", None), ("get", "/v1/stats?period=2026", None),
                 ("post", "/v1/push", push_body([make_change()])),
                 ("post", "/v1/envelopes", {"envelopes": []}),
                 ("put", "/v1/stats/2026", {"cells": []})]


@pytest.mark.parametrize("method, path, body", AUTHENTICATED)
def test_requests_without_a_valid_token_are_401(
        client: TestClient, enrolled_device: Callable[..., Device], method: str, path: str,
        body: object) -> None:
    device = enrolled_device()
    device_id, secret = device.token.split(".", 1)
    bad_headers = [{}, {"Authorization": device.token},
                   {"Authorization": f"Basic {device.token}"},
                   {"Authorization": f"Bearer {device_id}.{secret[:-1]}x"},
                   {"Authorization": f"Bearer {'0' * 32}.{secret}"},
                   {"Authorization": f"Bearer {device_id}"},
                   {"Authorization": "Bearer ..."}]

    for headers in bad_headers:
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["detail"].startswith("Anmeldung am Server fehlgeschlagen")


@pytest.mark.parametrize("method, path, body", AUTHENTICATED)
def test_a_revoked_device_is_told_to_wipe(
        client: TestClient, db: Database, enrolled_device: Callable[..., Device], method: str,
        path: str, body: object) -> None:
    device = enrolled_device(first_key=True)
    admin.revoke(db, device.device_id)

    response = client.request(method, path, headers=device.headers, json=body)

    assert response.status_code == 403
    assert response.json() == {"detail": response.json()["detail"], "wipe": True,
                               "revocations": [], "issuer_keys": {}}
    assert "gesperrt" in response.json()["detail"]
    actions = [e.action for e in admin.audit_entries(db)]
    assert actions.count("wipe_requested") == 1


def test_status_records_when_the_device_was_last_seen(
        client: TestClient, db: Database, enrolled_device: Callable[..., Device]) -> None:
    device = enrolled_device()
    with db.write() as conn:
        conn.execute(update(devices).values(last_seen_at=utcnow() - timedelta(days=20)))

    status = client.get("/v1/status", headers=device.headers).json()

    (listed,) = admin.list_devices(db)
    assert listed.last_seen_at is not None
    assert utcnow() - listed.last_seen_at < timedelta(minutes=1)
    assert abs(utcnow() - _parse(status["server_time"])) < timedelta(minutes=1)


def _parse(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    value = datetime.fromisoformat(text)
    assert value.utcoffset() == timedelta(0)
    return value
