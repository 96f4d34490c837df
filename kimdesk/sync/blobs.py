"""Documents' contents as encrypted blobs in chunks: uploaded before their change is pushed,
fetched after the change was merged, both resumable; a failure never stops other changes.

A new document's change carries, instead of the file, a content reference inside its
team-encrypted, author-signed payload: ``{"blob": id, "size": n, "sha256": hex, "key": b64,
"chunk": bytes per chunk}``. The blob id and its AES-256-GCM key are random and belong to this
one document; the key reaches only who can open the change (the team of that key epoch).
Chunk ``i`` is ``AES-GCM(key, nonce = i as 12 bytes, chunk, AAD = {team, blob, index,
final})``: a chunk moved to another place, another blob or another team, a reordered blob or
one cut short after any chunk fails to decrypt (the last chunk alone says ``final``).

Upload (``upload_for``, before each pushed batch): the blob of an outgoing change is chosen
once and kept (:class:`~kimdesk.models.BlobUpload`), so a repeated push names the same blob; the
server says which chunks it has and only the others are sent. A document whose upload fails
holds back the changes of its record only (nothing refers to a document); the rest of the batch
is pushed and the document follows at the next sync.

Download (``download_pending``, after the pull): a merged document whose content is not here is
noted in the same transaction (:class:`~kimdesk.models.BlobDownload`; the app shows it as not
yet loaded). Each chunk is checked on arrival and kept, still encrypted, in ``sync-blobs/`` of
the vault's folder until the blob is whole; then the content is checked against size and
SHA-256 and stored in the vault's attachment store. A missing blob is retried at every sync; a
chunk that fails authentication or a content with another checksum is quarantined like a bad
change (kept out, reported to county IT).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kimdesk.casework.context import Context
from kimdesk.models import Attachment, BlobDownload, BlobUpload, QuarantinedChange, new_id
from kimdesk.models.changelog import OutboxChange
from kimdesk.sync import protocol
from kimdesk.vault.header import atomic_write

if TYPE_CHECKING:
    from kimdesk.sync.merge import Received

PARTS_DIR = "sync-blobs"  # chunks fetched so far, as ciphertext, one folder per blob
FAULT_ENV = "KIMDESK_SYNC_FAULT"  # the client's test hook (kimdesk.sync.client)
FAULT_UPLOAD = "blob-upload-mid"  # SIGKILL after half of a blob's missing chunks were sent
FAULT_DOWNLOAD = "blob-download-mid"  # ... were fetched
_BLOB_ID = re.compile(protocol.BLOB_ID_PATTERN)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TAMPERED = ("Inhalt des Dokuments ist verändert, vertauscht oder unvollständig (Prüfung der "
             "verschlüsselten Teile fehlgeschlagen)")
_WRONG_SUM = "Inhalt des Dokuments passt nicht zu seiner Prüfsumme"
_BAD_REFERENCE = "Verweis auf den Inhalt des Dokuments hat nicht die erwartete Form"

Call = Callable[..., httpx.Response]  # SyncClient._call(method, path, **httpx kwargs)


class TransferFailed(Exception):
    """The server does not have (all of) a blob yet or refused a chunk: retried later."""


class _Tampered(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- chunks ------------------------------------------------------------------------------------


def chunk_aad(team: str, blob_id: str, index: int, final: bool) -> bytes:
    return protocol.canonical_json({"v": 1, "purpose": "kimdesk document blob", "team": team,
                                    "blob": blob_id, "index": index, "final": final})


def _nonce(index: int) -> bytes:
    # Unique per (key, index): every blob has a key of its own and each chunk index is
    # encrypted from the same plaintext only (a repeated upload gives the same ciphertext).
    return index.to_bytes(12, "big")


def encrypt_chunk(key: bytes, *, team: str, blob_id: str, index: int, final: bool,
                  plain: bytes) -> bytes:
    return AESGCM(key).encrypt(_nonce(index), plain, chunk_aad(team, blob_id, index, final))


def decrypt_chunk(key: bytes, *, team: str, blob_id: str, index: int, final: bool,
                  sealed: bytes) -> bytes:
    """The chunk's plaintext; ``_Tampered`` if it is not chunk ``index`` of this blob."""
    try:
        return AESGCM(key).decrypt(_nonce(index), sealed,
                                   chunk_aad(team, blob_id, index, final))
    except (InvalidTag, ValueError):
        raise _Tampered(_TAMPERED) from None


def _chunks(plain: bytes) -> int:
    return protocol.blob_chunk_count(len(plain))


# --- what the change carries ----------------------------------------------------------------


def needs_blob(change: OutboxChange) -> bool:
    """An outgoing change that creates a document: its content goes as a blob."""
    payload = change.payload or {}
    return change.kind == "attachments" and "sha256" in payload.get("fields", {}) \
        and int(payload.get("cl", 1)) % 2 == 1


