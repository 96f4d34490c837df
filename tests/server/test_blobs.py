"""The server's blob store for documents (kimdesk/server/blobs.py): chunks stored once, in any
order, resumable; exact lengths up to the document limit; only the author uploads, only the
team's active devices read; blobs no change refers to are deleted. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from starlette.testclient import TestClient

from kimdesk.server import blobs as server_blobs
from kimdesk.server.db import Database, utcnow
from kimdesk.server.tables import blob_chunks, blobs
from kimdesk.sync import protocol
from tests.server.support import Device, make_change, push_body
from tests.server.test_compaction import _erasure

CHUNK = protocol.BLOB_CHUNK_BYTES + protocol.BLOB_TAG_BYTES


def _declare(client: TestClient, device: Device, blob_id: str, size: int, *,
             change_id: str | None = None, record_id: str | None = None,
             expect: int = 200) -> dict[str, Any]:
    response = client.put(f"/v1/blobs/{blob_id}", headers=device.headers, json={
        "record_id": record_id or uuid.uuid4().hex, "change_id": change_id or uuid.uuid4().hex,
        "size": size})
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def _put(client: TestClient, device: Device, blob_id: str, index: int, data: bytes) -> Any:
    return client.put(f"/v1/blobs/{blob_id}/chunks/{index}", headers=device.headers,
                      content=data)


def test_chunks_are_stored_once_in_any_order_and_the_upload_resumes(
        client: TestClient, active_team: tuple[Device, Device]) -> None:
    author, reader = active_team
    blob_id = uuid.uuid4().hex
    size = 2 * protocol.BLOB_CHUNK_BYTES + 10  # three chunks, the last one short
    change_id, record_id = uuid.uuid4().hex, uuid.uuid4().hex
    state = _declare(client, author, blob_id, size, change_id=change_id, record_id=record_id)
    assert (state["chunks"], state["have"]) == (3, [])
    last = os.urandom(10 + protocol.BLOB_TAG_BYTES)
    assert _put(client, author, blob_id, 2, last).json() == {"stored": 1}
    first = os.urandom(CHUNK)
    assert _put(client, author, blob_id, 0, first).json() == {"stored": 1}
    assert _put(client, author, blob_id, 0, os.urandom(CHUNK)).json() == {"stored": 0}

    # After an interruption the author declares again and learns what is missing.
    again = _declare(client, author, blob_id, size, change_id=change_id, record_id=record_id)
    assert again["have"] == [0, 2]
    assert client.get(f"/v1/blobs/{blob_id}", headers=reader.headers).json()["have"] == [0, 2]
    assert client.get(f"/v1/blobs/{blob_id}/chunks/0", headers=reader.headers).content == first
    assert client.get(f"/v1/blobs/{blob_id}/chunks/1",
                      headers=reader.headers).status_code == 404
    # Declared again with other numbers: refused, the first declaration stands.
    _declare(client, author, blob_id, size + 1, change_id=change_id, record_id=record_id,
             expect=409)


def test_lengths_and_sizes_are_bounded(client: TestClient,
                                       active_team: tuple[Device, Device]) -> None:
    author, _reader = active_team
    _declare(client, author, uuid.uuid4().hex, protocol.MAX_BLOB_BYTES + 1, expect=422)
    _declare(client, author, uuid.uuid4().hex, 0, expect=422)
    blob_id = uuid.uuid4().hex
    _declare(client, author, blob_id, protocol.BLOB_CHUNK_BYTES + 1)  # two chunks
    assert _put(client, author, blob_id, 0, os.urandom(CHUNK + 1)).status_code == 413
    assert _put(client, author, blob_id, 0, os.urandom(CHUNK - 1)).status_code == 422
    assert _put(client, author, blob_id, 1, os.urandom(CHUNK)).status_code == 413
    assert _put(client, author, blob_id, 2, os.urandom(17)).status_code == 422
    assert _put(client, author, blob_id, 1, os.urandom(17)).json() == {"stored": 1}
    # A body far beyond a chunk is cut off while it streams in.
    assert _put(client, author, blob_id, 0, os.urandom(3 * CHUNK)).status_code == 413


def test_only_the_author_uploads_and_only_the_team_reads(
        client: TestClient, active_team: tuple[Device, Device],
        enrolled_device: Callable[..., Device]) -> None:
    author, reader = active_team
    stranger = enrolled_device("sued", "Koordination Süd", first_key=True)
    waiting = enrolled_device("nord", "Neues Gerät")  # not confirmed yet
    blob_id = uuid.uuid4().hex
    _declare(client, author, blob_id, 100)
    assert _put(client, reader, blob_id, 0, os.urandom(116)).status_code == 403
    assert _put(client, stranger, blob_id, 0, os.urandom(116)).status_code == 404
    assert client.get(f"/v1/blobs/{blob_id}", headers=stranger.headers).status_code == 404
    assert client.get(f"/v1/blobs/{blob_id}", headers=waiting.headers).status_code == 409
    assert _put(client, waiting, blob_id, 0, os.urandom(116)).status_code == 409
    _declare(client, waiting, uuid.uuid4().hex, 100, expect=409)
    assert client.get(f"/v1/blobs/{blob_id}").status_code == 401
    # Another team may use the same blob id for a blob of its own.
    _declare(client, stranger, blob_id, 200)


def test_blobs_that_no_change_refers_to_are_deleted(
        client: TestClient, db: Database, active_team: tuple[Device, Device]) -> None:
    author, _reader = active_team
    record = uuid.uuid4().hex
    creation = make_change(1, record_id=record, kind="attachments")
    kept, purged, never_pushed = (uuid.uuid4().hex for _ in range(3))
    _declare(client, author, purged, 100, change_id=creation["change_id"], record_id=record)
    _put(client, author, purged, 0, os.urandom(116))
    other = make_change(1, kind="attachments")
    _declare(client, author, kept, 100, change_id=other["change_id"],
             record_id=other["record_id"])
    _declare(client, author, never_pushed, 100)
    tombstone = make_change(1, record_id=record, kind="attachments")
    response = client.post("/v1/push", headers=author.headers,
                           json=push_body([creation, other, tombstone], by=author))
    assert response.status_code == 200, response.text

    # The purge's report compacts the record's history: its document goes with it.
    response = client.post("/v1/erasures", headers=author.headers,
                           json={"erasures": [_erasure(author, tombstone)]})
    assert response.status_code == 200, response.text
    with db.read() as conn:
        left = set(conn.execute(select(blobs.c.blob_id)).scalars())
        assert conn.execute(select(blob_chunks).where(
            blob_chunks.c.blob_id == purged)).all() == []
    assert left == {kept, never_pushed}  # an upload whose change is still to come stays

    with db.write() as conn:  # ... until nobody declared it for longer than the grace
        conn.execute(update(blobs).where(blobs.c.blob_id == never_pushed).values(
            touched_at=utcnow() - server_blobs.ORPHAN_GRACE - timedelta(hours=1)))
    assert server_blobs.sweep(db, author.team) == 1
    with db.read() as conn:
        assert set(conn.execute(select(blobs.c.blob_id)).scalars()) == {kept}
