"""Datenschutz › Abgleich against a real county server: two colleagues edit the same file
offline, the review shows both values (identity first, highlighted), and both buttons work."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from kimdesk.casework import consents
from kimdesk.casework.clients import update_client
from kimdesk.casework.context import Context
from kimdesk.models import Client
from kimdesk.ui.conflicts_screen import IDENTITY_NOTE
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from tests.factories import make_person
from tests.sync.devices import USERS
from tests.sync.team import Team
from tests.ui.support import screenshot
from tests.ui.sync_support import WAIT_MS, Network, close_window, open_window

SHOTS = Path(os.environ.get("KIMDESK_SCREENSHOTS", "/tmp/shots"))


@pytest.fixture
def person_id(app_state: AppState, team: Team, colleague: Context) -> str:
    """Oksana Shevchenko's file on both laptops, then edited on both while offline: Anna on
    the app's laptop first, the colleague later (so the colleague's values win)."""
    anna = app_state.ctx
    team.join(anna)
    person = make_person(anna, first_name="Oksana", last_name="Shevchenko", consent=True,
                         phone="02821 1111", birth_date=date(1988, 3, 14))
    team.join(colleague)
    team.sync(anna)
    team.sync(colleague)
    update_client(anna, person.id, {"phone": "02821 2222", "birth_date": date(1988, 4, 13)})
    update_client(colleague, person.id, {"phone": "02821 3333",
                                         "birth_date": date(1988, 3, 15)})
    team.sync(colleague)
    return person.id


@pytest.fixture
def window(qtbot: Any, app_state: AppState, person_id: str, team: Team
           ) -> Iterator[MainWindow]:
    main = open_window(qtbot, app_state, Network(team))
    qtbot.waitSignal(main.sync.synced, timeout=WAIT_MS).wait()  # the sync at start
    main.show_page("Datenschutz")
    main.privacy.tabs.setCurrentWidget(main.privacy.conflicts)
    yield main
    close_window(main)


def _cells(main: MainWindow, row: int) -> list[str]:
    model = main.privacy.conflicts.model
    return [model.index(row, column).data() for column in range(model.columnCount())]


def test_both_conflicts_are_listed_side_by_side_identity_first(
        qtbot: Any, qtmodeltester: Any, window: MainWindow) -> None:
    view = window.privacy.conflicts
    model = view.model
    qtmodeltester.check(model)

    assert model.rowCount() == 2
    assert _cells(window, 0) == ["Shevchenko, Oksana", "Geburtsdatum", "15.03.1988",
                                 "13.04.1988", IDENTITY_NOTE]
    assert _cells(window, 1) == ["Shevchenko, Oksana", "Telefon", "02821 3333", "02821 2222",
                                 ""]
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    # The first row is selected: its two values side by side, with who wrote them.
    assert (view.kept_value.text(), view.lost_value.text()) == ("15.03.1988", "13.04.1988")
    assert view.kept_by.text().startswith(f"gespeichert von {USERS[1]} am ")
    assert view.lost_by.text().startswith(f"gespeichert von {USERS[0]} am ")
    assert view.identity_note.isVisible()
    view.table.selectRow(1)  # the highlighted identity row shows unselected
    assert view.kept_value.text() == "02821 3333"
    assert not view.identity_note.isVisible()
    shot = screenshot(window, SHOTS, "sync-conflicts", (1366, 768))
    assert window.width() == 1366, shot


def test_keep_and_restore_and_the_restored_value_reaches_the_colleague(
        qtbot: Any, window: MainWindow, app_state: AppState, team: Team,
        colleague: Context, person_id: str) -> None:
    view = window.privacy.conflicts

    qtbot.mouseClick(view.keep_button, Qt.MouseButton.LeftButton)  # the birth date

    assert view.model.rowCount() == 1
    assert _cells(window, 0)[1] == "Telefon"
    assert not view.identity_note.isVisible()

    qtbot.mouseClick(view.restore_button, Qt.MouseButton.LeftButton)

    assert view.model.rowCount() == 0
    assert view.empty.isVisible()
    assert view.empty.text().startswith("Keine offenen Konflikte")
    with app_state.ctx.vault.reading() as session:
        client = session.get(Client, person_id)
        assert (client.phone, client.birth_date) == ("02821 2222", date(1988, 3, 15))

    with qtbot.waitSignal(window.sync.synced, timeout=WAIT_MS):
        window.sync.sync_now()
    team.sync(colleague)

    with colleague.vault.reading() as session:
        client = session.get(Client, person_id)
        assert (client.phone, client.birth_date) == ("02821 2222", date(1988, 3, 15))


def test_a_refused_restore_is_shown_and_the_conflict_stays(
        qtbot: Any, window: MainWindow, app_state: AppState) -> None:
    view = window.privacy.conflicts
    [consent] = consents.consent_rows(app_state.ctx)
    consents.revoke_consent(app_state.ctx, consent.id, note="Widerruf telefonisch")

    qtbot.mouseClick(view.restore_button, Qt.MouseButton.LeftButton)  # the birth date

    assert "Einwilligung" in view.errors_label.text()
    assert view.errors_label.isVisible()
    assert view.model.rowCount() == 2
