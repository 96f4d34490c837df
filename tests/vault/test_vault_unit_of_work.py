"""Many use cases in one transaction: nested writing() is a savepoint of the outer one."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimdesk.vault import KdfParams, create_vault, open_vault
from tests.vault.support import PASSWORD, read_probe, write_probe


def test_nested_writes_commit_once_with_the_outer_transaction(tmp_path: Path) -> None:
    vault, _ = create_vault(tmp_path / "vault", PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        write_probe(vault, "Olena")
        with vault.writing():
            write_probe(vault, "Piotr")
            # Reads inside the unit of work see what it wrote so far.
            assert read_probe(vault) == ["Olena", "Piotr"]
        vault.close()
        with open_vault(tmp_path / "vault", PASSWORD) as reopened:
            assert read_probe(reopened) == ["Olena", "Piotr"]


def test_a_failed_nested_write_rolls_back_only_itself(tmp_path: Path) -> None:
    vault, _ = create_vault(tmp_path / "vault", PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        write_probe(vault, "Olena")
        with vault.writing():
            write_probe(vault, "Piotr")
            with pytest.raises(RuntimeError), vault.writing():
                write_probe(vault, "Half")
                raise RuntimeError("use case refused")
            write_probe(vault, "Ayşe")
        assert read_probe(vault) == ["Olena", "Piotr", "Ayşe"]


def test_an_error_in_the_outer_transaction_discards_everything(tmp_path: Path) -> None:
    vault, _ = create_vault(tmp_path / "vault", PASSWORD, kdf=KdfParams.for_tests())
    with vault:
        write_probe(vault, "Olena")
        with pytest.raises(RuntimeError), vault.writing():
            write_probe(vault, "Piotr")
            raise RuntimeError("crash in the middle")
        assert read_probe(vault) == ["Olena"]
