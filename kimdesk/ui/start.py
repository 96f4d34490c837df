"""Start the desktop for `kimdesk gui`: the QApplication with KIMdesk's identity and a window."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QLibraryInfo,
    QLocale,
    QObject,
    QThreadPool,
    QTimer,
    QTranslator,
)
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from kimdesk import APP_NAME, ORGANIZATION, ORGANIZATION_DOMAIN, __version__, config
from kimdesk.ui import accessibility
from kimdesk.ui.hub import Hub
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.operations import GuiThreadGarbageCollector
from kimdesk.ui.state import AppState
from kimdesk.ui.style import apply_palette


def application() -> QApplication:
    """The one QApplication, named after the app (Qt derives settings paths from it)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(ORGANIZATION)
    app.setOrganizationDomain(ORGANIZATION_DOMAIN)
    _install_qt_translation(app)
    apply_palette(app)
    if not app.property("kimdesk_accessible_names"):
        accessibility.install(app)  # names inputs from their labels (BITV 2.0)
        app.setProperty("kimdesk_accessible_names", True)
    return app


def _install_qt_translation(app: QApplication) -> None:
    """Qt's own texts in German (Ja/Nein, Speichern unter …, the context menu of a field).

    The translation ships with PySide6 (and in the installer's bundle); without it Qt's
    standard buttons and dialogs would speak English.
    """
    translator = QTranslator(app)
    if translator.load(QLocale(QLocale.Language.German, QLocale.Country.Germany), "qtbase", "_",
                       QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)


# For benchmarks/bundle_start.py: print `ready <ms>` and quit once the lock screen is painted.
EXIT_AFTER_START_ENV = "KIMDESK_EXIT_AFTER_START"


class _AfterFirstPaint(QObject):
    """Runs ``then`` once, right after the first paint of ``screen`` has finished."""

    def __init__(self, screen: QWidget, then: Callable[[], None]) -> None:
        super().__init__(screen)
        self._then: Callable[[], None] | None = then
        screen.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._then is not None:
            then, self._then = self._then, None
            QTimer.singleShot(0, then)
        return False


class _ReadyProbe(QObject):
    """Quits the app after the first paint of ``screen``; prints the ms since ``since``."""

    def __init__(self, screen: QWidget, since: float) -> None:
        super().__init__(screen)
        self._since = since
        self._done = False
        screen.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._done:
            self._done = True
            # After this paint has finished, not in the middle of it.
            QTimer.singleShot(0, self._report)
        return False

    def _report(self) -> None:
        print(f"ready {(time.perf_counter() - self._since) * 1000:.0f}", flush=True)
        QApplication.quit()


def _report_unexpected(kind: type[BaseException], error: BaseException, tb: object) -> None:
    """Unexpected errors in the GUI: a German message, and a traceback only on request.

    A traceback's text can quote client data (values in an error message), and stderr of a
    desktop app may end up in a log file.
    """
    if os.environ.get("KIMDESK_DEBUG") == "1":
        sys.__excepthook__(kind, error, tb)  # type: ignore[arg-type]
        return
    print(f"Fehler: unerwarteter Fehler ({kind.__name__}).", file=sys.stderr)
    app = QApplication.instance()
    if app is not None:
        QMessageBox.critical(
            None, APP_NAME,
            f"Ein unerwarteter Fehler ist aufgetreten ({kind.__name__}). Gespeichertes bleibt "
            "erhalten; die letzte Aktion wurde nicht abgeschlossen. Bitte melden Sie den "
            "Fehler der Kreis-IT.")


def run(data_dir: Path, *, demo_password: str | None = None) -> int:
    """Show the main window (locked) for the vault in ``data_dir`` until the user closes it."""
    started = time.perf_counter()
    app = application()
    sys.excepthook = _report_unexpected
    # The lock screen shows first; the screens behind it (and the libraries they import) are
    # built right after its first paint, while the password is typed (start time: issue 17).
    window = MainWindow(AppState(data_dir, Hub()), auto_lock_minutes=config.auto_lock_minutes(),
                        defer_workspace=True)
    if demo_password:
        window.lock_screen.show_demo_hint(demo_password)
    _AfterFirstPaint(window.lock_screen, window.build_workspace)
    if os.environ.get(EXIT_AFTER_START_ENV) == "1":
        # Installed last, so asked first (Qt): it reports the paint before the build starts.
        _ReadyProbe(window.lock_screen, started)
    window.show()
    # Ctrl+C in the terminal closes the window properly (the vault is closed on the way out);
    # the timer gives Python a moment to notice the signal while Qt's loop runs.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer(interval=300)
    wake.timeout.connect(lambda: None)
    wake.start()
    collector = GuiThreadGarbageCollector(app)
    code = app.exec()
    QThreadPool.globalInstance().waitForDone()
    window.close()
    collector.stop()
    return code
