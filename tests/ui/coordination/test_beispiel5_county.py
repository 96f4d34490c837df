"""Beispiel 5 county-wide (issue 15) through the widgets: the coordinator of Team Nord gives
Frau A.'s Fallrekonstruktion with its generative theme and a finding to the Kreis; after a sync
the coordinator of Team Süd sees them in the Kreis scope of Koordination, starts a Projektgruppe
on the theme and records a decision of the Lenkungsgruppe; after another sync Nord's Kreis
scope shows both. Two MainWindows, each with its team vault and its Kreis-Tresor, against one
real county server app with the teams ``nord``, ``sued`` and ``kreis``.

Also: a release that the pseudonymisation check refuses (her name in the finding) shows the
German message in the dialog and releases nothing; a laptop without a Kreis-Tresor has no
scope switch. Screenshots of the Kreis scope at 1366×768: ``/tmp/shots/county-*.png``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTabWidget, QWidget
from sqlalchemy import select

from kimdesk.casework import county
from kimdesk.casework.context import Context
from kimdesk.casework.coordination import findings, project_groups, reconstructions, steering
from kimdesk.casework.coordination.findings import FindingInput
from kimdesk.models import VaultProfile
from kimdesk.models.changelog import LOCAL_ONLY
from kimdesk.reference import load_reference
from kimdesk.ui.coordination.project_groups_tab import ProjectGroupDialog
from kimdesk.ui.coordination.release_dialog import ReleaseDialog
from kimdesk.ui.coordination.screen import COUNTY, TEAM, CoordinationScreen
from kimdesk.ui.coordination.steering_tab import DecisionDialog, MeetingDialog
from kimdesk.ui.hub import Hub
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from kimdesk.vault import open_vault
from tests.coordination_builders import (
    FIRST_NAME,
    LAST_NAME,
    THEME,
    build_example5,
    build_example5_case,
)
from tests.factories import PASSWORD, Clock
from tests.sync.devices import USERS, open_device
from tests.sync.team import Team, sqlite_url
from tests.ui.coordination.widget_texts import leaked, visible_texts
from tests.ui.support import choose, type_text
from tests.ui.sync_support import WAIT_MS, Network, close_window, laptop_window

SHOTS = Path("/tmp/shots")
GROUP = "Vereinbarkeit von Familie und Qualifizierung (kreisweit)"
DECISION = "Kinderbetreuung in berufsvorbereitenden Maßnahmen im ganzen Kreis"


@dataclass
class County:
    """One county server with the teams nord, sued and kreis; ``network`` is the apps'
    connection to it (every device's server URL reaches the same app)."""

    nord: Team
    sued: Team
    kreis: Team
    network: Network


@pytest.fixture
def county_server(tmp_path: Path) -> Iterator[County]:
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    nord = Team(url, "nord")
    sued = Team(url, "sued", statistics=False)
    kreis = Team(url, "kreis", statistics=False)
    try:
        yield County(nord, sued, kreis, Network(nord))
    finally:
        for team in (kreis, sued, nord):
            team.close()


def _coordinator(ctx: Context) -> None:
    """The vault's owner is a coordinator of the team (the template's is a case manager)."""
    with ctx.vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        session.scalars(select(VaultProfile)).one().role = "coordinator"


def _laptop(template: Path, folder: Path, user: str, team: str, clock: Clock,
            server: Team, kreis: Team) -> tuple[Context, Context]:
    """A coordinator's laptop: the team vault enrolled in ``team`` and a Kreis-Tresor
    enrolled in ``kreis`` (close the latter before the app opens it at unlock)."""
    ctx = open_device(template, folder, user, load_reference(), clock, team=team)
    _coordinator(ctx)
    server.join(ctx, coordinator=True)
    county.create_county_vault(ctx, folder)
    county_ctx = county.open_county_context(ctx, folder)
    assert county_ctx is not None
    county_ctx = dataclasses.replace(county_ctx, clock=clock)
    kreis.join(county_ctx, coordinator=True)
    return ctx, county_ctx


def _state(ctx: Context, clock: Clock) -> AppState:
    state = AppState(ctx.vault.data_dir, Hub(), clock=clock)
    state.attach(ctx.vault)
    return state


def _sync(qtbot: Any, window: MainWindow) -> None:
    # A sync still running (the one at unlock) ends first: its signal must not count.
    qtbot.waitUntil(lambda: not window.sync.running, timeout=WAIT_MS)
    with qtbot.waitSignal(window.sync.county_synced, timeout=WAIT_MS):
        assert window.sync.sync_now()
    assert "Kreis: synchronisiert" in window.sync_status.label.text()


def _navigate(qtbot: Any, window: MainWindow, page: str) -> None:
    item = window.navigation.item(MainWindow.NAVIGATION.index(page))
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.navigation.visualItemRect(item).center())


