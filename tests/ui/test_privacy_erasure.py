"""Datenschutz screen: "Löschung auf Antrag" erases the shown file after a confirmation that
lists what to weigh; revoking an Einwilligung asks what happens to the data stored under it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit, QMessageBox, QPushButton

from kimdesk.casework import consents
from kimdesk.casework.clients import find_clients, read_client
from kimdesk.ui.privacy_screen import PrivacyScreen
from kimdesk.ui.state import AppState
from tests.factories import CM, make_case, make_person
from tests.ui.support import screenshot, when_modal


def _screen(qtbot: Any, app_state: AppState) -> PrivacyScreen:
    screen = PrivacyScreen(app_state)
    qtbot.addWidget(screen)
    screen.resize(1366, 768)
    screen.show()
    return screen


def test_erasure_on_request_from_the_trail(qtbot: Any, app_state: AppState,
                                          tmp_path: Path) -> None:
    ctx = app_state.ctx
    person = make_person(ctx, consent=True, last_name="Kovalenko")
    make_case(ctx, person, CM)
    screen = _screen(qtbot, app_state)
    assert not screen.erase_button.isEnabled()
    screen.show_trail(person.id)
    for size in ((1366, 768), (1920, 1080)):
        screenshot(screen, tmp_path, "privacy-trail", size)
    shown: list[str] = []

    def confirm(box: QMessageBox) -> None:
        shown.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    errors = when_modal(QMessageBox, confirm)
    qtbot.mouseClick(screen.erase_button, Qt.MouseButton.LeftButton)

    assert errors == []
    assert "1 Fall/Fälle noch offen" in shown[0]
    assert find_clients(ctx, "Kovalenko") == []
    assert screen.trail_status.text() == "Akte auf Antrag gelöscht."
    assert not screen.erase_button.isEnabled()


def test_revoking_asks_about_the_stored_data(qtbot: Any, app_state: AppState) -> None:
    ctx = app_state.ctx
    person = make_person(ctx, consent=True, address="Markt 1, Kleve")
    [consent] = consents.consents_of(ctx, person.id)
    screen = _screen(qtbot, app_state)
    screen.reload()
    screen.consent_table.selectRow(0)
    asked: list[str] = []

    def erase(box: QMessageBox) -> None:
        asked.append(box.text())
        [button] = [b for b in box.buttons() if b.text() == "Daten löschen"]
        button.click()

    def save(dialog: QDialog) -> None:
        errors.extend(when_modal(QMessageBox, erase))
        dialog.findChild(QLineEdit, "text").setText("Widerruf per Brief")
        dialog.findChild(QPushButton, "ok").click()

    errors: list[BaseException] = []
    errors += when_modal(QDialog, save)
    qtbot.mouseClick(screen.revoke_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)

    assert errors == []
    assert "Anschrift" in asked[0]
    assert consents.consents_of(ctx, person.id)[0].revoked_on == ctx.today()
    assert read_client(ctx, person.id).address == ""
    assert consents.consents_of(ctx, person.id)[0].id == consent.id
