"""The quarantine in the status bar: received changes that failed verification are counted
next to the sync status, with a tooltip saying what that means and that county IT sees them."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from kimdesk.casework.context import Context
from kimdesk.server import admin
from kimdesk.sync.client import enrolled_device
from kimdesk.ui.state import AppState
from tests.factories import make_person
from tests.sync.team import Team
from tests.sync.test_signed_changes import _forged_change, _origin, store_on_server
from tests.ui.support import screenshot
from tests.ui.sync_support import (
    WAIT_MS,
    Network,
    close_window,
    open_window,
    status_bar_shot,
)

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/shots"))


def test_quarantined_changes_are_counted_in_the_status_bar_with_what_it_means(
        qtbot: Any, app_state: AppState, team: Team, colleague: Context) -> None:
    team.join(app_state.ctx)
    team.join(colleague)
    team.sync_all()
    # Two changes in the team's log that no certified device signed (a hostile server, or
    # whoever writes its database), and one genuine change of the colleague.
    device = enrolled_device(colleague)
    for _ in range(2):
        store_on_server(team, device.device_id, _forged_change(
            team, colleague, record_id=uuid.uuid4().hex, fields={"last_name": "X"},
            origin=_origin(colleague), author=colleague.user))
    make_person(colleague, first_name="Oksana", last_name="Shevchenko", consent=True)
    team.sync(colleague)

    main = open_window(qtbot, app_state, Network(team))
    try:
        label = main.sync_status.quarantine
        assert not label.isVisible()  # nothing set aside before this sync

        with qtbot.waitSignal(main.sync.synced, timeout=WAIT_MS):
            pass  # the sync at start

        assert label.isVisible()
        assert label.text() == "· 2 Änderungen in Quarantäne"
        tip = label.toolTip()
        assert tip.startswith("2 vom Kreis-Server empfangene Änderungen wurden zurückgehalten "
                              "(Quarantäne) und nicht übernommen")
        assert "Die Kreis-IT sieht diese Änderungen" in tip
        assert "Noch nicht gemeldet" not in tip  # the sync reported them already
        mine = enrolled_device(app_state.ctx).device_id
        assert len({r.change_id for r in admin.quarantine_reports_of(team.db, team.team)
                    if r.reporter_id == mine}) == 2  # county IT sees them (server-admin)
        assert main.sync_status.label.text().startswith("Synchronisiert: heute ")
        # The whole status bar fits at 1366 px: the count sits before the button.
        bar = main.statusBar()
        main.resize(1366, 768)
        QApplication.processEvents()
        right = label.mapTo(bar, QPoint(label.width(), 0)).x()
        assert right <= main.sync_status.button.mapTo(bar, QPoint(0, 0)).x()
        assert bar.width() <= 1366
        screenshot(main, SHOTS, "sync-quarantine", (1366, 768))
        status_bar_shot(main, SHOTS, "sync-status-bar-quarantine")

        main.lock()
        assert not label.isVisible()  # nothing of the vault shows while it is locked
    finally:
        close_window(main)
