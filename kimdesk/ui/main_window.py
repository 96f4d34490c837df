"""The main window: navigation, the screens, the status bar, auto-lock and closing safely.

At the start of the app (``ui.start``) the window is made with only its lock screen; the
workspace (every screen, the sync) is built right after the lock screen's first paint, while the
user types the password, or at the latest when the vault is unlocked (start time: issue 17).
Everyone else (tests) gets the whole window at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from kimdesk import APP_NAME, __version__, config
from kimdesk.casework.profile import load_profile
from kimdesk.ui.dialogs import discarded
from kimdesk.ui.lock_screen import LockScreen
from kimdesk.ui.state import AppState

if TYPE_CHECKING:
    from kimdesk.ui.case_screen import CaseScreen
    from kimdesk.ui.client_file import ClientFileScreen
    from kimdesk.ui.clients_screen import ClientsScreen
    from kimdesk.ui.coordination.screen import CoordinationScreen
    from kimdesk.ui.network_screen import NetworkScreen
    from kimdesk.ui.privacy_screen import PrivacyScreen
    from kimdesk.ui.stats_screen import StatsScreen
    from kimdesk.ui.sync_status import (
        ConnectionFactory,
        LeaseBanner,
        LeaseScreen,
        SyncController,
        SyncStatusWidget,
    )
    from kimdesk.ui.today_screen import TodayScreen

_USER_INPUT = {
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin,
}


class IdleWatcher(QObject):
    """Restarts a timer on every user input anywhere in the application."""

    def __init__(self, timer: QTimer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = timer

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _USER_INPUT and self._timer.isActive():
            self._timer.start()
        return False


class PageStack(QStackedWidget):
    """The screens, sized by the one shown: a plain stack asks for the largest minimum of
    all its screens, so one wide screen kept the whole window from fitting 1366×768."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()

    def hasHeightForWidth(self) -> bool:
        page = self.currentWidget()
        return page.hasHeightForWidth() if page is not None else False

    def heightForWidth(self, width: int) -> int:
        # Wrapped texts (e.g. the Statistik overview) get the lines they need at this width.
        page = self.currentWidget()
        return page.heightForWidth(width) if page is not None else -1


