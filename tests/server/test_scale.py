"""The server at county scale: storage that grows with the log, not with devices × records; a
team checksum kept by each push instead of summed per request; the upgrade of a database made
before; and the lost-device report that rests on delivered ranges."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, inspect, select, update
from starlette.testclient import TestClient

from kimdesk.server import admin, changelog, enrolment
from kimdesk.server.app import create_app
from kimdesk.server.db import Database
from kimdesk.server.settings import Settings
from kimdesk.server.tables import (
    device_deliveries,
    device_records,
    record_versions,
    teams,
)
from kimdesk.sync import protocol
from tests.server.conftest import grant
from tests.server.support import (
    Device,
    PostgresCluster,
    ServerProcess,
    hlc_of,
    make_change,
    push_body,
)
from tests.server.test_compaction import _erasure

Enrol = Callable[..., Device]


def _push(client: TestClient, device: Device, items: list[dict[str, Any]]) -> None:
    response = client.post("/v1/push", headers=device.headers, json=push_body(items, by=device))
    assert response.status_code == 200, response.text


def _pull_all(client: TestClient, device: Device, after: int = 0, limit: int = 500) -> int:
    """Page after page up to the head, as a device does; its new cursor."""
    while True:
        response = client.get("/v1/pull", headers=device.headers,
                              params={"after": after, "limit": limit})
        assert response.status_code == 200, response.text
        page = response.json()
        if page["changes"]:
            after = page["changes"][-1]["seq"]
        if not page["more"]:
            return after


def _summed(db: Database, team: str = "nord") -> str:
    """The checksum as a client computes it, from every record's highest HLC."""
    with db.read() as conn:
        pairs = conn.execute(select(record_versions.c.record_id, record_versions.c.max_hlc)
                             .where(record_versions.c.team == team)).all()
    return protocol.team_checksum([(r, h) for r, h in pairs])


def _served(client: TestClient, device: Device) -> str:
    response = client.get("/v1/checksum", headers=device.headers)
    assert response.status_code == 200, response.text
    checksum: str = response.json()["checksum"]
    return checksum


def test_deliveries_are_stored_as_one_range_per_device_not_a_row_per_record(
        client: TestClient, db: Database, active_team: tuple[Device, Device],
        enrolled_device: Enrol) -> None:
    author, reader = active_team
    readers = [reader]
    for name in ("Jan Peters", "Eva Schmitz"):
        readers.append(enrolled_device("nord", name))
        grant(client, author, readers[-1])
    records = [uuid.uuid4().hex for _ in range(30)]
    _push(client, author, [make_change(1, record_id=r) for r in records])
    for device in readers:
        _pull_all(client, device, limit=7)  # five pages each
    _push(client, author, [make_change(1, record_id=r) for r in records[:5]])
    for device in readers:
        _pull_all(client, device, after=30, limit=7)

    with db.read() as conn:
        ranges = conn.execute(select(device_deliveries.c.device_id, device_deliveries.c.first_seq,
                                     device_deliveries.c.last_seq)).all()
        per_record = conn.execute(select(func.count()).select_from(device_records)).scalar()
    assert sorted(ranges) == sorted((d.device_id, 1, 35) for d in readers)
    assert per_record == 0
    for device in readers:
        assert admin.lost_device_report(db, device.device_id).records == sorted(
            ("clients", r) for r in records)


def test_a_device_that_pulls_from_an_older_cursor_again_keeps_one_range(
        client: TestClient, db: Database, active_team: tuple[Device, Device]) -> None:
    author, reader = active_team
    _push(client, author, [make_change(1) for _ in range(12)])
    _pull_all(client, reader, after=6)  # 7..12
    _pull_all(client, reader, after=0, limit=4)  # a resync: 1..12 again

    with db.read() as conn:
        ranges = conn.execute(select(device_deliveries.c.first_seq,
                                     device_deliveries.c.last_seq)
                              .where(device_deliveries.c.device_id == reader.device_id)).all()
    assert [tuple(r) for r in ranges] == [(1, 12)]


