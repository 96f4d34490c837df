"""What county IT does through `server-admin`, as functions: teams, codes, revocation, lost
devices, unlock codes, and an audit that never holds a payload."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from kimdesk.errors import KimdeskError
from kimdesk.server import admin
from kimdesk.server.db import Database
from kimdesk.server.enrolment import CODE_ALPHABET
from kimdesk.server.tables import audit_log, devices
from kimdesk.sync import protocol
from kimdesk.sync.lease import parse_and_verify
from tests.server.conftest import grant
from tests.server.support import Device, make_change, push_body

Enrol = Callable[..., Device]


def test_teams_are_created_once_with_a_plain_code(db: Database) -> None:
    team = admin.create_team(db, "nord", "  Team   Nord ")

    assert (team.code, team.name, team.epoch, team.active_devices) == ("nord", "Team Nord", 0, 0)
    with pytest.raises(KimdeskError, match="gibt es schon"):
        admin.create_team(db, "nord", "Noch einmal")
    for bad in ("Nord", "n o", "", "x" * 41, "nörd"):
        with pytest.raises(KimdeskError):
            admin.create_team(db, bad, "Team")
    assert [t.code for t in admin.list_teams(db)] == ["nord"]


def test_codes_are_easy_to_type_and_random(db: Database) -> None:
    admin.create_team(db, "nord", "Team Nord")

    codes = {admin.issue_code(db, "nord", "Anna Becker")[0] for _ in range(50)}

    assert len(codes) == 50
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set(CODE_ALPHABET)  # 32 symbols × 16 = 80 bits
    with pytest.raises(KimdeskError, match="gibt es auf diesem Server nicht"):
        admin.issue_code(db, "sued", "Anna Becker")
    with pytest.raises(KimdeskError):
        admin.issue_code(db, "nord", "   ")


def test_revoking_asks_the_team_to_rotate(client: TestClient, db: Database,
                                          active_team: tuple[Device, Device]) -> None:
    _, member = active_team

    device, newly = admin.revoke(db, member.device_id[:8])

    assert newly and device.state == "revoked" and device.id == member.device_id
    assert admin.list_teams(db)[0].rotation_needed is True
    assert admin.revoke(db, member.device_id)[1] is False
    with pytest.raises(KimdeskError, match="gibt es auf diesem Server nicht"):
        admin.revoke(db, "0123456789")
    with pytest.raises(KimdeskError):
        admin.revoke(db, "ab")
    (entry,) = [e for e in admin.audit_entries(db) if e.action == "device_revoked"]
    assert entry.device_id == member.device_id and entry.actor.startswith("admin")


def test_an_ambiguous_id_prefix_is_refused(db: Database, enrolled_device: Enrol) -> None:
    first, second = enrolled_device(), enrolled_device()
    with db.write() as conn:
        for device, new_id in ((first, "abcd" + "0" * 28), (second, "abcd" + "1" * 28)):
            conn.execute(devices.update().where(devices.c.id == device.device_id)
                         .values(id=new_id))

    with pytest.raises(KimdeskError, match="Mehrere Geräte"):
        admin.lost_device_report(db, "abcd")
    assert admin.lost_device_report(db, "abcd1").device.id == "abcd" + "1" * 28


def test_lease_codes_count_up_and_verify_with_the_enrolment_secret(
        db: Database, enrolled_device: Enrol) -> None:
    device = enrolled_device()
    secret = protocol.b64d(device.enrolment["lease_secret"])

    first, _ = admin.next_lease_code(db, device.device_id)
    second, _ = admin.next_lease_code(db, device.device_id)

    assert first.startswith("1-") and second.startswith("2-")
    assert parse_and_verify(secret, device.device_id, first, 0) == 1
    assert parse_and_verify(secret, device.device_id, second, 1) == 2
    assert parse_and_verify(secret, device.device_id, first, 2) is None
    assert [e.detail["counter"] for e in admin.audit_entries(db)
            if e.action == "lease_code_issued"] == [1, 2]
    admin.revoke(db, device.device_id)
    with pytest.raises(KimdeskError, match="gesperrt"):
        admin.next_lease_code(db, device.device_id)


def test_the_audit_holds_actions_but_no_payload_or_secret(
        client: TestClient, db: Database, enrolled_device: Enrol) -> None:
    coordinator = enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    member = enrolled_device("nord", "Anna Becker")
    envelope = grant(client, coordinator, member)
    change = make_change(1, record_id="client-record-1")
    client.post("/v1/push", headers=member.headers, json=push_body([change], by=member))
    admin.lost_device_report(db, member.device_id)
    admin.next_lease_code(db, member.device_id)
    admin.revoke(db, member.device_id)

    actions = [e.action for e in admin.audit_entries(db, 100)]

    assert actions == ["team_created", "code_issued", "device_enrolled", "team_key_created",
                       "code_issued", "device_enrolled", "key_granted", "lost_device_report",
                       "lease_code_issued", "device_revoked"]
    with db.read() as conn:
        text = json.dumps([list(map(str, r)) for r in conn.execute(select(audit_log))])
    assert envelope == {"stored": 1}
    for secret in (change["ciphertext"], change["record_id"], member.token.split(".")[1],
                   member.enrolment["lease_secret"]):
        assert secret not in text
    assert admin.audit_entries(db, 2)[-1].action == "device_revoked"


def test_the_sqlite_database_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)  # a lax umask: files would be world- or group-readable
    try:
        db = admin.open_database(f"sqlite:///{tmp_path / 'kimdesk-server.db'}")
        try:
            admin.create_team(db, "nord", "Team Nord")
            admin.issue_code(db, "nord", "Anna Becker")
        finally:
            db.dispose()
    finally:
        os.umask(old)
    files = list(tmp_path.glob("kimdesk-server.db*"))
    assert files
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, path.name


def test_the_lost_device_report_states_the_last_contact_and_that_later_changes_are_unknown(
        client: TestClient, db: Database, enrolled_device: Enrol) -> None:
    coordinator = enrolled_device("nord", "Koordination", coordinator=True, first_key=True)
    member = enrolled_device("nord", "Anna Becker")
    grant(client, coordinator, member)
    assert admin.lost_device_report(db, member.device_id).last_push_at is None
    client.post("/v1/push", headers=member.headers, json=push_body([make_change(1)], by=member))
    client.get("/v1/status", headers=member.headers)

    report = admin.lost_device_report(db, member.device_id).to_json()

    assert report["last_push_at"] is not None
    assert report["unknown_after"] == report["device"]["last_seen_at"] is not None
    assert "offline" in report["note"] and "kennt der Server nicht" in report["note"]