@dataclass(frozen=True)
class ContentRef:
    blob_id: str
    key: bytes
    size: int
    sha256: str

    def wire(self) -> dict[str, Any]:
        return {"blob": self.blob_id, "key": protocol.b64e(self.key), "size": self.size,
                "sha256": self.sha256, "chunk": protocol.BLOB_CHUNK_BYTES}


def parse_content(value: Any) -> ContentRef | None:
    """The content reference of a received change; None if it has not the expected form."""
    if not isinstance(value, dict):
        return None
    key_text = value.get("key")
    if not isinstance(key_text, str):
        return None
    try:
        key = protocol.b64d(key_text)
    except ValueError:
        return None
    blob_id, size, sha256 = value.get("blob"), value.get("size"), value.get("sha256")
    if not isinstance(blob_id, str) or not _BLOB_ID.match(blob_id) or len(key) != 32:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or \
            not 1 <= size <= protocol.MAX_BLOB_BYTES:
        return None
    if not isinstance(sha256, str) or not _SHA256.match(sha256) or \
            value.get("chunk") != protocol.BLOB_CHUNK_BYTES:
        return None
    return ContentRef(blob_id=blob_id, key=key, size=size, sha256=sha256)


def note_downloads(session: Session, found: list[tuple[Received, Any]]) -> None:
    """Inside the merge's transaction: the documents just created here whose content is to be
    fetched (a malformed reference is quarantined: the document stays without content)."""
    for change, value in found:
        ref = parse_content(value)
        if ref is None:
            _quarantine(session, change_id=change.change_id, seq=change.seq,
                        author=change.signer or "", record_id=change.record_id, hlc=change.hlc,
                        epoch=change.epoch, reason=_BAD_REFERENCE)
            continue
        if session.get(BlobDownload, change.record_id) is None:
            session.add(BlobDownload(
                attachment_id=change.record_id, blob_id=ref.blob_id, key=ref.key,
                size=ref.size, sha256=ref.sha256, change_id=change.change_id, seq=change.seq,
                author_device=(change.signer or "")[:32], hlc=change.hlc, epoch=change.epoch,
                attempts=0))


def forget_uploads(session: Session, change_ids: Collection[str]) -> None:
    """The changes were pushed: their blobs are the server's business now."""
    session.execute(delete(BlobUpload).where(BlobUpload.change_id.in_(list(change_ids))))


def _quarantine(session: Session, *, change_id: str, seq: int, author: str, record_id: str,
                hlc: str, epoch: int, reason: str) -> None:
    known = session.scalars(select(QuarantinedChange.id).where(
        QuarantinedChange.change_id == change_id)).first()
    if known is None:
        session.add(QuarantinedChange(seq=seq, change_id=change_id[:32],
                                      author_device=author[:32], record_id=record_id[:200],
                                      kind="attachments", hlc=hlc[:100], epoch=epoch,
                                      reason=reason, reported=False))


