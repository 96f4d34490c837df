"""What every tab of the client file shares: the app state, the loaded file, change reports."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from kimdesk.casework.views import ClientFile
from kimdesk.models import Consent
from kimdesk.ui.state import AppState


def has_active_processing_consent(file: ClientFile, today: date) -> bool:
    """An Einwilligung in die Datenverarbeitung that holds today (not revoked, not run out)."""
    return any(c.kind == "data_processing" and c.is_active(today) for c in file.consents)


def consent_state(consent: Consent, today: date) -> str:
    """aktiv / widerrufen / abgelaufen / ab <date>, as the lists show it."""
    if consent.revoked_on is not None and consent.revoked_on <= today:
        return "widerrufen"
    if consent.valid_until is not None and consent.valid_until < today:
        return "abgelaufen"
    if consent.given_on > today:
        return "noch nicht gültig"
    return "aktiv"


class FileTab(QWidget):
    """A tab over one client file. It writes only through casework; the vault reports the
    change and the screen reloads the file for every tab."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._file: ClientFile | None = None

    @property
    def file(self) -> ClientFile | None:
        return self._file

    @property
    def client_id(self) -> str | None:
        return self._file.client.id if self._file else None

    def show_file(self, file: ClientFile) -> None:
        self._file = file
        self.refresh()

    def refresh(self) -> None:  # overridden by each tab
        raise NotImplementedError

    def consent_active(self) -> bool:
        return self._file is not None and has_active_processing_consent(
            self._file, self._state.today())

    def report_error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        box.setObjectName("file_error")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
