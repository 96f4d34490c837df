"""Changes announce themselves (issue 11): the vault reports every commit, screens only listen.

A save on a worker thread, in a dialog restored after an auto-lock, or by a sync reaches every
screen through ``AppState`` → hub → ``ReloadWhenShown``; no screen is told by hand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import SIGNAL, Qt
from PySide6.QtWidgets import QApplication, QDialog
from sqlalchemy import text

from kimdesk.casework import cases
from kimdesk.casework.context import Context
from kimdesk.ui import hub as areas
from kimdesk.ui.change_areas import TABLE_AREAS, areas_for
from kimdesk.ui.clients_screen import ClientsScreen
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from kimdesk.vault import Vault
from tests.factories import PASSWORD, SUPPORT, make_case, make_person
from tests.ui.support import type_text

WAIT_MS = 10_000


@pytest.fixture
def window(qtbot: Any, app_state: AppState) -> Iterator[MainWindow]:
    main = MainWindow(app_state)
    qtbot.addWidget(main)
    main.show()
    yield main
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    main.discard_and_close()


def _names_listed(window: MainWindow) -> list[str]:
    model = window.clients.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_every_table_of_the_vault_is_mapped_to_its_areas_or_to_none(vault: Vault) -> None:
    with vault.reading() as session:
        tables = {name for (name,) in session.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'client_search_%'"))}
    assert tables - TABLE_AREAS.keys() == set()
    # device-local bookkeeping concerns no screen; an unknown table concerns every screen
    assert areas_for({"sync_outbox", "sync_records", "vault_profile"}) == frozenset()
    assert areas_for({"a_table_added_later"}) == areas.ALL


def test_a_save_on_a_worker_thread_reaches_a_hidden_screen_when_it_is_shown(
        qtbot: Any, window: MainWindow, app_state: AppState, ctx: Context) -> None:
    window.show_page("Ratsuchende")
    before = _names_listed(window)
    window.show_page("Heute")
    assert not window.clients.isVisible()

    created: list[str] = []

    def save_elsewhere() -> None:  # as a background operation or a sync would
        created.append(make_person(ctx, first_name="Zeynep", last_name="Aydın").id)

    with qtbot.waitSignal(app_state.hub.data_changed, timeout=WAIT_MS) as report:
        worker = threading.Thread(target=save_elsewhere)
        worker.start()
        worker.join()
    assert areas.CLIENTS in report.args[0]
    assert _names_listed(window) == before  # hidden: not read for nothing

    window.show_page("Ratsuchende")
    assert "Aydın, Zeynep" in _names_listed(window)
    assert len(_names_listed(window)) == len(before) + 1


def test_a_dialog_hidden_by_auto_lock_saves_after_unlock_and_every_screen_shows_it(
        qtbot: Any, window: MainWindow, app_state: AppState, ctx: Context) -> None:
    client = make_person(ctx, consent=True)
    case = make_case(ctx, client, SUPPORT)
    window.open_client(client.id)
    window.client_file.record_contact(case.id)
    dialog = QApplication.activeModalWidget()
    assert dialog is not None and dialog.isVisible()
    type_text(qtbot, dialog.note, "Antrag auf Wohngeld gemeinsam ausgefüllt")
    type_text(qtbot, dialog.follow_up, "+3")

    window.idle_timer.setInterval(50)
    window.idle_timer.start()
    qtbot.waitUntil(lambda: not app_state.unlocked, timeout=WAIT_MS)
    assert not dialog.isVisible()
    qtbot.keyClicks(window.lock_screen.password, PASSWORD)
    qtbot.keyClick(window.lock_screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app_state.unlocked and dialog.isVisible(), timeout=WAIT_MS)

    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    contact_note = "Antrag auf Wohngeld gemeinsam ausgefüllt"
    assert contact_note in [c.note for c in cases.contacts_of(app_state.ctx, case.id)]

    # the file under the dialog (visible) has reloaded: the contact and its Wiedervorlage
    timeline = [row.title for row in window.client_file.timeline.model.rows()]
    assert any(title.startswith("Kontakt") for title in timeline)
    # (with its subject, never a bare "Wiedervorlage": issue 14, item 5)
    titles = [row.title for row in window.client_file.deadlines.model.rows()]
    assert len(titles) == 1 and titles[0].startswith("Nachfassen zum Kontakt vom")
    # Heute (hidden while the file was shown) lists the new Wiedervorlage when shown
    window.show_page("Heute")
    due = [window.today.due.item(row, 2).text() for row in range(window.today.due.rowCount())]
    assert titles[0] in due
    # and the case screen shows the contact when the case is opened
    window.open_case(case.id)
    assert contact_note in [c.note for c in window.case_screen.detail.contacts]


def test_screens_leave_the_hub_when_they_go(qtbot: Any, app_state: AppState) -> None:
    hub = app_state.hub
    signature = SIGNAL("data_changed(PyObject)")
    baseline = hub.receivers(signature)
    screen = ClientsScreen(app_state)
    assert hub.receivers(signature) == baseline + 1
    screen.deleteLater()
    qtbot.waitUntil(lambda: hub.receivers(signature) == baseline, timeout=WAIT_MS)

