"""Re-keying: a password change on request (and every recovery) gives the vault a new DB key.

Afterwards an old header with the old password, the old recovery code and the copies in
``backups/`` open nothing, attachments are re-encrypted, the audit key stays the same; a crash
at any moment leaves a vault that the old or the new password opens completely.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kimdesk.vault import VaultCorrupted, WrongPassword, keys, open_vault
from kimdesk.vault.header import read_header
from kimdesk.vault.store import (
    ATTACHMENT_DIR,
    DB_FILE,
    HEADER_FILE,
    REKEY_FILE,
    open_with_recovery_code,
)
from tests.vault import crash_rekey
from tests.vault.support import (
    NAME,
    NAMES,
    NEW_PASSWORD,
    PASSWORD,
    ProbeTemplate,
    read_probe,
    sha256,
)

REPO = Path(__file__).resolve().parents[2]
ATTACHMENT_IDS = [f"{n:032x}" for n in range(1, crash_rekey.ATTACHMENTS + 1)]


def _content(attachment_id: str) -> bytes:
    return f"Bescheid für {NAME} ({attachment_id})".encode()


@pytest.fixture
def filled_dir(vault_dir: Path) -> Path:
    """The probe vault with attachments and a backup copy taken before a (past) migration."""
    with open_vault(vault_dir, PASSWORD) as vault:
        for attachment_id in ATTACHMENT_IDS:
            vault.attachments.put(attachment_id, _content(attachment_id))
    (vault_dir / "backups").mkdir(mode=0o700)
    shutil.copy2(vault_dir / DB_FILE, vault_dir / "backups" / "vault-before-0001-x.db")
    return vault_dir


def _old_key(header_path: Path, password: str) -> bytes:
    """The DB key an old header and the old password give (what an attacker would hold)."""
    header = read_header(header_path)
    key = keys.unwrap(keys.derive_kek(password, header.kdf), header.password_wrap,
                      header.aad("password"))
    assert key is not None
    return key


def _assert_complete(vault_dir: Path, password: str) -> None:
    """``password`` opens the vault, everything in it reads, and no re-key is pending."""
    with open_vault(vault_dir, password) as vault:
        assert read_probe(vault) == list(NAMES)
        for attachment_id in ATTACHMENT_IDS:
            assert vault.attachments.get(attachment_id) == _content(attachment_id)
        assert vault.check_integrity() == []
    assert read_header(vault_dir / HEADER_FILE).previous_key is None
    assert not (vault_dir / REKEY_FILE).exists()


def test_rekey_on_request_locks_out_old_headers_codes_and_backups(
    filled_dir: Path, probe_template: ProbeTemplate, tmp_path: Path
) -> None:
    old_header = tmp_path / "old-header.json"
    shutil.copy2(filled_dir / HEADER_FILE, old_header)
    db_before = sha256(filled_dir / DB_FILE)
    old_key = _old_key(old_header, PASSWORD)

    with open_vault(filled_dir, PASSWORD) as vault:
        audit_key = vault.derived_key("audit")
        new_code = vault.change_password(PASSWORD, NEW_PASSWORD, rekey=True)
        # The open vault keeps working under the new key.
        assert read_probe(vault) == list(NAMES)
        assert vault.attachments.get(ATTACHMENT_IDS[0]) == _content(ATTACHMENT_IDS[0])
        assert vault.derived_key("audit") == audit_key, "the audit chain must still verify"

    assert new_code is not None and new_code != probe_template.recovery_code
    assert sha256(filled_dir / DB_FILE) != db_before
    _assert_complete(filled_dir, NEW_PASSWORD)
    with pytest.raises(WrongPassword):
        open_vault(filled_dir, PASSWORD)

    # An old header kept somewhere, with the old password: the database no longer opens.
    stolen = tmp_path / "stolen"
    shutil.copytree(filled_dir, stolen)
    shutil.copy2(old_header, stolen / HEADER_FILE)
    with pytest.raises(VaultCorrupted):
        open_vault(stolen, PASSWORD)
    # ... nor does the old key decrypt an attachment.
    data = (filled_dir / ATTACHMENT_DIR / ATTACHMENT_IDS[0]).read_bytes()
    aead = AESGCM(keys.hkdf(old_key, "kimdesk attachments v1"))
    aad = f"kimdesk-attachment/{read_header(old_header).vault_id}/{ATTACHMENT_IDS[0]}".encode()
    with pytest.raises(InvalidTag):
        aead.decrypt(data[4:16], data[16:], aad)
    # The backup under the old key is gone, so the old key has nothing left to open.
    assert list((filled_dir / "backups").iterdir()) == []
    # The old recovery code opens nothing, the new one does.
    with pytest.raises(WrongPassword):
        open_with_recovery_code(filled_dir, probe_template.recovery_code, "Dritter-Weg-Hanselaer")
    vault, _code = open_with_recovery_code(filled_dir, new_code, "Dritter-Weg-Hanselaer")
    vault.close()
    _assert_complete(filled_dir, "Dritter-Weg-Hanselaer")


def test_an_old_backup_with_the_old_header_opens_before_the_rekey_only(
    filled_dir: Path, tmp_path: Path
) -> None:
    """The attack the re-key stops: a backup plus an old header plus the old password."""
    def attack(source: Path, header: Path) -> list[str]:
        target = tmp_path / f"attack-{len(list(tmp_path.iterdir()))}"
        target.mkdir()
        shutil.copy2(source, target / DB_FILE)
        shutil.copy2(header, target / HEADER_FILE)
        with open_vault(target, PASSWORD) as vault:
            return read_probe(vault)

    old_header = tmp_path / "old-header.json"
    shutil.copy2(filled_dir / HEADER_FILE, old_header)
    kept_backup = tmp_path / "kept-backup.db"
    shutil.copy2(filled_dir / "backups" / "vault-before-0001-x.db", kept_backup)
    assert attack(kept_backup, old_header) == list(NAMES)

    with open_vault(filled_dir, PASSWORD) as vault:
        vault.change_password(PASSWORD, NEW_PASSWORD, rekey=True)
    assert list((filled_dir / "backups").iterdir()) == []
    with pytest.raises(VaultCorrupted):
        attack(filled_dir / DB_FILE, old_header)


def test_a_password_change_without_rekey_returns_no_code(vault_dir: Path) -> None:
    with open_vault(vault_dir, PASSWORD) as vault:
        assert vault.change_password(PASSWORD, NEW_PASSWORD) is None


def test_every_kill_point_is_tested() -> None:
    assert set(EXPECTED) == set(crash_rekey.KILL_POINTS)


# After a kill at each point: the password that opens everything.
EXPECTED = {
    "before_new_header": PASSWORD,
    "after_new_header": NEW_PASSWORD,
    "after_first_attachment": NEW_PASSWORD,
    "before_database_swap": NEW_PASSWORD,
    "after_database_swap": NEW_PASSWORD,
    "before_final_header": NEW_PASSWORD,
}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(crash_rekey.KILL_POINTS))
def test_a_crash_during_the_rekey_leaves_one_password_that_opens_everything(
    filled_dir: Path, point: str
) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "tests.vault.crash_rekey", str(filled_dir), point],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    if point == "before_database_swap":
        assert (filled_dir / REKEY_FILE).exists(), "the child died where it was meant to"

    expected = EXPECTED[point]
    other = NEW_PASSWORD if expected == PASSWORD else PASSWORD
    _assert_complete(filled_dir, expected)  # the first opening finishes a pending re-key
    with pytest.raises(WrongPassword):
        open_vault(filled_dir, other)
    _assert_complete(filled_dir, expected)
