"""A document's upload and download killed in the middle (SIGKILL of `kimdesk sync`, and a
server that dies storing a chunk) resume where they stopped: what arrived is not sent again
(counted in the server's access log), nothing is lost, and no plaintext lands on disk."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kimdesk.casework.documents import add_attachment, read_attachment
from kimdesk.server import admin
from kimdesk.server.blobs import FAULT_CHUNK_BEFORE_COMMIT
from kimdesk.server.tables import blob_chunks
from kimdesk.sync import blobs
from kimdesk.sync.client import ServerUnreachable
from tests.factories import make_person
from tests.server.support import ServerProcess
from tests.sync.team import sqlite_url
from tests.sync.test_blobs import MARKER, _document, _files_contain
from tests.sync.test_crash import _confirm, _enrol, _kimdesk_sync, _reopen, _sync_in_process

CHUNKS = 6
_PUT = re.compile(r'"PUT /v1/blobs/[0-9a-f]{32}/chunks/[0-9]+ HTTP')
_GET = re.compile(r'"GET /v1/blobs/[0-9a-f]{32}/chunks/[0-9]+ HTTP')


def _stored_chunks(db_url: str) -> int:
    db = admin.open_database(db_url)
    try:
        with db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(blob_chunks)).scalar_one()
    finally:
        db.dispose()


@pytest.fixture
def server(tmp_path: Path):
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    db = admin.open_database(url)
    admin.create_team(db, "nord", "Team 1 Nord")
    db.dispose()
    process = ServerProcess(url, log_path=tmp_path / "serve.log").start()
    yield process
    process.stop()


@pytest.mark.slow
def test_an_upload_and_a_download_killed_in_the_middle_resume_without_sending_again(
        devices, server: ServerProcess) -> None:
    anna, ewa = devices(2)
    _enrol(anna, server, coordinator=True)
    _sync_in_process(anna, server)
    _enrol(ewa, server, coordinator=False)
    _confirm(anna, ewa, server)
    _sync_in_process(ewa, server)
    person = make_person(anna, consent=True)
    content = _document(CHUNKS * 1024 * 1024 - 3)
    document = add_attachment(anna, person.id, "Bescheid.pdf", content)
    anna_dir, ewa_dir = anna.vault.data_dir, ewa.vault.data_dir
    anna.vault.close()

    killed = _kimdesk_sync(anna, blobs.FAULT_UPLOAD)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _stored_chunks(server.db_url) == CHUNKS // 2
    finished = _kimdesk_sync(anna)
    assert finished.returncode == 0, finished.stderr
    assert _stored_chunks(server.db_url) == CHUNKS
    assert len(_PUT.findall(server.log_text())) == CHUNKS  # none sent twice

    ewa.vault.close()
    killed = _kimdesk_sync(ewa, blobs.FAULT_DOWNLOAD)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    parts = ewa_dir / blobs.PARTS_DIR
    assert len([p for p in parts.rglob("*") if p.is_file()]) == CHUNKS // 2
    assert _files_contain(ewa_dir, MARKER) == []  # the parts wait encrypted
    finished = _kimdesk_sync(ewa)
    assert finished.returncode == 0, finished.stderr
    assert len(_GET.findall(server.log_text())) == CHUNKS  # none fetched twice

    ewa = _reopen(ewa, ewa_dir)
    assert read_attachment(ewa, document.id)[1] == content
    assert not any(parts.rglob("*"))  # cleaned up once whole
    ewa.vault.close()
    anna = _reopen(anna, anna_dir)
    anna.vault.close()


@pytest.mark.slow
def test_a_server_that_dies_storing_a_chunk_resumes_the_upload(devices, tmp_path: Path
                                                                ) -> None:
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    db = admin.open_database(url)
    admin.create_team(db, "nord", "Team 1 Nord")
    db.dispose()
    log = tmp_path / "serve.log"
    healthy = ServerProcess(url, log_path=log).start()
    anna, ewa = devices(2)
    _enrol(anna, healthy, coordinator=True)
    _sync_in_process(anna, healthy)
    _enrol(ewa, healthy, coordinator=False)
    _confirm(anna, ewa, healthy)
    healthy.stop()
    person = make_person(anna, consent=True)
    content = _document(CHUNKS * 1024 * 1024)
    document = add_attachment(anna, person.id, "Bescheid.pdf", content)

    dying = ServerProcess(url, port=healthy.port, log_path=log,
                          env={"KIMDESK_SERVER_FAULT": FAULT_CHUNK_BEFORE_COMMIT}).start()
    with pytest.raises(ServerUnreachable):
        _sync_in_process(anna, dying)
    dying.stop()
    assert _stored_chunks(url) == 2  # the third died uncommitted

    healthy.start()
    try:
        _sync_in_process(anna, healthy)
        _sync_in_process(ewa, healthy)
    finally:
        healthy.stop()
    assert _stored_chunks(url) == CHUNKS
    # Answered: two before the crash (the one in flight got no answer, so no log line), the
    # other four after it; the two stored ones were not sent again (that would make eight).
    assert len(_PUT.findall(healthy.log_text())) == CHUNKS
    assert read_attachment(ewa, document.id)[1] == content