def test_the_lost_device_report_keeps_what_was_sent_before_a_compaction(
        client: TestClient, db: Database, active_team: tuple[Device, Device],
        enrolled_device: Enrol) -> None:
    """A laptop received a record's early version, then the record was purged and compacted;
    it was lost before it pulled the tombstone: the report must still name the record."""
    author, reader = active_team
    late = enrolled_device("nord", "Jan Peters")
    grant(client, author, late)
    record, other = uuid.uuid4().hex, uuid.uuid4().hex
    _push(client, author, [make_change(1, record_id=record, hlc="0001-a"),
                           make_change(1, record_id=other, hlc="0001-b")])
    _pull_all(client, reader)
    tombstone = make_change(1, record_id=record, hlc="0009-a")
    _push(client, author, [tombstone])
    response = client.post("/v1/erasures", headers=author.headers,
                           json={"erasures": [_erasure(author, tombstone)]})
    assert response.json() == {"compacted": 1, "dropped": 1}

    assert admin.lost_device_report(db, reader.device_id).records == sorted(
        [("clients", record), ("clients", other)])
    assert admin.lost_device_report(db, author.device_id).records == sorted(
        [("clients", record), ("clients", other)])
    assert admin.lost_device_report(db, late.device_id).records == []
    # The running checksum was dropped by the compaction and is summed again.
    assert _served(client, reader) == _summed(db)


def test_the_running_checksum_equals_the_sum_over_every_record(
        client: TestClient, db: Database, active_team: tuple[Device, Device]) -> None:
    """Random pushes from two devices: new records, later and earlier clocks for known ones,
    the same id under another kind, replays; after each, the served checksum is what a client
    computes from all records."""
    author, reader = active_team
    rng = random.Random(17)
    records = [uuid.uuid4().hex for _ in range(12)]
    pushed: list[list[dict[str, Any]]] = []
    for round_ in range(12):
        device = (author, reader)[round_ % 2]
        batch = [make_change(1, record_id=rng.choice(records),
                             kind=rng.choice(("clients", "cases")),
                             hlc=hlc_of(f"{rng.randrange(40):04d}-{rng.randrange(9)}"))
                 for _ in range(rng.randint(1, 6))]
        _push(client, device, batch)
        pushed.append(batch)
        if round_ % 4 == 3:
            _push(client, (author, reader)[(round_ - 1) % 2], pushed[round_ - 1])  # replay
        assert _served(client, reader) == _summed(db)
    with db.read() as conn:
        stored = conn.execute(select(teams.c.checksum)).scalar_one()
    assert stored == _summed(db)


def test_a_database_from_before_is_upgraded_in_place(
        server_db_url: str, enrolled_device: Enrol, client: TestClient, db: Database) -> None:
    """No checksum column, no index for a device's own changes, per-record delivery rows: the
    next start adds the column and the index, sums the checksum once, and the old rows still
    count in the lost-device report."""
    author = enrolled_device("nord", "Koordination", first_key=True)
    _push(client, author, [make_change(1) for _ in range(5)])
    legacy = uuid.uuid4().hex
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_changes_team_device")
        conn.exec_driver_sql("ALTER TABLE teams DROP COLUMN checksum")
        conn.exec_driver_sql("ALTER TABLE teams DROP COLUMN checksum_head")
        conn.execute(insert(device_records).values(device_id=author.device_id,
                                                   record_id=legacy, kind="cases"))
    db.dispose()

    upgraded = create_app(server_db_url)
    with TestClient(upgraded) as again:
        new_db: Database = upgraded.state.db
        with new_db.read() as conn:
            assert conn.execute(select(teams.c.checksum)).scalar_one() is None
        assert _served(again, author) == _summed(new_db)
        _push(again, author, [make_change(1)])
        assert _served(again, author) == _summed(new_db)
        report = admin.lost_device_report(new_db, author.device_id)
        assert ("cases", legacy) in report.records and len(report.records) == 7
        assert "ix_changes_team_device" in {
            i["name"] for i in inspect(new_db.engine).get_indexes("changes")}


def test_a_log_written_past_the_push_gets_its_checksum_summed_again(
        client: TestClient, db: Database, active_team: tuple[Device, Device]) -> None:
    """Whatever writes the log without keeping the running sum (a repair by hand, a tool)
    moves the head: the stored sum no longer belongs to it and is not served."""
    author, reader = active_team
    _push(client, author, [make_change(1) for _ in range(3)])
    assert _served(client, reader) == _summed(db)
    with db.write() as conn:
        conn.execute(update(teams).values(head=teams.c.head + 1))
        db.upsert_max(conn, record_versions, [{"team": "nord", "record_id": uuid.uuid4().hex,
                                               "kind": "clients", "max_hlc": hlc_of("0001-a")}],
                      "max_hlc")

    assert _served(client, reader) == _summed(db)
    _push(client, author, [make_change(1)])
    assert _served(client, reader) == _summed(db)


