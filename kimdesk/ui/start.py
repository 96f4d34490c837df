"""Start the desktop for `kimdesk gui`: the QApplication with KIMdesk's identity and a window."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from kimdesk import APP_NAME, ORGANIZATION, ORGANIZATION_DOMAIN, __version__, config
from kimdesk.ui.hub import Hub
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState


def application() -> QApplication:
    """The one QApplication, named after the app (Qt derives settings paths from it)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(ORGANIZATION)
    app.setOrganizationDomain(ORGANIZATION_DOMAIN)
    return app


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
    app = application()
    sys.excepthook = _report_unexpected
    window = MainWindow(AppState(data_dir, Hub()), auto_lock_minutes=config.auto_lock_minutes())
    if demo_password:
        window.lock_screen.show_demo_hint(demo_password)
    window.show()
    # Ctrl+C in the terminal closes the window properly (the vault is closed on the way out);
    # the timer gives Python a moment to notice the signal while Qt's loop runs.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer(interval=300)
    wake.timeout.connect(lambda: None)
    wake.start()
    code = app.exec()
    QThreadPool.globalInstance().waitForDone()
    window.close()
    return code
