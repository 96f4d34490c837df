"""The benchmark-only switches of the vault (plain SQLite, cipher_memory_security) are out of
reach of the app: nothing in kimdesk sets them, and a vault made by the app is encrypted."""

from __future__ import annotations

from pathlib import Path

import kimdesk
from kimdesk.vault import Vault, store


def test_no_module_of_the_app_touches_the_benchmark_switches() -> None:
    package = Path(kimdesk.__file__).parent
    users = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                   if "_BENCHMARK_" in path.read_text(encoding="utf-8"))
    assert users == ["vault/store.py"]
    assert store._BENCHMARK_PLAIN_SQLITE is False
    assert store._BENCHMARK_MEMORY_SECURITY is False


def test_a_vault_of_the_app_is_encrypted(vault: Vault) -> None:
    with vault.writing() as session:
        session.connection().exec_driver_sql("CREATE TABLE probe (x)")
    vault.close()
    header = (vault.data_dir / store.DB_FILE).read_bytes()[:16]
    assert header != b"SQLite format 3\x00"  # a plain SQLite file starts so
