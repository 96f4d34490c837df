"""Background sync in the desktop against a real county server: the status bar, a colleague's
change appearing on its own, offline without a dialog, locking, on demand, revocation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QApplication, QMessageBox

from kimdesk.casework.context import Context
from kimdesk.server import admin
from kimdesk.sync.client import enrolled_device
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from tests.factories import PASSWORD, make_person
from tests.sync.team import Team
from tests.ui.support import screenshot
from tests.ui.sync_support import (
    WAIT_MS,
    Network,
    close_window,
    open_window,
    status_bar_shot,
)

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/shots"))


@pytest.fixture
def network(team: Team) -> Network:
    return Network(team)


@pytest.fixture
def enrolled(app_state: AppState, team: Team, colleague: Context) -> AppState:
    """The app's vault is Anna's device of Team Nord (the coordinator); a colleague's laptop
    is confirmed beside it."""
    team.join(app_state.ctx)
    team.join(colleague)
    return app_state


@pytest.fixture
def window(qtbot: Any, enrolled: AppState, network: Network) -> Iterator[MainWindow]:
    main = open_window(qtbot, enrolled, network)
    yield main
    close_window(main)


def _client_names(main: MainWindow) -> list[str]:
    model = main.clients.table.model()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_a_colleagues_new_client_appears_after_the_automatic_sync(
        qtbot: Any, enrolled: AppState, network: Network, team: Team,
        colleague: Context) -> None:
    make_person(colleague, first_name="Oksana", last_name="Shevchenko", consent=True)
    team.sync(colleague)
    main = open_window(qtbot, enrolled, network)
    try:
        main.show_page("Ratsuchende")
        seen: list[str] = []
        main.sync.status_changed.connect(lambda text, _tone: seen.append(text))
        assert not any("Shevchenko" in name for name in _client_names(main))

        with qtbot.waitSignal(main.sync.synced, timeout=WAIT_MS):
            pass  # the sync at start runs without anyone asking

        assert main.sync_status.label.text().startswith("Synchronisiert: heute ")
        assert any("Shevchenko" in name for name in _client_names(main))
        assert "Synchronisiere …" in seen
        assert any(t.startswith("Synchronisiere … ") and t.endswith("Änderungen empfangen")
                   for t in seen)
        assert main.sync.timer.isActive()
        assert main.sync.timer.interval() == 10 * 60_000
        screenshot(main, SHOTS, "sync-status-bar", (1366, 768))
        status_bar_shot(main, SHOTS, "sync-status-bar-synced")
    finally:
        close_window(main)


def test_an_unreachable_server_shows_in_the_status_bar_only(
        qtbot: Any, window: MainWindow, network: Network) -> None:
    qtbot.waitSignal(window.sync.synced, timeout=WAIT_MS).wait()
    network.online = False

    with qtbot.waitSignal(window.sync.sync_failed, timeout=WAIT_MS):
        qtbot.mouseClick(window.sync_status.button, Qt.MouseButton.LeftButton)

    text = window.sync_status.label.text()
    assert text.startswith("Kreis-Server nicht erreichbar – letzter Abgleich: heute ")
    assert QApplication.activeModalWidget() is None
    assert window.root.currentWidget() is not window.lock_screen
    assert window.sync_status.button.isEnabled()
    status_bar_shot(window, SHOTS, "sync-status-bar-offline")


def test_strg_umschalt_s_syncs_on_demand_and_a_running_sync_is_not_started_twice(
        qtbot: Any, window: MainWindow, network: Network) -> None:
    qtbot.waitSignal(window.sync.synced, timeout=WAIT_MS).wait()
    opened = len(network.opened)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)

    with qtbot.waitSignal(window.sync.synced, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)
        assert window.sync.running
        assert not window.sync.sync_now()  # one at a time
        assert not window.sync_status.button.isEnabled()

    assert len(network.opened) == opened + 1


def test_no_sync_while_locked_and_it_resumes_after_unlock(
        qtbot: Any, window: MainWindow, network: Network) -> None:
    failures: list[str] = []
    window.sync.sync_failed.connect(failures.append)
    window.sync.sync_now()
    assert window.sync.running
    window.lock()  # in the middle of the sync: it is dropped, quietly

    assert not window.sync.running
    assert not window.sync.timer.isActive()
    assert not window.sync.sync_now()
    assert window.sync_status.button.isHidden()  # nothing to offer while locked
    QThreadPool.globalInstance().waitForDone(WAIT_MS)  # the dropped sync has ended
    QApplication.processEvents()
    assert not window.sync_status.label.text().startswith("Synchronisiere")
    assert failures == []
    assert QApplication.activeModalWidget() is None
    opened = len(network.opened)

    with qtbot.waitSignal(window.sync.synced, timeout=WAIT_MS):
        qtbot.keyClicks(window.lock_screen.password, PASSWORD)
        qtbot.keyClick(window.lock_screen.password, Qt.Key.Key_Return)

    assert len(network.opened) == opened + 1
    assert window.sync.timer.isActive()
    assert not window.sync_status.button.isHidden()
    assert window.sync_status.label.text().startswith("Synchronisiert: heute ")
    assert failures == []


def test_a_device_that_is_not_enrolled_does_not_sync(
        qtbot: Any, app_state: AppState, network: Network) -> None:
    main = open_window(qtbot, app_state, network)
    try:
        qtbot.waitUntil(lambda: main.sync_status.label.text() != "", timeout=5000)
        # "Nicht angemeldet" read as "not logged in"; it means the device is not enrolled.
        assert main.sync_status.label.text().startswith("Gerät nicht beim Kreis-Server "
                                                        "eingerichtet")
        qtbot.mouseClick(main.sync_status.button, Qt.MouseButton.LeftButton)
        assert not main.sync.running
        assert network.opened == []
    finally:
        close_window(main)


def test_a_revoked_device_loses_its_vault_and_shows_the_first_start(
        qtbot: Any, window: MainWindow, team: Team, enrolled: AppState) -> None:
    qtbot.waitSignal(window.sync.synced, timeout=WAIT_MS).wait()
    device_id = enrolled_device(enrolled.ctx).device_id
    data_dir = enrolled.data_dir
    admin.revoke(team.db, device_id, team.revocation(enrolled.ctx))

    with qtbot.waitSignal(window.sync.device_revoked, timeout=WAIT_MS):
        window.sync.sync_now()

    message = window.findChild(QMessageBox, "revoked_message")
    assert message is not None and message.isVisible()
    assert "vom Kreis gesperrt" in message.text()
    assert "entfernt" in message.text()
    assert window.root.currentWidget() is window.lock_screen
    assert window.lock_screen.first_start
    assert window.lock_screen.submit.text() == "Datentresor anlegen"
    assert not (data_dir / "vault-header.json").exists()
    assert not (data_dir / "vault.db").exists()
    assert not window.sync.timer.isActive()
    message.accept()