def _open_tab(qtbot: Any, tabs: QTabWidget, title: str) -> None:
    bar = tabs.tabBar()
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def _scope(qtbot: Any, screen: CoordinationScreen, scope: str) -> None:
    assert screen.scope.isVisible()
    button = screen.county_button if scope == COUNTY else screen.team_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert screen.current_scope == scope


def _click_save(qtbot: Any, dialog: QWidget) -> None:
    qtbot.mouseClick(dialog.findChild(QPushButton, "save"), Qt.MouseButton.LeftButton)


def _select(table: Any, model: Any, row_id: str) -> None:
    index = next(i for i, row in enumerate(model.rows()) if row.id == row_id)
    table.selectRow(index)


def _shot(window: MainWindow, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    assert window.grab().save(str(SHOTS / f"county-{name}.png"))


@pytest.fixture
def laptops(template_vault: Path, tmp_path: Path, clock: Clock, county_server: County
            ) -> Iterator[tuple[Context, Context]]:
    nord, nord_county = _laptop(template_vault, tmp_path / "nord", USERS[0], "nord", clock,
                                county_server.nord, county_server.kreis)
    sued, sued_county = _laptop(template_vault, tmp_path / "sued", USERS[3], "sued", clock,
                                county_server.sued, county_server.kreis)
    county_server.kreis.sync_all()  # the kreis key reaches Süd's Kreis-Tresor
    for county_ctx in (nord_county, sued_county):
        county_ctx.vault.close()  # the app opens them at unlock
    yield nord, sued
    for ctx in (nord, sued):
        if ctx.vault.is_open:
            ctx.vault.close()


def test_beispiel_5_county_wide_from_nord_to_sued_and_back(
        qtbot: Any, laptops: tuple[Context, Context], county_server: County,
        clock: Clock) -> None:
    nord_ctx, sued_ctx = laptops
    example = build_example5(nord_ctx)  # Nord's team: Frau A.'s case, reconstruction, theme
    finding = example.findings[1]  # the Kita waiting time in Goch (no case behind it)
    secrets = example.example.secrets
    nord = laptop_window(qtbot, _state(nord_ctx, clock), county_server.network)
    nord_state = nord.coordination._state
    assert nord_state.has_county and nord_state.can_release
    try:
        # --- Nord gives the reconstruction (with its theme) and a finding to the Kreis -----
        _navigate(qtbot, nord, "Koordination")
        screen = nord.coordination
        assert screen.team_button.text() == "Team 1 Nord"
        assert screen.current_scope == TEAM
        _open_tab(qtbot, screen.tabs, "Fallrekonstruktionen")
        recon_tab = screen.reconstructions
        _select(recon_tab.table, recon_tab.model, example.reconstruction.id)
        qtbot.mouseClick(recon_tab.release_button, Qt.MouseButton.LeftButton)
        dialog = recon_tab.dialog
        assert isinstance(dialog, ReleaseDialog)
        assert THEME[:60] in " ".join(dialog.text.split())
        assert "Frau A." in dialog.text and "Kita/Kindertagespflege" in dialog.text
        assert leaked([dialog.text], secrets) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert dialog.grab().save(str(SHOTS / "county-release-dialog.png"))
        _click_save(qtbot, dialog)
        qtbot.waitUntil(lambda: recon_tab.dialog is None, timeout=5000)
        qtbot.waitUntil(lambda: recon_tab.release_state.isVisible(), timeout=5000)
        assert recon_tab.release_state.text().startswith("an den Kreis gegeben am ")
        _open_tab(qtbot, screen.tabs, "Erkenntnisse")
        tab = screen.findings
        tab.set_filter(period="all")
        assert tab.release_button.isVisible()
        _select(tab.table, tab.model, finding.id)
        qtbot.mouseClick(tab.release_button, Qt.MouseButton.LeftButton)
        dialog = tab.dialog
        assert isinstance(dialog, ReleaseDialog) and dialog.isVisible()
        assert "Wartezeit auf einen Kita-Platz länger als ein Jahr." in dialog.text
        assert "Goch" in dialog.text
        _click_save(qtbot, dialog)
        qtbot.waitUntil(lambda: tab.dialog is None, timeout=5000)
        qtbot.waitUntil(lambda: tab.release_state.isVisible(), timeout=5000)
        assert tab.release_state.text() == \
            f"an den Kreis gegeben am {datetime.now().astimezone():%d.%m.%Y}"
        _shot(nord, "team-erkenntnisse-weitergegeben")
        # A second release replaces the Kreis's copy, and the dialog says so.
        qtbot.mouseClick(tab.release_button, Qt.MouseButton.LeftButton)
        again = tab.dialog
        assert isinstance(again, ReleaseDialog)
        note = again.findChild(QLabel, "release_again")
        assert note.isVisible() and note.text().startswith("Bereits am ")
        again.reject()
        qtbot.waitUntil(lambda: tab.dialog is None, timeout=5000)

        _sync(qtbot, nord)
    finally:
        close_window(nord)

    # --- Süd sees them in the Kreis scope, starts a Projektgruppe and a decision ---------
    sued = laptop_window(qtbot, _state(sued_ctx, clock), county_server.network)
    try:
        _sync(qtbot, sued)
        _navigate(qtbot, sued, "Koordination")
        screen = sued.coordination
        assert screen.team_button.text() == "Team 4 Süd"
        _open_tab(qtbot, screen.tabs, "Erkenntnisse")
        assert screen.findings.model.rows() == []  # Süd's team has none of Nord's
        _scope(qtbot, screen, COUNTY)
        kreis = screen.county
        assert kreis is not None
        _open_tab(qtbot, kreis.tabs, "Erkenntnisse")
        kreis.findings.set_filter(period="all")
        assert [r.description for r in kreis.findings.model.rows()] == [finding.description]
        assert not kreis.findings.new_button.isVisible()
        assert not kreis.findings.release_button.isVisible()
        _shot(sued, "erkenntnisse")
        _open_tab(qtbot, kreis.tabs, "Fallrekonstruktionen")
        [row] = kreis.reconstructions.model.rows()
        assert row.title == example.reconstruction.title
        assert not kreis.reconstructions.from_case_button.isVisible()
        _shot(sued, "fallrekonstruktionen")
        county_ctx = sued.coordination._state.county_ctx
        assert county_ctx is not None
        [theme] = reconstructions.theme_rows(county_ctx)
        assert theme.statement == THEME

        _open_tab(qtbot, kreis.tabs, "Projektgruppen")
        groups = kreis.project_groups
        qtbot.mouseClick(groups.new_button, Qt.MouseButton.LeftButton)
        dialog = groups.dialog
        assert isinstance(dialog, ProjectGroupDialog)
        type_text(qtbot, dialog.name, GROUP)
        choose(dialog.status, "active")
        type_text(qtbot, dialog.started_on, "01.12.2026")
        dialog.themes.set_checked(theme.id)
        qtbot.mouseClick(dialog.theme_to_principal, Qt.MouseButton.LeftButton)
        type_text(qtbot, dialog.schema.text,
                  "Maßnahmen der Berufsvorbereitung bieten Kinderbetreuung an.")
        qtbot.mouseClick(dialog.schema.goal_button, Qt.MouseButton.LeftButton)
        _click_save(qtbot, dialog)
        assert groups.dialog is None, dialog.errors_label.text()
        _shot(sued, "projektgruppen")
        [group] = project_groups.project_group_rows(county_ctx)

        _open_tab(qtbot, kreis.tabs, "Lenkungsgruppe")
        board = kreis.steering
        _open_tab(qtbot, board.pages, "Sitzungen")
        qtbot.mouseClick(board.new_meeting_button, Qt.MouseButton.LeftButton)
        meeting = board.dialog
        assert isinstance(meeting, MeetingDialog)
        type_text(qtbot, meeting.held_on, "25.11.2026")
        type_text(qtbot, meeting.title, "Lenkungsgruppe des Kreises, 1. Sitzung")
        _click_save(qtbot, meeting)
        assert board.dialog is None, meeting.errors_label.text()
        qtbot.mouseClick(board.decision_in_meeting_button, Qt.MouseButton.LeftButton)
        decision = board.dialog
        assert isinstance(decision, DecisionDialog)
        type_text(qtbot, decision.title, DECISION)
        type_text(qtbot, decision.text, "Jobcenter und Jugendämter vereinbaren kreisweit ein "
                                        "Kontingent an Betreuungsplätzen.")
        decision.themes.set_checked(theme.id)
        decision.indicators.set_checked(load_reference().terms("decision_indicators")[0].code)
        choose(decision.project_group, group.id)
        _click_save(qtbot, decision)
        assert board.dialog is None, decision.errors_label.text()
        _shot(sued, "lenkungsgruppe")
        for title in ("Erkenntnisse", "Fallrekonstruktionen", "Projektgruppen",
                      "Lenkungsgruppe"):
            _open_tab(qtbot, kreis.tabs, title)
            assert leaked(visible_texts(screen), secrets) == [], title
        # The team's own data stay the team's: nothing of the Kreis in Süd's team vault.
        assert project_groups.project_group_rows(sued_ctx) == []
        assert steering.decision_rows(sued_ctx) == []
        _sync(qtbot, sued)
    finally:
        close_window(sued)

    # --- Nord's Kreis scope shows both ---------------------------------------------------
    nord_ctx = dataclasses.replace(nord_ctx, vault=open_vault(nord_ctx.vault.data_dir,
                                                              PASSWORD))
    nord = laptop_window(qtbot, _state(nord_ctx, clock), county_server.network)
    try:
        _sync(qtbot, nord)
        _navigate(qtbot, nord, "Koordination")
        screen = nord.coordination
        _scope(qtbot, screen, COUNTY)
        kreis = screen.county
        assert kreis is not None
        _open_tab(qtbot, kreis.tabs, "Projektgruppen")
        assert [r.name for r in kreis.project_groups.model.rows()] == [GROUP]
        _open_tab(qtbot, kreis.tabs, "Lenkungsgruppe")
        rows = steering.decision_rows(nord.coordination._state.county_ctx)
        assert [r.title for r in rows] == [DECISION]
        _open_tab(qtbot, kreis.steering.pages, "Beschlüsse")
        assert DECISION in visible_texts(kreis.steering)
        kreis.steering.select_decision(rows[0].id)
        # Effect: the Kreis's findings on the theme; the indicators count a team's cases.
        assert [r.theme_id for r in kreis.steering.effect_model.rows()] == [
            reconstructions.theme_rows(nord.coordination._state.county_ctx)[0].id]
        assert "keine Fälle" in kreis.steering.indicator_note.text()
        _shot(nord, "nord-lenkungsgruppe")
        # Nord's own team Projektgruppe (built with the example) is still only the team's.
        _scope(qtbot, screen, TEAM)
        _open_tab(qtbot, screen.tabs, "Projektgruppen")
        assert GROUP not in [r.name for r in screen.project_groups.model.rows()]
    finally:
        close_window(nord)
        nord_ctx.vault.close()


def test_a_refused_release_shows_the_reason_and_releases_nothing(
        qtbot: Any, template_vault: Path, tmp_path: Path, clock: Clock) -> None:
    ctx = open_device(template_vault, tmp_path / "nord", USERS[0], load_reference(), clock,
                      team="nord")
    _coordinator(ctx)
    county.create_county_vault(ctx, tmp_path / "nord")
    build_example5_case(ctx)  # Frau A. is a person of the team's vault
    named = findings.record_finding(ctx, FindingInput(
        life_area="childcare", barrier="capacity", institution_type="daycare",
        description=f"{FIRST_NAME} {LAST_NAME} wartet seit einem Jahr auf einen Kita-Platz.",
        source="team_meeting", noted_on=clock()))
    state = _state(ctx, clock)
    window = MainWindow(state)
    window.show()
    qtbot.waitExposed(window)
    try:
        window.show_page("Koordination")
        tab = window.coordination.findings
        window.coordination.show_tab("Erkenntnisse")
        tab.set_filter(period="all")
        _select(tab.table, tab.model, named.id)
        qtbot.mouseClick(tab.release_button, Qt.MouseButton.LeftButton)
        dialog = tab.dialog
        assert isinstance(dialog, ReleaseDialog)
        _click_save(qtbot, dialog)
        assert dialog.isVisible()  # refused: the dialog stays, with the reason
        assert dialog.errors_label.isVisible()
        assert "Beschreibung" in dialog.errors_label.text(), dialog.errors_label.text()
        assert FIRST_NAME not in dialog.errors_label.text()
        county_ctx = state.county_ctx
        assert county_ctx is not None
        assert findings.finding_rows(county_ctx, findings.FindingFilter()) == []
        dialog.reject()  # Abbrechen
        qtbot.waitUntil(lambda: tab.dialog is None, timeout=5000)
        assert tab.released_on(named.id) is None
        assert not tab.release_state.isVisible()
    finally:
        close_window(window)
        ctx.vault.close()


def test_a_laptop_without_a_kreis_tresor_has_no_scope_switch(
        qtbot: Any, app_state: AppState) -> None:
    window = MainWindow(app_state)
    window.show()
    qtbot.waitExposed(window)
    try:
        window.show_page("Koordination")
        screen = window.coordination
        assert not app_state.has_county
        assert not screen.scope.isVisible()
        assert screen.county is None
        window.coordination.show_tab("Erkenntnisse")
        assert not screen.findings.release_button.isVisible()
    finally:
        close_window(window)


def test_the_kreis_tresor_locks_and_unlocks_with_the_team_vault(
        qtbot: Any, template_vault: Path, tmp_path: Path, clock: Clock) -> None:
    """One password: typed once on the lock screen, it opens the Kreis-Tresor too; Strg+L
    closes both, and a change in the Kreis-Tresor reloads the Kreis scope that shows it."""
    ctx = open_device(template_vault, tmp_path / "nord", USERS[0], load_reference(), clock,
                      team="nord")
    _coordinator(ctx)
    county.create_county_vault(ctx, tmp_path / "nord")
    state = _state(ctx, clock)
    window = MainWindow(state)
    window.show()
    qtbot.waitExposed(window)
    try:
        first = state.county_ctx
        assert first is not None
        window.show_page("Koordination")
        screen = window.coordination
        _scope(qtbot, screen, COUNTY)
        kreis = screen.county
        assert kreis is not None
        kreis.show_tab("Erkenntnisse")
        kreis.findings.set_filter(period="all")
        assert kreis.findings.model.rows() == []
        # A change of the Kreis-Tresor (here: a use case, as a sync would write it) shows.
        findings.record_finding(first, FindingInput(
            life_area="childcare", barrier="capacity", description="Zu wenige Kita-Plätze.",
            source="team_meeting", noted_on=clock()))
        qtbot.waitUntil(lambda: len(kreis.findings.model.rows()) == 1, timeout=5000)

        window.lock()  # Strg+L, auto-lock
        assert not state.unlocked
        assert state.county_ctx is None and not first.vault.is_open
        qtbot.keyClicks(window.lock_screen.password, PASSWORD)
        qtbot.keyClick(window.lock_screen.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: state.unlocked, timeout=20000)
        assert state.county_ctx is not None and state.county_ctx.vault.is_open
        assert screen.scope.isVisible() and screen.current_scope == COUNTY
        qtbot.waitUntil(lambda: len(kreis.findings.model.rows()) == 1, timeout=5000)
    finally:
        close_window(window)
    assert state.county_ctx is None


def test_a_kreis_tresor_not_yet_enrolled_is_named_in_the_sync_status(
        qtbot: Any, template_vault: Path, tmp_path: Path, clock: Clock, team: Team) -> None:
    ctx = open_device(template_vault, tmp_path / "nord", USERS[0], load_reference(), clock,
                      team="nord")
    _coordinator(ctx)
    team.join(ctx, coordinator=True)
    county.create_county_vault(ctx, tmp_path / "nord")
    window = laptop_window(qtbot, _state(ctx, clock), Network(team))
    try:
        qtbot.waitUntil(lambda: "Kreis" in window.sync_status.label.text(), timeout=WAIT_MS)
        text = window.sync_status.label.text()
        assert text.startswith("Synchronisiert: ") and text.endswith(
            " · Kreis: nicht eingerichtet"), text
        assert window.sync.tone == "normal"
    finally:
        close_window(window)


def test_a_damaged_kreis_tresor_leaves_the_team_vault_working(
        qtbot: Any, template_vault: Path, tmp_path: Path, clock: Clock) -> None:
    ctx = open_device(template_vault, tmp_path / "nord", USERS[0], load_reference(), clock,
                      team="nord")
    _coordinator(ctx)
    county.create_county_vault(ctx, tmp_path / "nord")
    ctx.vault.close()
    (county.county_vault_dir(tmp_path / "nord") / "vault.db").write_bytes(b"\0" * 4096)
    state = AppState(tmp_path / "nord", Hub(), clock=clock)
    window = MainWindow(state)
    window.show()
    qtbot.waitExposed(window)
    try:
        qtbot.keyClicks(window.lock_screen.password, PASSWORD)
        qtbot.keyClick(window.lock_screen.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: state.unlocked, timeout=20000)
        assert state.county_failed and not state.has_county
        assert "Kreis-Tresor konnte nicht geöffnet werden" in \
            window.statusBar().currentMessage()
        window.show_page("Koordination")
        assert not window.coordination.scope.isVisible()
        assert not window.coordination.findings.release_button.isVisible()
    finally:
        close_window(window)
