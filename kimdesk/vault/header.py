"""The vault header: a small versioned JSON file beside the database (like KeePass's KDBX header).

It holds the KDF parameters, the wrapped DB key (password, recovery code, county key) and a MAC
under a key derived from the DB key, so a header altered by someone without the key is refused.
After a re-key (a new DB key) it also holds, wrapped under the DB key, the root of the keys that
must stay stable across re-keys (``derivation_root``, e.g. the audit chain's MAC key) and, only
while a re-key is under way, the previous DB key (``previous_key``) so an interrupted re-key can
be finished at the next opening. Headers without these optional fields keep their MAC.
Writes are atomic (temp file, fsync, rename, fsync of the directory): after a crash the file is
either the old or the new header, never a mix.
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass, replace
from hashlib import sha256
from pathlib import Path

from kimdesk.vault.errors import VaultCorrupted
from kimdesk.vault.keys import KdfParams, SealedForRecipient, Wrapped, b64, hkdf, unb64

FORMAT = "kimdesk-vault"
VERSION = 1


@dataclass(frozen=True)
class VaultHeader:
    vault_id: str
    kdf: KdfParams
    password_wrap: Wrapped
    recovery_salt: bytes
    recovery_code_wrap: Wrapped
    county_wrap: SealedForRecipient | None
    mac: bytes = b""
    derivation_root: Wrapped | None = None
    previous_key: Wrapped | None = None

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "format": FORMAT,
            "version": VERSION,
            "vault_id": self.vault_id,
            "kdf": self.kdf.to_json(),
            "password_wrap": self.password_wrap.to_json(),
            "recovery_salt": b64(self.recovery_salt),
            "recovery_code_wrap": self.recovery_code_wrap.to_json(),
            "county_wrap": self.county_wrap.to_json() if self.county_wrap else None,
        }
        # Only when present, so the MAC of a header written before re-keying existed still fits.
        if self.derivation_root is not None:
            body["derivation_root"] = self.derivation_root.to_json()
        if self.previous_key is not None:
            body["previous_key"] = self.previous_key.to_json()
        return body

    def aad(self, purpose: str) -> bytes:
        """Associated data binding a wrap to this vault and its purpose."""
        return f"{FORMAT}/{VERSION}/{self.vault_id}/{purpose}".encode()

    def compute_mac(self, db_key: bytes) -> bytes:
        canonical = json.dumps(self.body(), sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(hkdf(db_key, "kimdesk header mac v1"), canonical, sha256).digest()

    def signed(self, db_key: bytes) -> VaultHeader:
        return replace(self, mac=self.compute_mac(db_key))

    def verify(self, db_key: bytes) -> None:
        if not hmac.compare_digest(self.mac, self.compute_mac(db_key)):
            raise VaultCorrupted(
                "Der Kopf des Datentresors wurde verändert. Bitte wenden Sie sich an die Kreis-IT."
            )


def read_header(path: Path) -> VaultHeader:
    try:
        data = json.loads(path.read_bytes())
        if data.get("format") != FORMAT:
            raise ValueError("not a KIMdesk vault header")
        if data.get("version") != VERSION:
            raise ValueError(f"unsupported header version {data.get('version')}")
        county = data.get("county_wrap")
        root = data.get("derivation_root")
        previous = data.get("previous_key")
        return VaultHeader(
            vault_id=str(data["vault_id"]),
            kdf=KdfParams.from_json(data["kdf"]),
            password_wrap=Wrapped.from_json(data["password_wrap"]),
            recovery_salt=unb64(data["recovery_salt"]),
            recovery_code_wrap=Wrapped.from_json(data["recovery_code_wrap"]),
            county_wrap=SealedForRecipient.from_json(county) if county else None,
            mac=unb64(data["mac"]),
            derivation_root=Wrapped.from_json(root) if root is not None else None,
            previous_key=Wrapped.from_json(previous) if previous is not None else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise VaultCorrupted(
            "Der Kopf des Datentresors ist beschädigt und kann nicht gelesen werden."
        ) from exc


def write_header(path: Path, header: VaultHeader) -> None:
    """Atomically replace the header file."""
    data = header.body() | {"mac": b64(header.mac)}
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True).encode() + b"\n")


def atomic_write(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    if os.name != "posix":  # Windows has no directory fsync; NTFS journals the rename.
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
