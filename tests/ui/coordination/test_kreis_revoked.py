"""County IT revokes only the ``kreis`` device of a coordinator's laptop, as the coordinator
lives it: Koordination is open in the Kreis scope (a released finding on screen, a Projektgruppe
being typed), the desktop's sync worker meets the signed revocation, the Kreis-Tresor is wiped.

Afterwards the Kreis-Tresor is gone from disk, Koordination is back in the team scope without
the switch, the status bar says in German why the Kreis-Tresor was removed (the team part as
before), the team vault keeps its people and still syncs, and neither a lock and unlock nor a
restart of the app mentions the missing Kreis-Tresor. Also: a half-deleted ``kreis`` folder
(header without database, or a database without header) never blocks the team vault.
Screenshot: ``/tmp/shots/kreis-revoked-koordination.png``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from sqlalchemy import func, select

from kimdesk.casework import county
from kimdesk.casework.context import Context
from kimdesk.casework.coordination import findings
from kimdesk.casework.coordination.findings import FindingInput
from kimdesk.models import Client, VaultProfile
from kimdesk.models.changelog import LOCAL_ONLY
from kimdesk.reference import load_reference
from kimdesk.server import admin
from kimdesk.sync.client import SyncReport, enrolled_device, wipe_vault
from kimdesk.ui.coordination.project_groups_tab import ProjectGroupDialog
from kimdesk.ui.coordination.screen import COUNTY, TEAM, CoordinationScreen
from kimdesk.ui.hub import Hub
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from kimdesk.vault import Vault, open_vault
from tests.factories import PASSWORD, Clock, make_person
from tests.sync.devices import USERS, open_device
from tests.sync.team import Team, sqlite_url
from tests.ui.coordination.widget_texts import visible_texts
from tests.ui.support import type_text
from tests.ui.sync_support import WAIT_MS, Network, close_window, laptop_window

SHOTS = Path("/tmp/shots")
FINDING = "Sprachkurse mit Kinderbetreuung fehlen in Kevelaer."  # released by the team
COUNTY_FINDING = "Kreisweit: Wartelisten der Integrationskurse über sechs Monate."  # Kreis only


@dataclass
class Laptop:
    """A coordinator's laptop of Team Nord with its Kreis-Tresor, both enrolled and synced."""

    ctx: Context  # the team vault (open)
    data_dir: Path
    nord: Team
    kreis: Team
    network: Network
    kreis_device: str  # the Kreis-Tresor's device id on the server
    revocation: dict[str, Any]  # county IT's signed revocation of that device
    finding_id: str  # the team's finding given to the Kreis


def _coordinator(ctx: Context) -> None:
    with ctx.vault.writing() as session:
        session.info[LOCAL_ONLY] = True
        session.scalars(select(VaultProfile)).one().role = "coordinator"


@pytest.fixture
def laptop(template_vault: Path, tmp_path: Path, clock: Clock) -> Iterator[Laptop]:
    folder = tmp_path / "server"
    folder.mkdir()
    url = sqlite_url(folder)
    nord = Team(url, "nord")
    kreis = Team(url, "kreis", statistics=False)
    data_dir = tmp_path / "nord"
    ctx = open_device(template_vault, data_dir, USERS[0], load_reference(), clock, team="nord")
    try:
        _coordinator(ctx)
        make_person(ctx, consent=True)
        make_person(ctx, consent=True)
        nord.join(ctx, coordinator=True)
        county.create_county_vault(ctx, data_dir)
        county_ctx = county.open_county_context(ctx, data_dir)
        assert county_ctx is not None
        try:
            county_ctx = dataclasses.replace(county_ctx, clock=clock)
            kreis.join(county_ctx, coordinator=True)
            # A team finding the coordinator gave to the Kreis, synced to the server.
            finding = findings.record_finding(ctx, FindingInput(
                life_area="language", barrier="capacity", description=FINDING,
                source="team_meeting", noted_on=clock()))
            county.release_finding(ctx, county_ctx, finding.id)
            findings.record_finding(county_ctx, FindingInput(
                life_area="language", barrier="capacity", description=COUNTY_FINDING,
                source="team_meeting", noted_on=clock()))
            kreis.sync(county_ctx)
            kreis_device = enrolled_device(county_ctx).device_id
            revocation = kreis.revocation(county_ctx)
        finally:
            county_ctx.vault.close()  # the app opens it with the team vault
        yield Laptop(ctx, data_dir, nord, kreis, Network(nord), kreis_device, revocation,
                     finding.id)
    finally:
        if ctx.vault.is_open:
            ctx.vault.close()
        kreis.close()
        nord.close()


def _unlock(qtbot: Any, window: MainWindow, state: AppState) -> None:
    qtbot.keyClicks(window.lock_screen.password, PASSWORD)
    qtbot.keyClick(window.lock_screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: state.unlocked, timeout=20_000)


