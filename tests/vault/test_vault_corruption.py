"""Damaged files: a flipped byte in the database or its write-ahead log is refused or reported,
never turned silently into different data. Errors from SQLCipher surface as VaultCorrupted."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from kimdesk.vault import VaultCorrupted, VaultError, open_vault
from kimdesk.vault.store import DB_FILE
from kimdesk.vault.walcheck import check_wal
from tests.vault.support import NAMES, PASSWORD, ProbeTemplate, flip_byte, read_probe

WAL_FILE = DB_FILE + "-wal"
WAL_HEADER = 32
FRAME_HEADER = 24
BATCHES = (("Dilan Yıldız", "Kateryna Bondarenko"), ("Samir Nasser",), ("Amina Diallo",))


def _outcome(vault_dir: Path) -> tuple[list[str] | None, list[str]] | None:
    """None if the vault refuses to open; else the probe rows (None if reading them failed with
    VaultCorrupted) and what the integrity check reports."""
    try:
        vault = open_vault(vault_dir, PASSWORD)
    except VaultError:
        return None
    with vault:
        try:
            rows: list[str] | None = read_probe(vault)
        except VaultCorrupted:
            rows = None
        return rows, vault.check_integrity()


# --- the database file ------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_flipped_byte_in_the_database_is_always_noticed(
    probe_template: ProbeTemplate, data: st.DataObject
) -> None:
    """Every byte of the file is under a page MAC (or is the salt the MAC key derives from), so
    a flip anywhere is refused at opening or reported by the integrity check; reading never
    returns other rows than were written."""
    size = (probe_template.path / DB_FILE).stat().st_size
    offset = data.draw(st.integers(0, size - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="mask")
    with tempfile.TemporaryDirectory() as tmp:
        vault_dir = Path(tmp) / "vault"
        shutil.copytree(probe_template.path, vault_dir)
        flip_byte(vault_dir / DB_FILE, offset, mask)

        outcome = _outcome(vault_dir)
        if outcome is None:
            return
        rows, problems = outcome
        assert problems, f"a flip at {offset} went unnoticed"
        assert rows in (None, list(NAMES))


def test_reading_a_damaged_page_raises_vault_corrupted(vault_dir: Path) -> None:
    """A byte of the probe table's (one-page) root page is flipped: reading it fails."""
    db = vault_dir / DB_FILE
    with open_vault(vault_dir, PASSWORD) as vault, vault.engine.connect() as conn:
        page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
        root = int(conn.exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = 'probe'").scalar_one())
    flip_byte(db, (root - 1) * page_size + 100, 0x40)

    with open_vault(vault_dir, PASSWORD) as vault:
        with pytest.raises(VaultCorrupted, match="beschädigt oder wurde verändert"):
            read_probe(vault)
        with pytest.raises(VaultCorrupted), vault.writing() as session:
            session.execute(text("UPDATE probe SET name = upper(name)"))
        problems = vault.check_integrity()
    assert any("HMAC" in problem for problem in problems)


def test_a_damaged_first_page_is_refused_at_opening(vault_dir: Path) -> None:
    flip_byte(vault_dir / DB_FILE, 200, 0x01)
    with pytest.raises(VaultCorrupted, match="Datenbank des Datentresors"):
        open_vault(vault_dir, PASSWORD)


# --- the write-ahead log ----------------------------------------------------------------------


@dataclass(frozen=True)
class WalSnapshot:
    """The files of a vault copied while it was open (as a crash leaves them).

    The log holds three committed transactions of probe rows, then one last transaction that
    only writes to the ``tail`` table, starting at byte ``tail_offset`` of the log.
    """

    path: Path
    rows: list[str]
    tail_offset: int
    page_size: int

    @property
    def frame_size(self) -> int:
        return FRAME_HEADER + self.page_size

    @property
    def last_probe_frame(self) -> int:
        """Offset of the commit frame of the last transaction that wrote probe rows."""
        return self.tail_offset - self.frame_size


@pytest.fixture(scope="module")
def wal_snapshot(
    probe_template: ProbeTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WalSnapshot]:
    base = tmp_path_factory.mktemp("wal")
    work, snapshot = base / "work", base / "snapshot"
    shutil.copytree(probe_template.path, work)
    with open_vault(work, PASSWORD) as vault, vault.engine.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")  # keep every frame in the log
            page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
            conn.execute(text("CREATE TABLE tail(id INTEGER PRIMARY KEY, note TEXT)"))
        for batch in BATCHES:
            with conn.begin():
                for name in batch:
                    conn.execute(text("INSERT INTO probe(name) VALUES (:name)"), {"name": name})
        tail_offset = (work / WAL_FILE).stat().st_size
        with conn.begin():
            conn.execute(text("INSERT INTO tail(note) VALUES ('last')"))
        shutil.copytree(work, snapshot)
    rows = list(NAMES) + [name for batch in BATCHES for name in batch]
    yield WalSnapshot(snapshot, rows, tail_offset, page_size)


def _copy(snapshot: WalSnapshot, target: Path) -> Path:
    shutil.copytree(snapshot.path, target)
    return target


def test_the_snapshot_is_what_the_wal_tests_need(wal_snapshot: WalSnapshot, tmp_path: Path) -> None:
    wal = wal_snapshot.path / WAL_FILE
    report = check_wal(wal)
    assert not report.damaged
    assert report.frames == report.committed_frames >= 5
    assert wal.stat().st_size == wal_snapshot.tail_offset + wal_snapshot.frame_size
    assert wal_snapshot.page_size == 4096  # WAL_DAMAGE below names fields of a 4 KiB log
    # Opening the crashed copy replays the log: everything committed is there.
    assert _outcome(_copy(wal_snapshot, tmp_path / "vault")) == (wal_snapshot.rows, [])


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_flipped_byte_in_the_log_never_yields_different_data(
    wal_snapshot: WalSnapshot, data: st.DataObject
) -> None:
    """A flip anywhere before the last transaction is refused at opening; a flip in the last
    transaction may drop that one (see test_damage_in_the_last_transaction_is_not_noticed)."""
    size = (wal_snapshot.path / WAL_FILE).stat().st_size
    offset = data.draw(st.integers(0, size - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="mask")
    with tempfile.TemporaryDirectory() as tmp:
        vault_dir = _copy(wal_snapshot, Path(tmp) / "vault")
        flip_byte(vault_dir / WAL_FILE, offset, mask)

        outcome = _outcome(vault_dir)
        if outcome is None:
            return
        assert offset >= wal_snapshot.tail_offset, f"a flip at {offset} was not refused"
        rows, problems = outcome
        assert rows == wal_snapshot.rows or problems


# Named places in the log before its last transaction: (offset, xor mask).
WAL_DAMAGE: dict[str, Callable[[WalSnapshot], tuple[int, int]]] = {
    "magic byte order": lambda _: (3, 0x01),  # little-endian magic becomes the big-endian one
    "format version": lambda _: (7, 0x01),
    "page size 4096 becomes 2048": lambda _: (10, 0x18),
    "checkpoint sequence": lambda _: (15, 0x01),
    "salt 1": lambda _: (16, 0x80),
    "salt 2": lambda _: (23, 0x01),
    "header checksum 1": lambda _: (24, 0x01),
    "header checksum 2": lambda _: (31, 0x80),
    "first frame page number": lambda _: (WAL_HEADER + 3, 0x01),
    "first frame salt": lambda _: (WAL_HEADER + 8, 0x01),
    "first frame checksum": lambda _: (WAL_HEADER + 16, 0x01),
    "first frame page": lambda _: (WAL_HEADER + FRAME_HEADER + 500, 0x01),
    "last probe commit size": lambda snap: (snap.last_probe_frame + 7, 0x01),
    "last probe commit checksum": lambda snap: (snap.last_probe_frame + 20, 0x01),
    "last probe commit page": lambda snap: (snap.last_probe_frame + FRAME_HEADER, 0x01),
}


@pytest.mark.parametrize("field", WAL_DAMAGE)
def test_damage_before_the_last_transaction_is_refused(
    wal_snapshot: WalSnapshot, tmp_path: Path, field: str
) -> None:
    """SQLite would drop the damaged frame and every later one, or the whole log when its
    header is damaged: committed rows would vanish without a word. The vault refuses instead."""
    offset, mask = WAL_DAMAGE[field](wal_snapshot)
    vault_dir = _copy(wal_snapshot, tmp_path / "vault")
    flip_byte(vault_dir / WAL_FILE, offset, mask)
    with pytest.raises(VaultCorrupted, match="Schreibprotokoll"):
        open_vault(vault_dir, PASSWORD)


def test_a_transaction_torn_by_a_crash_is_dropped_quietly(
    wal_snapshot: WalSnapshot, tmp_path: Path
) -> None:
    """A crash in the middle of a commit is no damage: the vault opens without the unfinished
    transaction (and without crying wolf)."""
    vault_dir = _copy(wal_snapshot, tmp_path / "vault")
    wal = vault_dir / WAL_FILE
    wal.write_bytes(wal.read_bytes()[: wal_snapshot.tail_offset + 1000])
    assert _outcome(vault_dir) == (wal_snapshot.rows, [])
    with open_vault(vault_dir, PASSWORD) as vault, vault.reading() as session:
        assert session.execute(text("SELECT count(*) FROM tail")).scalar_one() == 0


@pytest.mark.xfail(
    reason="Known limit: damage inside the last transaction of the log cannot be told from a "
    "crash during its commit, so SQLite drops that transaction and walcheck lets it pass.",
    strict=True,
)
def test_damage_in_the_last_transaction_is_not_noticed(
    wal_snapshot: WalSnapshot, tmp_path: Path
) -> None:
    vault_dir = _copy(wal_snapshot, tmp_path / "vault")
    flip_byte(vault_dir / WAL_FILE, wal_snapshot.tail_offset + FRAME_HEADER + 100, 0x01)
    try:
        vault = open_vault(vault_dir, PASSWORD)
    except VaultCorrupted:
        return
    with vault, vault.reading() as session:
        assert session.execute(text("SELECT count(*) FROM tail")).scalar_one() == 1
