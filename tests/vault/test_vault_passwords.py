"""Passwords: a wrong one is refused clearly and harmlessly, guessing is slowed down, and
changing the password rewraps the key without touching the encrypted data."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimdesk.vault import VaultLocked, WrongPassword, open_vault
from kimdesk.vault.store import ATTEMPTS_FILE, DB_FILE, HEADER_FILE
from kimdesk.vault.throttle import MAX_DELAY_SECONDS, UnlockThrottle, delay_after
from tests.vault.support import (
    NAMES,
    NEW_PASSWORD,
    PASSWORD,
    WRONG_PASSWORD,
    read_probe,
    sha256,
)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_wrong_password_is_refused_in_german_and_changes_nothing(vault_dir: Path) -> None:
    db, header = vault_dir / DB_FILE, vault_dir / HEADER_FILE
    before = sha256(db), sha256(header)

    with pytest.raises(WrongPassword) as info:
        open_vault(vault_dir, WRONG_PASSWORD)

    assert info.value.message == "Das Passwort ist nicht richtig."
    assert (sha256(db), sha256(header)) == before
    assert not (vault_dir / (DB_FILE + "-wal")).exists(), "the database was not even opened"
    with open_vault(vault_dir, PASSWORD) as vault:
        assert read_probe(vault) == list(NAMES)


def test_after_three_free_attempts_the_next_one_has_to_wait(vault_dir: Path) -> None:
    clock = FakeClock(1_000_000.0)
    for _ in range(2):
        with pytest.raises(WrongPassword) as info:
            open_vault(vault_dir, WRONG_PASSWORD, now=clock)
        assert info.value.retry_after == 0
    with pytest.raises(WrongPassword) as info:
        open_vault(vault_dir, WRONG_PASSWORD, now=clock)
    assert info.value.retry_after == 1.0
    assert "Nächster Versuch in 1 Sekunde möglich" in info.value.message

    # While the delay runs even the right password is turned away, and that costs no attempt.
    attempts_before = sha256(vault_dir / ATTEMPTS_FILE)
    clock.now += 0.5
    with pytest.raises(VaultLocked, match="Bitte warten Sie noch 1 Sekunde") as locked:
        open_vault(vault_dir, PASSWORD, now=clock)
    assert 0 < locked.value.retry_after <= 0.5
    assert sha256(vault_dir / ATTEMPTS_FILE) == attempts_before

    # The delay grows with every further failure.
    clock.now += 0.5
    with pytest.raises(WrongPassword) as info:
        open_vault(vault_dir, WRONG_PASSWORD, now=clock)
    assert info.value.retry_after == 2.0
    clock.now += 1.9
    with pytest.raises(VaultLocked):
        open_vault(vault_dir, PASSWORD, now=clock)

    # Once it has run out, the right password opens and the count starts again.
    clock.now += 0.1
    with open_vault(vault_dir, PASSWORD, now=clock) as vault:
        assert read_probe(vault) == list(NAMES)
    assert not (vault_dir / ATTEMPTS_FILE).exists()
    with pytest.raises(WrongPassword) as info:
        open_vault(vault_dir, WRONG_PASSWORD, now=clock)
    assert info.value.retry_after == 0


def test_the_delay_doubles_up_to_five_minutes() -> None:
    delays = [delay_after(failures) for failures in range(1, 14)]
    assert delays[:3] == [0, 0, 1]
    assert delays[3:6] == [2, 4, 8]
    assert max(delays) == MAX_DELAY_SECONDS == 300
    assert delays == sorted(delays)


def test_a_clock_set_back_does_not_lock_for_longer_than_the_delay(tmp_path: Path) -> None:
    clock = FakeClock(1_000_000.0)
    throttle = UnlockThrottle(tmp_path / ATTEMPTS_FILE, now=clock)
    for _ in range(4):
        throttle.record_failure()
    clock.now -= 86_400  # the laptop's clock jumped back a day
    assert throttle.wait_remaining() == delay_after(4)


def test_a_damaged_attempts_file_does_not_lock_anyone_out(vault_dir: Path) -> None:
    (vault_dir / ATTEMPTS_FILE).write_bytes(b"\x00garbage")
    with open_vault(vault_dir, PASSWORD) as vault:
        assert read_probe(vault) == list(NAMES)


# --- changing the password --------------------------------------------------------------------


def test_changing_the_password_rewraps_the_key_and_leaves_the_data_alone(vault_dir: Path) -> None:
    db_before = sha256(vault_dir / DB_FILE)

    with open_vault(vault_dir, PASSWORD) as vault:
        vault.change_password(PASSWORD, NEW_PASSWORD)
        assert read_probe(vault) == list(NAMES)  # the open vault keeps working

    assert sha256(vault_dir / DB_FILE) == db_before, "the data must not be re-encrypted"
    with pytest.raises(WrongPassword):
        open_vault(vault_dir, PASSWORD)
    with open_vault(vault_dir, NEW_PASSWORD) as vault:
        assert read_probe(vault) == list(NAMES)


def test_changing_the_password_needs_the_old_one(vault_dir: Path) -> None:
    header_before = sha256(vault_dir / HEADER_FILE)
    with open_vault(vault_dir, PASSWORD) as vault, pytest.raises(WrongPassword, match="bisherige"):
        vault.change_password(WRONG_PASSWORD, NEW_PASSWORD)
    assert sha256(vault_dir / HEADER_FILE) == header_before
    open_vault(vault_dir, PASSWORD).close()