def _sync(qtbot: Any, window: MainWindow) -> SyncReport:
    """One sync through the desktop's worker, after the one running (at unlock) ended; the
    team vault's report."""
    qtbot.waitUntil(lambda: not window.sync.running, timeout=WAIT_MS)
    with qtbot.waitSignal(window.sync.synced, timeout=WAIT_MS) as blocker:
        assert window.sync.sync_now()
    report = blocker.args[0]
    assert isinstance(report, SyncReport)
    return report


def _people(vault: Vault) -> int:
    with vault.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Client)) or 0)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) \
        if folder.exists() else []


def _kreis_dialogs(screen: CoordinationScreen) -> list[QDialog]:
    """Visible dialogs opened from the Kreis scope's tabs."""
    def inside(widget: QWidget | None) -> bool:
        while widget is not None:
            if widget is screen.county:
                return True
            widget = widget.parentWidget()
        return False
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QDialog) and w.isVisible() and inside(w)]


def _no_kreis_scope(screen: CoordinationScreen, state: AppState) -> None:
    assert not state.has_county and not state.can_release
    assert not screen.scope.isVisible()
    assert screen.current_scope == TEAM
    assert screen.stack.currentWidget() is screen.tabs
    assert screen.county is None and screen.stack.count() == 1
    texts = visible_texts(screen)
    assert COUNTY_FINDING not in texts
    # What the team gave to the Kreis was read from the Kreis-Tresor: no longer shown.
    assert not any("an den Kreis gegeben am" in t for t in texts)
    assert not screen.findings.release_button.isVisible()


def test_a_revoked_kreis_device_loses_its_kreis_tresor_and_the_team_works_on(
        qtbot: Any, laptop: Laptop, clock: Clock) -> None:
    # (pytest-qt fails the test on any exception raised in a slot or event handler)
    kreis_dir = county.county_vault_dir(laptop.data_dir)
    people = _people(laptop.ctx.vault)
    state = AppState(laptop.data_dir, Hub(), clock=clock)
    state.attach(laptop.ctx.vault)
    window = laptop_window(qtbot, state, laptop.network)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    try:
        # --- 1. both synced, Koordination in the Kreis scope with the released finding ---
        _sync(qtbot, window)
        assert window.sync_status.label.text().endswith(" · Kreis: synchronisiert")
        window.show_page("Koordination")
        screen = window.coordination
        assert screen.scope.isVisible()
        screen.show_tab("Erkenntnisse")
        screen.findings.set_filter(period="all")
        team_rows = screen.findings.model.rows()
        screen.findings.table.selectRow(
            next(i for i, r in enumerate(team_rows) if r.id == laptop.finding_id))
        assert screen.findings.release_state.text().startswith("an den Kreis gegeben am ")
        qtbot.mouseClick(screen.county_button, Qt.MouseButton.LeftButton)
        assert screen.current_scope == COUNTY and screen.county is not None
        screen.county.show_tab("Erkenntnisse")
        screen.county.findings.set_filter(period="all")
        assert sorted(r.description for r in screen.county.findings.model.rows()) == \
            sorted([FINDING, COUNTY_FINDING])
        assert COUNTY_FINDING in visible_texts(screen)
        # The coordinator starts a Projektgruppe of the Kreis meanwhile.
        screen.county.show_tab("Projektgruppen")
        qtbot.mouseClick(screen.county.project_groups.new_button, Qt.MouseButton.LeftButton)
        typing = screen.county.project_groups.dialog
        assert isinstance(typing, ProjectGroupDialog) and typing.isVisible()
        type_text(qtbot, typing.name, "Sprachkurse mit Kinderbetreuung")
        screen.county.show_tab("Erkenntnisse")

        # --- 2. county IT revokes the laptop's kreis device only (signed) ----------------
        admin.revoke(laptop.kreis.db, laptop.kreis_device, laptop.revocation)

        # --- 3. the next sync through the desktop's worker ------------------------------
        _sync(qtbot, window)
        QApplication.processEvents()

        # The Kreis-Tresor is gone from disk; nothing of it can be opened any more.
        assert not county.has_county_vault(laptop.data_dir)
        assert _files(kreis_dir) == [], _files(kreis_dir)
        assert not kreis_dir.exists()  # not even the empty folder is left
        # Koordination shows the team again, without the switch and without Kreis data.
        assert state.county_ctx is None
        _no_kreis_scope(screen, state)
        assert _kreis_dialogs(screen) == []
        assert screen.tabs.currentIndex() == 1  # Erkenntnisse, as in the Kreis scope
        assert screen.findings.selected() is not None  # the team's finding, still chosen
        assert not screen.findings.release_state.isVisible()
        # The status bar: the team's part as before, the Kreis part says what happened.
        text = window.sync_status.label.text()
        assert text.startswith("Synchronisiert: heute "), text
        assert "Kreis-Tresor entfernt" in text and "gesperrt" in text, text
        assert any("Kreis-Tresor" in m and "entfernt" in m and "gesperrt" in m
                   for m in messages), messages
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(SHOTS / "kreis-revoked-koordination.png"))
        # The whole status is readable (not cut off beside the message).
        status = window.sync_status
        assert status.width() >= status.minimumSizeHint().width()
        assert status.label.width() >= status.label.fontMetrics().horizontalAdvance(text)
        # The team vault is untouched and still syncs.
        assert state.unlocked and window.root.currentWidget() is not window.lock_screen
        assert _people(state.ctx.vault) == people
        make_person(state.ctx, consent=True)  # new work of the team reaches the server
        people += 1
        assert _sync(qtbot, window).pushed > 0
        assert window.sync_status.label.text().startswith("Synchronisiert: heute ")
        assert "Kreis-Tresor entfernt" in window.sync_status.label.text()
        _no_kreis_scope(screen, state)

        # --- lock and unlock: no Kreis scope, no word of a missing Kreis-Tresor ----------
        window.lock()
        _unlock(qtbot, window, state)
        window.show_page("Koordination")
        assert not state.county_failed
        _no_kreis_scope(screen, state)
        _sync(qtbot, window)
        assert not any("konnte nicht geöffnet" in m for m in messages), messages
        assert _people(state.ctx.vault) == people
    finally:
        close_window(window)

    # --- an app restart on the same data folder --------------------------------------------
    restarted = AppState(laptop.data_dir, Hub(), clock=clock)
    window = laptop_window(qtbot, restarted, laptop.network)
    messages.clear()
    window.statusBar().messageChanged.connect(messages.append)
    try:
        _unlock(qtbot, window, restarted)
        window.show_page("Koordination")
        assert not restarted.county_failed
        _no_kreis_scope(window.coordination, restarted)
        _sync(qtbot, window)
        text = window.sync_status.label.text()
        assert text.startswith("Synchronisiert: heute ") and "Kreis" not in text, text
        assert not any("Kreis-Tresor" in m for m in messages), messages
        assert _people(restarted.ctx.vault) == people
    finally:
        close_window(window)


