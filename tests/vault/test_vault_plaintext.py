"""Nothing with client data touches the disk unencrypted: not the database, its log, or anything
else the vault keeps in its data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimdesk.vault import KdfParams, WrongPassword, create_vault, open_vault
from kimdesk.vault.store import ATTEMPTS_FILE, DB_FILE, HEADER_FILE
from tests.vault.support import NAME, PASSWORD, WRONG_PASSWORD, write_probe

ATTACHMENT_ID = "0f" * 16
FORBIDDEN = (NAME.encode("utf-8"), b"Zofia", "Wiśniewska".encode(), b"SQLite format 3")


def _files_with_plaintext(data_dir: Path) -> dict[str, list[bytes]]:
    found = {}
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            content = path.read_bytes()
            hits = [needle for needle in FORBIDDEN if needle in content]
            if hits:
                found[str(path.relative_to(data_dir))] = hits
    return found


def test_no_file_in_the_data_directory_holds_a_name_in_plaintext(tmp_path: Path) -> None:
    data_dir = tmp_path / "vault"
    vault, _code = create_vault(data_dir, PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        # Enough rows for several pages, so the log holds more than one frame.
        write_probe(vault, *[f"{NAME} {number}" for number in range(300)])
        vault.attachments.put(ATTACHMENT_ID, f"Bescheid für {NAME}".encode())
        with pytest.raises(WrongPassword):  # leaves the attempts file behind
            open_vault(data_dir, WRONG_PASSWORD)

        names = {path.name for path in data_dir.rglob("*") if path.is_file()}
        expected = {DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", HEADER_FILE, ATTEMPTS_FILE}
        assert expected | {ATTACHMENT_ID} <= names
        assert (data_dir / (DB_FILE + "-wal")).stat().st_size > 0, "the log must hold the rows"
        assert _files_with_plaintext(data_dir) == {}

    # Closed: the log was checkpointed into the (encrypted) database.
    wal = data_dir / (DB_FILE + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert _files_with_plaintext(data_dir) == {}
