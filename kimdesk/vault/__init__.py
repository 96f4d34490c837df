"""The encrypted local store: keys, SQLCipher engine, attachments, migrations.

Nothing outside this package handles the vault's own keys.
"""

from __future__ import annotations

from kimdesk.vault.errors import (
    VaultCorrupted,
    VaultError,
    VaultLocked,
    VaultMissing,
    WrongPassword,
)
from kimdesk.vault.keys import KdfParams
from kimdesk.vault.store import Vault, create_vault, open_vault

__all__ = [
    "KdfParams",
    "Vault",
    "VaultCorrupted",
    "VaultError",
    "VaultLocked",
    "VaultMissing",
    "WrongPassword",
    "create_vault",
    "open_vault",
]
