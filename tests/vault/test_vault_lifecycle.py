"""Creating, opening, locking: the vault's life cycle and the rules around it."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kimdesk.errors import ValidationError
from kimdesk.vault import (
    KdfParams,
    VaultError,
    VaultMissing,
    create_vault,
    keys,
    open_vault,
)
from kimdesk.vault.header import read_header
from kimdesk.vault.store import HEADER_FILE, open_with_recovery_code
from tests.vault.support import (
    NAME,
    NAMES,
    NEW_PASSWORD,
    PASSWORD,
    file_hashes,
    read_probe,
    write_probe,
)


def test_what_is_written_can_be_read_after_reopening(tmp_path: Path) -> None:
    data_dir = tmp_path / "vault"
    vault, recovery_code = create_vault(data_dir, PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        write_probe(vault, NAME)
        assert read_probe(vault) == [NAME]
    assert keys.is_well_formed_recovery_code(recovery_code)

    with open_vault(data_dir, PASSWORD) as reopened:
        assert read_probe(reopened) == [NAME]
        assert reopened.vault_id == vault.vault_id
        assert reopened.check_integrity() == []


def test_a_failed_write_leaves_nothing_behind(vault_dir: Path) -> None:
    with open_vault(vault_dir, PASSWORD) as vault:
        with pytest.raises(RuntimeError), vault.writing() as session:
            session.execute(text("INSERT INTO probe(name) VALUES ('halb gespeichert')"))
            raise RuntimeError("the use case failed half-way")
        assert read_probe(vault) == list(NAMES)


def test_default_kdf_parameters_meet_the_design_minimum(tmp_path: Path) -> None:
    """The one test that runs the production Argon2id parameters (DESIGN: >= 64 MiB, t >= 3)."""
    defaults = KdfParams.new()
    assert defaults.memory_kib >= 64 * 1024
    assert defaults.iterations >= 3
    with pytest.raises(ValueError, match="64 MiB"):
        KdfParams.new(memory_kib=32 * 1024)
    with pytest.raises(ValueError, match="t=3"):
        KdfParams.new(iterations=2)

    vault, _code = create_vault(tmp_path / "vault", PASSWORD)  # no kdf: what users get
    vault.close()
    stored = read_header(tmp_path / "vault" / HEADER_FILE).kdf
    assert stored.memory_kib >= 64 * 1024
    assert stored.iterations >= 3
    assert len(stored.salt) == 16


# --- locked -----------------------------------------------------------------------------------


def test_a_closed_vault_refuses_everything(vault_dir: Path) -> None:
    vault = open_vault(vault_dir, PASSWORD)
    vault.close()

    assert not vault.is_open
    for use in (vault.reading, vault.writing):
        with pytest.raises(VaultError, match="gesperrt"), use():
            pass
    with pytest.raises(VaultError, match="gesperrt"):
        _ = vault.engine
    with pytest.raises(VaultError, match="gesperrt"):
        vault.check_integrity()
    with pytest.raises(VaultError, match="gesperrt"):
        vault.derived_key("audit")
    with pytest.raises(VaultError, match="gesperrt"):
        vault.change_password(PASSWORD, NEW_PASSWORD)
    vault.close()  # closing twice is harmless


def _reachable(root: object) -> Iterator[object]:
    """Every object reachable from ``root``, without wandering into modules and classes."""
    module_dicts = {id(vars(module)) for module in list(sys.modules.values()) if module}
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in module_dicts:
            continue
        seen.add(id(obj))
        if isinstance(obj, (types.ModuleType, type)):
            continue
        yield obj
        stack.extend(gc.get_referents(obj))


def _holds_key(root: object, db_key: bytes) -> bool:
    hex_key = db_key.hex()
    return any(
        (isinstance(obj, bytes) and db_key in obj) or (isinstance(obj, str) and hex_key in obj)
        for obj in _reachable(root)
    )


def test_closing_drops_the_key(vault_dir: Path) -> None:
    """After close() nothing the vault object still refers to holds the DB key, raw or as hex."""
    header = read_header(vault_dir / HEADER_FILE)
    db_key = keys.unwrap(
        keys.derive_kek(PASSWORD, header.kdf), header.password_wrap, header.aad("password")
    )
    assert db_key is not None

    vault = open_vault(vault_dir, PASSWORD)
    read_probe(vault)  # a pooled connection exists
    # The search does find the key while it is there, also inside the engine, whose connection
    # factory needs it for every new connection.
    assert _holds_key(vault, db_key)
    assert _holds_key(vault.engine, db_key)
    vault.close()
    assert not _holds_key(vault, db_key)
    assert not _holds_key(vault.attachments, db_key)


# --- missing, existing, password rules ----------------------------------------------------------


@pytest.mark.parametrize("state", ["empty", "absent"])
def test_no_vault_in_the_directory_is_reported_as_missing(tmp_path: Path, state: str) -> None:
    data_dir = tmp_path / "vault"
    if state == "empty":
        data_dir.mkdir()
    with pytest.raises(VaultMissing, match="kein Datentresor"):
        open_vault(data_dir, PASSWORD)


def test_create_refuses_to_overwrite_an_existing_vault(vault_dir: Path) -> None:
    before = file_hashes(vault_dir)
    with pytest.raises(VaultError, match="bereits einen Datentresor"):
        create_vault(vault_dir, NEW_PASSWORD, kdf=KdfParams.for_tests())
    assert file_hashes(vault_dir) == before
    with open_vault(vault_dir, PASSWORD) as vault:
        assert read_probe(vault) == list(NAMES)


@pytest.mark.parametrize("password", ["", "kurz", "123456789"])
def test_create_refuses_a_password_shorter_than_ten_characters(
    tmp_path: Path, password: str
) -> None:
    with pytest.raises(ValidationError, match="mindestens 10 Zeichen") as info:
        create_vault(tmp_path / "vault", password, kdf=KdfParams.for_tests())
    assert info.value.field == "password"
    assert not (tmp_path / "vault").exists()


def test_new_passwords_follow_the_same_rule(vault_dir: Path) -> None:
    before = file_hashes(vault_dir)
    with open_vault(vault_dir, PASSWORD) as vault, pytest.raises(ValidationError):
        vault.change_password(PASSWORD, "kurz")
    with pytest.raises(ValidationError):
        open_with_recovery_code(vault_dir, "0" * 26, "kurz")
    assert file_hashes(vault_dir)[HEADER_FILE] == before[HEADER_FILE]


def test_an_interrupted_creation_does_not_block_a_new_start(tmp_path: Path) -> None:
    # A crash after the database but before the header leaves an unreadable database behind.
    data_dir = tmp_path / "vault"
    data_dir.mkdir()
    (data_dir / "vault.db").write_bytes(b"\x00" * 4096)
    with pytest.raises(VaultMissing):
        open_vault(data_dir, PASSWORD)

    vault, _ = create_vault(data_dir, PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        write_probe(vault, NAME)
    with open_vault(data_dir, PASSWORD) as reopened:
        assert read_probe(reopened) == [NAME]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_database_files_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "vault"
    vault, _ = create_vault(data_dir, PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        write_probe(vault, NAME)
        for path in data_dir.iterdir():
            if path.name.startswith("vault.db"):
                assert path.stat().st_mode & 0o077 == 0, path.name


def test_sql_errors_do_not_quote_client_data(tmp_path: Path) -> None:
    vault, _ = create_vault(tmp_path / "vault", PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        write_probe(vault, NAME)
        with pytest.raises(Exception) as info, vault.writing() as session:
            session.execute(text("INSERT INTO no_such_table VALUES (:name)"), {"name": NAME})
        assert NAME not in str(info.value)
