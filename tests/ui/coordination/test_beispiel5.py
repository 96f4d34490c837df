"""Beispiel 5 of the concept (5.5.1) end to end in the desktop app: from Frau A.'s case to a
Fallrekonstruktion with its service chain and one generative theme, its PDF, a Projektgruppe
with its Zielschema, and a decision of the Lenkungsgruppe, all typed, clicked and dragged
through the widgets, and never a name, birth date or address of hers on a coordination view,
in a dialog of it or in the PDF."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt, QThreadPool
from PySide6.QtWidgets import QApplication, QDialog, QPushButton, QTabWidget, QWidget

from kimdesk.casework.coordination import project_groups, reconstructions, steering
from kimdesk.ui.coordination.project_groups_tab import ProjectGroupDialog
from kimdesk.ui.coordination.reconstruction_editor import ReconstructionEditor
from kimdesk.ui.coordination.reviews_tab import CasePickerDialog
from kimdesk.ui.coordination.steering_tab import DecisionDialog, MeetingDialog
from kimdesk.ui.main_window import MainWindow
from kimdesk.ui.state import AppState
from tests.coordination_builders import GOAL, OBSTACLE, THEME, Example5, build_example5_case
from tests.reports.pdftext import text as pdf_text
from tests.ui.coordination.canvas import click, double_click, drag, item_centre, view_point
from tests.ui.coordination.test_service_chain import type_into
from tests.ui.coordination.widget_texts import leaked, visible_texts
from tests.ui.support import choose, type_text

SHOTS = Path("/tmp/shots")
MANDATE = "Projektgruppe mit Jobcenter, Jugendamt und Bildungsträgern"

# Where the coordinator drags the boxes (centres, relative to the top left of the canvas).
LAYOUT = {
    "Kommunales Integrationsmanagement": (-80, 170),
    "Frau A.": (300, 170),
    "Kind 1": (300, 340),
    "Jobcenter": (300, 0),
    "Kita/Kindertagespflege": (700, 340),
    "Sprachkurs (Integrationskursträger)": (1100, 0),
    "Kinderarzt": (-80, 340),
    "berufsvorbereitende Maßnahme": (700, 0),
    "Ausbildung": (1100, 340),
}
RELATIONS = [  # source, target, kind, label
    ("Jobcenter", "berufsvorbereitende Maßnahme", "cooperation", "schlägt Maßnahme vor"),
    ("Kita/Kindertagespflege", "berufsvorbereitende Maßnahme", "obstacle", OBSTACLE),
    ("Sprachkurs (Integrationskursträger)", "berufsvorbereitende Maßnahme", "precondition",
     "Sprachniveau"),
    ("berufsvorbereitende Maßnahme", "Ausbildung", "precondition", "Berufsorientierung"),
    ("Kinderarzt", "Kind 1", "influence", "häufig krank"),
    ("Kind 1", "Frau A.", "influence", "Betreuung und Erziehung"),
    ("Frau A.", "Jobcenter", "cooperation", "SGB II"),
]


@pytest.fixture
def window(qtbot: Any, app_state: AppState) -> Iterator[MainWindow]:
    # Not handed to qtbot.addWidget: pytest-qt would close it before this fixture's teardown,
    # and a window with unsaved input asks before it closes.
    main = MainWindow(app_state)
    main.resize(1920, 1080)
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow)
    yield main
    QThreadPool.globalInstance().waitForDone(10000)
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    QApplication.processEvents()
    main.discard_and_close()


def _navigate(qtbot: Any, window: MainWindow, page: str) -> None:
    item = window.navigation.item(MainWindow.NAVIGATION.index(page))
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.navigation.visualItemRect(item).center())


def _open_tab(qtbot: Any, tabs: QTabWidget, title: str) -> None:
    bar = tabs.tabBar()
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def _click_save(qtbot: Any, dialog: QWidget) -> None:
    qtbot.mouseClick(dialog.findChild(QPushButton, "save"), Qt.MouseButton.LeftButton)


def _no_secrets(example: Example5, *widgets: QWidget) -> None:
    for widget in widgets:
        assert leaked(visible_texts(widget), example.secrets) == [], widget.objectName()


def _draw_the_chain(qtbot: Any, editor: ReconstructionEditor) -> None:
    chain = editor.chain
    view = chain.view

    def rename(old: str, new: str) -> None:
        double_click(qtbot, view, item_centre(view, chain.scene.actor_named(old)))
        type_into(qtbot, view, new)
        qtbot.keyClick(view, Qt.Key.Key_Return)

    # The draft brought the kinds of institutions she was referred to; name them as the team
    # speaks of them, and add the offers of the chain.
    rename("Kita", "Kita/Kindertagespflege")
    rename("Integrationskursträger", "Sprachkurs (Integrationskursträger)")
    rename("Gesundheitswesen", "Kinderarzt")
    for label in ("berufsvorbereitende Maßnahme", "Ausbildung"):
        chain.actor_kind.setCurrentIndex(chain.actor_kind.findData("offer"))
        qtbot.mouseClick(chain.add_actor_button, Qt.MouseButton.LeftButton)
        type_into(qtbot, view, label)
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert sorted(a["label"] for a in chain.actors()) == sorted(LAYOUT)

    # Drag every box to its place, at 100 %, starting from the visible corner of the canvas.
    view.resetTransform()
    corner = view.mapToScene(view.viewport().rect().topLeft()) + QPointF(220, 70)
    for label, (x, y) in LAYOUT.items():
        actor = chain.scene.actor_named(label)
        target = corner + QPointF(x, y)
        drag(qtbot, view, item_centre(view, actor), view_point(view, target))
        assert (actor.pos() - target).manhattanLength() < 2, label

    for source, target, kind, label in RELATIONS:
        click(qtbot, view, item_centre(view, chain.scene.actor_named(source)))
        click(qtbot, view, item_centre(view, chain.scene.actor_named(target)), control=True)
        chain.relation_kind.setCurrentIndex(chain.relation_kind.findData(kind))
        qtbot.mouseClick(chain.connect_button, Qt.MouseButton.LeftButton)
        type_into(qtbot, view, label)
        qtbot.keyClick(view, Qt.Key.Key_Return)
    click(qtbot, view, view_point(view, corner + QPointF(900, 480)))  # nothing selected
    qtbot.mouseClick(chain.fit_button, Qt.MouseButton.LeftButton)


def test_beispiel_5_frau_a_from_her_case_to_a_decision_of_the_lenkungsgruppe(
        qtbot: Any, window: MainWindow, app_state: AppState, tmp_path: Path) -> None:
    ctx = app_state.ctx
    example = build_example5_case(ctx)  # her file, as the case manager documented it
    coordination = window.coordination

    # --- Fallrekonstruktion from her case ---------------------------------------------------
    _navigate(qtbot, window, "Koordination")
    assert window.pages.currentWidget() is coordination
    _open_tab(qtbot, coordination.tabs, "Fallrekonstruktionen")
    tab = coordination.reconstructions
    qtbot.mouseClick(tab.from_case_button, Qt.MouseButton.LeftButton)
    picker = tab.dialog
    assert isinstance(picker, CasePickerDialog)
    # The picker is the presenter's own case load (with names); it closes before anything of
    # the case reaches the coordination view. It reads the cases off the GUI thread.
    qtbot.waitUntil(lambda: picker.loaded, timeout=10000)
    picker.choose(example.case.id)
    _click_save(qtbot, picker)
    assert tab.dialog is None
    editor = tab.editor
    assert tab.stack.currentWidget() is editor
    assert editor.title.text() == "Fallrekonstruktion Frau A."
    _no_secrets(example, coordination)

    type_text(qtbot, editor.title, "Fallrekonstruktion Frau A.: Ausbildung und Kinderbetreuung")
    editor.suggestions.select(f"goal:{example.goal.id}:title")
    qtbot.mouseClick(editor.suggestions.use_as_goal, Qt.MouseButton.LeftButton)
    assert editor.goal.toPlainText() == GOAL
    life_areas = editor.life_areas
    for area, topic in (("Kinderbetreuung", "keine Kinderbetreuung für die Tochter"),
                        ("Qualifikation/Berufliche Orientierung (inkl. Anerkennung)",
                         "Sprachkenntnisse noch nicht ausreichend"),
                        ("Arbeit", "möchte schnell Geld verdienen, Schulden"),
                        ("Gesundheit (inkl. psychische Gesundheit, Behinderung)",
                         "Tochter häufig krank")):
        item = life_areas.area(area)
        assert item is not None, area
        life_areas.tree.setCurrentItem(item)
        type_text(qtbot, life_areas.topic, topic)
        qtbot.keyClick(life_areas.topic, Qt.Key.Key_Return)
    type_text(qtbot, editor.themes.statement, THEME)
    assert not editor.themes.warning.isVisible(), "the theme is worded positively"
    type_text(qtbot, editor.themes.mandate, MANDATE)
    qtbot.mouseClick(editor.themes.add_button, Qt.MouseButton.LeftButton)
    _draw_the_chain(qtbot, editor)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.errors_label.isHidden(), editor.errors_label.text()

    detail = reconstructions.reconstruction_detail(ctx, editor.reconstruction_id)
    assert detail.goal == GOAL
    childcare = next(a for a in detail.life_areas if a["area"] == "Kinderbetreuung")
    assert childcare["topics"] == ["keine Kinderbetreuung für die Tochter"]
    names = {a["id"]: a["label"] for a in detail.actors}
    assert sorted(names.values()) == sorted(LAYOUT)
    drawn = {(names[r["source"]], names[r["target"]], r["kind"], r["label"])
             for r in detail.relations}
    assert drawn >= set(RELATIONS)
    assert ("Kommunales Integrationsmanagement", "Frau A.", "cooperation",
            "Case Management") in drawn
    [theme] = detail.themes
    assert (theme.statement, theme.mandate) == (THEME, MANDATE)
    assert not editor.has_unsaved_changes()

    SHOTS.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(SHOTS / "service_chain.png"))
    _no_secrets(example, coordination)

    target = tmp_path / "export" / "fallrekonstruktion.pdf"
    target.parent.mkdir()
    editor.choose_path = lambda suggested: str(target)
    qtbot.mouseClick(editor.pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and editor.pdf_button.isEnabled(), timeout=20000)
    content = pdf_text(target.read_bytes())
    for expected in ("Ausbildung und Kinderbetreuung", GOAL, OBSTACLE, "Frau A.",
                     "Kind 1", "berufsvorbereitende Maßnahme", THEME[:70], MANDATE):
        assert expected in content, expected
    assert leaked([content], example.secrets) == []
    qtbot.mouseClick(editor.close_button, Qt.MouseButton.LeftButton)
    assert tab.stack.currentIndex() == 0

    # --- Projektgruppe with its Zielschema ----------------------------------------------------
    _open_tab(qtbot, coordination.tabs, "Projektgruppen")
    groups = coordination.project_groups
    qtbot.mouseClick(groups.new_button, Qt.MouseButton.LeftButton)
    dialog = groups.dialog
    assert isinstance(dialog, ProjectGroupDialog)
    type_text(qtbot, dialog.name, "Vereinbarkeit von Familie und Qualifizierung")
    choose(dialog.status, "active")
    type_text(qtbot, dialog.started_on, "01.12.2026")
    type_text(qtbot, dialog.ends_on, "31.05.2027")
    dialog.themes.set_checked(theme.id)
    qtbot.mouseClick(dialog.theme_to_principal, Qt.MouseButton.LeftButton)
    schema = dialog.schema
    for text, button in (
            ("Maßnahmen der Berufsvorbereitung bieten Kinderbetreuung an.", schema.goal_button),
            ("Kinderbetreuung bei der Maßnahmeplanung des Jobcenters mitdenken",
             schema.strategy_button),
            ("Kooperation mit der Kindertagespflege", schema.strategy_button),
            ("Alleinerziehende erhalten vorrangig einen Betreuungsplatz.", schema.goal_button),
            ("Vereinbarung mit dem Jugendamt zur Platzvergabe", schema.strategy_button)):
        type_text(qtbot, schema.text, text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    for key in ("jobcenter", "daycare"):
        dialog.members.set_checked(example.institutions[key].id)
    _no_secrets(example, dialog)
    _click_save(qtbot, dialog)
    assert groups.dialog is None, dialog.errors_label.text()
    [group_row] = project_groups.project_group_rows(ctx)
    group = project_groups.project_group_detail(ctx, group_row.id)
    assert group.principal_goal == THEME
    assert [(g.goal, len(g.strategies)) for g in group.framework_goals] == [
        ("Maßnahmen der Berufsvorbereitung bieten Kinderbetreuung an.", 2),
        ("Alleinerziehende erhalten vorrangig einen Betreuungsplatz.", 1)]
    assert [t.id for t in group.themes] == [theme.id]

    # --- Lenkungsgruppe: a meeting and its decision ---------------------------------------
    _open_tab(qtbot, coordination.tabs, "Lenkungsgruppe")
    board = coordination.steering
    _open_tab(qtbot, board.pages, "Sitzungen")
    qtbot.mouseClick(board.new_meeting_button, Qt.MouseButton.LeftButton)
    meeting_dialog = board.dialog
    assert isinstance(meeting_dialog, MeetingDialog)
    type_text(qtbot, meeting_dialog.held_on, "25.11.2026")
    type_text(qtbot, meeting_dialog.title, "Lenkungsgruppe, 4. Sitzung")
    type_text(qtbot, meeting_dialog.agenda, "Ergebnisse der Projektgruppe Vereinbarkeit")
    _click_save(qtbot, meeting_dialog)
    assert board.dialog is None, meeting_dialog.errors_label.text()
    qtbot.mouseClick(board.decision_in_meeting_button, Qt.MouseButton.LeftButton)
    decision_dialog = board.dialog
    assert isinstance(decision_dialog, DecisionDialog)
    type_text(qtbot, decision_dialog.title, "Kinderbetreuung in berufsvorbereitenden Maßnahmen")
    type_text(qtbot, decision_dialog.text, "Jobcenter und Jugendamt vereinbaren ein Kontingent "
                                           "an Betreuungsplätzen für Teilnehmende.")
    type_text(qtbot, decision_dialog.responsible.lineEdit(),
              "Fachbereichsleitung 4 Jugend, Soziales und Jobcenter")
    type_text(qtbot, decision_dialog.follow_up_on, "25.02.2027")
    decision_dialog.themes.set_checked(theme.id)
    choose(decision_dialog.project_group, group.id)
    _no_secrets(example, decision_dialog)
    _click_save(qtbot, decision_dialog)
    assert board.dialog is None, decision_dialog.errors_label.text()

    [decision] = steering.decision_rows(ctx)
    stored = steering.decision_detail(ctx, decision.id)
    assert (decision.decided_on, decision.follow_up_on, decision.project_group_name) == (
        date(2026, 11, 25), date(2027, 2, 25), "Vereinbarkeit von Familie und Qualifizierung")
    assert [t for t, _ in stored.themes] == [theme.id]
    _open_tab(qtbot, board.pages, "Beschlüsse")
    board.select_decision(decision.id)
    effect = board.effect_model.rows()
    assert [(row.theme_id, row.before, row.after) for row in effect] == [(theme.id, 0, 0)]

    # --- nothing of hers in any coordination view ---------------------------------------------
    for title in ("Fallbesprechungen", "Erkenntnisse", "Fallrekonstruktionen", "Projektgruppen",
                  "Lenkungsgruppe"):
        _open_tab(qtbot, coordination.tabs, title)
        _no_secrets(example, coordination)
    tab.table.selectRow(0)
    tab.open_selected()
    _no_secrets(example, coordination)
