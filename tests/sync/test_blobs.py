"""Documents travel as encrypted blobs in chunks (issue 16): a 40 MB document reaches a second
device, the server holds no plaintext, a failing upload or download never blocks the other
changes, a tampered chunk is quarantined, and documents sent inline by older versions still
arrive. Real server app (in-process), real SQLCipher vaults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from kimdesk.casework.context import Context
from kimdesk.casework.documents import add_attachment, read_attachment
from kimdesk.casework.erasure import erase_on_request
from kimdesk.errors import ValidationError
from kimdesk.models import BlobDownload, Client, QuarantinedChange
from kimdesk.models.changelog import OutboxChange
from kimdesk.server.tables import blob_chunks, blobs, changes
from kimdesk.sync import client as sync_client
from kimdesk.sync import crypto, merge, protocol
from kimdesk.sync.client import SyncClient
from tests.factories import make_person
from tests.sync.team import Team

MARKER = b"KLARTEXT-MARKE-Bescheid-Ausl\xc3\xa4nderbeh\xc3\xb6rde-4711"


def _document(size: int) -> bytes:
    """Random bytes (incompressible) with a plaintext marker at the start and in the middle."""
    body = bytearray(os.urandom(size))
    body[:len(MARKER)] = MARKER
    body[size // 2:size // 2 + len(MARKER)] = MARKER
    return bytes(body)


def _files_contain(folder: Path, needle: bytes) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(str(path))
    return found


def _server_files(team: Team) -> Path:
    database = team.db.engine.url.database
    assert database
    return Path(database).parent


@pytest.fixture
def pair(devices, team: Team) -> Iterator[tuple[Context, Context]]:
    anna, ewa = devices(2)
    team.join(anna)
    team.join(ewa)
    team.sync_all()
    yield anna, ewa


def test_a_40_mb_document_syncs_to_a_second_device_and_the_server_holds_no_plaintext(
        pair: tuple[Context, Context], team: Team) -> None:
    anna, ewa = pair
    person = make_person(anna, consent=True)
    content = _document(40 * 1024 * 1024)
    document = add_attachment(anna, person.id, "Bescheid.pdf", content)

    team.sync(anna)
    report = team.sync(ewa)

    assert report.documents_waiting == 0 and report.quarantined == 0
    _meta, received = read_attachment(ewa, document.id)
    assert received == content
    with team.db.engine.connect() as conn:
        # The change is small: the content travelled as 40 chunks of a blob, not inside it.
        largest = max(len(bytes(c)) for (c,) in conn.execute(select(changes.c.ciphertext)))
        assert largest < 64 * 1024
        stored = conn.execute(select(blob_chunks.c.idx)).all()
        assert len(stored) == 40
    # Neither the server's database nor the receiving vault's folder holds the plaintext.
    assert _files_contain(_server_files(team), MARKER) == []
    assert _files_contain(ewa.vault.data_dir, MARKER) == []


class _Flaky(httpx.BaseTransport):
    """The real server behind a connection that breaks on every request to ``broken`` paths
    (a network that drops large transfers)."""

    def __init__(self, inner: httpx.BaseTransport, broken: str) -> None:
        self.inner = inner
        self.broken = broken
        self.failures = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.broken in request.url.path:
            self.failures += 1
            raise httpx.ReadTimeout("connection dropped", request=request)
        return self.inner.handle_request(request)


def _sync_over(ctx: Context, team: Team, broken: str) -> tuple[sync_client.SyncReport, int]:
    flaky = _Flaky(team.http._transport, broken)
    with httpx.Client(transport=flaky, base_url="http://kreis.test") as http:
        report = SyncClient(ctx, http, statistics=False).run()
    return report, flaky.failures


def test_a_document_that_cannot_be_uploaded_does_not_hold_back_the_other_changes(
        pair: tuple[Context, Context], team: Team) -> None:
    anna, ewa = pair
    person = make_person(anna, consent=True, last_name="Nowakowska")
    document = add_attachment(anna, person.id, "Pass.pdf", _document(3 * 1024 * 1024))

    report, failures = _sync_over(anna, team, "/chunks/")
    assert failures >= 1
    assert report.pushed > 0 and report.documents_held == 1
    assert any("noch nicht gesendet" in n for n in report.notes)
    with anna.vault.reading() as session:
        held = list(session.scalars(select(OutboxChange.record_id)))
    assert held == [document.id]  # only the document's own change waits

    team.sync(ewa)
    with ewa.vault.reading() as session:
        assert session.get(Client, person.id) is not None  # the person arrived without it

    team.sync(anna)  # the connection holds again: the document follows
    team.sync(ewa)
    assert read_attachment(ewa, document.id)[1] == read_attachment(anna, document.id)[1]


def test_a_document_that_cannot_be_downloaded_shows_as_waiting_and_follows_later(
        pair: tuple[Context, Context], team: Team) -> None:
    anna, ewa = pair
    person = make_person(anna, consent=True, last_name="Haddad")
    document = add_attachment(anna, person.id, "Vertrag.pdf", _document(2 * 1024 * 1024 + 5))
    team.sync(anna)

    report, failures = _sync_over(ewa, team, "/chunks/")
    assert failures >= 1 and report.documents_waiting == 1
    assert any("noch nicht vollständig" in n for n in report.notes)
    with ewa.vault.reading() as session:
        assert session.get(Client, person.id) is not None  # everything else was applied
    with pytest.raises(ValidationError, match="noch nicht auf diesem Gerät"):
        read_attachment(ewa, document.id)

    report = team.sync(ewa)
    assert report.documents_waiting == 0
    assert read_attachment(ewa, document.id)[1] == read_attachment(anna, document.id)[1]


def test_a_tampered_chunk_is_quarantined_and_never_stored(
        pair: tuple[Context, Context], team: Team) -> None:
    anna, ewa = pair
    person = make_person(anna, consent=True, last_name="Yılmaz")
    document = add_attachment(anna, person.id, "Zeugnis.pdf", _document(3 * 1024 * 1024))
    team.sync(anna)
    with team.db.engine.begin() as conn:  # whoever writes the server's database
        data = bytearray(conn.execute(select(blob_chunks.c.data).where(
            blob_chunks.c.idx == 1)).scalar_one())
        data[100] ^= 0x01
        conn.execute(update(blob_chunks).where(blob_chunks.c.idx == 1).values(data=bytes(data)))

    report = team.sync(ewa)

    assert report.quarantined == 1
    with ewa.vault.reading() as session:
        reasons = [q.reason for q in session.scalars(select(QuarantinedChange))]
        assert session.get(BlobDownload, document.id) is None  # not retried forever
    assert len(reasons) == 1 and "verändert" in reasons[0]
    assert not ewa.vault.attachments.exists(document.id)
    assert not (ewa.vault.data_dir / "sync-blobs").exists() or \
        not any((ewa.vault.data_dir / "sync-blobs").iterdir())
    assert team.sync(ewa).quarantined == 0  # and the team keeps syncing


def test_a_chunk_moved_to_another_place_of_its_blob_is_refused(
        pair: tuple[Context, Context], team: Team) -> None:
    anna, ewa = pair
    person = make_person(anna, consent=True, last_name="Hendricks")
    document = add_attachment(anna, person.id, "Antrag.pdf", _document(3 * 1024 * 1024))
    team.sync(anna)
    with team.db.engine.begin() as conn:  # swap two whole, authentic chunks
        first, second = (conn.execute(select(blob_chunks.c.data).where(
            blob_chunks.c.idx == i)).scalar_one() for i in (0, 1))
        conn.execute(update(blob_chunks).where(blob_chunks.c.idx == 0).values(data=second))
        conn.execute(update(blob_chunks).where(blob_chunks.c.idx == 1).values(data=first))

    assert team.sync(ewa).quarantined == 1
    assert not ewa.vault.attachments.exists(document.id)


def test_a_document_sent_inline_by_an_older_version_still_arrives(
        pair: tuple[Context, Context], team: Team) -> None:
    anna, ewa = pair
    person = make_person(anna, consent=True, last_name="Becker")
    team.sync(anna)
    content = b"%PDF-1.4 Bescheid aus einer alten Version"
    document = add_attachment(anna, person.id, "Alt.pdf", content)
    legacy = SyncClient(anna, team.http)
    legacy._load_team_keys()
    epoch = max(legacy._team_keys)
    with anna.vault.reading() as session:
        pending = list(session.scalars(select(OutboxChange)))
        for change in pending:
            session.expunge(change)
    wire = []
    for change in pending:  # what versions before blobs pushed: the file inside the change
        payload = merge.outgoing_payload(anna.vault, change)
        assert "blob" in payload
        nonce, ciphertext = crypto.encrypt_change(
            legacy._team_keys[epoch], team="nord", record_id=change.record_id,
            kind=change.kind, hlc=change.hlc, epoch=epoch, payload=payload)
        message = protocol.change_signing_bytes(
            team="nord", device_id=legacy._device.device_id, change_id=change.change_id,
            record_id=change.record_id, kind=change.kind, hlc=change.hlc, epoch=epoch,
            nonce=protocol.b64d(nonce), ciphertext=protocol.b64d(ciphertext))
        wire.append({"change_id": change.change_id, "record_id": change.record_id,
                     "kind": change.kind, "hlc": change.hlc, "epoch": epoch, "nonce": nonce,
                     "ciphertext": ciphertext,
                     "signature": protocol.b64e(legacy._signing_key.sign(message))})
    answer = legacy._post("/push", {"batch_id": "0" * 32, "changes": wire})
    assert answer.status_code == 200, answer.text
    with anna.vault.writing() as session:
        merge.acknowledge(session, [c.change_id for c in pending])

    team.sync(ewa)
    assert read_attachment(ewa, document.id)[1] == content


def test_a_purge_deletes_the_documents_blob_from_the_server(
        pair: tuple[Context, Context], team: Team) -> None:
    anna, _ewa = pair
    person = make_person(anna, consent=True, last_name="Kowalczyk")
    add_attachment(anna, person.id, "Bescheid.pdf", _document(2 * 1024 * 1024))
    team.sync(anna)
    with team.db.engine.connect() as conn:
        assert len(conn.execute(select(blobs)).all()) == 1

    erase_on_request(anna, person.id, anna.today())
    team.sync(anna)

    with team.db.engine.connect() as conn:
        assert conn.execute(select(blobs)).all() == []
        assert conn.execute(select(blob_chunks)).all() == []
