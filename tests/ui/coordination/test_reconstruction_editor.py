"""The Fallrekonstruktion editor: typed in and drawn by a coordinator, started from a case with
pseudonymised suggestions, refused where a name would slip in, and saved as PDF."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QMessageBox

from kimdesk.casework.coordination import reconstructions
from kimdesk.ui.coordination.reconstruction_editor import ReconstructionEditor, ReconstructionsTab
from kimdesk.ui.state import AppState
from tests.coordination_builders import (
    GOAL,
    OBSTACLE,
    THEME,
    build_example5,
    build_example5_case,
)
from tests.reports.pdftext import text as pdf_text
from tests.ui.coordination.canvas import click, item_centre
from tests.ui.coordination.test_service_chain import type_into
from tests.ui.coordination.widget_texts import leaked, visible_texts
from tests.ui.support import screenshot, type_text, when_modal

SHOTS = Path("/tmp/shots")


@pytest.fixture(autouse=True)
def _workers_done(qtbot: Any) -> Any:
    """The PDF is made on a pool thread: let it return before the widgets go."""
    yield
    QThreadPool.globalInstance().waitForDone(10000)
    qtbot.wait(10)


@pytest.fixture
def tab(qtbot: Any, app_state: AppState) -> ReconstructionsTab:
    widget = ReconstructionsTab(app_state)
    qtbot.addWidget(widget)
    widget.resize(1600, 1000)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    return widget


class Chooser:
    """Stands in for the save dialog (as in tests/ui/test_printing.py)."""

    def __init__(self, target: Path | None) -> None:
        self.target = target
        self.asked: list[str] = []

    def __call__(self, suggested: str) -> str | None:
        self.asked.append(suggested)
        return str(self.target) if self.target is not None else None


def _add_area_with_topics(qtbot: Any, editor: ReconstructionEditor, area: str,
                          topics: list[str]) -> None:
    type_text(qtbot, editor.life_areas.area_choice.lineEdit(), area)
    qtbot.mouseClick(editor.life_areas.add_area_button, Qt.MouseButton.LeftButton)
    for topic in topics:
        type_text(qtbot, editor.life_areas.topic, topic)
        qtbot.keyClick(editor.life_areas.topic, Qt.Key.Key_Return)


def _add_actor(qtbot: Any, editor: ReconstructionEditor, kind: str, label: str) -> None:
    chain = editor.chain
    chain.actor_kind.setCurrentIndex(chain.actor_kind.findData(kind))
    qtbot.mouseClick(chain.add_actor_button, Qt.MouseButton.LeftButton)
    type_into(qtbot, chain.view, label)
    qtbot.keyClick(chain.view, Qt.Key.Key_Return)


def _connect(qtbot: Any, editor: ReconstructionEditor, source: str, target: str, kind: str,
             label: str) -> None:
    chain = editor.chain
    click(qtbot, chain.view, item_centre(chain.view, chain.scene.actor_named(source)))
    click(qtbot, chain.view, item_centre(chain.view, chain.scene.actor_named(target)),
          control=True)
    chain.relation_kind.setCurrentIndex(chain.relation_kind.findData(kind))
    qtbot.mouseClick(chain.connect_button, Qt.MouseButton.LeftButton)
    type_into(qtbot, chain.view, label)
    qtbot.keyClick(chain.view, Qt.Key.Key_Return)


def test_a_new_reconstruction_typed_and_drawn_is_stored_as_shown(
        qtbot: Any, tab: ReconstructionsTab, app_state: AppState) -> None:
    qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
    editor = tab.editor
    assert tab.stack.currentWidget() is editor
    type_text(qtbot, editor.title, "Fallrekonstruktion Frau A.")
    type_text(qtbot, editor.presented_on, "20.11.2026")
    type_text(qtbot, editor.goal, GOAL)
    _add_area_with_topics(qtbot, editor, "Kinderbetreuung",
                          ["keine Kinderbetreuung für die Tochter"])
    _add_area_with_topics(qtbot, editor, "Arbeit", ["Schulden", "möchte Geld verdienen"])
    qtbot.mouseClick(editor.life_areas.up_button, Qt.MouseButton.LeftButton)  # Arbeit first

    themes = editor.themes
    type_text(qtbot, themes.statement, "Es fehlt an Kinderbetreuung")
    assert themes.warning.isVisible() and "positiv" in themes.warning.text()
    type_text(qtbot, themes.statement, THEME)
    assert not themes.warning.isVisible()
    assert "positiv formulieren" in themes.hint.text()
    type_text(qtbot, themes.mandate, "Projektgruppe einberufen")
    qtbot.mouseClick(themes.add_button, Qt.MouseButton.LeftButton)

    _add_actor(qtbot, editor, "person", "Frau A.")
    _add_actor(qtbot, editor, "offer", "Kita/Kindertagespflege")
    _add_actor(qtbot, editor, "offer", "berufsvorbereitende Maßnahme")
    _connect(qtbot, editor, "Kita/Kindertagespflege", "berufsvorbereitende Maßnahme",
             "obstacle", OBSTACLE)
    assert editor.has_unsaved_changes()
    assert "ungespeichert" in editor.heading.text()

    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.errors_label.isHidden(), editor.errors_label.text()
    assert not editor.has_unsaved_changes()
    detail = reconstructions.reconstruction_detail(app_state.ctx, editor.reconstruction_id)
    assert (detail.title, detail.goal, detail.presented_on) == (
        "Fallrekonstruktion Frau A.", GOAL, date(2026, 11, 20))
    assert detail.life_areas == [
        {"area": "Arbeit", "topics": ["Schulden", "möchte Geld verdienen"]},
        {"area": "Kinderbetreuung", "topics": ["keine Kinderbetreuung für die Tochter"]}]
    assert detail.actors == editor.chain.actors()
    assert [(a["label"], a["kind"]) for a in detail.actors] == [
        ("Frau A.", "person"), ("Kita/Kindertagespflege", "offer"),
        ("berufsvorbereitende Maßnahme", "offer")]
    [obstacle] = detail.relations
    names = {a["id"]: a["label"] for a in detail.actors}
    assert (names[obstacle["source"]], names[obstacle["target"]], obstacle["kind"],
            obstacle["label"]) == ("Kita/Kindertagespflege", "berufsvorbereitende Maßnahme",
                                   "obstacle", OBSTACLE)
    assert [(t.statement, t.mandate) for t in detail.themes] == [
        (THEME, "Projektgruppe einberufen")]

    qtbot.mouseClick(editor.close_button, Qt.MouseButton.LeftButton)
    assert tab.stack.currentIndex() == 0
    [row] = tab.model.rows()
    assert (row.title, row.life_areas, row.actors, row.obstacles, row.themes) == (
        "Fallrekonstruktion Frau A.", 2, 3, 1, 1)


def test_a_name_on_the_canvas_is_refused_at_the_canvas_and_nothing_is_lost(
        qtbot: Any, tab: ReconstructionsTab, app_state: AppState) -> None:
    tab.new_reconstruction()
    editor = tab.editor
    type_text(qtbot, editor.title, "Kinderbetreuung und Ausbildung")
    _add_actor(qtbot, editor, "person", "Dilara")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)

    assert "neutraler Bezeichnung" in editor.errors_label.text()
    assert "Dilara" not in editor.errors_label.text(), "messages never repeat client data"
    assert "border" in editor.chain.view.styleSheet()
    assert reconstructions.reconstruction_rows(app_state.ctx) == []
    assert [a["label"] for a in editor.chain.actors()] == ["Dilara"]
    assert editor.title.text() == "Kinderbetreuung und Ausbildung"

    actor = editor.chain.scene.actor_named("Dilara")
    click(qtbot, editor.chain.view, item_centre(editor.chain.view, actor))
    qtbot.keyClick(editor.chain.view, Qt.Key.Key_F2)
    type_into(qtbot, editor.chain.view, "Frau A.")
    qtbot.keyClick(editor.chain.view, Qt.Key.Key_Return)
    assert editor.save()
    assert [r.title for r in reconstructions.reconstruction_rows(app_state.ctx)] == [
        "Kinderbetreuung und Ausbildung"]


def test_an_existing_reconstruction_opens_edits_and_refuses_to_drop_a_theme_in_use(
        qtbot: Any, tab: ReconstructionsTab, app_state: AppState) -> None:
    example = build_example5(app_state.ctx)
    tab.reload()
    tab.table.selectRow(0)
    qtbot.mouseClick(tab.open_button, Qt.MouseButton.LeftButton)
    editor = tab.editor
    assert editor.title.text() == example.reconstruction.title
    assert editor.goal.toPlainText() == GOAL
    assert editor.presented_on.text() == "28.07.2026"
    assert [e.statement for e in editor.themes.entries()] == [THEME]
    assert editor.chain.relations() == example.reconstruction.relations
    assert not editor.has_unsaved_changes()

    # Rename a topic in place (F2) and move the area "Gesundheit" to the top.
    tree = editor.life_areas.tree
    health = editor.life_areas.area("Gesundheit")
    assert health is not None
    tree.setCurrentItem(health.child(1))
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    type_text(qtbot, tree.focusWidget(), "wenig Zeit für ausgewogene Ernährung")
    qtbot.keyClick(tree.focusWidget(), Qt.Key.Key_Return)
    tree.setCurrentItem(health)
    for _ in range(4):
        qtbot.keyClick(tree, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)

    # The theme carries findings, a Projektgruppe and a decision: it cannot go.
    editor.themes.table.selectRow(0)
    qtbot.mouseClick(editor.themes.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert "nicht gelöscht werden" in editor.errors_label.text()
    assert [e.statement for e in editor.themes.entries()] == [THEME], "shown again"
    # All or nothing: the refused save stored none of the edits, and they are still typed.
    detail = reconstructions.reconstruction_detail(app_state.ctx, example.reconstruction.id)
    assert detail.life_areas[0]["area"] == "Arbeit"
    assert editor.has_unsaved_changes()

    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    detail = reconstructions.reconstruction_detail(app_state.ctx, example.reconstruction.id)
    assert detail.life_areas[0] == {
        "area": "Gesundheit",
        "topics": ["Tochter häufig krank", "wenig Zeit für ausgewogene Ernährung"]}
    assert [t.statement for t in detail.themes] == [THEME]
    assert not editor.has_unsaved_changes()


def test_a_draft_from_her_case_is_pseudonymised_and_checked_against_her_file(
        qtbot: Any, tab: ReconstructionsTab, app_state: AppState) -> None:
    example = build_example5_case(app_state.ctx)
    tab.open_from_case(example.case.id)
    editor = tab.editor
    assert tab.stack.currentWidget() is editor
    assert editor.title.text() == "Fallrekonstruktion Frau A."
    labels = [a["label"] for a in editor.chain.actors()]
    assert labels[:2] == ["Frau A.", "Kind 1"]
    assert "Jobcenter" in labels
    # Life areas by assessed need: the two with need 3 first.
    assert [a["area"] for a in editor.life_areas.value()][:2] == [
        "Kinderbetreuung", "Qualifikation/Berufliche Orientierung (inkl. Anerkennung)"]
    assert editor.suggestions.isVisible()
    assert leaked(visible_texts(tab), example.secrets) == []

    editor.suggestions.select(f"goal:{example.goal.id}:title")
    qtbot.mouseClick(editor.suggestions.use_as_goal, Qt.MouseButton.LeftButton)
    assert editor.goal.toPlainText() == GOAL
    childcare = next(c for c in editor.suggestions._candidates if c.section == "Kinderbetreuung")
    editor.suggestions.select(childcare.key)
    qtbot.mouseClick(editor.suggestions.use_as_topic, Qt.MouseButton.LeftButton)
    area = editor.life_areas.area("Kinderbetreuung")
    assert area is not None and area.child(0).text(0) == childcare.suggestion

    # A theme that names her daughter is refused against the case, and with it the whole save
    # (all or nothing); what was typed stays.
    type_text(qtbot, editor.themes.statement, "Für Elif steht eine Betreuung bereit.")
    qtbot.mouseClick(editor.themes.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert "Name" in editor.errors_label.text()
    assert reconstructions.theme_rows(app_state.ctx) == []
    assert reconstructions.reconstruction_rows(app_state.ctx) == []
    assert editor.reconstruction_id is None

    editor.themes.table.item(0, 0).setText(THEME)
    assert editor.save()
    assert [t.statement for t in reconstructions.theme_rows(app_state.ctx)] == [THEME]
    stored = reconstructions.reconstruction_detail(app_state.ctx, editor.reconstruction_id)
    assert stored.title == "Fallrekonstruktion Frau A."
    assert leaked(visible_texts(tab), example.secrets) == []


def test_the_pdf_is_saved_where_the_user_chooses_after_saving_the_edits(
        qtbot: Any, tab: ReconstructionsTab, app_state: AppState, tmp_path: Path) -> None:
    example = build_example5(app_state.ctx)
    tab.reload()
    tab.table.selectRow(0)
    tab.open_selected()
    editor = tab.editor
    type_text(qtbot, editor.goal, "Ausbildung erfolgreich abschließen")
    target = tmp_path / "pdf" / "rekonstruktion.pdf"
    target.parent.mkdir()
    editor.choose_path = chooser = Chooser(target)
    qtbot.mouseClick(editor.pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and editor.pdf_button.isEnabled(), timeout=15000)

    assert chooser.asked == ["Fallrekonstruktion-2026-11-25.pdf"]
    assert not editor.has_unsaved_changes()
    content = pdf_text(target.read_bytes())
    for expected in ("Ausbildung erfolgreich abschließen", OBSTACLE, "Kind 1 (Tochter)",
                     "Jobcenter", THEME[:60]):
        assert expected in content
    assert leaked([content], example.example.secrets) == []
    assert [p.name for p in target.parent.iterdir()] == ["rekonstruktion.pdf"]

    editor.choose_path = Chooser(None)
    editor.save_pdf()
    qtbot.waitUntil(lambda: "Kein PDF" in editor.message.text(), timeout=15000)


def test_leaving_with_unsaved_changes_asks_first(
        qtbot: Any, tab: ReconstructionsTab) -> None:
    tab.new_reconstruction()
    editor = tab.editor
    type_text(qtbot, editor.title, "Wohnen und Arbeit")
    assert tab.has_unsaved_changes()

    def cancel(box: QMessageBox) -> None:
        box.button(QMessageBox.StandardButton.Cancel).click()

    errors = when_modal(QMessageBox, cancel)
    qtbot.mouseClick(editor.close_button, Qt.MouseButton.LeftButton)
    assert errors == []
    assert tab.stack.currentWidget() is editor and editor.title.text() == "Wohnen und Arbeit"

    errors = when_modal(QMessageBox,
                        lambda box: box.button(QMessageBox.StandardButton.Discard).click())
    qtbot.mouseClick(editor.close_button, Qt.MouseButton.LeftButton)
    assert errors == []
    assert tab.stack.currentIndex() == 0 and not tab.has_unsaved_changes()


def test_screenshots_of_the_editor_with_beispiel_5(
        qtbot: Any, tab: ReconstructionsTab, app_state: AppState) -> None:
    build_example5(app_state.ctx)
    tab.reload()
    tab.table.selectRow(0)
    tab.open_selected()
    for size in ((1920, 1080), (1366, 768)):
        tab.resize(*size)
        qtbot.wait(20)
        tab.editor.chain.view.zoom_to_fit()
        screenshot(tab, SHOTS, "reconstruction_editor", size)
    # Every actor is inside the visible canvas after fitting.
    view = tab.editor.chain.view
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(a.scene_box()) for a in tab.editor.chain.scene.actor_items())
