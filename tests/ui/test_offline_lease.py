"""The offline lease in the desktop: a laptop long away from the county server warns with a
banner, then opens only after a sync or with a one-time code from county IT."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from kimdesk.models import SyncDevice
from kimdesk.sync.client import enrolled_device
from kimdesk.sync.lease import lease_code
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from tests.factories import PASSWORD
from tests.sync.team import Team
from tests.ui.support import screenshot
from tests.ui.sync_support import WAIT_MS, Network, close_window, open_window, status_bar_shot

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/shots"))


@pytest.fixture
def network(team: Team) -> Network:
    """Starts outside the county network: the server cannot be reached."""
    made = Network(team)
    made.online = False
    return made


def _away_for(state: AppState, team: Team, days: int) -> None:
    """Enrol the app's vault, then pretend its last contact with the server was ``days`` ago;
    the app starts locked."""
    team.join(state.ctx)
    with state.ctx.vault.writing() as session:
        device = session.get(SyncDevice, 1)
        device.last_contact_at = device.last_sync_at = (
            datetime.now(UTC) - timedelta(days=days, hours=1))
    state.lock()


@pytest.fixture
def locked_window(qtbot: Any, app_state: AppState, team: Team, network: Network
                  ) -> Iterator[MainWindow]:
    _away_for(app_state, team, 61)
    main = open_window(qtbot, app_state, network)
    yield main
    close_window(main)


def _unlock(qtbot: Any, main: MainWindow) -> None:
    qtbot.keyClicks(main.lock_screen.password, PASSWORD)
    qtbot.keyClick(main.lock_screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: main.root.currentWidget() is not main.lock_screen, timeout=WAIT_MS)


def _workspace_shown(main: MainWindow) -> bool:
    return main.root.currentWidget() is main.root.widget(1)


def test_after_61_days_only_a_valid_code_from_county_it_opens_the_workspace(
        qtbot: Any, locked_window: MainWindow, app_state: AppState) -> None:
    main = locked_window
    with qtbot.waitSignal(main.sync.sync_failed, timeout=WAIT_MS):  # tried at unlock
        _unlock(qtbot, main)

    screen = main.lease_screen
    assert main.root.currentWidget() is screen
    assert "seit 61 Tagen nicht mit dem Kreis-Server verbunden" in screen.explanation.text()
    assert screen.sync_state.text().startswith("Kreis-Server nicht erreichbar")
    device_id = enrolled_device(app_state.ctx).device_id
    assert f"Geräte-ID: <b>{device_id[:8]}</b>" in screen.code_hint.text()
    assert QApplication.activeModalWidget() is None

    qtbot.keyClicks(screen.code, "1-ABCD-EFGH-IJKL-MNOP")
    qtbot.keyClick(screen.code, Qt.Key.Key_Return)

    assert screen.message.isVisible()
    assert screen.message.text() == ("Der Freischaltcode ist nicht gültig oder wurde schon "
                                     "verwendet.")
    assert screen.code.text() == "1-ABCD-EFGH-IJKL-MNOP"  # typed input stays
    assert main.root.currentWidget() is screen
    with app_state.ctx.vault.reading() as session:
        device = session.get(SyncDevice, 1)
        assert (device.lease_counter_used, device.lease_unlocked_at) == (0, None)
        secret, device_id = device.lease_secret, device.device_id
    screenshot(main, SHOTS, "sync-lease-screen", (1366, 768))

    screen.code.clear()
    qtbot.keyClicks(screen.code, lease_code(secret, device_id, 1).lower())  # read out by phone
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)

    assert _workspace_shown(main)
    assert main.pages.currentWidget() is main.today
    assert not main.lease_banner.isVisible()
    assert "Tagen" not in main.sync_status.label.text()
    with app_state.ctx.vault.reading() as session:
        assert session.get(SyncDevice, 1).lease_counter_used == 1


def test_after_61_days_a_successful_sync_opens_the_workspace(
        qtbot: Any, locked_window: MainWindow, network: Network) -> None:
    main = locked_window
    with qtbot.waitSignal(main.sync.sync_failed, timeout=WAIT_MS):
        _unlock(qtbot, main)
    assert main.root.currentWidget() is main.lease_screen

    network.online = True  # back in the county network
    with qtbot.waitSignal(main.sync.synced, timeout=WAIT_MS):
        qtbot.mouseClick(main.lease_screen.sync_button, Qt.MouseButton.LeftButton)

    assert _workspace_shown(main)
    assert main.sync_status.label.text().startswith("Synchronisiert: heute ")


def test_after_35_days_a_banner_warns_but_the_work_goes_on(
        qtbot: Any, app_state: AppState, team: Team, network: Network) -> None:
    _away_for(app_state, team, 35)
    main = open_window(qtbot, app_state, network)
    try:
        with qtbot.waitSignal(main.sync.sync_failed, timeout=WAIT_MS):
            _unlock(qtbot, main)

        assert _workspace_shown(main)
        assert main.lease_banner.isVisible()
        assert "Seit 35 Tagen nicht synchronisiert. In 25 Tagen sperrt sich KIMdesk" in (
            main.lease_banner.text())
        status = main.sync_status.label
        assert status.text().startswith("Kreis-Server nicht erreichbar – letzter Abgleich: ")
        assert status.text().endswith(" · 35 Tage offline")
        assert "#a63a00" in status.styleSheet()  # orange (readable: 5.7:1)
        assert QApplication.activeModalWidget() is None
        screenshot(main, SHOTS, "sync-lease-banner", (1366, 768))
        status_bar_shot(main, SHOTS, "sync-status-bar-lease-warning")

        network.online = True
        with qtbot.waitSignal(main.sync.synced, timeout=WAIT_MS):
            main.sync.sync_now()

        assert not main.lease_banner.isVisible()
        assert "#a63a00" not in status.styleSheet()
    finally:
        close_window(main)
