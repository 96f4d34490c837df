"""Start the desktop for `kimdesk gui`: the QApplication with KIMdesk's identity and a window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from kimdesk import APP_NAME, ORGANIZATION, ORGANIZATION_DOMAIN, __version__
from kimdesk.ui.unlock_window import UnlockWindow


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


def run(data_dir: Path, *, demo_password: str | None = None) -> int:
    """Show the unlock window for the vault in ``data_dir`` until the user closes it."""
    app = application()
    window = UnlockWindow(data_dir, demo_password=demo_password)
    window.show()
    code = app.exec()
    QThreadPool.globalInstance().waitForDone()
    window.close()
    return code
