"""The offline lease: a laptop that has not reached the county server for long warns, then
locks until it syncs again or county IT gives a one-time code (DESIGN.md, "Offline lease").

The days count from the last contact with the server (or the last accepted code). A device
that was never enrolled has no lease.

Every way into a vault checks it: the app shows its lease screen after the unlock
(``kimdesk.ui.main_window``), and every command line opener (``kimdesk.cli_toolkit``) refuses
with :class:`OfflineLocked`, except the two ways out: ``kimdesk sync`` and ``kimdesk
freischalten CODE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kimdesk.casework.context import Context
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.models import SyncDevice
from kimdesk.sync import lease
from kimdesk.vault import Vault


class OfflineLocked(KimdeskError):
    """The offline lease has run out: the vault opens only after a sync or with a code."""


@dataclass(frozen=True)
class LeaseState:
    enrolled: bool
    days_offline: int = 0
    warn_days: int = 30
    lock_days: int = 60
    last_sync_at: datetime | None = None

    @property
    def warning(self) -> bool:
        return self.enrolled and self.warn_days <= self.days_offline < self.lock_days

    @property
    def locked(self) -> bool:
        return self.enrolled and self.days_offline >= self.lock_days

    @property
    def message(self) -> str:
        if self.locked:
            return (f"Dieses Gerät war seit {self.days_offline} Tagen nicht mit dem Kreis-Server "
                    "verbunden. Bitte synchronisieren oder den Freischaltcode der Kreis-IT "
                    "eingeben.")
        if self.warning:
            left = self.lock_days - self.days_offline
            return (f"Seit {self.days_offline} Tagen nicht synchronisiert. In {left} Tagen "
                    "sperrt sich KIMdesk, bis wieder synchronisiert wurde.")
        return ""


def lease_state(ctx: Context, now: datetime | None = None) -> LeaseState:
    return vault_lease_state(ctx.vault, now)


def vault_lease_state(vault: Vault, now: datetime | None = None) -> LeaseState:
    """The lease of an open vault (for openers that have no context yet)."""
    now = now or datetime.now(UTC)
    with vault.reading() as session:
        device = session.get(SyncDevice, 1)
        if device is None:
            return LeaseState(enrolled=False)
        anchor = max(d for d in (device.last_contact_at, device.lease_unlocked_at) if d)
        return LeaseState(enrolled=True, days_offline=max(0, (now - anchor).days),
                          warn_days=device.lease_warn_days, lock_days=device.lease_lock_days,
                          last_sync_at=device.last_sync_at)


def require_lease(vault: Vault, now: datetime | None = None) -> None:
    """Raise :class:`OfflineLocked`, saying what to do, if the lease locks this vault."""
    state = vault_lease_state(vault, now)
    if not state.locked:
        return
    with vault.reading() as session:
        device = session.get(SyncDevice, 1)
        device_id = device.device_id[:8] if device is not None else ""
    raise OfflineLocked(
        f"Dieses Gerät war seit {state.days_offline} Tagen nicht mit dem Kreis-Server "
        "verbunden und ist gesperrt. Bitte im Netz des Kreises oder über VPN „kimdesk sync“ "
        "ausführen oder bei der Kreis-IT einen Freischaltcode erfragen (Geräte-ID "
        f"{device_id}) und „kimdesk freischalten CODE“ eingeben.")


def unlock_with_code(ctx: Context, code: str, now: datetime | None = None) -> None:
    """Accept a one-time code from county IT; it restarts the lease. Each code works once."""
    with ctx.vault.writing() as session:
        device = session.get(SyncDevice, 1)
        if device is None:
            raise ValidationError("Dieses Gerät ist nicht beim Kreis-Server angemeldet.", "code")
        counter = lease.parse_and_verify(device.lease_secret, device.device_id, code,
                                         device.lease_counter_used)
        if counter is None:
            raise ValidationError("Der Freischaltcode ist nicht gültig oder wurde schon "
                                  "verwendet.", "code")
        device.lease_counter_used = counter
        device.lease_unlocked_at = now or datetime.now(UTC)
