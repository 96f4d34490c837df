"""The app's session: which data directory, whether the vault is unlocked, the use-case context.

Screens ask this object for the context each time they act, never keep their own: after an
auto-lock the old vault object is gone and a new one replaces it on unlock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for
from kimdesk.reference import Reference, load_reference
from kimdesk.ui.change_areas import areas_for
from kimdesk.ui.hub import Hub
from kimdesk.vault import Vault, VaultError, open_vault
from kimdesk.vault.store import vault_exists


class AppState:
    def __init__(self, data_dir: Path, hub: Hub, *, reference: Reference | None = None,
                 clock: Callable[[], date] = date.today) -> None:
        self.data_dir = Path(data_dir)
        self.hub = hub
        self.reference = reference or load_reference()
        self.clock = clock
        self._vault: Vault | None = None
        self._ctx: Context | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def vault_exists(self) -> bool:
        return vault_exists(self.data_dir)

    @property
    def unlocked(self) -> bool:
        return self._vault is not None and self._vault.is_open

    @property
    def ctx(self) -> Context:
        if self._ctx is None or not self.unlocked:
            raise VaultError("Der Datentresor ist gesperrt.")
        return self._ctx

    def today(self) -> date:
        return self.clock()

    def open_vault(self, password: str) -> Vault:
        """Open (not yet attach) the vault; safe off the GUI thread. Raises WrongPassword,
        VaultLocked or VaultCorrupted with German text."""
        return open_vault(self.data_dir, password)

    def unlock(self, password: str) -> None:
        self.attach(self.open_vault(password))

    def attach(self, vault: Vault) -> None:
        """Use an already opened vault (first start creates one and hands it in)."""
        ctx = context_for(vault, self.reference)
        ctx.clock = self.clock
        self._vault, self._ctx = vault, ctx
        self._unsubscribe = vault.subscribe(self._vault_changed)
        self.hub.vault_unlocked.emit()

    def _vault_changed(self, tables: frozenset[str]) -> None:
        """The one place where the vault's reports become hub signals. Runs on the thread
        that committed; Qt queues the signal to the screens' (GUI) thread."""
        changed = areas_for(tables)
        if changed:
            self.hub.data_changed.emit(changed)

    def lock(self) -> None:
        """Drop the key; the widgets keep what was typed, in memory only."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._vault is not None:
            self._vault.close()
        self._vault = None
        self._ctx = None
        self.hub.vault_locked.emit()
