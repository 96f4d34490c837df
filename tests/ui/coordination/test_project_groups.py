"""Projektgruppen: a group with its Zielschema, members from the Netzwerk and linked themes and
findings, typed in through the dialog; refused where the concept's rules are broken."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from kimdesk.casework.coordination import project_groups
from kimdesk.casework.coordination.project_groups import FrameworkGoal
from kimdesk.ui.coordination.project_groups_tab import ProjectGroupDialog, ProjectGroupsTab
from kimdesk.ui.state import AppState
from tests.coordination_builders import THEME, build_example5
from tests.ui.coordination.widget_texts import leaked, visible_texts
from tests.ui.support import choose, screenshot, type_text

SHOTS = Path("/tmp/shots")


@pytest.fixture
def tab(qtbot: Any, app_state: AppState) -> ProjectGroupsTab:
    widget = ProjectGroupsTab(app_state)
    qtbot.addWidget(widget)
    widget.resize(1600, 900)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _dialog(qtbot: Any, tab: ProjectGroupsTab) -> ProjectGroupDialog:
    """The open dialog, made the active window so that its keyboard shortcuts work."""
    dialog = tab.dialog
    assert isinstance(dialog, ProjectGroupDialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def _save(qtbot: Any, dialog: ProjectGroupDialog) -> None:
    qtbot.mouseClick(dialog.findChild(type(dialog.theme_to_principal), "save"),
                     Qt.MouseButton.LeftButton)


def type_schema(qtbot: Any, dialog: ProjectGroupDialog, text: str, button: Any) -> None:
    type_text(qtbot, dialog.schema.text, text)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def edit_in_place(qtbot: Any, dialog: ProjectGroupDialog, item: Any, text: str) -> None:
    tree = dialog.schema.tree
    tree.setCurrentItem(item)
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    editor = tree.viewport().findChild(QLineEdit)
    assert editor is not None, "F2 opens the entry for editing"
    type_text(qtbot, editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_a_project_group_with_its_zielschema_members_and_links(
        qtbot: Any, tab: ProjectGroupsTab, app_state: AppState) -> None:
    example = build_example5(app_state.ctx)
    tab.reload()
    qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
    dialog = _dialog(qtbot, tab)
    type_text(qtbot, dialog.name, "Kinderbetreuung in der Berufsvorbereitung")
    choose(dialog.status, "active")
    type_text(qtbot, dialog.started_on, "01.12.2026")
    type_text(qtbot, dialog.ends_on, "30.06.2027")

    # The Grundsatzziel comes from the generative theme (concept 5.5.2).
    dialog.links.setCurrentIndex(1)
    dialog.themes.set_checked(example.theme.id)
    qtbot.mouseClick(dialog.theme_to_principal, Qt.MouseButton.LeftButton)
    assert dialog.schema.principal_goal() == THEME

    schema = dialog.schema
    type_schema(qtbot, dialog, "Alleinerziehende erhalten vorrangig einen Betreuungsplatz.",
                schema.goal_button)
    type_schema(qtbot, dialog, "Vereinbarung mit dem Jugendamt", schema.strategy_button)
    type_schema(qtbot, dialog, "Maßnahmen bieten Kinderbetreuung an.", schema.goal_button)
    type_schema(qtbot, dialog, "Betreuung bei der Maßnahmeplanung mitdenken",
                schema.strategy_button)
    type_schema(qtbot, dialog, "Kooperation mit der Kindertagespflege", schema.strategy_button)
    # The second Rahmenziel is the more urgent one: move it up (Strg+↑) and renumber.
    schema.tree.setCurrentItem(schema.root.child(1))
    schema.tree.setFocus()
    qtbot.keyClick(schema.tree, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert schema.root.child(0).text(0) == "Rahmenziel 1"
    assert schema.root.child(0).child(1).text(0) == "Handlungsstrategie 1.2"
    edit_in_place(qtbot, dialog, schema.root.child(1).child(0),
                  "Vereinbarung mit dem Jugendamt zur Platzvergabe")

    jobcenter = example.example.institutions["jobcenter"].id
    daycare = example.example.institutions["daycare"].id
    dialog.members.set_checked(jobcenter)
    type_text(qtbot, dialog.members.filter, "Regenbogen")
    assert [t for t in dialog.members.texts() if "Regenbogen" in t] == [
        next(t for t in dialog.members.texts() if "Regenbogen" in t)]
    dialog.members.set_checked(daycare)
    dialog.findings.set_checked(example.findings[0].id)
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()

    [row] = [r for r in project_groups.project_group_rows(app_state.ctx)
             if r.name == "Kinderbetreuung in der Berufsvorbereitung"]
    detail = project_groups.project_group_detail(app_state.ctx, row.id)
    assert (detail.status, detail.started_on, detail.ends_on) == (
        "active", date(2026, 12, 1), date(2027, 6, 30))
    assert detail.principal_goal == THEME
    assert detail.framework_goals == (
        FrameworkGoal("Maßnahmen bieten Kinderbetreuung an.",
                      ["Betreuung bei der Maßnahmeplanung mitdenken",
                       "Kooperation mit der Kindertagespflege"]),
        FrameworkGoal("Alleinerziehende erhalten vorrangig einen Betreuungsplatz.",
                      ["Vereinbarung mit dem Jugendamt zur Platzvergabe"]))
    assert [m.id for m in detail.members] == [jobcenter, daycare]
    assert [t.id for t in detail.themes] == [example.theme.id]
    assert [f.id for f in detail.findings] == [example.findings[0].id]

    # The tab shows the saved group selected, with its Zielschema.
    assert tab.selected() is not None and tab.selected().id == row.id
    root = tab.schema_view.topLevelItem(0)
    assert (root.text(0), root.text(1)) == ("Grundsatzziel", THEME)
    assert root.child(1).child(0).text(1) == "Vereinbarung mit dem Jugendamt zur Platzvergabe"
    assert leaked(visible_texts(tab), example.example.secrets) == []


def test_the_concepts_rules_are_shown_at_their_field_and_keep_the_input(
        qtbot: Any, tab: ProjectGroupsTab, app_state: AppState) -> None:
    tab.new_group()
    dialog = _dialog(qtbot, tab)
    type_text(qtbot, dialog.name, "Wohnraum für Familien")
    choose(dialog.status, "reported")
    type_schema(qtbot, dialog, "Familien finden Wohnraum.", dialog.schema.principal_button)
    type_schema(qtbot, dialog, "Vermieter kennen das KIM.", dialog.schema.goal_button)
    _save(qtbot, dialog)
    assert "mindestens einer Handlungsstrategie" in dialog.errors_label.text()
    assert "border" in dialog.status.styleSheet()
    assert tab.dialog is dialog and dialog.isVisible()

    choose(dialog.status, "active")
    type_text(qtbot, dialog.started_on, "01.03.2027")
    type_text(qtbot, dialog.ends_on, "01.01.2027")
    _save(qtbot, dialog)
    assert "Ende liegt vor dem Beginn" in dialog.errors_label.text()
    assert "border" in dialog.ends_on.styleSheet()

    # A Rahmenziel without a Grundsatzziel above it is refused too.
    edit_in_place(qtbot, dialog, dialog.schema.root, " ")
    type_text(qtbot, dialog.ends_on, "31.12.2027")
    _save(qtbot, dialog)
    assert "Grundsatzziel" in dialog.errors_label.text()
    assert project_groups.project_group_rows(app_state.ctx) == []
    assert dialog.name.text() == "Wohnraum für Familien"
    dialog.reject()


def test_editing_an_existing_group_keeps_its_schema_and_shows_its_decisions(
        qtbot: Any, tab: ProjectGroupsTab, app_state: AppState) -> None:
    example = build_example5(app_state.ctx)
    tab.reload()
    tab.select(example.project_group.id)
    links = [tab.links_view.topLevelItem(i) for i in range(tab.links_view.topLevelItemCount())]
    decisions = next(b for b in links if b.text(0).startswith("Beschlüsse"))
    assert decisions.child(0).text(0) == example.decision.title

    qtbot.mouseClick(tab.edit_button, Qt.MouseButton.LeftButton)
    dialog = _dialog(qtbot, tab)
    assert dialog.name.text() == example.project_group.name
    assert dialog.schema.framework_goals() == [
        FrameworkGoal(g["goal"], g["strategies"]) for g in example.project_group.framework_goals]
    assert dialog.status.code() == "reported"
    dialog.members.set_checked(example.example.institutions["daycare"].id, False)
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()
    detail = project_groups.project_group_detail(app_state.ctx, example.project_group.id)
    assert [m.id for m in detail.members] == [example.example.institutions["jobcenter"].id]
    assert len(detail.framework_goals) == 2


def test_screenshots_of_the_project_groups(
        qtbot: Any, tab: ProjectGroupsTab, app_state: AppState) -> None:
    example = build_example5(app_state.ctx)
    tab.reload()
    tab.select(example.project_group.id)
    screenshot(tab, SHOTS, "project_groups", (1920, 1000))
    tab.edit_selected()
    dialog = _dialog(qtbot, tab)
    screenshot(dialog, SHOTS, "project_group_dialog", (1240, 780))
    dialog.reject()
