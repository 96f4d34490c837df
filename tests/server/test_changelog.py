"""The change log: idempotent push, pull after a cursor, checksum, and seqs under concurrency."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

import httpx
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from kimdesk.server import admin
from kimdesk.server.db import Database
from kimdesk.server.tables import changes, teams
from kimdesk.sync import protocol
from tests.server.conftest import grant
from tests.server.support import (
    Device,
    ServerProcess,
    hlc_of,
    make_change,
    push_body,
    record_id_of,
    sign_change,
)

Enrol = Callable[..., Device]


def _push(client: TestClient, device: Device, items: list[dict[str, Any]],
          batch_id: str | None = None, expect: int = 200) -> dict[str, Any]:
    response = client.post("/v1/push", headers=device.headers, json=push_body(items, batch_id,
                                                                       by=device))
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def _pull(client: TestClient, device: Device, after: int = 0, limit: int | None = None
          ) -> dict[str, Any]:
    params = {"after": after} | ({"limit": limit} if limit else {})
    response = client.get("/v1/pull", headers=device.headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _stored(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(changes)).scalar_one())


def test_pushed_changes_come_back_in_order_to_the_team(
        client: TestClient, active_team: tuple[Device, Device],
        enrolled_device: Enrol) -> None:
    author, reader = active_team
    items = [make_change(1) for _ in range(5)]

    assert _push(client, author, items) == {"seqs": [1, 2, 3, 4, 5]}

    pulled = _pull(client, reader)
    assert pulled["head"] == 5 and pulled["more"] is False
    assert [c["seq"] for c in pulled["changes"]] == [1, 2, 3, 4, 5]
    for sent, got in zip(items, pulled["changes"], strict=True):
        # Ed25519 is deterministic: the stored signature is the author's over this change.
        assert got == sign_change(sent, author) | {"seq": got["seq"],
                                                   "device_id": author.device_id}
    other_team = enrolled_device("sued", "Eva Schmitz", first_key=True)
    assert _pull(client, other_team) == {"changes": [], "head": 0, "more": False}


def test_a_batch_replayed_three_times_keeps_its_seqs_and_is_stored_once(
        client: TestClient, active_team: tuple[Device, Device], db: Database) -> None:
    author, _ = active_team
    items = [make_change(1) for _ in range(20)]
    batch = uuid.uuid4().hex

    results = [_push(client, author, items, batch) for _ in range(3)]

    assert results[0]["seqs"] == list(range(1, 21))
    assert results[1] == results[0] == results[2]
    assert _stored(db) == 20
    # A replay with the ciphertext changed still answers with the original seq.
    altered = [dict(i, ciphertext=protocol.b64e(b"other")) for i in items[:2]]
    assert _push(client, author, altered)["seqs"] == [1, 2]
    assert _pull(client, author)["changes"][0]["ciphertext"] == items[0]["ciphertext"]


def test_an_overlapping_batch_stores_only_the_new_changes(
        client: TestClient, active_team: tuple[Device, Device], db: Database) -> None:
    author, reader = active_team
    first = [make_change(1) for _ in range(4)]
    _push(client, author, first)
    new = [make_change(1) for _ in range(3)]
    mixed = [new[0], first[2], new[1], first[0], new[2], new[1]]

    assert _push(client, author, mixed)["seqs"] == [5, 3, 6, 1, 7, 6]
    assert _stored(db) == 7
    pulled = _pull(client, reader)
    assert [c["seq"] for c in pulled["changes"]] == list(range(1, 8))
    assert len({c["change_id"] for c in pulled["changes"]}) == 7


def test_a_change_of_another_epoch_refuses_the_whole_batch(
        client: TestClient, active_team: tuple[Device, Device], db: Database) -> None:
    author, _ = active_team
    known = make_change(1)
    _push(client, author, [known])

    for bad in (2, 7):
        body = _push(client, author, [make_change(1), known, make_change(bad)], expect=409)
        assert body["epoch"] == 1 and isinstance(body["detail"], str)
    assert _stored(db) == 1
    with db.read() as conn:
        assert conn.execute(select(teams.c.head)).scalar_one() == 1
    # A replay of known changes is answered even if they are of an older epoch.
    assert _push(client, author, [known])["seqs"] == [1]


def test_batch_size_limits(client: TestClient, active_team: tuple[Device, Device],
                           db: Database) -> None:
    author, _ = active_team
    too_many = client.post("/v1/push", headers=author.headers,
                           json=push_body([make_change(1, size=16) for _ in range(501)],
                                          by=author))
    empty = client.post("/v1/push", headers=author.headers, json=push_body([]))
    full = _push(client, author, [make_change(1, size=16) for _ in range(500)])

    assert too_many.status_code == 413 and "500" in too_many.json()["detail"]
    assert empty.status_code == 422
    assert full["seqs"] == list(range(1, 501)) and _stored(db) == 500


def _raw_push(client: TestClient, device: Device, change: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/push", headers=device.headers, json=push_body([change]))


def test_a_change_without_its_authors_signature_is_refused(
        client: TestClient, active_team: tuple[Device, Device], db: Database) -> None:
    author, other = active_team
    change = make_change(1)
    signed = sign_change(change, author)

    unsigned = _raw_push(client, author, change)
    by_other = _raw_push(client, author, sign_change(change, other))  # other's key, own token
    replayed_by_other = _raw_push(client, other, signed)  # the author's change, other's token
    altered = _raw_push(client, author, {**signed, "ciphertext": make_change(1)["ciphertext"]})
    later = _raw_push(client, author, {**signed, "hlc": hlc_of("0009-0000")})

    assert unsigned.status_code == 422
    for refused in (by_other, replayed_by_other, altered, later):
        assert refused.status_code == 422, refused.text[:500]
        assert refused.json()["error"] == "signature_invalid"
        assert refused.json()["detail"] == "change rejected: signature_invalid"
    assert _stored(db) == 0
    assert _push(client, author, [change])["seqs"] == [1]


def test_changes_of_the_wrong_shape_are_refused_before_anything_is_stored(
        client: TestClient, active_team: tuple[Device, Device], db: Database) -> None:
    author, _ = active_team
    # What a schemathesis run once got stored: record id '0', kind '0', a clock of noise.
    for bad in ({"record_id": "0"}, {"kind": "0"}, {"hlc": "}}*-JC%/Z&a^3g"},
                {"hlc": "1764000000000-00001"}, {"nonce": protocol.b64e(b"1234")}):
        response = _raw_push(client, author, sign_change({**make_change(1), **bad}, author))
        assert response.status_code == 422, (bad, response.text)
    # Base64 the server would decode to the same bytes as a canonical text (a signature covers
    # the text): other padding bits, a line break, no padding. The schema's patterns refuse it.
    signature = protocol.b64e(bytes(64))
    for bad in ({"ciphertext": "QR=="}, {"ciphertext": "QQ==\n"}, {"ciphertext": "QQ"},
                {"nonce": protocol.b64e(bytes(12)) + "\n"},
                {"signature": signature[:-2] + "\n=="}, {"signature": signature + "\n"}):
        response = _raw_push(client, author, {**make_change(1), "signature": signature, **bad})
        assert response.status_code == 422, (bad, response.text)
    ahead = f"{time.time_ns() // 1_000_000 + 3_600_000:013d}.00000"
    response = client.post("/v1/push", headers=author.headers, json=push_body(
        [make_change(1), make_change(1, hlc=ahead)], by=author))
    assert response.status_code == 422
    assert response.json()["error"] == "clock_ahead" and response.json()["index"] == 1
    assert _stored(db) == 0


def test_a_full_batch_is_checked_change_by_change_and_stored_as_sent(
        client: TestClient, active_team: tuple[Device, Device], db: Database) -> None:
    """A batch as large as a first sync sends: its signatures are verified together (two
    threads), still every one of them, and the first bad change is named; a good batch is
    stored byte for byte, with the time it came (SQLite: written through the driver)."""
    author, reader = active_team
    items = [sign_change(make_change(1, size=300 + i), author)
             for i in range(protocol.MAX_BATCH)]
    forged = dict(items[401], ciphertext=make_change(1)["ciphertext"])
    ahead = sign_change(make_change(1, hlc=f"{time.time_ns() // 1_000_000 + 3_600_000:013d}"
                                            ".00000"), author)
    for batch, error, index in (
            ([*items[:401], forged, *items[402:]], "signature_invalid", 401),
            ([*items[:450], ahead, *items[451:]], "clock_ahead", 450),
            ([*items[:401], forged, *items[402:450], ahead, *items[451:]],
             "signature_invalid", 401),
            ([*items[:401], ahead, forged, *items[403:]], "clock_ahead", 401),
            ([*items[:-1], sign_change(items[-1], reader)], "signature_invalid", 499)):
        refused = client.post("/v1/push", headers=author.headers, json={
            "batch_id": uuid.uuid4().hex, "changes": batch})
        assert refused.status_code == 422, refused.text[:500]
        assert (refused.json()["error"], refused.json()["index"]) == (error, index)
    assert _stored(db) == 0

    before = time.time()
    accepted = client.post("/v1/push", headers=author.headers, json={
        "batch_id": uuid.uuid4().hex, "changes": items})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["seqs"] == list(range(1, protocol.MAX_BATCH + 1))
    with db.read() as conn:
        stored = conn.execute(select(changes).order_by(changes.c.seq)).all()
    assert [(r.change_id, r.device_id, r.record_id, r.kind, r.hlc, r.epoch, bytes(r.nonce),
             bytes(r.ciphertext), bytes(r.signature)) for r in stored] == [
        (i["change_id"], author.device_id, i["record_id"], i["kind"], i["hlc"], i["epoch"],
         protocol.b64d(i["nonce"]), protocol.b64d(i["ciphertext"]),
         protocol.b64d(i["signature"])) for i in items]
    received = {r.received_at.replace(tzinfo=r.received_at.tzinfo or UTC) for r in stored}
    assert len(received) == 1
    assert before - 1 <= next(iter(received)).timestamp() <= time.time() + 1
    pulled = _pull(client, reader)["changes"]
    assert [(c["seq"], c["ciphertext"], c["signature"]) for c in pulled] == [
        (seq, i["ciphertext"], i["signature"]) for seq, i in enumerate(items, 1)]
    assert client.get("/v1/checksum", headers=reader.headers).json()["checksum"] == \
        protocol.team_checksum((i["record_id"], i["hlc"]) for i in items)


def test_pull_pages_with_limit_and_more(client: TestClient,
                                        active_team: tuple[Device, Device]) -> None:
    author, reader = active_team
    _push(client, author, [make_change(1) for _ in range(12)])

    cursor, pages = 0, []
    while True:
        page = _pull(client, reader, cursor, limit=5)
        pages.append([c["seq"] for c in page["changes"]])
        if not page["more"]:
            break
        cursor = page["changes"][-1]["seq"]

    assert pages == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]
    assert _pull(client, reader, 12) == {"changes": [], "head": 12, "more": False}
    assert _pull(client, reader, 99)["changes"] == []
    for params in ({"limit": 0}, {"limit": 501}, {"after": -1}, {"after": "x"}):
        response = client.get("/v1/pull", headers=reader.headers, params=params)
        assert response.status_code == 422, params


def test_pull_below_compaction_is_410(client: TestClient, active_team: tuple[Device, Device],
                                      db: Database) -> None:
    author, reader = active_team
    _push(client, author, [make_change(1) for _ in range(3)])
    with db.write() as conn:
        conn.execute(update(teams).values(compacted_below=2))

    assert client.get("/v1/pull", headers=reader.headers,
                      params={"after": 1}).status_code == 410
    assert [c["seq"] for c in _pull(client, reader, 2)["changes"]] == [3]


def test_a_pending_device_neither_pushes_nor_pulls(
        client: TestClient, active_team: tuple[Device, Device], enrolled_device: Enrol) -> None:
    pending = enrolled_device("nord", "Neu im Team")

    assert _push(client, pending, [make_change(1)], expect=409)["detail"]
    assert client.get("/v1/pull", headers=pending.headers).status_code == 409


def test_checksum_follows_the_highest_hlc_per_record(
        client: TestClient, active_team: tuple[Device, Device]) -> None:
    author, reader = active_team
    assert client.get("/v1/checksum", headers=reader.headers).json() == {
        "head": 0, "checksum": "0" * 64}
    # HLCs with dashes: byte order, whatever the database's locale would say.
    _push(client, author, [make_change(1, record_id="r-1", hlc="0002-b"),
                           make_change(1, record_id="r-1", hlc="0002-a"),
                           make_change(1, record_id="r-2", hlc="0001-z", kind="cases")])
    _push(client, reader, [make_change(1, record_id="r-1", hlc="0001-z"),
                           make_change(1, record_id="r-2", hlc="0003-0", kind="cases")])

    body = client.get("/v1/checksum", headers=author.headers).json()

    assert body == {"head": 5, "checksum": protocol.team_checksum(
        [(record_id_of("r-1"), hlc_of("0002-b")), (record_id_of("r-2"), hlc_of("0003-0"))])}


def test_what_a_device_wrote_or_received_is_remembered(
        client: TestClient, active_team: tuple[Device, Device], db: Database,
        enrolled_device: Enrol) -> None:
    author, reader = active_team
    late = enrolled_device("nord", "Jan Peters")
    grant(client, author, late)
    _push(client, author, [make_change(1, record_id="c1"), make_change(1, record_id="c2"),
                           make_change(1, record_id="k1", kind="cases")])
    _push(client, reader, [make_change(1, record_id="c3")])
    _pull(client, reader, 0, limit=2)  # only the first two were delivered

    def held(device: Device) -> list[tuple[str, str]]:
        return admin.lost_device_report(db, device.device_id).records

    c1, c2, c3, k1 = (record_id_of(name) for name in ("c1", "c2", "c3", "k1"))
    assert held(author) == sorted([("cases", k1), ("clients", c1), ("clients", c2)])
    assert held(reader) == sorted([("clients", c1), ("clients", c2), ("clients", c3)])
    assert held(late) == []
    report = admin.lost_device_report(db, reader.device_id)
    assert report.client_count == 3 and report.by_kind() == {"clients": 3}


def test_concurrent_pushes_get_gap_free_seqs_and_a_cursor_misses_nothing(
        server_db_url: str, tmp_path: Any) -> None:
    """Eight devices push in threads against a real `kimdesk serve` while a ninth pulls."""
    from kimdesk.server.app import create_app

    app = create_app(server_db_url)
    with TestClient(app) as client:
        devices = _active_devices(app.state.db, client, 9)
    writers, watcher = devices[:8], devices[8]
    sent: list[str] = []
    errors: list[str] = []
    done = threading.Event()
    with ServerProcess(server_db_url, log_path=tmp_path / "serve.log") as server:

        def write(device: Device) -> None:
            with httpx.Client(base_url=server.url, headers=device.headers, timeout=60) as http:
                for round_ in range(15):
                    items = [make_change(1) for _ in range(1 + (round_ * 7) % 20)]
                    response = http.post("/v1/push", json=push_body(items, by=device))
                    if response.status_code != 200:
                        errors.append(response.text)
                        return
                    sent.extend(i["change_id"] for i in items)

        seen: list[dict[str, Any]] = []

        def watch() -> None:
            cursor = 0
            with httpx.Client(base_url=server.url, headers=watcher.headers, timeout=60) as http:
                while True:
                    finished = done.is_set()
                    page = http.get("/v1/pull", params={"after": cursor, "limit": 37}).json()
                    seen.extend(page["changes"])
                    if page["changes"]:
                        cursor = page["changes"][-1]["seq"]
                    if finished and not page["more"]:
                        return

        threads = [threading.Thread(target=write, args=(d,)) for d in writers]
        reader = threading.Thread(target=watch)
        reader.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        reader.join(timeout=120)
        assert not errors, errors[:3]
        assert "Traceback" not in server.log_text()

    seqs = [c["seq"] for c in seen]
    assert seqs == list(range(1, len(sent) + 1))  # gap-free, ordered, nothing skipped
    assert sorted(c["change_id"] for c in seen) == sorted(sent)


def _active_devices(db: Database, client: TestClient, count: int) -> list[Device]:
    admin.create_team(db, "nord", "Team Nord")
    result = []
    for number in range(count):
        user = f"Person {number}"
        code, _ = admin.issue_code(db, "nord", user, coordinator=number == 0)
        device = Device(coordinator=number == 0)
        body = client.post("/v1/enrol", json=device.enrol_body(code, user)).json()
        device.device_id, device.team, device.token = body["device_id"], "nord", body["token"]
        grant(client, result[0] if result else device, device)
        result.append(device)
    return result
