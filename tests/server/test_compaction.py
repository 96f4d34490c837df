"""Compaction: a device reports the tombstones of its purge and the server drops every other
change of those records; nobody can compact a record with another device's change."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.testclient import TestClient

from kimdesk.sync import erasures
from tests.server.support import Device, make_change, push_body


def _push(client: TestClient, device: Device, items: list[dict[str, Any]]) -> None:
    response = client.post("/v1/push", headers=device.headers, json=push_body(items, by=device))
    assert response.status_code == 200, response.text


def _erasure(device: Device, tombstone: dict[str, Any]) -> dict[str, str]:
    erasure = {k: tombstone[k] for k in ("record_id", "kind", "change_id")}
    return erasures.signed([erasure], team=device.team, device_id=device.device_id,
                           sign=device.sign_key.sign)[0]


def _report(client: TestClient, device: Device, tombstone: dict[str, Any],
            expect: int = 200) -> dict[str, Any]:
    response = client.post("/v1/erasures", headers=device.headers,
                           json={"erasures": [_erasure(device, tombstone)]})
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def _of(client: TestClient, device: Device, record_id: str) -> list[str]:
    changes = client.get("/v1/pull", headers=device.headers).json()["changes"]
    return [c["change_id"] for c in changes if c["record_id"] == record_id]


def test_a_purged_record_keeps_only_its_tombstone(
        client: TestClient, active_team: tuple[Device, Device]) -> None:
    author, reader = active_team
    record = uuid.uuid4().hex
    history = [make_change(1, record_id=record, hlc=f"000{i}-0000") for i in range(1, 4)]
    other = make_change(1)
    _push(client, reader, history[:2])  # the colleague wrote the record ...
    tombstone = make_change(1, record_id=record, hlc="0009-0000")
    _push(client, author, [other, history[2], tombstone])  # ... the author purged it

    # The colleague cannot report the author's tombstone; nothing else is compacted.
    assert _report(client, reader, tombstone) == {"compacted": 0, "dropped": 0}
    assert _report(client, author, history[0]) == {"compacted": 0, "dropped": 0}
    assert len(_of(client, reader, record)) == 4

    assert _report(client, author, tombstone) == {"compacted": 1, "dropped": 3}

    assert _of(client, reader, record) == [tombstone["change_id"]]
    assert _of(client, reader, other["record_id"]) == [other["change_id"]]
    # Replayed, the report changes nothing more.
    assert _report(client, author, tombstone) == {"compacted": 1, "dropped": 0}


def test_a_report_needs_well_formed_ids(client: TestClient,
                                        active_team: tuple[Device, Device]) -> None:
    author, _reader = active_team
    for bad in ({"record_id": "x' OR 1=1", "kind": "clients", "change_id": "0" * 32},
                {"record_id": "a" * 32, "kind": "clients", "change_id": "nope"},
                {"record_id": "a" * 32, "kind": "clients"}):
        response = client.post("/v1/erasures", headers=author.headers,
                               json={"erasures": [bad]})
        assert response.status_code == 422, bad


def test_the_token_alone_compacts_nothing(client: TestClient,
                                          active_team: tuple[Device, Device]) -> None:
    """Found by the stateful schemathesis run (tests/sync/test_fuzzed_team.py): with a device's
    token, a report of the device's own first change of a record made the server drop a
    colleague's later edit of it. Now a report must be signed with the device's key."""
    author, colleague = active_team
    record = uuid.uuid4().hex
    first = make_change(1, record_id=record, hlc="0001-0000")
    _push(client, author, [first])
    later = make_change(1, record_id=record, hlc="0002-0000")
    _push(client, colleague, [later])
    unsigned = {k: first[k] for k in ("record_id", "kind", "change_id")}
    forged = {**_erasure(author, first), "signature": _erasure(colleague, first)["signature"]}
    other_record = {**_erasure(author, first), "record_id": uuid.uuid4().hex}
    not_canonical = {**unsigned, "signature": "A" * 85 + "B=="}  # found by the fuzzer: a 500

    answers = [client.post("/v1/erasures", headers=author.headers,
                           json={"erasures": [body]}).status_code
               for body in (unsigned, forged, other_record, not_canonical)]

    assert answers == [422, 403, 403, 403]
    assert _of(client, colleague, record) == [first["change_id"], later["change_id"]]
