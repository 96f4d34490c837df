"""A crash while the password is being changed: afterwards exactly one of the two passwords
opens the vault, never neither, and the data is intact (DESIGN: write new header, fsync, rename).

Each case runs the change in a child process that SIGKILLs itself at one point of the header
replacement (see crash_change_password.py).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kimdesk.vault import WrongPassword, open_vault
from kimdesk.vault.store import DB_FILE, HEADER_FILE
from tests.vault import crash_change_password
from tests.vault.support import NAMES, NEW_PASSWORD, PASSWORD, read_probe, sha256

REPO = Path(__file__).resolve().parents[2]
TEMP_HEADER = HEADER_FILE + ".tmp"

# After a kill at each point: the password that opens, and whether a temp header is left over
# (which also shows that the child died where it was meant to).
EXPECTED = {
    "before_temp_file": (PASSWORD, False),
    "temp_file_half_written": (PASSWORD, True),
    "before_replace": (PASSWORD, True),
    "after_replace": (NEW_PASSWORD, False),
}


def _opens_with(vault_dir: Path, password: str) -> bool:
    try:
        vault = open_vault(vault_dir, password)
    except WrongPassword:
        return False
    with vault:
        assert read_probe(vault) == list(NAMES)
        assert vault.check_integrity() == []
    return True


def test_every_kill_point_has_an_expectation() -> None:
    assert set(EXPECTED) == set(crash_change_password.KILL_POINTS)


@pytest.mark.slow
@pytest.mark.parametrize("point", crash_change_password.KILL_POINTS)
def test_a_crash_while_changing_the_password_leaves_one_password_that_opens(
    vault_dir: Path, point: str
) -> None:
    db_before = sha256(vault_dir / DB_FILE)
    child = subprocess.run(
        [sys.executable, "-m", "tests.vault.crash_change_password", str(vault_dir), point],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr

    expected_password, temp_left = EXPECTED[point]
    assert (vault_dir / TEMP_HEADER).exists() == temp_left
    opened = {password for password in (PASSWORD, NEW_PASSWORD) if _opens_with(vault_dir, password)}
    assert opened == {expected_password}
    assert sha256(vault_dir / DB_FILE) == db_before, "the data was never re-encrypted"


def test_a_leftover_temp_header_does_not_break_opening_or_the_next_change(
    vault_dir: Path,
) -> None:
    (vault_dir / TEMP_HEADER).write_bytes(b'{"format": "kimdesk-vault", "half')
    with open_vault(vault_dir, PASSWORD) as vault:
        assert read_probe(vault) == list(NAMES)
        vault.change_password(PASSWORD, NEW_PASSWORD)
    assert not (vault_dir / TEMP_HEADER).exists()
    assert _opens_with(vault_dir, NEW_PASSWORD)