class MainWindow(QMainWindow):
    NAVIGATION = ("Heute", "Ratsuchende", "Netzwerk", "Datenschutz", "Statistik", "Koordination")

    today: TodayScreen
    clients: ClientsScreen
    network: NetworkScreen
    privacy: PrivacyScreen
    stats: StatsScreen
    coordination: CoordinationScreen
    client_file: ClientFileScreen
    case_screen: CaseScreen
    sync: SyncController
    lease_screen: LeaseScreen
    lease_banner: LeaseBanner
    sync_status: SyncStatusWidget
    navigation: QListWidget
    pages: PageStack
    page_scroll: QScrollArea

    def __init__(self, state: AppState, *,
                 auto_lock_minutes: int = config.DEFAULT_AUTO_LOCK_MINUTES,
                 sync_connection: ConnectionFactory | None = None,
                 defer_workspace: bool = False) -> None:
        super().__init__()
        self._state = state
        self._hidden_dialogs: list[QDialog] = []
        self._discard_confirmed = False
        self._focus_before_lock: QWidget | None = None
        self._sync_connection = sync_connection
        self._workspace_built = False
        self.setWindowTitle(APP_NAME)
        self.resize(1366, 768)

        self.lock_screen = LockScreen(state)
        self.root = QStackedWidget()
        self.root.addWidget(self.lock_screen)
        self.setCentralWidget(self.root)
        self.lock_state = QLabel(objectName="lock_state")
        if not defer_workspace:
            self.build_workspace()
        self.statusBar().addPermanentWidget(self.lock_state)
        self.statusBar().addPermanentWidget(QLabel(f"{APP_NAME} {__version__}"))

        self.idle_timer = QTimer(self, singleShot=True)
        self.idle_timer.setInterval(max(auto_lock_minutes, 1) * 60_000)
        self.idle_timer.timeout.connect(self.lock)
        self._idle_watcher = IdleWatcher(self.idle_timer, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._idle_watcher)

        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.lock)
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self._focus_search)
        # Strg+N: a new person from anywhere (Ratsuchende, "Neue Person …").
        QShortcut(QKeySequence("Ctrl+N"), self, activated=self._new_person)
        self.lock_screen.unlocked.connect(self._after_unlock)
        state.hub.vault_locked.connect(self._show_locked)
        state.hub.client_opened.connect(self.open_client)
        state.hub.case_opened.connect(self.open_case)
        state.hub.status_message.connect(self._show_status)
        self._show_locked() if not state.unlocked else self._after_unlock()

    def build_workspace(self) -> None:
        """Every screen, the navigation and the sync (once; see the module docstring)."""
        if self._workspace_built:
            return
        self._workspace_built = True
        from kimdesk.ui.case_screen import CaseScreen
        from kimdesk.ui.client_file import ClientFileScreen
        from kimdesk.ui.clients_screen import ClientsScreen
        from kimdesk.ui.coordination.screen import CoordinationScreen
        from kimdesk.ui.network_screen import NetworkScreen
        from kimdesk.ui.privacy_screen import PrivacyScreen
        from kimdesk.ui.stats_screen import StatsScreen
        from kimdesk.ui.sync_status import (
            LeaseBanner,
            LeaseScreen,
            SyncController,
            SyncStatusWidget,
        )
        from kimdesk.ui.today_screen import TodayScreen

        state, sync_connection = self._state, self._sync_connection
        self.today = TodayScreen(state)
        self.clients = ClientsScreen(state)
        self.network = NetworkScreen(state)
        self.privacy = PrivacyScreen(state)
        self.stats = StatsScreen(state)
        self.coordination = CoordinationScreen(state)
        self.client_file = ClientFileScreen(state)
        self.case_screen = CaseScreen(state)
        # Background sync with the county server; tests hand in their own connection.
        self.sync = SyncController(state, sync_connection, self)
        self.lease_screen = LeaseScreen(state, self.sync)
        self.lease_banner = LeaseBanner(self.sync)

        self.navigation = QListWidget(objectName="navigation")
        for label in self.NAVIGATION:
            self.navigation.addItem(QListWidgetItem(label))
        self.navigation.setStyleSheet(
            "QListWidget#navigation { font-size: 11pt; }"
            "QListWidget#navigation::item { padding: 10px 8px; }")
        # As wide as its longest entry needs (a fixed 170 px took a fifth of the window at
        # 150 % on 1366×768).
        font = self.navigation.font()
        font.setPointSizeF(11)
        widest = max(QFontMetrics(font).horizontalAdvance(label) for label in self.NAVIGATION)
        self.navigation.setFixedWidth(widest + 2 * 8 + 2 * self.navigation.frameWidth() + 12)
        self.pages = PageStack(objectName="pages")
        # Navigation pages first, in the order of NAVIGATION (the row is the page index).
        for page in (self.today, self.clients, self.network, self.privacy, self.stats,
                     self.coordination, self.client_file, self.case_screen):
            self.pages.addWidget(page)
        workspace = QWidget()
        column = QVBoxLayout(workspace)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.lease_banner)
        row = QHBoxLayout()
        column.addLayout(row, 1)
        row.addWidget(self.navigation)
        # Where a screen needs more than the window offers (150 % scaling on 1366×768), it
        # scrolls inside the window instead of pushing the window past the screen.
        self.page_scroll = QScrollArea(objectName="page_scroll")
        self.page_scroll.setWidgetResizable(True)
        self.page_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.page_scroll.setWidget(self.pages)
        row.addWidget(self.page_scroll, 1)
        self.root.addWidget(workspace)  # index 1, after the lock screen
        self.root.addWidget(self.lease_screen)

        self.sync_status = SyncStatusWidget(self.sync, state)
        self.statusBar().insertPermanentWidget(0, self.sync_status)
        self.navigation.currentRowChanged.connect(self._navigate)
        self.lease_screen.released.connect(self._after_unlock)
        self.sync.device_revoked.connect(self._device_revoked)

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # --- navigation -------------------------------------------------------------------------

    def _navigate(self, row: int) -> None:
        if 0 <= row < len(self.NAVIGATION):
            self.pages.setCurrentIndex(row)

    def show_page(self, name: str) -> None:
        self.build_workspace()
        self.navigation.setCurrentRow(self.NAVIGATION.index(name))

    def open_client(self, client_id: str) -> None:
        self.build_workspace()
        self.client_file.show_client(client_id)
        self.navigation.clearSelection()
        self.navigation.setCurrentRow(-1)
        self.pages.setCurrentWidget(self.client_file)
        self._focus_page(self.client_file)

    def open_case(self, case_id: str) -> None:
        self.build_workspace()
        self.case_screen.show_case(case_id)
        self.navigation.setCurrentRow(-1)
        self.pages.setCurrentWidget(self.case_screen)
        self._focus_page(self.case_screen)

    def _focus_page(self, page: QWidget) -> None:
        """The keyboard follows to the opened Akte or Fall. Left in the navigation (which has
        no current row then), the focus coming back after a dialog made the list select its
        first row and jump to Heute."""
        if self.navigation.hasFocus() or self.focusWidget() in (None, self.navigation):
            page.setFocus(Qt.FocusReason.OtherFocusReason)

    def _new_person(self) -> None:
        if self._state.unlocked and self.root.currentIndex() == 1:
            self.show_page("Ratsuchende")
            self.clients.new_person.click()

    def _focus_search(self) -> None:
        if self._state.unlocked:
            self.show_page("Ratsuchende")
            self.clients.search.setFocus()
            self.clients.search.selectAll()

    # --- lock -------------------------------------------------------------------------------

    def _show_locked(self) -> None:
        self.lock_screen.prepare()
        self.root.setCurrentWidget(self.lock_screen)
        self.lock_state.setText("Gesperrt")
        self.idle_timer.stop()

    def _after_unlock(self) -> None:
        from kimdesk.sync.offline import lease_state

        self.build_workspace()
        profile = load_profile(self._state.ctx.vault)
        team = self._state.reference.team(profile.team).name
        self.lock_state.setText(f"Entsperrt – {profile.user_name}, {team}")
        lease = lease_state(self._state.ctx)
        self.lease_banner.show_lease(lease)
        if lease.locked:
            # Offline too long (DESIGN.md, "Offline lease"): the workspace stays closed until
            # a sync or a one-time code from county IT; hidden dialogs stay hidden until then.
            self.lease_screen.prepare(lease)
            self.root.setCurrentWidget(self.lease_screen)
            self.idle_timer.start()
            return
        self.root.setCurrentWidget(self.root.widget(1))
        if self.navigation.currentRow() < 0 and self.pages.currentIndex() < len(self.NAVIGATION):
            self.show_page("Heute")
        self._restore_focus()
        for dialog in self._waiting_dialogs():
            # Dialogs are opened with open(), never exec(): hiding them ended nothing, and
            # when one saves, the vault tells every screen.
            dialog.show()
        self._hidden_dialogs.clear()
        self.idle_timer.start()

    def _waiting_dialogs(self) -> list[QDialog]:
        """The dialogs the lock hid that still wait for their user: not those ended meanwhile
        because their data went (``dialogs.discard``) or deleted with the screen that opened
        them (the Kreis scope after a revocation)."""
        return [d for d in self._hidden_dialogs if shiboken6.isValid(d) and not discarded(d)]

    def _restore_focus(self) -> None:
        """After an unlock the keyboard is where the user left it before the lock; after the
        first unlock (or if that widget is gone), on the start screen's work list."""
        before, self._focus_before_lock = self._focus_before_lock, None
        if before is not None and isValid(before) and before.isVisible() \
                and self.root.currentWidget().isAncestorOf(before):
            before.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.pages.currentWidget() is self.today:
            self.today.focus_first()
        else:
            self.pages.currentWidget().setFocus(Qt.FocusReason.OtherFocusReason)

    def _device_revoked(self) -> None:
        """The county revoked this laptop and the sync wiped its vault: close what showed
        data, say what happened, and offer the first start (a new vault after re-enrolment)."""
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.reject()
        for dialog in self._waiting_dialogs():
            dialog.reject()
        self._hidden_dialogs.clear()
        self._state.lock()
        self.revoked_message = QMessageBox(
            QMessageBox.Icon.Warning, APP_NAME,
            "Dieses Gerät wurde vom Kreis gesperrt, zum Beispiel weil es als verloren gemeldet "
            "wurde. Alle Daten der Ratsuchenden wurden von diesem Laptop entfernt.\n\n"
            "Bitte wenden Sie sich an die Kreis-IT.", QMessageBox.StandardButton.Ok, self)
        self.revoked_message.setObjectName("revoked_message")
        self.revoked_message.open()  # window-modal, never a blocking exec()

    def lock(self) -> None:
        """Auto-lock and Strg+L: drop the key, hide every window with data, keep the input."""
        if not self._state.unlocked:
            return
        focus = QApplication.focusWidget()
        if focus is not None and self.root.widget(1).isAncestorOf(focus):
            self._focus_before_lock = focus
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.hide()
                self._hidden_dialogs.append(widget)
        self._state.lock()
        self._show_locked()

    # --- closing ----------------------------------------------------------------------------

    def unsaved_work(self) -> bool:
        screens_dirty = self._workspace_built and any(
            screen.has_unsaved_changes()
            for screen in (self.client_file, self.case_screen, self.coordination))
        return screens_dirty or bool(self._waiting_dialogs()) or any(
            isinstance(w, QDialog) and w.isVisible() for w in QApplication.topLevelWidgets())

    def confirm_discard(self) -> bool:
        answer = QMessageBox.question(
            self, "Ungespeicherte Eingaben",
            "Es gibt Eingaben, die noch nicht gespeichert sind. Trotzdem beenden und die "
            "Eingaben verwerfen?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def discard_on_close_without_asking(self) -> None:
        """Closing later drops unsaved input without the question (tests tearing down)."""
        self._discard_confirmed = True

    def discard_and_close(self) -> None:
        """Close without asking (the user already agreed to drop unsaved input)."""
        self._discard_confirmed = True
        for dialog in self._waiting_dialogs():
            dialog.reject()
        self._hidden_dialogs.clear()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._discard_confirmed and self.unsaved_work() and not self.confirm_discard():
            event.ignore()
            return
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._idle_watcher)
        self._state.lock()
        event.accept()

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() == Qt.Key.Key_Escape and self._workspace_built and \
                self.pages.currentWidget() in (
                self.client_file, self.case_screen):
            self.show_page("Ratsuchende")
            return
        super().keyPressEvent(event)