def test_a_stale_checksum_is_never_served_after_a_compaction(
        client: TestClient, db: Database, active_team: tuple[Device, Device]) -> None:
    author, reader = active_team
    record = uuid.uuid4().hex
    _push(client, reader, [make_change(1, record_id=record, hlc="0005-a")])
    tombstone = make_change(1, record_id=record, hlc="0003-a")  # a concurrent later edit won
    _push(client, author, [tombstone])
    before = _served(client, reader)
    client.post("/v1/erasures", headers=author.headers,
                json={"erasures": [_erasure(author, tombstone)]})
    with db.read() as conn:
        assert conn.execute(select(teams.c.checksum)).scalar_one() is None
    assert _served(client, reader) == _summed(db) != before
    with db.read() as conn:  # summed once, then kept
        assert conn.execute(select(teams.c.checksum)).scalar_one() == _summed(db)


def test_four_worker_processes_on_postgresql_leave_no_gap_a_cursor_skips(
        postgres: PostgresCluster, tmp_path: Path) -> None:
    """`kimdesk serve --workers 4` on PostgreSQL: six devices push at once (their requests
    land in different processes) while a seventh pulls in small pages. The danger: a seq that
    commits after a higher one was already visible; the reader's cursor has moved past it and
    it never sees that change. Every seq must come exactly once, in order, without a gap."""
    url = postgres.new_database()
    try:
        app = create_app(url)
        with TestClient(app) as client:
            devices = _active_devices(app.state.db, client, 7)
        writers, watcher = devices[:6], devices[6]
        sent: list[str] = []
        errors: list[str] = []
        seen: list[dict[str, Any]] = []
        done = threading.Event()
        server = ServerProcess(url, workers=4, log_path=tmp_path / "serve.log")
        # Four workers start in a few seconds; far longer on a machine shared with others.
        server.start(timeout=120)
        try:
            def write(device: Device) -> None:
                with httpx.Client(base_url=server.url, headers=device.headers,
                                  timeout=60) as http:
                    for round_ in range(8):
                        items = [make_change(1) for _ in range(1 + (round_ * 5) % 9)]
                        response = http.post("/v1/push", json=push_body(items, by=device))
                        if response.status_code != 200:
                            errors.append(response.text)
                            return
                        sent.extend(i["change_id"] for i in items)

            def watch() -> None:
                cursor = 0
                with httpx.Client(base_url=server.url, headers=watcher.headers,
                                  timeout=60) as http:
                    while True:
                        finished = done.is_set()
                        page = http.get("/v1/pull",
                                        params={"after": cursor, "limit": 13}).json()
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
            reader.join(timeout=60)
            with httpx.Client(base_url=server.url, headers=watcher.headers) as http:
                served = http.get("/v1/checksum").json()
            log = server.log_text()
            assert not errors, errors[:3]
            assert "Traceback" not in log
            assert len({line.split("[")[1] for line in log.splitlines()
                        if "Started server process [" in line}) >= 4
        finally:
            server.stop()
        db = Database(Settings(db_url=url))
        try:
            assert served == {"head": len(sent), "checksum": _summed(db)}
        finally:
            db.dispose()
    finally:
        postgres.drop_database(url)
    seqs = [c["seq"] for c in seen]
    assert seqs == list(range(1, len(sent) + 1))  # gap-free, ordered, nothing skipped
    assert sorted(c["change_id"] for c in seen) == sorted(sent)


def _active_devices(db: Database, client: TestClient, count: int) -> list[Device]:
    admin.create_team(db, "nord", "Team Nord")
    result: list[Device] = []
    for number in range(count):
        user = f"Person {number}"
        code, _ = admin.issue_code(db, "nord", user, coordinator=number == 0)
        device = Device(coordinator=number == 0)
        body = client.post("/v1/enrol", json=device.enrol_body(code, user)).json()
        device.device_id, device.team, device.token = body["device_id"], "nord", body["token"]
        grant(client, result[0] if result else device, device)
        result.append(device)
    return result


def test_concurrent_pulls_of_one_device_lose_no_delivered_range(
        client: TestClient, db: Database, active_team: tuple[Device, Device]) -> None:
    """A device that pulls in several threads at once (retries, a second sync): every page
    it was sent ends up in its ranges, none overwritten by a concurrent write."""
    author, reader = active_team
    records = [uuid.uuid4().hex for _ in range(48)]
    _push(client, author, [make_change(1, record_id=r) for r in records])
    caller = enrolment.authenticate(db, f"Bearer {reader.token}")
    barrier = threading.Barrier(4)

    def pull_pages(start: int) -> None:
        barrier.wait()
        for after in range(start, 48, 16):
            changelog.pull(db, caller, after, 4)

    threads = [threading.Thread(target=pull_pages, args=(k * 4,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert admin.lost_device_report(db, reader.device_id).records == sorted(
        ("clients", r) for r in records)