def test_a_kreis_dialog_hidden_by_the_lock_does_not_come_back_after_the_revocation(
        qtbot: Any, laptop: Laptop, clock: Clock) -> None:
    """The window was locked while the sync that wiped the Kreis-Tresor ran: the Kreis
    dialog the lock hid stays closed after the unlock (it could never be saved)."""
    state = AppState(laptop.data_dir, Hub(), clock=clock)
    state.attach(laptop.ctx.vault)
    window = laptop_window(qtbot, state, laptop.network)
    try:
        _sync(qtbot, window)
        window.show_page("Koordination")
        screen = window.coordination
        qtbot.mouseClick(screen.county_button, Qt.MouseButton.LeftButton)
        assert screen.county is not None
        screen.county.show_tab("Projektgruppen")
        qtbot.mouseClick(screen.county.project_groups.new_button, Qt.MouseButton.LeftButton)
        typing = screen.county.project_groups.dialog
        assert isinstance(typing, ProjectGroupDialog) and typing.isVisible()
        type_text(qtbot, typing.name, "Sprachkurse mit Kinderbetreuung")
        window.lock()
        assert not typing.isVisible()
        # What the sync worker does when the Kreis sync ends in a revocation (it wiped the
        # Kreis-Tresor: kimdesk.sync.client.wipe_vault), here while the window is locked.
        wipe_vault(county.county_vault_dir(laptop.data_dir))
        state.remove_revoked_county()

        _unlock(qtbot, window, state)
        QApplication.processEvents()

        assert not shiboken6.isValid(typing) or not typing.isVisible()
        assert [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QDialog) and w.isVisible()] == []
        assert not window.unsaved_work()  # nothing left that could still be saved
        window.show_page("Koordination")
        _no_kreis_scope(window.coordination, state)
    finally:
        close_window(window)


@pytest.mark.parametrize("left", ["header", "database"])
def test_a_half_deleted_kreis_folder_never_blocks_the_team_vault(
        qtbot: Any, template_vault: Path, tmp_path: Path, clock: Clock, left: str) -> None:
    """A wipe stopped half-way (or a folder damaged by hand): the team vault opens, the
    Koordination has no Kreis scope, and nothing is created in its place."""
    data_dir = tmp_path / "nord"
    ctx = open_device(template_vault, data_dir, USERS[0], load_reference(), clock, team="nord")
    _coordinator(ctx)
    county.create_county_vault(ctx, data_dir)
    ctx.vault.close()
    kreis_dir = county.county_vault_dir(data_dir)
    gone = "vault.db" if left == "header" else "vault-header.json"
    (kreis_dir / gone).unlink()
    before = _files(kreis_dir)
    state = AppState(data_dir, Hub(), clock=clock)
    window = MainWindow(state)  # not enrolled: the sync never connects
    window.show()
    qtbot.waitExposed(window)
    try:
        _unlock(qtbot, window, state)
        assert state.unlocked and not state.has_county
        window.show_page("Koordination")
        assert not window.coordination.scope.isVisible()
        assert window.root.currentWidget() is not window.lock_screen
        # A header without its database must not silently become a new, empty Kreis-Tresor.
        assert _files(kreis_dir) == before
    finally:
        close_window(window)
    # The team vault itself is intact.
    vault = open_vault(data_dir, PASSWORD)
    vault.close()
