"""Encrypted attachments: readable only through the open vault, bound to their id and vault,
and any damage is reported, never returned as content."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kimdesk.vault import VaultCorrupted, VaultError, open_vault
from kimdesk.vault.store import ATTACHMENT_DIR
from tests.vault.support import NAME, PASSWORD, flip_byte, make_probe_vault

FIRST = "a1" * 16
SECOND = "b2" * 16
CONTENT = f"Aufenthaltserlaubnis von {NAME}, gültig bis 2027".encode() + os.urandom(64)


def test_what_is_put_can_be_got_back_after_reopening(vault_dir: Path) -> None:
    with open_vault(vault_dir, PASSWORD) as vault:
        vault.attachments.put(FIRST, CONTENT)
        assert vault.attachments.get(FIRST) == CONTENT
    with open_vault(vault_dir, PASSWORD) as vault:
        assert vault.attachments.get(FIRST) == CONTENT
        assert vault.attachments.stored_ids() == {FIRST}


def test_the_stored_file_holds_no_plaintext(vault_dir: Path) -> None:
    with open_vault(vault_dir, PASSWORD) as vault:
        vault.attachments.put(FIRST, CONTENT)
    stored = (vault_dir / ATTACHMENT_DIR / FIRST).read_bytes()
    assert NAME.encode() not in stored
    assert b"Aufenthaltserlaubnis" not in stored
    assert CONTENT[-64:] not in stored


@pytest.mark.parametrize("where", ["magic", "nonce", "ciphertext", "tag"])
def test_a_flipped_byte_is_reported_as_corrupted(vault_dir: Path, where: str) -> None:
    with open_vault(vault_dir, PASSWORD) as vault:
        vault.attachments.put(FIRST, CONTENT)
        path = vault_dir / ATTACHMENT_DIR / FIRST
        offset = {"magic": 0, "nonce": 4, "ciphertext": 20, "tag": path.stat().st_size - 1}[where]
        flip_byte(path, offset, 0x01)
        with pytest.raises(VaultCorrupted, match="Dokument"):
            vault.attachments.get(FIRST)


def test_a_truncated_or_missing_file_is_reported_as_corrupted(vault_dir: Path) -> None:
    with open_vault(vault_dir, PASSWORD) as vault:
        vault.attachments.put(FIRST, CONTENT)
        path = vault_dir / ATTACHMENT_DIR / FIRST
        path.write_bytes(path.read_bytes()[:20])
        with pytest.raises(VaultCorrupted):
            vault.attachments.get(FIRST)
        path.unlink()
        with pytest.raises(VaultCorrupted, match="fehlt"):
            vault.attachments.get(FIRST)


def test_a_file_renamed_to_another_id_is_refused(vault_dir: Path) -> None:
    """The id is bound in as associated data: swapping two clients' documents is noticed."""
    with open_vault(vault_dir, PASSWORD) as vault:
        vault.attachments.put(FIRST, CONTENT)
        folder = vault_dir / ATTACHMENT_DIR
        os.replace(folder / FIRST, folder / SECOND)
        with pytest.raises(VaultCorrupted):
            vault.attachments.get(SECOND)


def test_a_file_from_another_vault_is_refused(vault_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    make_probe_vault(other)
    with open_vault(other, PASSWORD) as other_vault:
        other_vault.attachments.put(FIRST, CONTENT)
    (vault_dir / ATTACHMENT_DIR).mkdir()
    shutil.copy(other / ATTACHMENT_DIR / FIRST, vault_dir / ATTACHMENT_DIR / FIRST)
    with open_vault(vault_dir, PASSWORD) as vault, pytest.raises(VaultCorrupted):
        vault.attachments.get(FIRST)


def test_the_store_of_a_locked_vault_refuses(vault_dir: Path) -> None:
    vault = open_vault(vault_dir, PASSWORD)
    vault.attachments.put(FIRST, CONTENT)
    store = vault.attachments
    vault.close()

    with pytest.raises(VaultError, match="gesperrt"):
        store.get(FIRST)
    with pytest.raises(VaultError, match="gesperrt"):
        store.get(SECOND)  # locked comes before missing
    with pytest.raises(VaultError, match="gesperrt"):
        store.put(SECOND, b"neu")
    assert not (vault_dir / ATTACHMENT_DIR / SECOND).exists()


def test_ids_that_could_escape_the_folder_are_rejected(vault_dir: Path) -> None:
    with open_vault(vault_dir, PASSWORD) as vault:
        for bad_id in ("../vault-header.json", FIRST.upper(), FIRST + ".tmp", ""):
            with pytest.raises(ValueError):
                vault.attachments.put(bad_id, CONTENT)
