"""Kommunen tab of the Koordination: a kommunale Vereinbarung and a structural activity entered
through the widgets, shown in the lists, counted by the Zielsystem and in the hours per kind."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from kimdesk.casework.coordination import municipal
from kimdesk.stats.zielsystem import measure, zielsystem_for
from kimdesk.ui.coordination.municipal_tab import ActivityDialog, AgreementDialog
from kimdesk.ui.coordination.screen import CoordinationScreen
from kimdesk.ui.state import AppState
from tests.ui.support import choose, screenshot, type_text, when_modal

SHOTS = Path("/tmp/shots")


@pytest.fixture
def screen(qtbot: Any, app_state: AppState) -> CoordinationScreen:
    widget = CoordinationScreen(app_state)
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_tab("Kommunen")
    return widget


def _save(qtbot: Any, dialog: Any) -> None:
    qtbot.mouseClick(dialog.findChild(QPushButton, "save"), Qt.MouseButton.LeftButton)


def _type_lines(qtbot: Any, widget: Any, *lines: str) -> None:
    type_text(qtbot, widget, "")
    for number, line in enumerate(lines):
        if number:
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        for char in line:
            type_text_append(qtbot, widget, char)


def type_text_append(qtbot: Any, widget: Any, char: str) -> None:
    if char.isascii():
        qtbot.keyClicks(widget, char)
    else:
        widget.insertPlainText(char)


def _zielsystem_value(app_state: AppState) -> object:
    system = zielsystem_for(app_state.reference, "2026-11")
    assert system is not None
    return next(m.value for m in measure(app_state.ctx, system, "2026-11")
                if m.indicator.metric == "municipal_agreements")


def test_an_agreement_entered_in_the_tab_is_counted_by_the_zielsystem(
        qtbot: Any, screen: CoordinationScreen, app_state: AppState) -> None:
    tab = screen.municipal
    assert tab.isVisible()
    assert tab.agreements_summary.text().startswith("0 von 16 Kommunen")
    assert _zielsystem_value(app_state) == 0

    qtbot.mouseClick(tab.new_agreement_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, AgreementDialog)
    assert dialog.municipality.accessibleName() == "Kommune"
    choose(dialog.municipality, "goch")
    type_text(qtbot, dialog.subject, "Kommunale Vereinbarung KIM Goch")
    _type_lines(qtbot, dialog.parties, "Stadt Goch", "Kreis Kleve")
    type_text(qtbot, dialog.signed_on, "01.03.2026")
    assert not dialog.case_allocation.isEnabled()
    dialog.allocates_cases.setChecked(True)
    assert dialog.case_allocation.isEnabled()
    _save(qtbot, dialog)
    # Fallzusteuerung ticked but not described: refused at its field, nothing saved.
    assert tab.dialog is dialog and "wie die Kommune Fälle zusteuert" in (
        dialog.errors_label.text())
    assert "border" in dialog.case_allocation.styleSheet()
    assert municipal.agreement_rows(app_state.ctx) == []
    type_text(qtbot, dialog.case_allocation, "Das Sozialamt meldet Neuzugewiesene per Bogen.")
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()

    # The vault's change report reloaded the tab; the new row is selected.
    assert tab.agreements_model.rowCount() == 1
    row = tab.selected_agreement()
    assert row is not None and row.municipality_name == "Goch" and row.status == "gültig"
    assert tab.agreements_summary.text().startswith("1 von 16 Kommunen")
    assert "Fallzusteuerung: ja – Das Sozialamt meldet" in tab.agreement_detail.toPlainText()
    assert row.parties == ("Stadt Goch", "Kreis Kleve")
    assert _zielsystem_value(app_state) == 1

    # Corrected: it expired before today — no longer counted.
    qtbot.mouseClick(tab.edit_agreement_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, AgreementDialog)
    assert dialog.subject.text() == "Kommunale Vereinbarung KIM Goch"
    type_text(qtbot, dialog.valid_until, "30.06.2026")
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()
    assert tab.selected_agreement().status == "nicht gültig"  # type: ignore[union-attr]
    assert tab.agreements_summary.text().startswith("0 von 16 Kommunen")
    assert _zielsystem_value(app_state) == 0


def test_a_structural_activity_with_hours_through_the_widgets(
        qtbot: Any, screen: CoordinationScreen, app_state: AppState) -> None:
    tab = screen.municipal
    tab.pages.setCurrentIndex(1)
    qtbot.mouseClick(tab.new_activity_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, ActivityDialog)
    assert dialog.held_on.text() == "25.11.2026"
    _save(qtbot, dialog)
    assert "Art der Tätigkeit" in dialog.errors_label.text()
    choose(dialog.kind, "planning_area_meeting")
    _save(qtbot, dialog)
    assert "Stunden angeben" in dialog.errors_label.text()
    assert "border" in dialog.hours.styleSheet()
    type_text(qtbot, dialog.held_on, "18.11.2026")
    type_text(qtbot, dialog.title, "Austausch der Sozialämter im Planungsraum Süd")
    dialog.planning_area.setCurrentIndex(dialog.planning_area.findData("Planungsraum Süd"))
    dialog.hours.setValue(2.5)
    _type_lines(qtbot, dialog.participants, "Stadt Geldern", "Gemeinde Issum")
    type_text(qtbot, dialog.note, "Rückruf unter 02831 391-0")
    dialog.municipalities.set_checked("geldern")
    dialog.municipalities.set_checked("issum")
    _save(qtbot, dialog)
    assert "Telefon- oder Aktennummer" in dialog.errors_label.text()
    assert municipal.activity_rows(app_state.ctx) == []
    type_text(qtbot, dialog.note, "Wohnraum für Neuzugewiesene.")
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()

    row = tab.selected_activity()
    assert row is not None and row.where == "Planungsraum Süd, Geldern, Issum"
    texts = [tab.activities_model.index(0, c).data() for c in range(5)]
    assert texts == ["18.11.2026", "Treffen im Planungsraum (kommunenübergreifend)",
                     "Austausch der Sozialämter im Planungsraum Süd",
                     "Planungsraum Süd, Geldern, Issum", "2,5 Std."]
    assert [tab.hours_model.index(0, c).data() for c in range(3)] == [
        "Treffen im Planungsraum (kommunenübergreifend)", "1", "2,5 Std."]

    # A Gremium of last year: the list turns to that year; this year's hours stay as they were.
    municipal.record_activity(app_state.ctx, municipal.ActivityInput(
        held_on=date(2026, 9, 1), kind="committee", hours=1.5, title="Integrationsrat Goch",
        municipalities=["goch"]))
    assert tab.hours_total.text() == "Zusammen 4 Std. in 2 Tätigkeiten 2026"
    tab.select_activity(row.id)
    qtbot.mouseClick(tab.edit_activity_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert isinstance(dialog, ActivityDialog) and dialog.hours.value() == 2.5
    type_text(qtbot, dialog.held_on, "18.11.2025")
    _save(qtbot, dialog)
    assert tab.dialog is None, dialog.errors_label.text()
    assert tab.year.value() == 2025 and tab.selected_activity() is not None
    assert tab.hours_total.text() == "Zusammen 2,5 Std. in 1 Tätigkeiten 2025"

    # Entered by mistake: deleted after a question; "Nein" keeps it.
    answered = when_modal(QMessageBox, lambda box: box.button(
        QMessageBox.StandardButton.No).click())
    qtbot.mouseClick(tab.delete_activity_button, Qt.MouseButton.LeftButton)
    answered.wait()
    assert not answered, answered
    assert tab.activities_model.rowCount() == 1
    answered = when_modal(QMessageBox, lambda box: box.button(
        QMessageBox.StandardButton.Yes).click())
    qtbot.mouseClick(tab.delete_activity_button, Qt.MouseButton.LeftButton)
    answered.wait()
    assert not answered, answered
    assert tab.activities_model.rowCount() == 0
    assert tab.hours_total.text() == "Zusammen 0 Std. in 0 Tätigkeiten 2025"
    assert not tab.delete_activity_button.isEnabled()
    assert [r.title for r in municipal.activity_rows(app_state.ctx)] == ["Integrationsrat Goch"]


def test_screenshot_of_the_kommunen_tab(qtbot: Any, screen: CoordinationScreen,
                                        app_state: AppState) -> None:
    ctx = app_state.ctx
    for code, name in (("goch", "Stadt Goch"), ("geldern", "Stadt Geldern"),
                       ("kleve", "Stadt Kleve")):
        municipal.record_agreement(ctx, municipal.AgreementInput(
            municipality=code, subject=f"Kommunale Vereinbarung KIM {name}",
            parties=[name, "Kreis Kleve"], signed_on=date(2026, 2, 1),
            allocates_cases=code != "kleve",
            case_allocation="" if code == "kleve" else "Meldung durch das Sozialamt"))
    for kind, hours in (("committee", 2), ("planning_area_meeting", 3),
                        ("welfare_exchange", 1.5), ("process_consulting", 4)):
        municipal.record_activity(ctx, municipal.ActivityInput(
            held_on=date(2026, 10, 14), kind=kind, hours=hours, title="Sitzung",
            planning_area="Planungsraum Nord", municipalities=["kleve", "kranenburg"]))
    tab = screen.municipal
    tab.select_agreement(municipal.agreement_rows(ctx)[0].id)
    assert "Goch" not in tab.without_agreement.text()
    assert "Ohne gültige Vereinbarung: Bedburg-Hau, Kranenburg" in tab.without_agreement.text()
    screenshot(screen, SHOTS, "kommunen-vereinbarungen", (1366, 768))
    tab.edit_agreement()
    assert isinstance(tab.dialog, AgreementDialog)
    screenshot(tab.dialog, SHOTS, "kommunen-vereinbarung-dialog", (760, 620))
    tab.dialog.reject()
    tab.pages.setCurrentIndex(1)
    tab.select_activity(municipal.activity_rows(ctx)[0].id)
    screenshot(screen, SHOTS, "kommunen-strukturelle-arbeit", (1366, 768))
    tab.edit_activity()
    assert isinstance(tab.dialog, ActivityDialog)
    path = screenshot(tab.dialog, SHOTS, "kommunen-taetigkeit-dialog", (900, 600))
    tab.dialog.reject()
    assert path.exists()
