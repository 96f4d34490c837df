"""Helpers for the vault tests: a plain ``probe`` table, file hashes, byte flips and copies.

The tests use their own table instead of ``kimdesk.models`` so that they prove the vault's
promises whatever the schema of the day is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import text

from kimdesk.vault import KdfParams, Vault, create_vault

PASSWORD = "Niersufer-Goch-2026"
NEW_PASSWORD = "Schenkenschanz-1586!"
WRONG_PASSWORD = "Reichswald-Kleve-1945"
# A distinctive name with a non-ASCII letter, so a search for it in the files cannot miss.
NAME = "Zofia Wiśniewska"
NAMES = (NAME, "Ahmad Rahimi", "Olena Kovalenko", "Mariam Haddad")


@dataclass(frozen=True)
class ProbeTemplate:
    """A closed vault holding ``NAMES``, made with the county's recovery key ``county_key``."""

    path: Path
    recovery_code: str
    county_key: X25519PrivateKey


def write_probe(vault: Vault, *names: str) -> None:
    """Append ``names`` to the ``probe`` table (created on first use) in one transaction."""
    with vault.writing() as session:
        session.execute(
            text("CREATE TABLE IF NOT EXISTS probe(id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        )
        for name in names:
            session.execute(text("INSERT INTO probe(name) VALUES (:name)"), {"name": name})


def read_probe(vault: Vault) -> list[str]:
    with vault.reading() as session:
        return list(session.execute(text("SELECT name FROM probe ORDER BY id")).scalars())


def make_probe_vault(path: Path, *, county_public_key: X25519PublicKey | None = None) -> str:
    """Create a vault at ``path`` holding ``NAMES`` and close it; returns the recovery code."""
    vault, recovery_code = create_vault(
        path, PASSWORD, kdf=KdfParams.for_tests(), county_public_key=county_public_key
    )
    with vault:
        write_probe(vault, *NAMES)
    return recovery_code


def file_hashes(directory: Path) -> dict[str, str]:
    """SHA-256 of every file below ``directory``, by relative path."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip_byte(path: Path, offset: int, mask: int) -> None:
    """XOR the byte at ``offset`` with ``mask`` (1..255), in place."""
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))
