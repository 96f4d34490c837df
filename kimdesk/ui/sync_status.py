"""Sync in the desktop: the background sync controller, its status-bar widget, and the offline
lease (banner while it warns, a screen while it locks).

Thread rule: a sync runs on a pool worker through ``run_in_background``; the worker opens its
own HTTP connection, never touches a widget, and reports progress through a queued signal.
A lock of the vault discards a running sync: the worker stops at its next step (a closed vault
raises VaultError, which is reported quietly) and the sync protocol loses nothing.

On a laptop with a Kreis-Tresor enrolled with the server (team ``kreis``), the same worker syncs
it right after the team vault; the status shows both ("… · Kreis: …"). A failure of the county
sync never hides a successful team sync. When county IT revoked the laptop's ``kreis`` device,
that sync wipes the Kreis-Tresor (the team vault stays): the session forgets it
(``AppState.remove_revoked_county``) and the status says so for the rest of the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

import httpx
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kimdesk import APP_NAME
from kimdesk.errors import KimdeskError, ValidationError
from kimdesk.sync import transport
from kimdesk.sync.client import (
    DeviceRevoked,
    NotEnrolled,
    ServerUnreachable,
    SyncClient,
    SyncReport,
    enrolled_device,
    is_enrolled,
    quarantine_counts,
)
from kimdesk.sync.offline import LeaseState, lease_state, unlock_with_code
from kimdesk.ui.fields import FieldErrors
from kimdesk.ui.operations import run_in_background
from kimdesk.ui.state import AppState
from kimdesk.vault import VaultError

# How often the app syncs on its own while the vault is open.
SYNC_INTERVAL_MINUTES = 10
SHORTCUT = "Ctrl+Shift+S"

# Opens the connection to the county server for one sync: (server URL) → httpx client.
ConnectionFactory = Callable[[str], AbstractContextManager[httpx.Client]]

# Tones of the status text: its colour in the status bar.
NORMAL, BUSY, WARNING, ERROR = "normal", "busy", "warning", "error"
# This device is not enrolled with the county server (not: the user is not logged in).
NOT_ENROLLED = "Gerät nicht beim Kreis-Server eingerichtet – kein Abgleich"
# The county revoked this laptop's Kreis-Tresor device and its sync wiped the Kreis-Tresor.
COUNTY_REMOVED = "Kreis: gesperrt, Kreis-Tresor entfernt"
_COLOURS = {NORMAL: "", BUSY: "", WARNING: "color: #a63a00; font-weight: bold;",
            ERROR: "color: #b71c1c;"}


@contextmanager
def county_connection(server_url: str) -> Iterator[httpx.Client]:
    """The production connection: the device's server, TLS checked against the county CA of
    the installation profile."""
    url, ca_certificate = transport.server_settings(server_url)
    http = transport.connect(url, ca_certificate)
    try:
        yield http
    finally:
        http.close()


def when(moment: datetime, *, with_time: bool = True) -> str:
    """"heute 14:32", "gestern 09:05" or "20.11.2026" in local time."""
    local = moment.astimezone()
    today = datetime.now().astimezone().date()
    if local.date() == today:
        return f"heute {local:%H:%M}"
    if local.date() == today - timedelta(days=1):
        return f"gestern {local:%H:%M}"
    return f"{local:%d.%m.%Y %H:%M}" if with_time else f"{local:%d.%m.%Y}"


class _Discarded(Exception):
    """Raised in the worker when the vault was locked meanwhile: the sync stops."""


class SyncController(QObject):
    """Syncs in the background while the vault is open: at unlock, every
    ``SYNC_INTERVAL_MINUTES`` and on demand. Owned by the main window."""

    status_changed = Signal(str, str)  # text, tone
    lease_checked = Signal(object)  # LeaseState, after unlock and after every sync
    synced = Signal(object)  # SyncReport of a successful sync
    sync_failed = Signal(str)  # the German reason, as the status bar shows it
    device_revoked = Signal()  # the county revoked this device; its vault is gone
    # (received changes set aside, of them not yet reported to the county server)
    quarantine_changed = Signal(int, int)
    county_synced = Signal(object)  # SyncReport of the Kreis-Tresor's sync after the team's
    _progressed = Signal(int, str)  # from the worker: generation, progress text

    def __init__(self, state: AppState, connection: ConnectionFactory | None = None,
                 parent: QObject | None = None, *,
                 interval_minutes: float = SYNC_INTERVAL_MINUTES) -> None:
        super().__init__(parent)
        self._state = state
        self._connection = connection or county_connection
        self._running = False
        # Counts locks: a sync started under an older generation is discarded.
        self._generation = 0
        self.text, self.tone = "", NORMAL
        self._idle = ("", NORMAL)  # the last text that was not progress
        self.county_text = ""  # how the last sync of the Kreis-Tresor went ("" without one)
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, int(interval_minutes * 60_000)))
        self.timer.timeout.connect(self.sync_now)
        # The first sync after unlock runs once the event loop turns: the window is wired.
        self._kickoff = QTimer(self, singleShot=True, interval=0)
        self._kickoff.timeout.connect(self._first_sync)
        self._progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        state.hub.vault_unlocked.connect(self.start)
        state.hub.vault_locked.connect(self.stop)
        if state.unlocked:
            self.start()

    @property
    def running(self) -> bool:
        return self._running

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.timer.start()
        self._kickoff.start()

    def stop(self) -> None:
        """The vault was locked: no sync until it is open again; a running one is dropped."""
        self.timer.stop()
        self._kickoff.stop()
        self._generation += 1
        self.quarantine_changed.emit(0, 0)  # nothing of the vault shows while it is locked
        if self._running:
            self._running = False
            self._show(*self._idle)

    def _first_sync(self) -> None:
        self.refresh()
        self.sync_now()

    # --- status ---------------------------------------------------------------------------

    def _show(self, text: str, tone: str) -> None:
        self.text, self.tone = text, tone
        if tone != BUSY:
            self._idle = (text, tone)
        self.status_changed.emit(text, tone)

    def _lease(self) -> LeaseState | None:
        if not self._state.unlocked:
            return None
        try:
            lease = lease_state(self._state.ctx)
        except VaultError:
            return None
        self.lease_checked.emit(lease)
        return lease

    def _with_lease(self, text: str, tone: str) -> None:
        """Show ``text``; orange with the days offline while the lease warns or locks."""
        lease = self._lease()
        if lease is not None and (lease.warning or lease.locked):
            text = f"{text} · {lease.days_offline} Tage offline"
            tone = WARNING
        self._show(text, tone)

    def refresh(self) -> None:
        """The status from what the vault knows (after unlock, before the first sync)."""
        if not self._state.unlocked:
            return
        try:
            enrolled = is_enrolled(self._state.ctx)
        except VaultError:
            return
        if not enrolled:
            self._show(NOT_ENROLLED, NORMAL)
            return
        self._with_lease(self._last_sync_text(), NORMAL)
        self._count_quarantine()

    def _count_quarantine(self) -> None:
        if not self._state.unlocked:
            return
        try:
            total, unreported = quarantine_counts(self._state.ctx)
        except VaultError:
            return
        self.quarantine_changed.emit(total, unreported)

    def _last_sync_text(self) -> str:
        lease = lease_state(self._state.ctx)
        if lease.last_sync_at is None:
            return "Noch nicht synchronisiert"
        return f"Synchronisiert: {when(lease.last_sync_at)}"

    # --- one sync -------------------------------------------------------------------------

    def sync_now(self) -> bool:
        """Start a sync in the background; False if none can run now (locked, not enrolled,
        one already running)."""
        if self._running or not self._state.unlocked:
            return False
        ctx = self._state.ctx
        try:
            enrolled = is_enrolled(ctx)
        except VaultError:
            return False
        if not enrolled:
            self._show(NOT_ENROLLED, NORMAL)
            return False
        generation = self._generation
        connection = self._connection
        county_ctx = self._state.county_ctx
        try:
            county_enrolled = county_ctx is not None and is_enrolled(county_ctx)
        except VaultError:
            county_enrolled = False

        def progress(text: str) -> None:  # on the worker
            if self._generation != generation:
                raise _Discarded
            self._progressed.emit(generation, text)

        def county_progress(text: str) -> None:  # on the worker
            progress(f"Kreis: {text}")

        def work() -> tuple[SyncReport, SyncReport | Exception | None]:
            # On the worker: its own connections, no widgets.
            device = enrolled_device(ctx)
            with connection(device.server_url) as http:
                report = SyncClient(ctx, http, progress=progress).run()
            if county_ctx is None:
                return report, None
            if not county_enrolled:  # a Kreis-Tresor not (yet) enrolled in team kreis
                return report, NotEnrolled("Der Kreis-Tresor ist nicht eingerichtet.")
            try:
                county_device = enrolled_device(county_ctx)
                with connection(county_device.server_url) as http:
                    # No statistics: the Kreis-Tresor has no cases to count.
                    county = SyncClient(county_ctx, http, progress=county_progress,
                                        statistics=False).run()
            except (VaultError, _Discarded):
                raise  # locked meanwhile
            except Exception as exc:  # the team's sync stands; the status says what failed
                return report, exc
            return report, county

        self._running = True
        self._show("Synchronisiere …", BUSY)
        run_in_background(self, work, lambda reports: self._succeeded(generation, *reports),
                          lambda exc: self._failed(generation, exc))
        return True

    def _on_progress(self, generation: int, text: str) -> None:
        if generation == self._generation and self._running:
            self._show(f"Synchronisiere … {text}", BUSY)

    def _succeeded(self, generation: int, report: SyncReport,
                   county: SyncReport | Exception | None = None) -> None:
        if isinstance(county, DeviceRevoked):
            # The Kreis-Tresor is already wiped (also if the vault was locked meanwhile).
            self._state.remove_revoked_county()
        if generation != self._generation:
            return  # locked meanwhile: the next unlock shows the state afresh
        self._running = False
        self.county_text = county_status(county)
        if county is None and self._state.county_revoked:
            self.county_text = COUNTY_REMOVED  # said on until the app ends
        suffix = f" · {self.county_text}" if self.county_text else ""
        if report.state == "pending":
            self._show("Angemeldet – wartet auf Bestätigung durch die Koordination" + suffix,
                       WARNING)
        else:
            finished = report.finished_at or datetime.now().astimezone()
            tone = (WARNING if isinstance(county, DeviceRevoked)
                    else ERROR if isinstance(county, Exception)
                    and not isinstance(county, NotEnrolled) else NORMAL)
            self._with_lease(f"Synchronisiert: {when(finished)}{suffix}", tone)
        self._count_quarantine()
        if report.conflicts:
            self._state.hub.status_message.emit(
                f"Abgleich: {report.conflicts} gleichzeitige Änderung(en) – bitte unter "
                "Datenschutz › Abgleich prüfen.")
        self.synced.emit(report)
        if isinstance(county, SyncReport):
            self.county_synced.emit(county)

    def _failed(self, generation: int, exc: Exception) -> None:
        if isinstance(exc, DeviceRevoked):
            self._running = False
            self._generation += 1
            self.timer.stop()
            self.device_revoked.emit()
            return
        if generation != self._generation or isinstance(exc, VaultError | _Discarded):
            return  # the vault was locked under the sync: nothing to report
        self._running = False
        if isinstance(exc, ServerUnreachable):
            lease = lease_state(self._state.ctx)
            last = (when(lease.last_sync_at, with_time=False) if lease.last_sync_at
                    else "noch keiner")
            text, tone = f"Kreis-Server nicht erreichbar – letzter Abgleich: {last}", NORMAL
        elif isinstance(exc, NotEnrolled):
            text, tone = NOT_ENROLLED, NORMAL
        elif isinstance(exc, KimdeskError):
            text, tone = f"Abgleich nicht möglich: {exc.message}", ERROR
        else:
            # Nothing is lost either way: the next sync continues where this one stopped.
            text, tone = (f"Abgleich fehlgeschlagen ({type(exc).__name__}); der nächste "
                          "Versuch setzt dort fort.", ERROR)
        self._with_lease(text, tone)
        self.sync_failed.emit(self.text)


def county_status(county: SyncReport | Exception | None) -> str:
    """The Kreis-Tresor's part of the status text ("" on a laptop without one)."""
    if county is None:
        return ""
    if isinstance(county, SyncReport):
        if county.state == "pending":
            return "Kreis: wartet auf Bestätigung"
        return "Kreis: synchronisiert"
    if isinstance(county, DeviceRevoked):
        return COUNTY_REMOVED
    if isinstance(county, ServerUnreachable):
        return "Kreis: Server nicht erreichbar"
    if isinstance(county, NotEnrolled):
        return "Kreis: nicht eingerichtet"
    if isinstance(county, KimdeskError):
        return f"Kreis: Abgleich nicht möglich: {county.message}"
    return f"Kreis: Abgleich fehlgeschlagen ({type(county).__name__})"


