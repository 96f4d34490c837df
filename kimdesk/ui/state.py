"""The app's session: which data directory, whether the vault is unlocked, the use-case context.

Screens ask this object for the context each time they act, never keep their own: after an
auto-lock the old vault object is gone and a new one replaces it on unlock.

A coordinator's laptop may hold a second vault, the Kreis-Tresor (the county scope of
Koordination, ``kimdesk/casework/county.py``). It opens with the team vault (its secret is kept
inside the team vault: one password) and closes with it; its commits reach the hub as changes of
``COUNTY`` and ``COORDINATION``. ``AppState.county`` is the same session seen through the county
context, so the Koordination tabs show the county's data through the same widgets. When county IT
revokes the Kreis-Tresor's device, the sync wipes it and ``remove_revoked_county`` forgets it
for the session (``hub.county_removed``); the team vault stays as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from kimdesk.casework import county as county_vaults
from kimdesk.casework.context import Context
from kimdesk.casework.profile import context_for, load_profile
from kimdesk.reference import Reference, load_reference
from kimdesk.ui import hub as areas
from kimdesk.ui.change_areas import areas_for
from kimdesk.ui.hub import Hub
from kimdesk.vault import Vault, VaultError, open_vault
from kimdesk.vault.store import vault_exists

COORDINATOR = "coordinator"  # the profile's role (models.enums.Role.COORDINATOR)


class AppState:
    # The team's session; ``CountyScope`` is the county's (the Kreis-Tresor).
    is_county = False

    def __init__(self, data_dir: Path, hub: Hub, *, reference: Reference | None = None,
                 clock: Callable[[], date] = date.today) -> None:
        self.data_dir = Path(data_dir)
        self.hub = hub
        self.reference = reference or load_reference()
        self.clock = clock
        self._vault: Vault | None = None
        self._ctx: Context | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._county_ctx: Context | None = None
        self._county_unsubscribe: Callable[[], None] | None = None
        # The Kreis-Tresor opened on the worker together with the team vault (see open_vault).
        self._prepared: tuple[Vault, Context | None] | None = None
        self.county_failed = False  # the device has a Kreis-Tresor, but it did not open
        # County IT revoked this laptop's Kreis-Tresor in this session and the sync wiped it.
        self.county_revoked = False
        self.county = CountyScope(self)

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

    @property
    def county_ctx(self) -> Context | None:
        """The Kreis-Tresor's context while it is open (a coordinator's laptop that has one)."""
        if self._county_ctx is None or not self.unlocked or not self._county_ctx.vault.is_open:
            return None
        return self._county_ctx

    @property
    def has_county(self) -> bool:
        return self.county_ctx is not None

    @property
    def can_release(self) -> bool:
        """A coordinator of the team with an open Kreis-Tresor may pass team findings and
        Fallrekonstruktionen on to the Kreis ("An den Kreis weitergeben")."""
        if not self.has_county:
            return False
        return str(load_profile(self.ctx.vault).role) == COORDINATOR

    def open_vault(self, password: str) -> Vault:
        """Open (not yet attach) the vault, and the Kreis-Tresor with it where the device has
        one; safe off the GUI thread. Raises WrongPassword, VaultLocked or VaultCorrupted with
        German text."""
        vault = open_vault(self.data_dir, password)
        self._prepared = (vault, self._open_county(vault))
        return vault

    def _open_county(self, vault: Vault) -> Context | None:
        self.county_failed = False
        if not county_vaults.has_county_vault(self.data_dir):
            return None
        team_ctx = context_for(vault, self.reference)
        try:
            county_ctx = county_vaults.open_county_context(team_ctx, self.data_dir)
        except Exception:  # any failure of the Kreis-Tresor
            # The team's work goes on; Koordination shows no Kreis scope (the status bar says
            # why). Nothing of the error is shown or logged: its text may quote data.
            self.county_failed = True
            return None
        if county_ctx is not None:
            county_ctx.clock = self.clock
        return county_ctx

    def unlock(self, password: str) -> None:
        self.attach(self.open_vault(password))

    def attach(self, vault: Vault) -> None:
        """Use an already opened vault (first start creates one and hands it in)."""
        ctx = context_for(vault, self.reference)
        ctx.clock = self.clock
        prepared, self._prepared = self._prepared, None
        county_ctx = prepared[1] if prepared is not None and prepared[0] is vault \
            else self._open_county(vault)
        self._vault, self._ctx = vault, ctx
        self._unsubscribe = vault.subscribe(self._vault_changed)
        if county_ctx is not None:
            self._county_ctx = county_ctx
            self._county_unsubscribe = county_ctx.vault.subscribe(self._county_changed)
        self.hub.vault_unlocked.emit()
        if self.county_failed:
            self.hub.status_message.emit(
                "Der Kreis-Tresor konnte nicht geöffnet werden; Koordination zeigt nur das Team.")

    def _vault_changed(self, tables: frozenset[str]) -> None:
        """The one place where the vault's reports become hub signals. Runs on the thread
        that committed; Qt queues the signal to the screens' (GUI) thread."""
        changed = areas_for(tables)
        if changed:
            self.hub.data_changed.emit(changed)

    def _county_changed(self, tables: frozenset[str]) -> None:
        """A commit of the Kreis-Tresor: the Koordination tabs of either scope reload (a
        release also changes what the team's tabs show)."""
        if areas_for(tables):
            self.hub.data_changed.emit(frozenset({areas.COUNTY, areas.COORDINATION}))

    def _close_county(self) -> None:
        if self._county_unsubscribe is not None:
            self._county_unsubscribe()
            self._county_unsubscribe = None
        if self._county_ctx is not None:
            self._county_ctx.vault.close()
            self._county_ctx = None

    def remove_revoked_county(self) -> None:
        """County IT revoked this laptop's Kreis-Tresor device (team ``kreis``) and its sync
        wiped the Kreis-Tresor: forget it, remove what is left of its folder, and tell the
        screens (the Kreis scope goes, the team's tabs reload without releases) and the user.
        The team vault is not touched. GUI thread."""
        self._close_county()
        self.county_failed = False
        self.county_revoked = True
        county_vaults.remove_wiped_county_vault(self.data_dir)
        self.hub.county_removed.emit()
        self.hub.data_changed.emit(frozenset({areas.COUNTY, areas.COORDINATION}))
        # Short: it shares the status bar with the sync status at 1366 px.
        self.hub.status_message.emit(
            "Kreis-Tresor vom Kreis gesperrt und entfernt; Teamdaten bleiben.")

    def lock(self) -> None:
        """Drop the key; the widgets keep what was typed, in memory only."""
        self._close_county()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._vault is not None:
            self._vault.close()
        self._vault = None
        self._ctx = None
        self.hub.vault_locked.emit()