def _fault(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


# --- transfers -----------------------------------------------------------------------------


@dataclass
class Downloads:
    done: int = 0
    waiting: int = 0
    quarantined: int = 0


class BlobTransfer:
    """Uploads and downloads of one sync. ``call`` is the client's authenticated request;
    exceptions in ``transient`` (server unreachable) make a blob wait for the next sync."""

    def __init__(self, ctx: Context, call: Call, team: str, *,
                 transient: tuple[type[Exception], ...],
                 progress: Callable[[str], None] | None = None) -> None:
        self._ctx = ctx
        self._call = call
        self._team = team
        self._retry: tuple[type[Exception], ...] = (TransferFailed, *transient)
        self._progress = progress or (lambda _text: None)

    @property
    def _parts_root(self) -> Path:
        return self._ctx.vault.data_dir / PARTS_DIR

    # --- upload -------------------------------------------------------------------------------

    def upload_for(self, batch: list[OutboxChange], skip_records: Collection[str] = ()
                   ) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """Make sure the server has the blob of every document the batch creates: the content
        reference per change id, and the record ids whose upload failed (held back)."""
        refs: dict[str, dict[str, Any]] = {}
        failed: set[str] = set()
        for change in batch:
            if change.record_id in skip_records or change.record_id in failed or \
                    not needs_blob(change):
                continue
            if not self._ctx.vault.attachments.exists(change.record_id):
                continue  # deleted or purged meanwhile: the change goes without content
            try:
                refs[change.change_id] = self._upload(change).wire()
            except self._retry:
                failed.add(change.record_id)
        return refs, failed

    def _upload(self, change: OutboxChange) -> ContentRef:
        content = self._ctx.vault.attachments.get(change.record_id)
        with self._ctx.vault.writing() as session:
            chosen = session.get(BlobUpload, change.change_id)
            if chosen is None:
                chosen = BlobUpload(change_id=change.change_id, attachment_id=change.record_id,
                                    blob_id=new_id(), key=AESGCM.generate_key(bit_length=256),
                                    size=len(content),
                                    sha256=hashlib.sha256(content).hexdigest())
                session.add(chosen)
            ref = ContentRef(blob_id=chosen.blob_id, key=chosen.key, size=chosen.size,
                             sha256=chosen.sha256)
        if ref.size != len(content) or hashlib.sha256(content).hexdigest() != ref.sha256:
            raise TransferFailed("content changed since its blob was chosen")
        answer = self._call("PUT", f"/blobs/{ref.blob_id}", json={
            "record_id": change.record_id, "change_id": change.change_id, "size": ref.size})
        if answer.status_code != 200:
            raise TransferFailed(answer.status_code)
        have = set(answer.json().get("have", []))
        count = _chunks(content)
        missing = [i for i in range(count) if i not in have]
        for sent, index in enumerate(missing, start=1):
            plain = content[index * protocol.BLOB_CHUNK_BYTES:
                            (index + 1) * protocol.BLOB_CHUNK_BYTES]
            sealed = encrypt_chunk(ref.key, team=self._team, blob_id=ref.blob_id, index=index,
                                   final=index == count - 1, plain=plain)
            stored = self._call("PUT", f"/blobs/{ref.blob_id}/chunks/{index}", content=sealed)
            if stored.status_code != 200:
                raise TransferFailed(stored.status_code)
            self._progress(f"Dokument senden: Teil {index + 1} von {count}")
            if sent == max(1, len(missing) // 2):
                _fault(FAULT_UPLOAD)
        return ref

    # --- download -----------------------------------------------------------------------------

    def download_pending(self) -> Downloads:
        """Fetch the content of every document that waits for it; never raises for one blob."""
        result = Downloads()
        with self._ctx.vault.reading() as session:
            rows = list(session.scalars(select(BlobDownload).order_by(BlobDownload.seq)))
            for row in rows:
                session.expunge(row)
        for row in rows:
            with self._ctx.vault.reading() as session:
                document = session.get(Attachment, row.attachment_id)
                expected = None if document is None else (document.size, document.sha256)
            if expected is None or self._ctx.vault.attachments.exists(row.attachment_id):
                self._finish(row)  # removed meanwhile, or its content arrived otherwise
                continue
            try:
                content = self._fetch(row)
                if (len(content), hashlib.sha256(content).hexdigest()) != \
                        (row.size, row.sha256) or expected != (row.size, row.sha256):
                    raise _Tampered(_WRONG_SUM)
            except _Tampered as exc:
                self._finish(row, quarantine=exc.reason)
                result.quarantined += 1
                continue
            except self._retry:
                with self._ctx.vault.writing() as session:
                    found = session.get(BlobDownload, row.attachment_id)
                    if found is not None:
                        found.attempts += 1
                result.waiting += 1
                continue
            self._finish(row, content=content)
            result.done += 1
        return result

    def _fetch(self, row: BlobDownload) -> bytes:
        count = protocol.blob_chunk_count(row.size)
        folder = self._parts_root / row.blob_id
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        missing = [i for i in range(count) if not (folder / f"{i:05d}").is_file()]
        for fetched, index in enumerate(missing, start=1):
            answer = self._call("GET", f"/blobs/{row.blob_id}/chunks/{index}")
            if answer.status_code != 200:
                raise TransferFailed(answer.status_code)
            sealed = answer.content
            if len(sealed) != protocol.blob_chunk_length(row.size, index):
                raise _Tampered(_TAMPERED)
            decrypt_chunk(row.key, team=self._team, blob_id=row.blob_id, index=index,
                          final=index == count - 1, sealed=sealed)
            atomic_write(folder / f"{index:05d}", sealed)  # still encrypted
            self._progress(f"Dokument empfangen: Teil {index + 1} von {count}")
            if fetched == max(1, len(missing) // 2):
                _fault(FAULT_DOWNLOAD)
        parts = []
        for index in range(count):
            path = folder / f"{index:05d}"
            try:
                parts.append(decrypt_chunk(row.key, team=self._team, blob_id=row.blob_id,
                                           index=index, final=index == count - 1,
                                           sealed=path.read_bytes()))
            except _Tampered:
                path.unlink(missing_ok=True)  # damaged on this disk: fetched again next time
                raise TransferFailed("local part damaged") from None
        return b"".join(parts)

    def _finish(self, row: BlobDownload, *, content: bytes | None = None,
                quarantine: str | None = None) -> None:
        with self._ctx.vault.writing() as session:
            session.execute(delete(BlobDownload).where(
                BlobDownload.attachment_id == row.attachment_id))
            if quarantine is not None:
                _quarantine(session, change_id=row.change_id, seq=row.seq,
                            author=row.author_device, record_id=row.attachment_id, hlc=row.hlc,
                            epoch=row.epoch, reason=quarantine)
            if content is not None:
                # Written inside the transaction, as a new document is (casework.documents).
                self._ctx.vault.attachments.put(row.attachment_id, content)
        with contextlib.suppress(OSError):
            shutil.rmtree(self._parts_root / row.blob_id)