def quarantine_text(total: int) -> str:
    return f"{total} {'Änderung' if total == 1 else 'Änderungen'} in Quarantäne"


def quarantine_tooltip(total: int, unreported: int) -> str:
    """What the quarantine count means, for the person at the laptop."""
    what = ("Eine vom Kreis-Server empfangene Änderung wurde" if total == 1 else
            f"{total} vom Kreis-Server empfangene Änderungen wurden")
    lines = [
        f"{what} zurückgehalten (Quarantäne) und nicht übernommen: nicht von einem "
        "zertifizierten Gerät des Teams signiert, nicht zu entschlüsseln oder nicht in der Form "
        "einer Änderung.",
        "Ihre Daten bleiben unverändert, der Abgleich läuft weiter. Sie müssen nichts tun.",
        "Die Kreis-IT sieht diese Änderungen mit Absendergerät und Grund "
        "(server-admin quarantine) und klärt sie.",
    ]
    if unreported:
        lines.append(f"Noch nicht gemeldet: {unreported} – das geschieht beim nächsten Abgleich.")
    return "\n".join(lines)


class SyncStatusWidget(QWidget):
    """The status-bar part: what the last sync did, how many received changes are quarantined
    (only when there are any), and "Jetzt synchronisieren"."""

    def __init__(self, controller: SyncController, state: AppState,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self.label = QLabel(objectName="sync_status")
        # Right-aligned: a label wider than its text (kept from a longer progress text) leaves
        # its gap on the left, not between the text and the quarantine count beside it.
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.quarantine = QLabel(objectName="sync_quarantine")
        self.quarantine.setStyleSheet(_COLOURS[WARNING])
        self.quarantine.hide()
        self.button = QToolButton(objectName="sync_now")
        self.button.setText("Jetzt synchronisieren")
        self.button.setToolTip("Jetzt mit dem Kreis-Server abgleichen (Strg+Umschalt+S)")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)  # text and button stay together at the right
        row.addWidget(self.label)
        row.addWidget(self.quarantine)
        row.addWidget(self.button)
        self.shortcut = QShortcut(QKeySequence(SHORTCUT), self)
        self.shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.shortcut.activated.connect(controller.sync_now)
        self.button.clicked.connect(controller.sync_now)
        controller.status_changed.connect(self._show)
        controller.quarantine_changed.connect(self._show_quarantine)
        self._show(controller.text, controller.tone)
        # Locked, nothing can sync: the button would do nothing, so it is not offered.
        self.button.setVisible(state.unlocked)
        state.hub.vault_locked.connect(self.button.hide)
        state.hub.vault_unlocked.connect(self.button.show)

    def _show(self, text: str, tone: str) -> None:
        # Style first: a bold text set before its style would keep the narrower width.
        self.label.setStyleSheet(_COLOURS.get(tone, ""))
        self.label.setText(text)
        self.label.setToolTip(text)
        # Room for the whole text, but never so much that the window outgrows 1366 px.
        self.label.setMinimumWidth(min(self.label.sizeHint().width(), 560))
        # The status bar lays its permanent widgets out again only when told: without this, a
        # text that grew while a message showed there stayed cut off.
        self.updateGeometry()
        self.button.setEnabled(tone != BUSY)

    def _show_quarantine(self, total: int, unreported: int) -> None:
        if not total:
            self.quarantine.hide()
            return
        text = quarantine_text(total)
        self.quarantine.setText(f"· {text}")
        self.quarantine.setToolTip(quarantine_tooltip(total, unreported))
        self.quarantine.setAccessibleName(text)
        self.quarantine.show()