class CountyScope(AppState):
    """The session seen through the Kreis-Tresor: ``ctx`` is the county context, everything
    else (hub, reference, the day, locking) is the team session's. The Koordination tabs take
    it in place of the ``AppState`` to show and edit the county's data."""

    is_county = True

    def __init__(self, team: AppState) -> None:  # a view: no AppState.__init__
        self._team = team
        self.data_dir = team.data_dir
        self.hub = team.hub
        self.reference = team.reference
        self.clock = team.clock

    @property
    def team(self) -> AppState:
        return self._team

    @property
    def vault_exists(self) -> bool:
        return self._team.has_county

    @property
    def unlocked(self) -> bool:
        return self._team.county_ctx is not None

    @property
    def ctx(self) -> Context:
        county_ctx = self._team.county_ctx
        if county_ctx is None:
            raise VaultError("Der Kreis-Tresor ist gesperrt.")
        return county_ctx

    @property
    def county_ctx(self) -> Context | None:
        return self._team.county_ctx

    @property
    def has_county(self) -> bool:
        return self._team.has_county

    @property
    def can_release(self) -> bool:
        return False  # releases go from a team to the Kreis, never back

    def today(self) -> date:
        return self._team.today()

    def open_vault(self, password: str) -> Vault:
        return self._team.open_vault(password)

    def unlock(self, password: str) -> None:
        self._team.unlock(password)

    def attach(self, vault: Vault) -> None:
        self._team.attach(vault)

    def remove_revoked_county(self) -> None:
        self._team.remove_revoked_county()

    def lock(self) -> None:
        self._team.lock()
