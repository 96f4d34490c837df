"""Encrypted attachments: one file per document, AES-256-GCM, the file id bound in as AAD.

Files are named by their random id, never by the document's name; contents are decrypted in
memory only. Writes go through a temporary ciphertext file and a rename, so a crash leaves
either no file or the whole file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kimdesk.vault.errors import VaultCorrupted, VaultError
from kimdesk.vault.header import atomic_write

if TYPE_CHECKING:
    from kimdesk.vault.header import VaultHeader

MAGIC = b"KDA1"
_ID = re.compile(r"^[0-9a-f]{32}$")


class AttachmentStore:
    """The attachments of one vault; refuses everything once the vault is locked."""

    def __init__(self, directory: Path, key: bytes, header: VaultHeader) -> None:
        self._dir = directory
        self._key: bytes | None = key
        self._vault_id = header.vault_id

    def _path(self, attachment_id: str) -> Path:
        if not _ID.match(attachment_id):
            raise ValueError("invalid attachment id")
        return self._dir / attachment_id

    def _aad(self, attachment_id: str) -> bytes:
        return f"kimdesk-attachment/{self._vault_id}/{attachment_id}".encode()

    def _aead(self) -> AESGCM:
        if self._key is None:
            raise VaultError("Der Datentresor ist gesperrt.")
        return AESGCM(self._key)

    def put(self, attachment_id: str, content: bytes) -> None:
        aead = self._aead()  # a locked vault refuses before anything touches the disk
        path = self._path(attachment_id)
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        nonce = os.urandom(12)
        sealed = aead.encrypt(nonce, content, self._aad(attachment_id))
        atomic_write(path, MAGIC + nonce + sealed)

    def get(self, attachment_id: str) -> bytes:
        aead = self._aead()  # "locked" rather than "missing" when both are true
        try:
            data = self._path(attachment_id).read_bytes()
        except FileNotFoundError as exc:
            raise VaultCorrupted("Die Datei des Dokuments fehlt im Datentresor.") from exc
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 12 + 16:
            raise VaultCorrupted("Die Datei des Dokuments ist beschädigt.")
        nonce = data[len(MAGIC) : len(MAGIC) + 12]
        try:
            return aead.decrypt(nonce, data[len(MAGIC) + 12 :], self._aad(attachment_id))
        except InvalidTag as exc:
            raise VaultCorrupted("Die Datei des Dokuments ist beschädigt oder verändert.") from exc

    def delete(self, attachment_id: str) -> None:
        self._path(attachment_id).unlink(missing_ok=True)

    def exists(self, attachment_id: str) -> bool:
        return self._path(attachment_id).is_file()

    def stored_ids(self, older_than: float | None = None) -> set[str]:
        """Ids of the stored files; with ``older_than`` (epoch seconds) only files not
        modified since then."""
        if not self._dir.is_dir():
            return set()
        return {
            p.name
            for p in self._dir.iterdir()
            if _ID.match(p.name) and (older_than is None or p.stat().st_mtime < older_than)
        }

    def forget_key(self) -> None:
        self._key = None


def reencrypt_attachments(directory: Path, vault_id: str, old_key: bytes, new_key: bytes) -> None:
    """Re-encrypt every attachment from ``old_key`` to ``new_key`` (part of a re-key).

    Idempotent, so an interrupted re-key can simply run it again: a file the new key already
    opens is left alone; each file is replaced atomically. A file neither key opens is damaged
    and left as it is (reading it reports the damage); nothing is deleted here.
    """
    if not directory.is_dir():
        return
    old, new = AESGCM(old_key), AESGCM(new_key)
    for path in sorted(directory.iterdir()):
        if not _ID.match(path.name):
            continue
        data = path.read_bytes()
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 12 + 16:
            continue
        aad = f"kimdesk-attachment/{vault_id}/{path.name}".encode()
        nonce, sealed = data[len(MAGIC) : len(MAGIC) + 12], data[len(MAGIC) + 12 :]
        try:
            new.decrypt(nonce, sealed, aad)
            continue  # done before the interruption
        except InvalidTag:
            pass
        try:
            content = old.decrypt(nonce, sealed, aad)
        except InvalidTag:
            continue
        fresh_nonce = os.urandom(12)
        atomic_write(path, MAGIC + fresh_nonce + new.encrypt(fresh_nonce, content, aad))