class LeaseBanner(QLabel):
    """A band above the workspace while the offline lease warns; never blocks work."""

    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="lease_banner")
        self.setWordWrap(True)
        self.setStyleSheet("QLabel#lease_banner { background: #ffe0b2; color: #6d3200; "
                           "border-bottom: 1px solid #e65100; padding: 6px 10px; }")
        self.hide()
        controller.lease_checked.connect(self.show_lease)

    def show_lease(self, lease: LeaseState) -> None:
        if lease.warning:
            self.setText(f"<b>Bitte bald synchronisieren.</b> {lease.message}")
            self.show()
        else:
            self.hide()


class LeaseScreen(QWidget):
    """Instead of the workspace while the offline lease locks: sync now, or the one-time
    code that county IT reads out on the phone."""

    released = Signal()  # the lease no longer locks: the workspace may open

    def __init__(self, state: AppState, controller: SyncController,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._controller = controller
        self.title = QLabel(f"<h2>{APP_NAME} ist vorübergehend gesperrt</h2>")
        self.explanation = QLabel(objectName="lease_explanation")
        self.explanation.setWordWrap(True)
        self.sync_button = QPushButton("Jetzt synchronisieren", objectName="lease_sync")
        self.sync_state = QLabel(objectName="lease_sync_state")
        self.sync_state.setWordWrap(True)
        self.code = QLineEdit(objectName="lease_code")
        self.code.setPlaceholderText("z. B. 1-ABCD-EFGH-IJKL-MNOP")
        self.unlock_button = QPushButton("Freischalten", objectName="lease_unlock")
        self.message = QLabel(objectName="lease_message")
        self.message.setWordWrap(True)
        self.errors = FieldErrors(self.message, {"code": self.code})

        card = QFrame(objectName="lease_card")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setFixedWidth(560)
        inner = QVBoxLayout(card)
        inner.addWidget(self.title)
        inner.addWidget(self.explanation)
        inner.addSpacing(8)
        inner.addWidget(QLabel("<b>1. Mit dem Kreis-Server verbinden</b> (im Netz des Kreises "
                               "oder über VPN):"))
        inner.addWidget(self.sync_button, alignment=Qt.AlignmentFlag.AlignLeft)
        inner.addWidget(self.sync_state)
        inner.addSpacing(8)
        self.code_hint = QLabel(objectName="lease_code_hint")
        self.code_hint.setWordWrap(True)
        self.code_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner.addWidget(self.code_hint)
        code_row = QHBoxLayout()
        code_row.addWidget(self.code, 1)
        code_row.addWidget(self.unlock_button)
        inner.addLayout(code_row)
        inner.addWidget(self.message)
        # Centred between stretches rather than by alignment: so the wrapped texts get their
        # height for the card's real width and no line is clipped.
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(card)
        centre.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(centre)
        outer.addStretch(2)

        self.sync_button.clicked.connect(self._sync)
        self.unlock_button.clicked.connect(self._unlock)
        self.code.returnPressed.connect(self._unlock)
        controller.status_changed.connect(self._sync_status)
        controller.lease_checked.connect(self._lease_checked)

    def prepare(self, lease: LeaseState) -> None:
        self.explanation.setText(
            f"{lease.message}<br><br>So bleibt ein verlorener oder gestohlener Laptop nicht "
            "dauerhaft nutzbar. Ihre Daten sind vollständig erhalten; nach dem Abgleich oder "
            "mit dem Code arbeiten Sie sofort weiter.")
        # County IT finds the device by (the start of) its id: `server-admin lease-code ID`.
        device_id = enrolled_device(self._state.ctx).device_id[:8]
        self.code_hint.setText(
            "<b>2. Oder den Freischaltcode eingeben</b>, den die Kreis-IT Ihnen am Telefon "
            f"nennt. Sie fragt nach der Geräte-ID: <b>{device_id}</b>")
        self.code.clear()
        self.errors.clear()
        self.sync_state.clear()
        self.code.setFocus()

    def _sync(self) -> None:
        self._controller.sync_now()

    def _sync_status(self, text: str, tone: str) -> None:
        if self.isVisible():
            self.sync_state.setText(text)
            self.sync_state.setStyleSheet(_COLOURS.get(tone, ""))
            self.sync_button.setEnabled(tone != BUSY)

    def _lease_checked(self, lease: LeaseState) -> None:
        if self.isVisible() and not lease.locked:
            self.released.emit()

    def _unlock(self) -> None:
        if not self._state.unlocked:
            return
        try:
            unlock_with_code(self._state.ctx, self.code.text())
        except ValidationError as exc:
            self.errors.show(exc.message, "code")
            self.code.selectAll()
            return
        self.errors.clear()
        self.code.clear()
        self.released.emit()
        self._controller.refresh()  # the status bar no longer counts the days offline
